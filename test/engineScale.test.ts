/**
 * The engine at scale (issue 14): blocked neighbour search, the neighbour overlap turned off, our PCA against
 * ml-pca (an independent implementation: SVD of the centred data in plain JavaScript), map points in blocks of queries.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'node:test';
import { analyze } from '../src/engine/method/analyze';
import { mulberry32 } from '../src/engine/kernels/linalg';
import { nearestNeighbours } from '../src/engine/method/metrics';
import { runAnalysis } from '../src/engine/method/runAnalysis';
import { displacementCsv, resultsJson } from '../src/engine/io/outputs';
import { loadFixture } from './engineFixtures';
import { PCA } from 'ml-pca';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { readBundle } from '../src/engine/io/bundle';
import { packageRoot } from '../src/engine/io/paths';
import { createBundleEmbedder } from '../src/models/bundleEmbedder';
import { pcaModel } from '../src/engine/method/pca';
import { alignedCosine, cosineOfPoints, pointShape, queriesPerBlock } from '../src/engine/method/mapPoints';
import { pairIndex } from '../src/engine/method/procrustes';

/** Unit rows of a seeded n x d matrix. */
function unitMatrix(n: number, d: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const u = Float64Array.from({ length: n * d }, () => rng() - 0.5);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += u[i * d + j] ** 2;
    for (let j = 0; j < d; j++) u[i * d + j] /= Math.sqrt(s);
  }
  return u;
}

/** The m most similar other rows of row i by a plain sort (ties: lower index): the definition, not the algorithm. */
function naiveNeighbours(u: Float64Array, n: number, d: number, i: number, m: number): number[] {
  const sims: { j: number; s: number }[] = [];
  for (let j = 0; j < n; j++) {
    if (j === i) continue;
    let s = 0;
    for (let c = 0; c < d; c++) s += u[i * d + c] * u[j * d + c];
    sims.push({ j, s });
  }
  return sims.sort((a, b) => b.s - a.s || a.j - b.j).slice(0, m).map((x) => x.j);
}

