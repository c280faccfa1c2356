/** Bench inputs from the repository's examples: N English queries and the shared models' folders. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../src/engine/io/paths';

/** The example queries, extended deterministically to `count` by joining two of them ("A, compared with B"). */
export function benchQueries(count: number): string[] {
  const file = path.join(packageRoot(), 'examples', 'queries-en.txt');
  const base = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const out = base.slice(0, count);
  for (let i = 0; out.length < count; i++) {
    const a = base[i % base.length];
    const b = base[(i * 7 + 3) % base.length];
    out.push(`${a}, compared with ${b}`);
  }
  return out;
}

export const SHARED_MODELS = path.resolve(packageRoot(), '../shared/models');
export const USE_LITE = path.join(SHARED_MODELS, 'use-lite-onnx');
export const GLOVE = path.join(SHARED_MODELS, 'glove-6B-100d-sif-50k');

/** null when both shared models are there, else the reason. */
export function sharedModelsMissing(): string | null {
  const missing = [USE_LITE, GLOVE].filter((f) => !fs.existsSync(path.join(f, 'onnx', 'model.onnx')));
  return missing.length ? `shared models not found: ${missing.join(', ')}` : null;
}
