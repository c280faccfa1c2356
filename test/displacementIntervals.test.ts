/**
 * The 95% bootstrap intervals of the mean cosine displacement and the task-order stability against an independent
 * numpy computation (test/fixtures/make_displacement_ci_fixtures.py: its own SplitMix64 in uint64, numpy.percentile),
 * and bit-identity between analyze() and runAnalysis (worker threads).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { resampleIndices } from '../src/engine/evaluation/bootstrap';
import { packageRoot } from '../src/engine/io/paths';
import { analyze } from '../src/engine/method/analyze';
import { runAnalysis } from '../src/engine/method/runAnalysis';
import type { EmbeddingBundle, TaskOrderStability } from '../src/engine/types';

interface Fixture {
  scale: number;
  seed: number;
  models: string[];
  tasks: string[];
  n: number;
  dims: number[];
  embeddings: number[][][];
  indices: number[];
  displacement: { model: string; task: string; meanCosineDistance: number; meanCosineDistanceCiLow: number; meanCosineDistanceCiHigh: number }[];
  taskOrderStability: TaskOrderStability[];
}

const fixture = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'test', 'fixtures', 'displacement-ci.json'), 'utf8')) as Fixture;
const bundle: EmbeddingBundle = {
  models: fixture.models,
  tasks: fixture.tasks,
  n: fixture.n,
  dims: fixture.dims,
  embeddings: fixture.embeddings.map((per) => per.map((ints) => Float64Array.from(ints, (v) => v / fixture.scale))),
};
const TOLERANCE = 1e-9;

describe('displacement intervals (bootstrap over queries)', () => {
  it('the B x N index stream is SplitMix64 seeded with the analysis seed, as numpy computes it', () => {
    assert.deepEqual(Array.from(resampleIndices(fixture.seed, fixture.n)), fixture.indices);
  });

  it('every displacement row has the 95% interval numpy computes, around the mean', async () => {
    const result = await analyze(bundle, { seed: fixture.seed });
    assert.equal(result.displacement.length, fixture.displacement.length);
    result.displacement.forEach((row, x) => {
      const expected = fixture.displacement[x];
      assert.deepEqual([row.model, row.task], [expected.model, expected.task]);
      for (const key of ['meanCosineDistance', 'meanCosineDistanceCiLow', 'meanCosineDistanceCiHigh'] as const) {
        assert.ok(Math.abs(row[key] - expected[key]) <= TOLERANCE, `${row.model}/${row.task} ${key}: ${row[key]} vs ${expected[key]}`);
      }
      assert.ok(row.meanCosineDistanceCiLow < row.meanCosineDistance && row.meanCosineDistance < row.meanCosineDistanceCiHigh);
    });
  });

  it('the task order per model and how often the resamples keep it match numpy', async () => {
    const result = await analyze(bundle, { seed: fixture.seed });
    assert.deepEqual(result.taskOrderStability, fixture.taskOrderStability);
    assert.ok(result.taskOrderStability.some((row) => row.share < 0.9), 'the fixture has an unstable order');
  });

  it('another seed draws other resamples: other intervals, same means', async () => {
    const a = await analyze(bundle, { seed: fixture.seed });
    const b = await analyze(bundle, { seed: fixture.seed + 1 });
    assert.deepEqual(a.displacement.map((r) => r.meanCosineDistance), b.displacement.map((r) => r.meanCosineDistance));
    assert.notDeepEqual(a.displacement.map((r) => r.meanCosineDistanceCiLow), b.displacement.map((r) => r.meanCosineDistanceCiLow));
  });

  it('runAnalysis (worker threads) gives bit-identical intervals and stability', async () => {
    const expected = await analyze(bundle, { seed: fixture.seed });
    const actual = await runAnalysis(bundle, { seed: fixture.seed });
    assert.equal(JSON.stringify(actual), JSON.stringify(expected));
  });
});
