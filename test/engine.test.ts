import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { analyseModel, analyze, baseScores, resolveOptions } from '../src/engine/method/analyze';
import { UserError } from '../src/engine/errors';
import { gemm, gramOf } from '../src/engine/kernels/gemm';
import { gemmBackend, type NativeBlas } from '../src/engine/kernels/nativeBlas';
import { BLOCKED_FROM, symmetricEigenTopGemm } from '../src/engine/kernels/gemmEigen';
import { acquire, release, trimScratch } from '../src/engine/kernels/scratch';
import { collectYoungGarbage } from '../src/engine/kernels/youngGarbage';
import { mulberry32, svd, symmetricEigenTop } from '../src/engine/kernels/linalg';
import { classicalMds, kruskalStress } from '../src/engine/method/mds';
import { procrustesPair } from '../src/engine/method/procrustes';
import { messageText } from '../src/engine/messages';
import { AnalysisResult } from '../src/engine/types';
import { FIXTURE_NAMES, loadFixture } from './engineFixtures';

const REL = 1e-6;
const ABS = 1e-9;

function close(actual: number, expected: number, what: string): void {
  const tol = Math.max(ABS, REL * Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} (tol ${tol})`);
}

function closeMatrix(actual: number[][], expected: number[][], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: rows`);
  actual.forEach((row, i) => row.forEach((v, j) => close(v, expected[i][j], `${what}[${i}][${j}]`)));
}

function mapDistances(result: AnalysisResult): number[][] {
  return result.points.map((a) => result.points.map((b) => Math.hypot(a.x - b.x, a.y - b.y)));
}

describe('engine against numpy/scipy fixtures', () => {
  for (const name of FIXTURE_NAMES) {
    it(`${name}: matches the independent numpy/scipy analysis`, async () => {
      const fx = loadFixture(name);
      const result = await analyze(fx.bundle, fx.options);
      const ex = fx.expected;
      assert.equal(result.k, ex.k);
      assert.equal(result.warnings.length, fx.alignmentUnique ? 0 : 1, 'a warning exactly when the alignment is not unique');
      assert.equal(result.reference, ex.reference);
      assert.equal(result.referenceChosenBy, fx.options.reference === undefined ? 'auto' : 'user');
      closeMatrix(result.procrustesDistance, ex.procrustesDistance, 'D');
      for (const model of fx.bundle.models) {
        result.explainedVarianceRatio[model].forEach((v, c) =>
          close(v, ex.explainedVarianceRatio[model][c], `explained ${model}[${c}]`),
        );
      }
      assert.equal(result.displacement.length, ex.displacement.length);
      const alignmentFree = [
        'meanCosineDistance', 'medianCosineDistance', 'p90CosineDistance', 'shiftFraction', 'neighbourOverlap',
      ] as const;
      result.displacement.forEach((row, x) => {
        const e = ex.displacement[x];
        assert.equal(row.model, e.model);
        assert.equal(row.task, e.task);
        for (const key of alignmentFree) close(row[key] ?? NaN, e[key] as number, `${row.model}/${row.task} ${key}`);
        if (fx.alignmentUnique) close(row.trajectoryLength, e.trajectoryLength as number, `${row.model}/${row.task} trajectory`);
      });
      assert.equal(result.topMovers.length, ex.topMovers.length);
      result.topMovers.forEach((row, x) => {
        const e = ex.topMovers[x];
        assert.deepEqual([row.model, row.task, row.index], [e.model, e.task, e.index], `mover ${x}`);
        close(row.cosineDistance, e.cosineDistance as number, `mover ${x} cosine`);
        close(row.relativeMovement ?? NaN, e.relativeMovement as number, `mover ${x} relativeMovement`);
        close(row.neighbourOverlap ?? NaN, e.neighbourOverlap as number, `mover ${x} overlap`);
        if (fx.bundle.queries) assert.equal(row.query, fx.bundle.queries[row.index]);
      });
      if (fx.alignmentUnique) {
        closeMatrix(result.cosineDistance, ex.cosineDistance, 'cosine');
        closeMatrix(mapDistances(result), ex.mapDistances, 'map distances');
        close(result.mdsStress, ex.mdsStress, 'stress');
        assert.equal(result.robustness.length, ex.robustness.length);
        result.robustness.forEach((row, x) => {
          assert.equal(row.reference, ex.robustness[x].reference);
          close(row.disparity, ex.robustness[x].disparity, `disparity ${row.reference}`);
          assert.deepEqual(row.taskOrderPreserved, ex.robustness[x].taskOrderPreserved);
        });
      }
    });
  }
});

