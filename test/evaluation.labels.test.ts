/**
 * The label-based kinds of EVAL.md (classification.ts, clustering.ts) against test/fixtures/eval-labels.json, made by
 * test/fixtures/make_eval_labels_fixtures.py (scikit-learn's LogisticRegression, f1_score, v_measure_score,
 * adjusted_rand_score; numpy implementations of the kNN and k-means rules with a Python SplitMix64): folds, CV
 * predictions, kNN labels, k-means seeds and assignments exactly; metrics and bootstrap replicates to 1e-6.
 * Then properties: shuffled labels score near chance, separated clusters score 1, same input same output, a label
 * with one query is a UserError naming it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { UserError } from '../src/engine/errors';
import { resampleIndices, SplitMix64 } from '../src/engine/evaluation/bootstrap';
import {
  classifierFeatures,
  crossValidate,
  macroF1,
  scoreClassification,
  stratifiedFolds,
} from '../src/engine/evaluation/classification';
import { adjustedRandIndex, vMeasure } from '../src/engine/evaluation/clusterAgreement';
import { bestRun, kMeansRuns, scoreClustering } from '../src/engine/evaluation/clustering';
import { knnPredictions } from '../src/engine/evaluation/knn';
import { fitLogistic, GRADIENT_TOLERANCE } from '../src/engine/evaluation/logisticRegression';
import { gramOf } from '../src/engine/kernels/gemm';
import { packageRoot } from '../src/engine/io/paths';

interface FixtureRun {
  seeds: number[];
  assignments: number[];
  inertia: number;
  iterations: number;
}

interface FixtureCase {
  name: string;
  n: number;
  d: number;
  labelCount: number;
  raw: number[];
  labels: number[];
  seed: number;
  resampleSeed: number;
  resamples: number[];
  folds?: number[];
  cvPredictions?: number[];
  cvProbabilities?: number[];
  accuracy?: number;
  macroF1?: number;
  accuracyReplicates?: number[];
  knnPredictions: number[];
  kNNAccuracy: number;
  kmeansRuns: FixtureRun[];
  kmeansBest: number;
  vMeasure: number;
  ARI: number;
  vMeasureReplicates: number[];
}

interface FixtureMetrics {
  labels: number[];
  predictions: number[];
  labelCount: number;
  macroF1: number;
  vMeasure: number;
  ARI: number;
}

const fixture = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'test', 'fixtures', 'eval-labels.json'), 'utf8')) as {
  cases: FixtureCase[];
  metrics: FixtureMetrics[];
};

const TOLERANCE = 1e-6;
/** Probabilities: both solvers stop at a gradient norm of order 1e-7..1e-6. */
const PROBABILITY_TOLERANCE = 1e-6;

/** Rows divided by the square root of their integer sum of squares: the same bits as the fixture script's. */
function normalised(raw: number[], n: number, d: number): Float64Array {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < d; j++) sum += raw[i * d + j] * raw[i * d + j];
    const norm = Math.sqrt(sum);
    for (let j = 0; j < d; j++) out[i * d + j] = raw[i * d + j] / norm;
  }
  return out;
}

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
}

function replicatesOf(mainOn: (sample: Int32Array) => number, resamples: Int32Array, n: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < resamples.length / n; b++) out.push(mainOn(resamples.subarray(b * n, (b + 1) * n)));
  return out;
}

/** Unit-norm rows: `perLabel` noisy copies of one random direction per label (noise well under the separation). */
function separated(
  labelCount: number,
  perLabel: number,
  d: number,
  noise: number,
  seed: number,
): { vectors: Float64Array; labels: Int32Array; n: number } {
  const stream = new SplitMix64(seed);
  // Box-Muller normal deviates.
  const gaussian = (): number =>
    Math.sqrt(-2 * Math.log(1 - stream.nextUniform())) * Math.cos(2 * Math.PI * stream.nextUniform());
  const centres = Array.from({ length: labelCount }, () => Float64Array.from({ length: d }, gaussian));
  const n = labelCount * perLabel;
  const labels = Int32Array.from({ length: n }, (_, i) => i % labelCount);
  const vectors = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < d; j++) {
      const x = centres[labels[i]][j] + noise * gaussian();
      vectors[i * d + j] = x;
      sum += x * x;
    }
    for (let j = 0; j < d; j++) vectors[i * d + j] /= Math.sqrt(sum);
  }
  return { vectors, labels, n };
}

