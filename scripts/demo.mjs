// `npm run demo`: the whole analysis on the English example queries with the built-in offline model `use-lite`,
// compared with the shared GloVe model beside the repository (../shared/models) when it is there (the shared
// use-lite-onnx folder is the same model as use-lite: the analysis would report one model under two names); results
// in .demo-output/. Then the labelled example of examples/eval (task performance beside displacement; results in
// .demo-output/eval/).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const glove = resolve(root, '../shared/models/glove-6B-100d-sif-50k');
const models = ['use-lite'];
if (existsSync(join(glove, 'onnx'))) models.push(glove);
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