/** A random orthogonal d x d matrix (Gram-Schmidt on seeded uniform columns), row-major. */
function randomOrthogonal(d: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const q = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    const v = Float64Array.from({ length: d }, () => rng() - 0.5);
    for (let pass = 0; pass < 2; pass++)
      for (let o = 0; o < c; o++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += q[i * d + o] * v[i];
        for (let i = 0; i < d; i++) v[i] -= dot * q[i * d + o];
      }
    const norm = Math.hypot(...v);
    for (let i = 0; i < d; i++) q[i * d + c] = v[i] / norm;
  }
  return q;
}

describe('engine properties', () => {
  it('every pairwise Procrustes rotation is orthogonal, also when k > N (rank-deficient)', async () => {
    for (const name of ['cov', 'deficient']) {
      const { bundle, options } = loadFixture(name);
      const { k } = resolveOptions(bundle, options);
      if (name === 'deficient') assert.ok(k > bundle.n, 'fixture must have k > N');
      const stages = await Promise.all(bundle.models.map((_, m) => analyseModel(bundle, m, k)));
      for (let i = 0; i < stages.length; i++)
        for (let j = i + 1; j < stages.length; j++) {
          const { q } = await procrustesPair(baseScores(stages[i].scores, bundle.n, k), baseScores(stages[j].scores, bundle.n, k), bundle.n, k);
          const qtq = await gemm(q, q, k, k, k, { transA: true });
          let worst = 0;
          for (let r = 0; r < k; r++)
            for (let c = 0; c < k; c++) worst = Math.max(worst, Math.abs(qtq[r * k + c] - (r === c ? 1 : 0)));
          assert.ok(worst < 1e-10, `${name} Q(${i},${j}): |Q^T Q - I| = ${worst}`);
        }
    }
  });

  // On onnxruntime procrustesPair is our SVD without U (the full one where M is rank-deficient); on OpenBLAS it is
  // LAPACK's dgesdd, whose completion of M's null directions may differ (Q is not unique there) but is as optimal.
  it(`procrustesPair (${gemmBackend()}) gives the full SVD's U V^T and singular value sum; an optimal orthogonal Q where M is rank-deficient`, async () => {
    const rng = mulberry32(21);
    const exact = gemmBackend() === 'onnxruntime';
    for (const [n, k, rank] of [[40, 12, 12], [25, 9, 9], [10, 14, 10]]) {
      // S_i of the given rank; S_j a rotated, noisy S_i, as two models' Base scores are.
      const si = new Float64Array(n * k);
      const basis = Float64Array.from({ length: rank * k }, () => rng() - 0.5);
      for (let r = 0; r < n; r++)
        for (let x = 0; x < rank; x++) {
          const w = rng() - 0.5;
          for (let c = 0; c < k; c++) si[r * k + c] += w * basis[x * k + c];
        }
      const sj = await gemm(si, randomOrthogonal(k, 5), n, k, k);
      for (let x = 0; x < n * k; x++) sj[x] += 0.01 * (rng() - 0.5);
      const { q, sigmaSum } = await procrustesPair(si, sj, n, k);
      const mColumnMajor = await gemm(sj, si, k, n, k, { transA: true });
      const full = svd(mColumnMajor, k, k);
      const expected = await gemm(full.u, full.v, k, k, k, { transA: true });
      const expectedSum = full.s.reduce((a, b) => a + b, 0);
      const label = `${n} x ${k}, rank ${rank}`;
      if (rank === k) for (let x = 0; x < k * k; x++) assert.ok(Math.abs(q[x] - expected[x]) <= 1e-12, `${label}: Q[${x}]`);
      else if (exact) assert.deepEqual(q, expected, `${label}: the full SVD's Q`);
      if (exact) assert.equal(sigmaSum, expectedSum, `${label}: sum of the singular values`);
      else assert.ok(Math.abs(sigmaSum - expectedSum) <= 1e-13 * expectedSum, `${label}: sum of the singular values`);
      // Q is orthogonal and attains the optimum: tr(Q^T M_ij) = sum(Sigma); M_ij's row-major buffer is mColumnMajor^T.
      const qtq = await gemm(q, q, k, k, k, { transA: true });
      for (let r = 0; r < k; r++)
        for (let c = 0; c < k; c++) assert.ok(Math.abs(qtq[r * k + c] - (r === c ? 1 : 0)) <= 1e-13, `${label}: Q^T Q [${r}][${c}]`);
      let trace = 0;
      for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) trace += q[r * k + c] * mColumnMajor[c * k + r];
      assert.ok(Math.abs(trace - expectedSum) <= 1e-12 * expectedSum, `${label}: tr(Q^T M) ${trace} against ${expectedSum}`);
    }
  });

  it('D has an exactly zero diagonal and is unchanged when a model space is rotated', async () => {
    const { bundle, options } = loadFixture('gram-flatten');
    const before = await analyze(bundle, options);
    before.procrustesDistance.forEach((row, i) => assert.equal(row[i], 0));
    const m = 1;
    const d = bundle.dims[m];
    const rot = randomOrthogonal(d, 99);
    const embeddings = await Promise.all(
      bundle.embeddings.map((per, x) => (x === m ? Promise.all(per.map((e) => gemm(Float64Array.from(e), rot, bundle.n, d, d))) : per)),
    );
    const rotated = { ...bundle, embeddings };
    const after = await analyze(rotated, options);
    closeMatrix(after.procrustesDistance, before.procrustesDistance, 'rotated D');
    closeMatrix(mapDistances(after), mapDistances(before), 'rotated map distances');
    after.displacement.forEach((row, x) => close(row.meanCosineDistance, before.displacement[x].meanCosineDistance, 'rotated displacement'));
  });

  it('classical MDS of points that are Euclidean in 2-D gives back their distances', () => {
    const rng = mulberry32(5);
    const p = 15;
    const xy = Array.from({ length: p }, () => [rng() * 4 - 2, rng() - 0.5]);
    const dist = new Float64Array(p * p);
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) dist[i * p + j] = Math.hypot(xy[i][0] - xy[j][0], xy[i][1] - xy[j][1]);
    const coords = classicalMds(dist, p);
    for (let i = 0; i < p; i++)
      for (let j = 0; j < p; j++) {
        const got = Math.hypot(coords[2 * i] - coords[2 * j], coords[2 * i + 1] - coords[2 * j + 1]);
        assert.ok(Math.abs(got - dist[i * p + j]) < 1e-9, `distance ${i},${j}: ${got} vs ${dist[i * p + j]}`);
      }
    assert.ok(kruskalStress(coords, dist, p) < 1e-9);
  });

  it('the same input gives the same results JSON, byte for byte', async () => {
    for (const name of ['cov', 'gram']) {
      const { bundle, options } = loadFixture(name);
      assert.equal(JSON.stringify(await analyze(bundle, options)), JSON.stringify(await analyze(bundle, options)));
    }
  });

  it('one model: D = [[0]], that model is the reference, no robustness rows', async () => {
    const { bundle } = loadFixture('cov');
    const one = { ...bundle, models: [bundle.models[2]], dims: [bundle.dims[2]], embeddings: [bundle.embeddings[2]] };
    const result = await analyze(one);
    assert.deepEqual(result.procrustesDistance, [[0]]);
    assert.equal(result.reference, bundle.models[2]);
    assert.deepEqual(result.robustness, []);
    assert.equal(result.points.length, bundle.tasks.length);
  });

  it('copies queries and instructions through and reports who chose the reference', async () => {
    const { bundle } = loadFixture('deficient');
    const instructions = new Map([['Retrieval', 'find passages']]);
    const result = await analyze({ ...bundle, instructions }, { reference: 'q' });
    assert.deepEqual(result.queries, bundle.queries);
    assert.deepEqual(result.instructions, { Retrieval: 'find passages' });
    assert.equal(result.reference, 'q');
    assert.equal(result.referenceChosenBy, 'user');
  });
});

