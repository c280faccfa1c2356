/**
 * `npm ci` of this package: onnxruntime-node's install script (which downloads CUDA libraries from outside the npm
 * registry) is kept from downloading, without a setting npm warns about: package.json's allowScripts denies it, and
 * ONNXRUNTIME_NODE_INSTALL=skip (set by .ci/run, for npm versions without allowScripts) makes it stop at once.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../src/engine/io/paths';
import { tempDir } from './helpers/cli';

const root = packageRoot();

test('npm ci --dry-run: no unknown-config warning, and onnxruntime-node is not among the scripts left to review', () => {
  const copy = tempDir();
  for (const file of ['package.json', 'package-lock.json', '.npmrc']) {
    if (fs.existsSync(path.join(root, file))) fs.copyFileSync(path.join(root, file), path.join(copy, file));
  }
  const run = spawnSync('npm', ['ci', '--dry-run', '--offline', '--no-audit', '--no-fund'], { cwd: copy, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /Unknown (project|user|env) config/);
  // npm with allowScripts lists the dependencies whose install scripts no entry covers; a denied one is not listed.
  assert.doesNotMatch(run.stderr, /install-scripts +onnxruntime-node@/);
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  assert.equal(manifest.allowScripts?.['onnxruntime-node'], false);
});

test('ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node\'s install script ends at once and adds no file', () => {
  const script = path.join(root, 'node_modules', 'onnxruntime-node', 'script', 'install.js');
  const bin = path.join(root, 'node_modules', 'onnxruntime-node', 'bin');
  const list = (dir: string): string[] => fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
  const before = list(bin);
  const run = spawnSync(process.execPath, [script], { env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' }, encoding: 'utf8', timeout: 10_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout + run.stderr, '');
  assert.deepEqual(list(bin), before);
  assert.match(fs.readFileSync(path.join(root, '.ci', 'run'), 'utf8'), /^export ONNXRUNTIME_NODE_INSTALL=skip\nnpm ci /m);
});
