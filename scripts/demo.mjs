// `npm run demo`: the whole analysis on the English example queries with the built-in offline model `use-lite`,
// compared with the shared GloVe model beside the repository (../shared/models) when it is there. (The shared
// use-lite-onnx folder is the same model as use-lite: the analysis would report one model under two names.)
// Results go to .demo-output/.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const glove = resolve(root, '../shared/models/glove-6B-100d-sif-50k');
const models = ['use-lite'];
if (existsSync(join(glove, 'onnx'))) models.push(glove);
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
