/**
 * Step 1 of METHOD.md: PCA per model on all its tasks stacked.
 *
 * The T matrices (N x d each) are stacked into X (N*T x d), X is centred by its column mean, and the scores on the
 * top-k principal axes are returned (S = X_c W_k, N*T x k, task-major rows like the stack). When N*T < d the
 * eigenproblem is solved on the Gram matrix X_c X_c^T (S = U_k sqrt(lambda_k)), otherwise on the d x d matrix
 * X_c^T X_c, summed over blocks of the stack's rows, each centred and transposed (the stack is never held whole on
 * this path); a d x d matrix is never built when N*T < d. The products (Gram or covariance, and the projection
 * X_c W_k) run on onnxruntime's Gemm (gemm.ts). Component signs: the entry of largest absolute value in each score
 * column (ties: lowest row) is made positive. Explained variance ratio = the k eigenvalues / the sum of all
 * eigenvalues (the trace, i.e. the total variance of the centred stack).
 *
 * With `withBasis`, the column mean mu (d) and the basis W (d x k, S = (X - mu) W) are returned too, for the frozen
 * frame of the live preview (frame.ts). Covariance path: W is the eigenvector matrix with the score signs applied.
 * Gram path: W = X_c^T S diag(1/lambda) (= X_c^T U_k / sqrt(lambda_k)); a column with lambda = 0 is zero (its scores
 * are zero). The scores are the same bits with or without the basis.
 */
import { gemm, gramOf } from '../kernels/gemm';
import { symmetricEigenTopGemm } from '../kernels/gemmEigen';
import { acquire, release } from '../kernels/scratch';
import type { EmbeddingMatrix } from '../types';

export interface ModelPca {
  /** N*T x k row-major; rows task-major (task t, query i at row t*N + i). */
  scores: Float64Array;
  explainedVarianceRatio: Float64Array;
  /** With `withBasis` only: the column mean of the stack (d). */
  mean?: Float64Array;
  /** With `withBasis` only: the principal axes, d x k row-major, with the scores' signs. */
  basis?: Float64Array;
}

export async function pcaModel(
  mats: EmbeddingMatrix[],
  n: number,
  d: number,
  k: number,
  withBasis = false,
  blockRows = COVARIANCE_BLOCK_ROWS,
): Promise<ModelPca> {
  const rows = n * mats.length;
  const mean = columnMeans(mats, n, d);
  if (rows >= d) return covariancePca(mats, n, d, k, mean, withBasis, blockRows);
  // The stack, centred as it is copied.
  const x = acquire(rows * d);
  try {
    centredRows(mats, n, d, 0, rows, mean, x);
    return await gramPca(x, rows, d, k, mean, withBasis);
  } finally {
    release(x);
  }
}

/**
 * Stack rows held at once by the covariance path: the stack (N*T x d) is read in blocks of this many rows, each
 * centred and transposed, so that at N = 10,000 and d = 4096 it holds 134 MB of it instead of the whole 2 GB. Up to
 * this many rows (paper scale: 1200) there is one block, the product of the whole stack.
 */
export const COVARIANCE_BLOCK_ROWS = 4096;

/** The column mean of the stack of `mats` (n x d each), summed in row order. */
function columnMeans(mats: EmbeddingMatrix[], n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (const m of mats)
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) mean[j] += m[o + j];
    }
  const rows = n * mats.length;
  for (let j = 0; j < d; j++) mean[j] /= rows;
  return mean;
}

/**
 * Rows r0..r1-1 of the stack of `mats` (n x d each), centred by `mean` and transposed, into `xt` (d x (r1 - r0)); in
 * tiles, so that both sides stay in cache.
 */
function centredTransposedRows(
  mats: EmbeddingMatrix[],
  n: number,
  d: number,
  r0: number,
  r1: number,
  mean: Float64Array,
  xt: Float64Array,
): void {
  const width = r1 - r0;
  const tile = 32;
  for (let q0 = r0; q0 < r1; q0 += tile)
    for (let j0 = 0; j0 < d; j0 += tile)
      for (let r = q0; r < Math.min(r1, q0 + tile); r++) {
        const m = mats[Math.floor(r / n)];
        const o = (r % n) * d;
        for (let j = j0; j < Math.min(d, j0 + tile); j++) xt[j * width + r - r0] = m[o + j] - mean[j];
      }
}

/** Rows r0..r1-1 of the stack of `mats` (n x d each), centred by `mean`, into `out` ((r1 - r0) x d, row-major). */
function centredRows(mats: EmbeddingMatrix[], n: number, d: number, r0: number, r1: number, mean: Float64Array, out: Float64Array): void {
  for (let r = r0; r < r1; r++) {
    const m = mats[Math.floor(r / n)];
    const from = (r % n) * d;
    const to = (r - r0) * d;
    for (let j = 0; j < d; j++) out[to + j] = m[from + j] - mean[j];
  }
}