/** Fisher-Yates shuffle of the labels by a SplitMix64 stream. */
function shuffled(labels: Int32Array, seed: number): Int32Array {
  const stream = new SplitMix64(seed);
  const out = labels.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = stream.nextIndex(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('classification against scikit-learn', () => {
  for (const c of fixture.cases.filter((x) => x.cvPredictions !== undefined)) {
    it(`${c.name} (n ${c.n}, d ${c.d}, ${c.labelCount} labels): folds, CV predictions, probabilities, metrics`, async () => {
      const vectors = normalised(c.raw, c.n, c.d);
      const labels = Int32Array.from(c.labels);
      assert.deepEqual(Array.from(stratifiedFolds(labels, c.labelCount)), c.folds);
      const gram = await gramOf(vectors, c.n, c.d);
      const { features, width } = await classifierFeatures(vectors, gram, c.n, c.d);
      const cv = await crossValidate(features, width, c.n, labels, c.labelCount);
      assert.deepEqual(Array.from(cv.predictions), c.cvPredictions);
      cv.probabilities.forEach((p, x) => close(p, c.cvProbabilities![x], PROBABILITY_TOLERANCE, `probability ${x}`));
      const score = await scoreClassification(vectors, c.n, c.d, labels, c.labelCount);
      assert.equal(score.n, c.n);
      close(score.values[0], c.accuracy!, TOLERANCE, 'accuracy');
      close(score.values[1], c.macroF1!, TOLERANCE, 'macroF1');
      close(score.values[2], c.kNNAccuracy, TOLERANCE, 'kNNAccuracy');
      const resamples = resampleIndices(c.resampleSeed, c.n, c.resamples.length / c.n);
      assert.deepEqual(Array.from(resamples), c.resamples, 'bootstrap.ts draws the fixture resamples');
      const replicates = replicatesOf(score.mainOn, resamples, c.n);
      replicates.forEach((r, b) => close(r, c.accuracyReplicates![b], TOLERANCE, `replicate ${b}`));
    });
  }
});

describe('logistic regression: the stopping rule', () => {
  it('the fitted model has a gradient norm below 1e-6 (recomputed here, in d dimensions)', async () => {
    const c = fixture.cases[0];
    const vectors = normalised(c.raw, c.n, c.d);
    const train = c.labels.map((_, i) => i).filter((i) => c.folds![i] !== 0);
    const x = new Float64Array(train.length * c.d);
    train.forEach((i, r) => x.set(vectors.subarray(i * c.d, (i + 1) * c.d), r * c.d));
    const y = Int32Array.from(train, (i) => c.labels[i]);
    const K = c.labelCount;
    const { weights, intercepts } = await fitLogistic(x, train.length, c.d, y, K);
    const gradient = Float64Array.from(weights); // ||W||^2 / 2 with C = 1
    const interceptGradient = new Float64Array(K);
    for (let r = 0; r < train.length; r++) {
      const logits = Array.from({ length: K }, (_, k) => {
        let s = intercepts[k];
        for (let j = 0; j < c.d; j++) s += weights[k * c.d + j] * x[r * c.d + j];
        return s;
      });
      const max = Math.max(...logits);
      const z = logits.reduce((a, l) => a + Math.exp(l - max), 0);
      for (let k = 0; k < K; k++) {
        const residual = Math.exp(logits[k] - max) / z - (y[r] === k ? 1 : 0);
        interceptGradient[k] += residual;
        for (let j = 0; j < c.d; j++) gradient[k * c.d + j] += residual * x[r * c.d + j];
      }
    }
    const norm = Math.hypot(...gradient, ...interceptGradient);
    assert.ok(norm < GRADIENT_TOLERANCE, `gradient norm ${norm}`);
  });
});

describe('kNN against the reference rule', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: leave-one-out labels (similarity ties by lower index, vote ties by the nearest)`, async () => {
      const vectors = normalised(c.raw, c.n, c.d);
      const gram = await gramOf(vectors, c.n, c.d);
      assert.deepEqual(Array.from(knnPredictions(gram, c.n, Int32Array.from(c.labels), c.labelCount)), c.knnPredictions);
    });
  }
});

describe('clustering against the reference k-means and scikit-learn', () => {
  for (const c of fixture.cases) {
    it(`${c.name} (n ${c.n}, d ${c.d}, K ${c.labelCount}): each run's seeds and assignments, best run, V, ARI`, async () => {
      const vectors = normalised(c.raw, c.n, c.d);
      const labels = Int32Array.from(c.labels);
      const gram = await gramOf(vectors, c.n, c.d);
      const runs = kMeansRuns(gram, c.n, c.labelCount, c.seed);
      assert.equal(runs.length, c.kmeansRuns.length);
      runs.forEach((run, r) => {
        const expected = c.kmeansRuns[r];
        assert.deepEqual(Array.from(run.seeds), expected.seeds, `run ${r} seeds`);
        assert.deepEqual(Array.from(run.assignments), expected.assignments, `run ${r} assignments`);
        assert.equal(run.iterations, expected.iterations, `run ${r} iterations`);
        close(run.inertia, expected.inertia, 1e-9, `run ${r} inertia`);
      });
      assert.equal(runs.indexOf(bestRun(runs)), c.kmeansBest);
      const score = await scoreClustering(vectors, c.n, c.d, labels, c.labelCount, c.seed);
      assert.equal(score.n, c.n);
      close(score.values[0], c.vMeasure, TOLERANCE, 'vMeasure');
      close(score.values[1], c.ARI, TOLERANCE, 'ARI');
      const resamples = Int32Array.from(c.resamples);
      const replicates = replicatesOf(score.mainOn, resamples, c.n);
      replicates.forEach((r, b) => close(r, c.vMeasureReplicates[b], TOLERANCE, `replicate ${b}`));
    });
  }
});

