/**
 * The frame on disk (src/engine/io/frameFiles.ts): written and read back exactly, and a frame.json changed in any
 * field (fast-check: a random field set to a random JSON value) is either still a valid frame or a UserError naming
 * frame.json or one of its files, never another error.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { UserError } from '../src/engine/errors';
import { FRAME_DIR, FRAME_FILE, readFrame, writeFrame } from '../src/engine/io/frameFiles';
import { analyzeWithFrame } from '../src/engine/method/analyze';
import type { MapFrame } from '../src/engine/method/frame';
import { loadFixture } from './engineFixtures';

function sameFrame(a: MapFrame, b: MapFrame): void {
  const arrays = (f: MapFrame) => ({
    points: Array.from(f.points),
    coords: Array.from(f.coords),
    d: Array.from(f.procrustesDistance),
    evr: f.explainedVarianceRatio.map((x) => Array.from(x)),
    classical: f.classical && { values: f.classical.values, coords: Array.from(f.classical.coords), rowMean: Array.from(f.classical.rowMeanSquared) },
    models: f.models.map((m) => ({ ...m, mean: Array.from(m.mean), basis: Array.from(m.basis), rotation: m.rotation && Array.from(m.rotation) })),
  });
  assert.deepEqual(arrays(a), arrays(b));
  const { points: _p, coords: _c, procrustesDistance: _d, explainedVarianceRatio: _e, classical: _k, models: _m, ...restA } = a;
  const { points: _p2, coords: _c2, procrustesDistance: _d2, explainedVarianceRatio: _e2, classical: _k2, models: _m2, ...restB } = b;
  assert.deepEqual(restA, restB);
}

describe('frame files', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'il-frame-'));

  test('written and read back exactly (classical and SMACOF maps), from the output folder, frame/ or frame.json', async () => {
    const { bundle } = loadFixture('cov');
    for (const mds of ['classical', 'smacof'] as const) {
      const { frame } = await analyzeWithFrame(bundle, { mds, k: 4 });
      const out = path.join(work, mds);
      const dir = await writeFrame(out, frame, { force: false });
      assert.equal(dir, path.join(out, FRAME_DIR));
      for (const target of [out, dir, path.join(dir, FRAME_FILE)]) sameFrame((await readFrame(target)).frame, frame);
      assert.deepEqual(fs.readdirSync(out), [FRAME_DIR], 'no temporary folder left');
    }
  });

  test('a frame.json with any field replaced by any JSON value: a valid frame or a UserError naming the frame', async () => {
    const { bundle } = loadFixture('cov');
    const { frame } = await analyzeWithFrame(bundle, { k: 4 });
    const out = path.join(work, 'fuzz');
    const dir = await writeFrame(out, frame, { force: false });
    const file = path.join(dir, FRAME_FILE);
    const original = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const fields = Object.keys(original);
    const nested = ['models.0.name', 'models.0.dim', 'models.0.mean', 'models.0.rotation', 'models.1.taskSha256', 'placement.rotation', 'classical.values', 'coords.0'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields, ...nested), fc.jsonValue(), async (field, value) => {
        const copy = structuredClone(original) as Record<string, unknown>;
        const keys = field.split('.');
        let at: Record<string, unknown> = copy;
        for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
        at[keys[keys.length - 1]] = value;
        fs.writeFileSync(file, JSON.stringify(copy));
        try {
          await readFrame(out);
        } catch (error) {
          assert.ok(error instanceof UserError, `${field} = ${JSON.stringify(value)}: ${(error as Error).stack}`);
          assert.ok((error as Error).message.startsWith(dir), (error as Error).message);
        }
      }),
      { numRuns: 300, seed: 12 },
    );
  });
});