describe('blocked neighbour search', () => {
  it('equals a plain sort of all similarities when the rows come in several blocks (n = 1500)', async () => {
    const n = 1500; // 2^19 / 1500 = 349 rows per block: 5 blocks, the last one partial; values offered to both rows
    const d = 6;
    const u = unitMatrix(n, d, 3);
    const got = await nearestNeighbours(u, n, d);
    for (let i = 0; i < n; i++) {
      const want = naiveNeighbours(u, n, d, i, 10);
      assert.deepEqual(Array.from(got.subarray(i * 10, i * 10 + 10)), want, `row ${i}`);
    }
  });

  it('property: any block size gives the plain sort, ties included (rows drawn from few distinct ones)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.boolean(),
        async (n, d, blockRows, seed, withCopies) => {
          const distinct = unitMatrix(n, d, seed);
          // With copies, many rows repeat one of 3 others: exact ties between columns.
          const u = withCopies ? new Float64Array(n * d) : distinct;
          if (withCopies) for (let i = 0; i < n; i++) u.set(distinct.subarray((i % 3) * d, (i % 3 + 1) * d), i * d);
          const m = Math.min(10, n - 1);
          const got = await nearestNeighbours(u, n, d, blockRows * n);
          const want = await nearestNeighbours(u, n, d, n * n); // one block: the N x N product
          assert.deepEqual(got, want);
          if (!withCopies)
            for (let i = 0; i < n; i++)
              assert.deepEqual(Array.from(got.subarray(i * m, (i + 1) * m)), naiveNeighbours(u, n, d, i, m), `row ${i}`);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('ties go to the lower index, also across blocks (duplicated rows)', async () => {
    const n = 800;
    const d = 4;
    const distinct = unitMatrix(100, d, 5);
    const u = new Float64Array(n * d);
    for (let i = 0; i < n; i++) u.set(distinct.subarray((i % 100) * d, (i % 100 + 1) * d), i * d);
    const got = await nearestNeighbours(u, n, d);
    // Row i's 7 copies (i mod 100 + 100 c) have similarity 1 (up to rounding that is the same for all copies), the
    // best there is: its neighbours are those copies in index order, then the copies of its nearest distinct row.
    for (const i of [0, 1, 99, 100, 450, 799]) {
      const copies = Array.from({ length: 8 }, (_, c) => (i % 100) + 100 * c).filter((j) => j !== i);
      assert.deepEqual(Array.from(got.subarray(i * 10, i * 10 + 7)), copies, `row ${i}`);
      const next = Array.from(got.subarray(i * 10 + 7, i * 10 + 10));
      assert.deepEqual(next, [...next].sort((a, b) => a - b), `row ${i}: the tied copies of the next row in index order`);
    }
  });
});

describe('neighbour overlap turned off', () => {
  for (const name of ['gram', 'cov']) {
    it(`${name} fixture: same numbers except the neighbour ones (null), movers by cosine distance, a warning`, async () => {
      const fx = loadFixture(name);
      const on = await analyze(fx.bundle, fx.options);
      const off = await analyze(fx.bundle, { ...fx.options, neighbourOverlap: false });
      assert.deepEqual(off.procrustesDistance, on.procrustesDistance);
      assert.deepEqual(off.points, on.points);
      assert.equal(off.displacement.length, on.displacement.length);
      off.displacement.forEach((row, x) => assert.deepEqual(row, { ...on.displacement[x], neighbourOverlap: null }));
      assert.deepEqual(off.warnings.slice(0, on.warnings.length), on.warnings);
      assert.equal(off.warnings.length, on.warnings.length + 1);
      assert.match(off.warnings.at(-1)!, /neighbour overlap was not computed/);
      // Movers: per (model, task), the 10 largest cosine distances (ties: lower index), recomputed here.
      const { models, tasks, n, dims, embeddings } = fx.bundle;
      let at = 0;
      models.forEach((model, m) => {
        const d = dims[m];
        const base = embeddings[m][0];
        for (let t = 1; t < tasks.length; t++) {
          const e = embeddings[m][t];
          const cos = Array.from({ length: n }, (_, i) => {
            let dot = 0, nb = 0, ne = 0;
            for (let j = 0; j < d; j++) {
              dot += base[i * d + j] * e[i * d + j];
              nb += base[i * d + j] ** 2;
              ne += e[i * d + j] ** 2;
            }
            return 1 - dot / Math.sqrt(nb * ne);
          });
          const want = cos.map((_, i) => i).sort((a, b) => cos[b] - cos[a] || a - b).slice(0, 10);
          const movers = off.topMovers.slice(at, at + want.length);
          at += want.length;
          assert.deepEqual(movers.map((r) => [r.model, r.task, r.index]), want.map((i) => [model, tasks[t], i]));
          for (const r of movers) {
            assert.equal(r.relativeMovement, null);
            assert.equal(r.neighbourOverlap, null);
            assert.ok(Math.abs(r.cosineDistance - cos[r.index]) <= 1e-12);
          }
        }
      });
      assert.equal(at, off.topMovers.length);
      // CSV: an empty neighbourOverlap field; the worker-thread path gives the same bytes.
      assert.match(displacementCsv(off).split('\r\n').filter((line) => !line.startsWith('#'))[1], /,$/);
      assert.equal(resultsJson(await runAnalysis(fx.bundle, { ...fx.options, neighbourOverlap: false })), resultsJson(off));
    });
  }
});

describe('PCA against ml-pca', () => {
  // Gram path (N*T < d) and covariance path (N*T >= d).
  for (const [n, tasks, d, k] of [[10, 3, 40, 6], [30, 4, 12, 7]]) {
    it(`${tasks} tasks x ${n} queries, d = ${d}, k = ${k}: scores up to column sign and explained variance ratio`, async () => {
      const rng = mulberry32(n * d);
      // A decaying spectrum, so that the top k components are well separated.
      const mats = Array.from({ length: tasks }, () =>
        Float64Array.from({ length: n * d }, (_, x) => (rng() - 0.5) / (1 + (x % d))),
      );
      const ours = await pcaModel(mats, n, d, k);
      const rows: number[][] = [];
      for (const m of mats) for (let i = 0; i < n; i++) rows.push(Array.from(m.subarray(i * d, (i + 1) * d)));
      const theirs = new PCA(rows, { method: 'SVD', center: true, scale: false });
      const scores = theirs.predict(rows, { nComponents: k });
      const ratio = theirs.getExplainedVariance();
      for (let c = 0; c < k; c++) {
        assert.ok(Math.abs(ours.explainedVarianceRatio[c] - ratio[c]) <= 1e-10, `explained variance ratio ${c}`);
        let dot = 0;
        for (let r = 0; r < rows.length; r++) dot += ours.scores[r * k + c] * scores.get(r, c);
        const sign = Math.sign(dot);
        for (let r = 0; r < rows.length; r++) {
          const want = sign * scores.get(r, c);
          assert.ok(Math.abs(ours.scores[r * k + c] - want) <= 1e-9 * (1 + Math.abs(want)), `score [${r}][${c}]`);
        }
      }
    });
  }

  it('the covariance path in row blocks (12 blocks of 7 rows and a last of 1) equals the whole stack, basis included', async () => {
    const rng = mulberry32(99);
    const [n, tasks, d, k] = [17, 5, 9, 6];
    // Float32 and float64 tasks, as bundles hold them.
    const mats = Array.from({ length: tasks }, (_, t) => {
      const values = Array.from({ length: n * d }, (_, x) => (rng() - 0.5) / (1 + (x % d)));
      return t % 2 ? Float32Array.from(values) : Float64Array.from(values);
    });
    const whole = await pcaModel(mats, n, d, k, true);
    const blocked = await pcaModel(mats, n, d, k, true, 7);
    const close = (a: Float64Array, b: Float64Array, what: string): void =>
      a.forEach((v, x) => assert.ok(Math.abs(v - b[x]) <= 1e-12 * (1 + Math.abs(b[x])), `${what}[${x}]: ${v} vs ${b[x]}`));
    close(blocked.scores, whole.scores, 'scores');
    close(blocked.explainedVarianceRatio, whole.explainedVarianceRatio, 'explained variance ratio');
    close(blocked.mean!, whole.mean!, 'mean');
    close(blocked.basis!, whole.basis!, 'basis');
  });
});

describe('float32 bundles kept float32', () => {
  it('a bundle embedder keeps its identity: the sha256 of the values as float64, as when bundles were widened', async () => {
    const dir = path.join(packageRoot(), 'test', 'fixtures', 'bundles', 'good-ordered');
    const bundle = await readBundle(dir);
    const m = bundle.embeddings.findIndex((per) => per[0] instanceof Float32Array);
    assert.ok(m >= 0, 'the fixture has a float32 model');
    const digest = createHash('sha256');
    for (const matrix of bundle.embeddings[m]) digest.update(new Uint8Array(Float64Array.from(matrix).buffer));
    const embedder = await createBundleEmbedder(dir, bundle.models[m]);
    assert.equal(await embedder.identity(), `bundle|${bundle.models[m]}|sha256:${digest.digest('hex')}`);
  });
});

/** A seeded k x k orthogonal matrix (Gram-Schmidt of a random one). */
function orthogonal(k: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const q = Float64Array.from({ length: k * k }, () => rng() - 0.5);
  for (let r = 0; r < k; r++) {
    for (let s = 0; s < r; s++) {
      let dot = 0;
      for (let c = 0; c < k; c++) dot += q[r * k + c] * q[s * k + c];
      for (let c = 0; c < k; c++) q[r * k + c] -= dot * q[s * k + c];
    }
    let norm = 0;
    for (let c = 0; c < k; c++) norm += q[r * k + c] ** 2;
    for (let c = 0; c < k; c++) q[r * k + c] /= Math.sqrt(norm);
  }
  return q;
}

describe('map points in blocks of queries', () => {
  it('blocks of at least 256 queries and about 16 MiB, one block where the points are small or many', () => {
    assert.equal(queriesPerBlock(pointShape('flatten', 6, 6, 10000, 200)), 291);
    assert.equal(queriesPerBlock(pointShape('flatten', 6, 6, 200, 200)), 200);
    assert.equal(queriesPerBlock(pointShape('flatten', 50, 6, 2000, 200)), 256);
    assert.equal(queriesPerBlock(pointShape('centroid', 6, 6, 10000, 200)), 1);
  });

  it('two blocks (6 models x 6 tasks, N = 8000, k = 8): the points and cosines of plain loops; the preview\'s cosines bit for bit', async () => {
    const [models, tasks, n, k] = [6, 6, 8000, 8];
    assert.equal(queriesPerBlock(pointShape('flatten', models, tasks, n, k)), 7281);
    const rng = mulberry32(5);
    const scores = Array.from({ length: models }, () => Float64Array.from({ length: tasks * n * k }, () => rng() - 0.5));
    const pairRotations: Float64Array[] = [];
    for (let i = 0; i < models; i++) for (let j = i + 1; j < models; j++) pairRotations[pairIndex(i, j, models)] = orthogonal(k, 100 + 10 * i + j);
    const ref = 2;
    const { cosine, points } = await alignedCosine({ scores, pairRotations, n, tasks, k, points: 'flatten' }, ref, true);
    assert.ok(points);
    const len = n * k;
    // A[m][t] = S[m][t] Q_{m,ref}, with Q_{m,ref} = Q_{ref,m}^T for m > ref and the identity for the reference.
    const aligned = new Float64Array(models * tasks * len);
    for (let m = 0; m < models; m++) {
      const q = m === ref ? undefined : pairRotations[pairIndex(Math.min(m, ref), Math.max(m, ref), models)];
      for (let row = 0; row < tasks * n; row++)
        for (let c = 0; c < k; c++) {
          let v = 0;
          for (let l = 0; l < k; l++) v += scores[m][row * k + l] * (q === undefined ? +(l === c) : m < ref ? q[l * k + c] : q[c * k + l]);
          aligned[m * tasks * len + row * k + c] = v;
        }
    }
    aligned.forEach((v, x) => assert.ok(Math.abs(points[x] - v) <= 1e-14, `point value ${x}: ${points[x]} vs ${v}`));
    const p = models * tasks;
    const norms = Array.from({ length: p }, (_, a) => Math.sqrt(aligned.subarray(a * len, (a + 1) * len).reduce((s, v) => s + v * v, 0)));
    for (let a = 0; a < p; a++)
      for (let b = 0; b < p; b++) {
        let dot = 0;
        for (let x = 0; x < len; x++) dot += aligned[a * len + x] * aligned[b * len + x];
        const want = a === b ? 0 : 1 - dot / (norms[a] * norms[b]);
        assert.ok(Math.abs(cosine[a * p + b] - want) <= 1e-12, `cosine [${a}][${b}]: ${cosine[a * p + b]} vs ${want}`);
      }
    assert.deepEqual(await cosineOfPoints(points, pointShape('flatten', models, tasks, n, k), tasks), cosine);
  });
});
