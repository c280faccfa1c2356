// `npm run demo`: the whole analysis on the English example queries with the built-in offline model `use-lite`,
// plus the shared test models beside the repository when they are there. Results go to .demo-output/.
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
const args = [
  join(root, 'bin/instruction-lens.js'), 'run',
  '--queries', join(root, 'examples/queries-en.txt'),
  '--instructions', 'paper-en',
  '--models', models.join(','),
  '--out', out,
  '--cache', join(out, 'cache'),
  // The demo's own folder: replace the previous demo's results.
  '--force',
];
const { status } = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (status === 0) console.log(`\nOpen ${join(out, 'report.html')} in a browser.`);
process.exit(status ?? 1);