/** PCA of the centred stack x (rows x d, rows < d; `mean` its column mean) on the Gram matrix X_c X_c^T. */
async function gramPca(x: Float64Array, rows: number, d: number, k: number, mean: Float64Array, withBasis: boolean): Promise<ModelPca> {
  // The eigensolver reads the lower triangle only.
  const g = await gramOf(x, rows, d, acquire(rows * rows), true);
  let trace = 0;
  for (let r = 0; r < rows; r++) trace += g[r * rows + r];
  const eig = await symmetricEigenTopGemm(g, rows, k);
  release(g);
  const scores = eig.vectors;
  for (let c = 0; c < k; c++) {
    const root = Math.sqrt(Math.max(eig.values[c], 0));
    for (let r = 0; r < rows; r++) scores[r * k + c] *= root;
  }
  fixSigns(scores, rows, k);
  const result = withVarianceRatio(scores, eig.values, trace, k);
  if (!withBasis) return result;
  // W = X_c^T S diag(1/lambda): the scores already carry their signs.
  const basis = await gemm(x, scores, d, rows, k, { transA: true });
  for (let c = 0; c < k; c++) {
    const scale = eig.values[c] > 0 ? 1 / eig.values[c] : 0;
    for (let j = 0; j < d; j++) basis[j * k + c] *= scale;
  }
  return { ...result, mean, basis };
}

/**
 * PCA on X_c^T X_c (d x d, rows >= d): the sum over row blocks of each block's Gram of its transposed rows, then the
 * scores X_c W block by block.
 */
async function covariancePca(
  mats: EmbeddingMatrix[],
  n: number,
  d: number,
  k: number,
  mean: Float64Array,
  withBasis: boolean,
  maxBlockRows: number,
): Promise<ModelPca> {
  const rows = n * mats.length;
  const blockRows = Math.min(rows, maxBlockRows);
  const xt = acquire(d * blockRows);
  try {
    const cov = acquire(d * d);
    for (let r0 = 0; r0 < rows; r0 += blockRows) {
      const r1 = Math.min(rows, r0 + blockRows);
      const block = xt.subarray(0, d * (r1 - r0));
      centredTransposedRows(mats, n, d, r0, r1, mean, block);
      // Lower triangles only: the eigensolver reads nothing else.
      if (r0 === 0) {
        await gramOf(block, d, r1 - r0, cov, true);
        continue;
      }
      const part = await gramOf(block, d, r1 - r0, acquire(d * d), true);
      for (let i = 0; i < d; i++) for (let j = i * d; j <= i * d + i; j++) cov[j] += part[j];
      release(part);
    }
    let trace = 0;
    for (let j = 0; j < d; j++) trace += cov[j * d + j];
    const eig = await symmetricEigenTopGemm(cov, d, k);
    release(cov);
    const scores = new Float64Array(rows * k);
    if (blockRows === rows) {
      // One block: still in xt from the covariance.
      await gemm(xt, eig.vectors, rows, d, k, { transA: true, out: scores });
    } else {
      // Several: each block's rows centred again, in their own order (a copy, not a transposition).
      for (let r0 = 0; r0 < rows; r0 += blockRows) {
        const r1 = Math.min(rows, r0 + blockRows);
        const block = xt.subarray(0, d * (r1 - r0));
        centredRows(mats, n, d, r0, r1, mean, block);
        await gemm(block, eig.vectors, r1 - r0, d, k, { out: scores.subarray(r0 * k, r1 * k) });
      }
    }
    const flipped = fixSigns(scores, rows, k);
    const result = withVarianceRatio(scores, eig.values, trace, k);
    if (!withBasis) return result;
    const basis = eig.vectors;
    for (const c of flipped) for (let j = 0; j < d; j++) basis[j * k + c] = -basis[j * k + c];
    return { ...result, mean, basis };
  } finally {
    release(xt);
  }
}

/** The scores with their explained variance ratio = the k eigenvalues / the trace (the total variance). */
function withVarianceRatio(scores: Float64Array, values: Float64Array, trace: number, k: number): ModelPca {
  const explainedVarianceRatio = new Float64Array(k);
  for (let c = 0; c < k; c++) explainedVarianceRatio[c] = trace > 0 ? Math.max(values[c], 0) / trace : 0;
  return { scores, explainedVarianceRatio };
}

/**
 * Flip columns so that each column's entry of largest |value| (ties: lowest row) is positive. Returns the flipped
 * columns.
 */
export function fixSigns(a: Float64Array, rows: number, cols: number): number[] {
  const flipped: number[] = [];
  for (let c = 0; c < cols; c++) {
    let best = 0;
    let at = 0;
    for (let r = 0; r < rows; r++) {
      const v = Math.abs(a[r * cols + c]);
      if (v > best) {
        best = v;
        at = r;
      }
    }
    if (a[at * cols + c] < 0) {
      for (let r = 0; r < rows; r++) a[r * cols + c] = -a[r * cols + c];
      flipped.push(c);
    }
  }
  return flipped;
}
