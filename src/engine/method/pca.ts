/**
 * Step 1 of METHOD.md: PCA per model on all its tasks stacked.
 *
 * The T matrices (N x d each) are stacked into X (N*T x d), X is centred by its column mean, and the scores on the
 * top-k principal axes are returned (S = X_c W_k, N*T x k, task-major rows like the stack). When N*T < d the
 * eigenproblem is solved on the Gram matrix X_c X_c^T (S = U_k sqrt(lambda_k)), otherwise on the d x d matrix
 * X_c^T X_c, from the stack stored transposed (X^T, d x N*T); a d x d matrix is never built when N*T < d. The
 * products (Gram or covariance, and the projection X_c W_k) run on onnxruntime's Gemm (gemm.ts). Component signs: the
 * entry of largest absolute value in each score column (ties: lowest row) is made positive. Explained variance ratio = the k eigenvalues / the sum of
 * all eigenvalues (the trace, i.e. the total variance of the centred stack).
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
): Promise<ModelPca> {
  const rows = n * mats.length;
  // One copy of the stack per path: X (rows x d) for the Gram path, X^T (d x rows) for the covariance path, which
  // then also gives the scores (X_c W = (X_c^T)^T W); at N = 10,000 and d = 4096 each is 2 GB.
  const gramPath = rows < d;
  const x = acquire(rows * d);
  try {
    if (gramPath) mats.forEach((m, t) => x.set(m, t * n * d));
    else transposeStack(mats, n, d, x);
    return gramPath ? await gramPca(x, rows, d, k, withBasis) : await covariancePca(x, rows, d, k, withBasis);
  } finally {
    release(x);
  }
}

/** X^T (d x rows) of the stack of `mats` (n x d each), into `xt`; in tiles, so that both sides stay in cache. */
function transposeStack(mats: EmbeddingMatrix[], n: number, d: number, xt: Float64Array): void {
  const rows = n * mats.length;
  const tile = 32;
  mats.forEach((m, t) => {
    for (let i0 = 0; i0 < n; i0 += tile)
      for (let j0 = 0; j0 < d; j0 += tile)
        for (let i = i0; i < Math.min(n, i0 + tile); i++) {
          const r = t * n + i;
          for (let j = j0; j < Math.min(d, j0 + tile); j++) xt[j * rows + r] = m[i * d + j];
        }
  });
}

/** PCA of the stack x (rows x d, rows < d), centred in place, on the Gram matrix X_c X_c^T. */
async function gramPca(x: Float64Array, rows: number, d: number, k: number, withBasis: boolean): Promise<ModelPca> {
  const mean = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) mean[j] += x[o + j];
  }
  for (let j = 0; j < d; j++) mean[j] /= rows;
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) x[o + j] -= mean[j];
  }
  const g = await gramOf(x, rows, d, acquire(rows * rows));
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

/** PCA of the stack given as xt = X^T (d x rows), centred in place, on X_c^T X_c (the Gram of X^T's rows). */
async function covariancePca(xt: Float64Array, rows: number, d: number, k: number, withBasis: boolean): Promise<ModelPca> {
  const mean = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const o = j * rows;
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += xt[o + r];
    mean[j] = sum / rows;
    for (let r = 0; r < rows; r++) xt[o + r] -= mean[j];
  }
  const cov = await gramOf(xt, d, rows, acquire(d * d));
  let trace = 0;
  for (let j = 0; j < d; j++) trace += cov[j * d + j];
  const eig = await symmetricEigenTopGemm(cov, d, k);
  release(cov);
  const scores = await gemm(xt, eig.vectors, rows, d, k, { transA: true });
  const flipped = fixSigns(scores, rows, k);
  const result = withVarianceRatio(scores, eig.values, trace, k);
  if (!withBasis) return result;
  const basis = eig.vectors;
  for (const c of flipped) for (let j = 0; j < d; j++) basis[j * k + c] = -basis[j * k + c];
  return { ...result, mean, basis };
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