describe('k: the default and the warning', () => {
  it('an explicit k > N warns with k, N and the remedy, naming the option as the surface does', async () => {
    const { bundle } = loadFixture('deficient');
    const warned = await analyze(bundle, { k: 20 });
    assert.equal(warned.k, 20);
    assert.ok(warned.k > bundle.n);
    assert.deepEqual(warned.warningDetails, [{ code: 'kAboveQueries', params: { k: 20, n: bundle.n } }]);
    assert.deepEqual(warned.warnings, [
      `k = 20 exceeds the number of queries (12): the alignment outside the span of the Base embeddings is not ` +
        `determined by the data, so the map may change with k; set k to 12 or less (or leave it unset: the default is ` +
        `then at most the number of queries), or use at least 20 queries`,
    ]);
    const cli = messageText(warned.warningDetails[0], { option: () => '--k' });
    assert.match(cli, /change with --k; set --k to 12 or less/);
    const unique = await analyze(bundle, { k: bundle.n });
    assert.equal(unique.k, bundle.n);
    assert.deepEqual(unique.warnings, []);
  });

  it('the default k is min(200, N, N*T - 1, smallest d) and gives no warning', async () => {
    const { bundle } = loadFixture('deficient'); // N = 12, T = 6, d = 24, 30, 20
    const result = await analyze(bundle);
    assert.equal(result.k, 12);
    assert.deepEqual(result.warnings, []);
    assert.equal(resolveOptions(bundle).k, 12);
    const wide = loadFixture('cov').bundle; // N = 30, T = 5, smallest d = 8
    assert.equal(resolveOptions(wide).k, 8);
    // N*T - 1 binds: 3 queries, Base only, d = 50.
    const tiny = { models: ['a'], tasks: ['Base'], n: 3, dims: [50], embeddings: [[Float64Array.from({ length: 150 }, (_, i) => Math.sin(i))]] };
    assert.equal(resolveOptions(tiny).k, 2);
    // 200 binds: 250 queries, d = 300.
    const many = { models: ['a'], tasks: ['Base', 'x'], n: 250, dims: [300], embeddings: [[new Float64Array(75000), new Float64Array(75000)]] };
    assert.equal(resolveOptions(many).k, 200);
    assert.equal(resolveOptions(many, { k: 280 }).k, 280);
  });
});