describe('label metrics in their degenerate cases', () => {
  for (const m of fixture.metrics) {
    it(`labels ${m.labels.join('')} vs ${m.predictions.join('')}: macro-F1, V-measure, ARI as scikit-learn`, () => {
      const labels = Int32Array.from(m.labels);
      const predictions = Int32Array.from(m.predictions);
      const count = Math.max(m.labelCount, ...m.predictions) + 1;
      close(macroF1(predictions, labels, count), m.macroF1, TOLERANCE, 'macroF1');
      close(vMeasure(labels, count, predictions, count), m.vMeasure, TOLERANCE, 'vMeasure');
      close(adjustedRandIndex(labels, count, predictions, count), m.ARI, TOLERANCE, 'ARI');
    });
  }
});

describe('label-based kinds: properties', () => {
  it('identical rows get identical similarities, also across gramOf blocks (the tie rules rely on it)', async () => {
    const n = 600; // two blocks of gramOf
    const d = 48;
    const { vectors } = separated(1, n, d, 1, 4);
    const copies = [3, 290, 599];
    for (const c of copies.slice(1)) vectors.copyWithin(c * d, copies[0] * d, (copies[0] + 1) * d);
    const gram = await gramOf(vectors, n, d);
    for (let q = 0; q < n; q++)
      for (const c of copies.slice(1)) {
        assert.equal(gram[q * n + c], gram[q * n + copies[0]], `G[${q}][${c}]`);
        assert.equal(gram[c * n + q], gram[copies[0] * n + q], `G[${c}][${q}]`);
      }
  });

  it('perfectly separated clusters score accuracy, macro-F1, kNN accuracy, V-measure and ARI 1', async () => {
    for (const d of [12, 300]) {
      const { vectors, labels, n } = separated(4, 15, d, 0.05, d);
      const classification = await scoreClassification(vectors, n, d, labels, 4);
      assert.deepEqual(classification.values, [1, 1, 1], `d ${d}`);
      const clustering = await scoreClustering(vectors, n, d, labels, 4, 0);
      close(clustering.values[0], 1, 1e-12, `d ${d} vMeasure`);
      close(clustering.values[1], 1, 1e-12, `d ${d} ARI`);
    }
  });

  it('shuffled labels score near chance (accuracy about 1/labelCount, V-measure about 0)', async () => {
    const labelCount = 4;
    const d = 40;
    const { vectors, labels, n } = separated(labelCount, 50, d, 0.05, 9);
    const accuracies: number[] = [];
    const vMeasures: number[] = [];
    for (let seed = 1; seed <= 4; seed++) {
      const noise = shuffled(labels, seed);
      accuracies.push((await scoreClassification(vectors, n, d, noise, labelCount)).values[0]);
      vMeasures.push((await scoreClustering(vectors, n, d, noise, labelCount, 0)).values[0]);
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    // n = 200: one accuracy's standard error is about 0.03; four shuffles average to about 0.015.
    assert.ok(Math.abs(mean(accuracies) - 1 / labelCount) < 0.08, `accuracies ${accuracies}`);
    assert.ok(mean(vMeasures) < 0.05, `V-measures ${vMeasures}`);
  });

  it('the same input gives the same output (values and replicates)', async () => {
    const c = fixture.cases[2];
    const vectors = normalised(c.raw, c.n, c.d);
    const labels = Int32Array.from(c.labels);
    const resamples = Int32Array.from(c.resamples);
    for (const score of [
      () => scoreClassification(vectors, c.n, c.d, labels, c.labelCount),
      () => scoreClustering(vectors, c.n, c.d, labels, c.labelCount, c.seed),
    ]) {
      const [a, b] = [await score(), await score()];
      assert.deepEqual(a.values, b.values);
      assert.deepEqual(replicatesOf(a.mainOn, resamples, c.n), replicatesOf(b.mainOn, resamples, c.n));
    }
  });

  it('a label with one query is a UserError naming it', async () => {
    const { vectors, labels, n } = separated(3, 4, 6, 0.1, 1);
    const lonely = labels.slice();
    lonely[5] = 3; // label 3 ("__proto__") now has one query
    await assert.rejects(scoreClassification(vectors, n, 6, lonely, 4, ['a', 'b', 'c', '__proto__']), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /"__proto__" \(1 query\)/);
      assert.doesNotMatch(error.message, /"a"|"b"|"c"/);
      return true;
    });
    await assert.rejects(scoreClassification(vectors, n, 6, new Int32Array(n), 1), UserError);
  });
});
