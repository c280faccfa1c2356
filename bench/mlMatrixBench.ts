/**
 * ml-matrix and ml-pca (named by the design card) against our kernels on the same work, side by side in one process,
 * repetitions alternating (ours, theirs, ours, ...) so that machine load hits both alike; the ratio is per pair.
 *   PCA    a 1200 x 4096 stack (6 tasks x 200 queries, synthetic paper-like embeddings) to k = 200: our pcaModel
 *          (Gram matrix on Gemm, WebAssembly eigensolver) vs ml-pca (SVD of the centred data, ml-matrix's JS SVD)
 *   SVD    of a 200 x 200 Procrustes matrix S_i^T S_j (two models' Base scores): our svd (WebAssembly) vs
 *          ml-matrix SingularValueDecomposition
 *   eigen  of the 108 x 108 double-centred matrix of classical MDS at paper scale (18 models x 6 tasks): our
 *          symmetricEigenTop (top 2, what classical MDS asks for, and all 108) vs ml-matrix EigenvalueDecomposition
 *          (assumeSymmetric; always all eigenpairs)
 *   SMACOF 108 points: our smacofMds vs the same iteration (same start, Guttman transform, stopping rule) written
 *          with ml-matrix's Matrix operations
 * Both sides' results are compared (PCA scores up to sign, singular values, eigenvalues, SMACOF coordinates).
 * Run: npx tsc -p tsconfig.json && node esbuild.mjs && node out/bench/mlMatrixBench.js [--reps N] [--pca-reps N]
 */
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { PCA } from 'ml-pca';
import { performance } from 'node:perf_hooks';
import { gemm } from '../src/engine/kernels/gemm';
import { mulberry32, svd, symmetricEigenTop } from '../src/engine/kernels/linalg';
import { SMACOF_MAX_ITERATIONS, SMACOF_RELATIVE_TOLERANCE, smacofMds } from '../src/engine/method/mds';
import { pcaModel } from '../src/engine/method/pca';
import { fmt, ms, pairedRatio, ratio, summarize } from './stats';
import { syntheticBundle } from './synthetic';

interface Row {
  work: string;
  ours: number[];
  theirs: number[];
  agreement: string;
}

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

async function timed<T>(f: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await f();
  return { value, ms: performance.now() - start };
}

/** Alternating repetitions; `check` compares the two results of the first pair. */
async function paired<A, B>(
  work: string,
  reps: number,
  ours: () => Promise<A> | A,
  theirs: () => Promise<B> | B,
  check: (a: A, b: B) => string,
): Promise<Row> {
  const row: Row = { work, ours: [], theirs: [], agreement: '' };
  for (let r = 0; r < reps; r++) {
    const a = await timed(ours);
    const b = await timed(theirs);
    row.ours.push(a.ms);
    row.theirs.push(b.ms);
    if (r === 0) row.agreement = check(a.value, b.value);
    console.error(`  ${work}: ours ${fmt(a.ms)} ms, theirs ${fmt(b.ms)} ms`);
  }
  return row;
}