/** op(A) op(B) by the textbook triple loop, row-major. */
function naiveProduct(a: Float64Array, b: Float64Array, m: number, k: number, n: number, transA: boolean, transB: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let l = 0; l < k; l++) s += (transA ? a[l * m + i] : a[i * k + l]) * (transB ? b[j * k + l] : b[l * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

describe(`gemm on ${gemmBackend()}`, () => {
  const rng = mulberry32(7);
  const random = (length: number): Float64Array => Float64Array.from({ length }, () => rng() * 2 - 1);

  // npm test runs this file on both: OpenBLAS where the build found Debian's static OpenBLAS (CI installs it), and
  // onnxruntime with INSTRUCTION_LENS_GEMM=onnxruntime.
  it('runs on OpenBLAS where the addon was built, on onnxruntime where asked', () => {
    const built = fs.existsSync(path.join(__dirname, '..', '..', 'dist', 'blas.node'));
    const wanted = process.env.INSTRUCTION_LENS_GEMM === 'onnxruntime' || !built ? 'onnxruntime' : 'openblas';
    assert.equal(gemmBackend(), wanted);
    if (fs.existsSync('/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a')) assert.ok(built, 'dist/blas.node was not built');
  });

  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
    it(`transA=${transA} transB=${transB}: equals the triple loop, same bits every call`, async () => {
      const [m, k, n] = [37, 129, 21];
      const a = random(m * k);
      const b = random(k * n);
      const expected = naiveProduct(a, b, m, k, n, transA, transB);
      const got = await gemm(a, b, m, k, n, { transA, transB });
      assert.equal(got.length, m * n);
      got.forEach((v, x) => assert.ok(Math.abs(v - expected[x]) <= 1e-12 * (1 + Math.abs(expected[x])), `entry ${x}: ${v} vs ${expected[x]}`));
      assert.deepEqual(await gemm(a, b, m, k, n, { transA, transB }), got);
    });
  }

  it('sameOrderEveryEntry: identical rows give identical entries wherever they are (products and Grams)', async () => {
    for (const [m, n, d] of [[37, 300, 12], [300, 37, 384], [129, 257, 1000], [5, 1100, 64]]) {
      const a = random(m * d);
      const b = random(n * d);
      // Row 0 of each copied to the middle and the end: the places a kernel's main and edge code handle.
      for (const [x, rows] of [[a, m], [b, n]] as const)
        for (const to of [rows >> 1, rows - 1]) x.copyWithin(to * d, 0, d);
      const c = await gemm(a, b, m, d, n, { transB: true, sameOrderEveryEntry: true });
      for (const r of [m >> 1, m - 1]) assert.deepEqual(c.subarray(r * n, (r + 1) * n), c.subarray(0, n), `${m} x ${n} x ${d}: row ${r}`);
      for (let r = 0; r < m; r++)
        for (const col of [n >> 1, n - 1]) assert.equal(c[r * n + col], c[r * n], `${m} x ${n} x ${d}: [${r}][${col}]`);
      const g = await gramOf(b, n, d, undefined, false, true);
      for (let r = 0; r < n; r++)
        for (const col of [n >> 1, n - 1]) assert.equal(g[r * n + col], g[r * n], `Gram ${n} x ${d}: [${r}][${col}]`);
    }
  });

  it('takes subarray views of shared memory and leaves the operands unchanged', async () => {
    const shared = new Float64Array(new SharedArrayBuffer(8 * 200));
    shared.set(random(200));
    const copy = shared.slice();
    const a = shared.subarray(10, 10 + 6 * 9);
    const b = shared.subarray(100, 100 + 9 * 4);
    assert.deepEqual(await gemm(a, b, 6, 9, 4), await gemm(a.slice(), b.slice(), 6, 9, 4));
    assert.deepEqual(shared, copy);
  });

  it('gramOf is exactly symmetric and equals X X^T, in one product and in row blocks', async () => {
    for (const [n, len] of [[30, 50], [200, 40], [1100, 9]]) { // 1, 3 and 16 blocks
      const x = random(n * len);
      const g = await gramOf(x, n, len);
      const expected = naiveProduct(x, x, n, len, n, false, true);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          assert.equal(g[i * n + j], g[j * n + i]);
          assert.ok(Math.abs(g[i * n + j] - expected[i * n + j]) <= 1e-12 * (1 + Math.abs(expected[i * n + j])), `${n}: [${i}][${j}]`);
        }
    }
  });

  it('scratch buffers: the smallest free one that fits is reused; a request larger than every free one drops them', () => {
    trimScratch();
    const small = acquire(10);
    const medium = acquire(40);
    release(small, medium);
    const reused = acquire(8);
    assert.equal(reused.buffer, small.buffer, 'the smallest that fits');
    assert.equal(reused.length, 8);
    release(reused);
    const large = acquire(100); // no free buffer fits: small and medium are dropped
    assert.notEqual(large.buffer, small.buffer);
    release(large);
    assert.equal(acquire(8).buffer, large.buffer, 'only the large one is left');
    trimScratch();
  });

  it('collectYoungGarbage runs a minor collection in a worker thread, each time it is called, and nothing on the main thread', async () => {
    // Node's performance entries of kind 'gc' name each collection; minor is NODE_PERFORMANCE_GC_MINOR.
    const script = `
      const { parentPort } = require('node:worker_threads');
      const { PerformanceObserver, constants } = require('node:perf_hooks');
      const { collectYoungGarbage } = require(${JSON.stringify(path.join(__dirname, '../src/engine/kernels/youngGarbage.js'))});
      const kinds = [];
      const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) kinds.push(e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR ? 'minor' : 'other'); });
      observer.observe({ entryTypes: ['gc'] });
      setTimeout(() => {
        const quiet = kinds.length;
        collectYoungGarbage();
        collectYoungGarbage();
        setTimeout(() => parentPort.postMessage({ quiet, kinds }), 50);
      }, 50);`;
    const worker = new Worker(script, { eval: true });
    const [{ quiet, kinds }] = (await once(worker, 'message')) as [{ quiet: number; kinds: string[] }];
    await worker.terminate();
    assert.deepEqual(kinds.slice(quiet), ['minor', 'minor']);
    collectYoungGarbage(); // main thread: no collection, no error
  });

  it('droppedCopy collects once 16 MiB of dropped copies have added up since the last collection', async () => {
    const script = `
      const { parentPort } = require('node:worker_threads');
      const { PerformanceObserver } = require('node:perf_hooks');
      const { collectYoungGarbage, droppedCopy } = require(${JSON.stringify(path.join(__dirname, '../src/engine/kernels/youngGarbage.js'))});
      const counts = [];
      let collections = 0;
      new PerformanceObserver((list) => (collections += list.getEntries().length)).observe({ entryTypes: ['gc'] });
      const MiB = 1 << 20;
      const settle = () => new Promise((resolve) => setTimeout(resolve, 30));
      (async () => {
        await settle();
        const base = collections;
        droppedCopy(10 * MiB); await settle(); counts.push(collections - base);
        droppedCopy(6 * MiB); await settle(); counts.push(collections - base);
        droppedCopy(15 * MiB); await settle(); counts.push(collections - base);
        collectYoungGarbage(); await settle(); counts.push(collections - base);
        droppedCopy(15 * MiB); await settle(); counts.push(collections - base);
        parentPort.postMessage(counts);
      })();`;
    const worker = new Worker(script, { eval: true });
    const [counts] = (await once(worker, 'message')) as [number[]];
    await worker.terminate();
    // 10 (none), 16 (one, the count starts again), 15 (none), an explicit one, 15 after it (none).
    assert.deepEqual(counts, [0, 1, 1, 2, 2]);
  });

  // On onnxruntime symmetricEigenTopGemm is the JS solver with its back-transformation blocked (WY) on Gemm: the same
  // eigenvalues bit for bit; on OpenBLAS it is LAPACK's dsyevr: the same to rounding, each vector up to its sign.
  it(`symmetricEigenTopGemm (${gemmBackend()}) gives the eigenpairs of the JS solver`, async () => {
    const n = 150; // 148 reflectors: three blocks of 64, the last partial
    const k = 40;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng() - 0.5 + (i === j ? 0.02 * i : 0);
    const expected = symmetricEigenTop(a.slice(), n, k);
    const got = await symmetricEigenTopGemm(a.slice(), n, k);
    const exact = gemmBackend() === 'onnxruntime';
    if (exact) assert.deepEqual(got.values, expected.values);
    else got.values.forEach((value, c) => assert.ok(Math.abs(value - expected.values[c]) <= 1e-14 * Math.abs(expected.values[0]), `value ${c}: ${value} vs ${expected.values[c]}`));
    for (let c = 0; c < k; c++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += got.vectors[i * k + c] * expected.vectors[i * k + c];
      const sign = exact ? 1 : Math.sign(dot);
      for (let i = 0; i < n; i++) {
        const x = i * k + c;
        assert.ok(Math.abs(sign * got.vectors[x] - expected.vectors[x]) < 1e-12, `vector ${c}, entry ${i}: ${got.vectors[x]} vs ${expected.vectors[x]}`);
      }
    }
  });

  // The addon itself, loaded whichever backend this run uses (the test of the backend above fails where the build
  // should have made it and did not).
  const addonFile = path.join(__dirname, '..', '..', 'dist', 'blas.node');
  const addon = fs.existsSync(addonFile) ? (require(addonFile) as NativeBlas) : null;
  if (addon) it('dsyevrTop gives the matrix back where it fails (a NaN entry), and symmetricEigenTopGemm then solves it the other way', async () => {
    const blas = addon;
    const n = 60;
    const k = 5;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng() - 0.5;
    a[7 * n + 3] = NaN;
    const lower = a.slice();
    assert.notEqual(blas.dsyevrTop(n, k, a, new Float64Array(k), new Float64Array(n * k)), 0);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) assert.ok(Object.is(a[i * n + j], lower[i * n + j]), `entry ${i}, ${j}`);
    const expected = symmetricEigenTop(lower.slice(), n, k);
    const got = await symmetricEigenTopGemm(lower.slice(), n, k);
    assert.deepEqual([...got.values].map(String), [...expected.values].map(String));
  });

  it(`symmetricEigenTopGemm (${gemmBackend()}) at n = BLOCKED_FROM gives the eigenpairs to rounding`, async () => {
    // On onnxruntime the blocked tridiagonalisation: 32 panels of 32 columns, the first 24 updating their trailing
    // matrix (992 .. 256 rows) on Gemm in 15 .. 4 row blocks, the rest in WebAssembly; on OpenBLAS LAPACK's dsyevr.
    // symmetricEigenTop reduces with the fused one-pass kernel instead.
    const n = BLOCKED_FROM;
    const k = 40;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng() - 0.5 + (i === j ? 0.01 * i : 0);
    const expected = symmetricEigenTop(a.slice(), n, k);
    const got = await symmetricEigenTopGemm(a.slice(), n, k);
    const scale = Math.abs(expected.values[0]);
    got.values.forEach((value, c) => assert.ok(Math.abs(value - expected.values[c]) <= 1e-13 * scale, `value ${c}: ${value} vs ${expected.values[c]}`));
    let residual = 0;
    let orthogonality = 0;
    for (let c = 0; c < k; c++) {
      for (let i = 0; i < n; i++) {
        let t = 0;
        for (let j = 0; j < n; j++) t += a[i * n + j] * got.vectors[j * k + c];
        residual = Math.max(residual, Math.abs(t - got.values[c] * got.vectors[i * k + c]));
      }
      for (let d = 0; d <= c; d++) {
        let t = 0;
        for (let i = 0; i < n; i++) t += got.vectors[i * k + c] * got.vectors[i * k + d];
        orthogonality = Math.max(orthogonality, Math.abs(t - (c === d ? 1 : 0)));
      }
    }
    assert.ok(residual <= 1e-12 * scale, `max |A v - lambda v| ${residual}`);
    assert.ok(orthogonality <= 1e-12, `max |V^T V - I| ${orthogonality}`);
  });

  it('rejects operands whose sizes do not match the shapes', async () => {
    await assert.rejects(gemm(new Float64Array(5), new Float64Array(6), 2, 3, 2), /bad operand sizes/);
  });
});

