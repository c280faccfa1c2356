// `npm run demo`: the whole analysis on the English example queries with the built-in offline model `use-lite`,
// plus the shared test models beside the repository when they are there (results in .demo-output/), then the
// labelled example of examples/eval (task performance beside displacement; results in .demo-output/eval/).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sharedModels = resolve(root, '../shared/models');
const models = ['use-lite'];
if (existsSync(sharedModels)) {
  for (const entry of readdirSync(sharedModels, { withFileTypes: true })) {
    if (entry.isDirectory() && existsSync(join(sharedModels, entry.name, 'onnx'))) models.push(join(sharedModels, entry.name));
  }
}
const out = join(root, '.demo-output');
const cache = join(out, 'cache');

/** One `instruction-lens run`; the demo's own folders: the previous demo's results are replaced (--force). */
function run(queries, instructions, outDir) {
  const args = [join(root, 'bin/instruction-lens.js'), 'run', '--queries', queries, '--instructions', instructions,
    '--models', models.join(','), '--out', outDir, '--cache', cache, '--force'];
  return spawnSync(process.execPath, args, { stdio: 'inherit' }).status ?? 1;
}

const reports = [];
let status = run(join(root, 'examples/queries-en.txt'), 'paper-en', out);
if (status === 0) {
  reports.push(join(out, 'report.html'));
  const evalOut = join(out, 'eval');
  status = run(join(root, 'examples/eval/queries.csv'), join(root, 'examples/eval/tasks.instructions.yaml'), evalOut);
  if (status === 0) reports.push(join(evalOut, 'report.html'));
}
for (const report of reports) console.log(`\nOpen ${report} in a browser.`);
process.exit(status);