function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>, count: number): number {
  let scale = 0;
  for (let i = 0; i < count; i++) scale = Math.max(scale, Math.abs(b[i]));
  let err = 0;
  for (let i = 0; i < count; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
  return err / scale;
}

/** The SMACOF iteration of mds.ts written with ml-matrix operations (B(X) X / P as a Matrix product). */
function smacofMlMatrix(dist: Matrix, p: number, seed: number): Matrix {
  const rng = mulberry32(seed);
  let x = new Matrix(p, 2);
  for (let i = 0; i < p; i++) for (let c = 0; c < 2; c++) x.set(i, c, rng());
  const stressOf = (y: Matrix): number => {
    let s = 0;
    for (let i = 0; i < p; i++)
      for (let j = i + 1; j < p; j++) {
        const d = Math.hypot(y.get(i, 0) - y.get(j, 0), y.get(i, 1) - y.get(j, 1));
        s += (d - dist.get(i, j)) ** 2;
      }
    return s;
  };
  let stress = stressOf(x);
  for (let iter = 0; iter < SMACOF_MAX_ITERATIONS && stress > 0; iter++) {
    const b = new Matrix(p, p);
    for (let i = 0; i < p; i++) {
      let diag = 0;
      for (let j = 0; j < p; j++) {
        if (j === i) continue;
        const d = Math.hypot(x.get(i, 0) - x.get(j, 0), x.get(i, 1) - x.get(j, 1));
        const v = d > 0 ? -dist.get(i, j) / d : 0;
        b.set(i, j, v);
        diag -= v;
      }
      b.set(i, i, diag);
    }
    x = b.mmul(x).div(p);
    const updated = stressOf(x);
    const converged = stress - updated < SMACOF_RELATIVE_TOLERANCE * stress;
    stress = updated;
    if (converged) break;
  }
  return x.subRowVector(x.mean('column'));
}

async function main(): Promise<void> {
  const reps = option('--reps', 5);
  const pcaReps = option('--pca-reps', 1);
  const rows: Row[] = [];

  // PCA: one 4096-d model at paper scale.
  const bundle = syntheticBundle({ models: 2, n: 200, dims: [4096, 1024] });
  const n = bundle.n;
  const d = bundle.dims[0];
  const mats = bundle.embeddings[0];
  const stack: number[][] = [];
  for (const m of mats) for (let i = 0; i < n; i++) stack.push(Array.from(m.subarray(i * d, (i + 1) * d)));
  const k = 200;
  rows.push(
    await paired(
      `PCA of a ${stack.length} x ${d} stack to k = ${k}`,
      pcaReps,
      () => pcaModel(mats, n, d, k),
      () => {
        const pca = new PCA(stack, { method: 'SVD', center: true, scale: false });
        return { scores: pca.predict(stack, { nComponents: k }), ratio: pca.getExplainedVariance() };
      },
      (a, b) => {
        let err = 0;
        for (let c = 0; c < k; c++) {
          let dot = 0;
          let norm = 0;
          for (let r = 0; r < stack.length; r++) {
            dot += a.scores[r * k + c] * b.scores.get(r, c);
            norm += b.scores.get(r, c) ** 2;
          }
          const sign = Math.sign(dot);
          for (let r = 0; r < stack.length; r++)
            err = Math.max(err, Math.abs(a.scores[r * k + c] - sign * b.scores.get(r, c)) / Math.sqrt(norm));
        }
        return `scores max err / column norm ${err.toExponential(1)}, explained variance max rel. err ${maxRelative(a.explainedVarianceRatio, b.ratio, k).toExponential(1)}`;
      },
    ),
  );

  // SVD of a Procrustes matrix: two models' Base scores.
  const s0 = (await pcaModel(bundle.embeddings[0], n, d, k)).scores.subarray(0, n * k);
  const s1 = (await pcaModel(bundle.embeddings[1], n, bundle.dims[1], k)).scores.subarray(0, n * k);
  const mRowMajor = await gemm(s0, s1, k, n, k, { transA: true });
  const mColumnMajor = await gemm(s1, s0, k, n, k, { transA: true });
  const mMatrix = new Matrix(Array.from({ length: k }, (_, i) => Array.from(mRowMajor.subarray(i * k, (i + 1) * k))));
  rows.push(
    await paired(
      `SVD of ${k} x ${k} (S_i^T S_j)`,
      reps,
      () => svd(mColumnMajor, k, k),
      () => new SingularValueDecomposition(mMatrix),
      (a, b) => `singular values max rel. err ${maxRelative(a.s, b.diagonal, k).toExponential(1)}`,
    ),
  );

  // Eigen of the classical-MDS matrix at paper scale: P = 108 points, seeded.
  const p = 108;
  const rng = mulberry32(11);
  const pts = Float64Array.from({ length: p * 20 }, () => rng() - 0.5);
  const dist = new Float64Array(p * p);
  for (let i = 0; i < p; i++)
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let c = 0; c < 20; c++) s += (pts[i * 20 + c] - pts[j * 20 + c]) ** 2;
      dist[i * p + j] = Math.sqrt(s);
    }
  const centred = new Float64Array(p * p);
  const rowMean = new Float64Array(p);
  let grand = 0;
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) rowMean[i] += dist[i * p + j] ** 2 / p;
  for (let i = 0; i < p; i++) grand += rowMean[i] / p;
  for (let i = 0; i < p; i++)
    for (let j = 0; j < p; j++) centred[i * p + j] = -0.5 * (dist[i * p + j] ** 2 - rowMean[i] - rowMean[j] + grand);
  const centredMatrix = new Matrix(Array.from({ length: p }, (_, i) => Array.from(centred.subarray(i * p, (i + 1) * p))));
  const eigenCheck = (a: { values: Float64Array }, b: EigenvalueDecomposition): string => {
    const theirs = [...b.realEigenvalues].sort((x, y) => y - x);
    return `eigenvalues max rel. err ${maxRelative(a.values, theirs, a.values.length).toExponential(1)}`;
  };
  for (const top of [2, p]) {
    rows.push(
      await paired(
        `eigen of ${p} x ${p} (ours: top ${top})`,
        reps,
        () => symmetricEigenTop(centred.slice(), p, top),
        () => new EigenvalueDecomposition(centredMatrix, { assumeSymmetric: true }),
        eigenCheck,
      ),
    );
  }

  const distMatrix = new Matrix(Array.from({ length: p }, (_, i) => Array.from(dist.subarray(i * p, (i + 1) * p))));
  rows.push(
    await paired(
      `SMACOF, ${p} points`,
      reps,
      () => smacofMds(dist, p, 0),
      () => smacofMlMatrix(distMatrix, p, 0),
      (a, b) => {
        // Ours also flips axis signs; compare up to that.
        let err = 0;
        for (let c = 0; c < 2; c++) {
          let dot = 0;
          for (let i = 0; i < p; i++) dot += a[2 * i + c] * b.get(i, c);
          for (let i = 0; i < p; i++) err = Math.max(err, Math.abs(a[2 * i + c] - Math.sign(dot) * b.get(i, c)));
        }
        return `coordinates max abs. err ${err.toExponential(1)}`;
      },
    ),
  );

  console.log('| work | ours | ml-matrix / ml-pca | theirs / ours | results agree |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) {
    console.log(
      `| ${row.work} | ${ms(summarize(row.ours))} | ${ms(summarize(row.theirs))} | ${ratio(pairedRatio(row.theirs, row.ours))} | ${row.agreement} |`,
    );
  }
}

void main();