describe('engine input checks', () => {
  const { bundle } = loadFixture('cov');
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['unknown reference', () => analyze(bundle, { reference: 'nope' }), /reference: unknown reference model "nope"/],
    ['k < 1', () => analyze(bundle, { k: 0 }), /k: k must be a positive integer, got 0/],
    ['fractional k', () => analyze(bundle, { k: 2.5 }), /k must be a positive integer/],
    ['unknown points mode', () => analyze(bundle, { points: 'mean' as never }), /unknown points mode "mean"/],
    ['Base not first', () => analyze({ ...bundle, tasks: [...bundle.tasks].reverse() }), /first task must be "Base"/],
    [
      'fewer than 3 queries',
      () => analyze({ ...bundle, n: 2, embeddings: bundle.embeddings.map((per, m) => per.map((e) => e.slice(0, 2 * bundle.dims[m]))) }),
      /need at least 3 queries, got 2/,
    ],
    [
      'matrix of the wrong size',
      () => analyze({ ...bundle, embeddings: bundle.embeddings.map((per, m) => (m === 1 ? per.map((e) => e.slice(1)) : per)) }),
      /beta\/Base: expected 30 x 12 numbers, got 359/,
    ],
    [
      'NaN',
      () => {
        const bad = bundle.embeddings.map((per) => per.map((e) => e.slice()));
        bad[0][2][40] = NaN;
        return analyze({ ...bundle, embeddings: bad });
      },
      /^model alpha, task STS: non-finite value in the embedding of query 6$/,
    ],
  ];
  for (const [what, run, message] of cases) {
    it(`${what} -> UserError`, async () => {
      await assert.rejects(run, (err: unknown) => err instanceof UserError && message.test(err.message));
    });
  }
});
