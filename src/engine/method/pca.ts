/**
 * Step 1 of METHOD.md: PCA per model on all its tasks stacked.
 *
 * The T matrices (N x d each) are stacked into X (N*T x d), X is centred by its column mean, and the scores on the
 * top-k principal axes are returned (S = X_c W_k, N*T x k, task-major rows like the stack). When N*T < d the
 * eigenproblem is solved on the Gram matrix X_c X_c^T (S = U_k sqrt(lambda_k)), otherwise on the d x d matrix
 * X_c^T X_c; a d x d matrix is never built when N*T < d. The products (Gram or covariance, and the projection
 * X_c W_k) run on onnxruntime's Gemm (gemm.ts). Component signs: the entry of largest absolute value in
 * each score column (ties: lowest row) is made positive. Explained variance ratio = the k eigenvalues / the sum of
 * all eigenvalues (the trace, i.e. the total variance of the centred stack).
 */
import { gemm, gramOf } from '../kernels/gemm';
import { symmetricEigenTopGemm } from '../kernels/gemmEigen';
import { acquire, release } from '../kernels/scratch';
import type { EmbeddingMatrix } from '../types';

export interface ModelPca {
  /** N*T x k row-major; rows task-major (task t, query i at row t*N + i). */
  scores: Float64Array;
  explainedVarianceRatio: Float64Array;
}

export async function pcaModel(mats: EmbeddingMatrix[], n: number, d: number, k: number): Promise<ModelPca> {
  const rows = n * mats.length;
  const x = acquire(rows * d);
  try {
    mats.forEach((m, t) => x.set(m, t * n * d));
    return await centredPca(x, rows, d, k);
  } finally {
    release(x);
  }
}

/** PCA of the stack x (rows x d), centred in place. */
async function centredPca(x: Float64Array, rows: number, d: number, k: number): Promise<ModelPca> {
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
  let scores: Float64Array;
  let values: Float64Array;
  let trace = 0;
  if (rows < d) {
    const g = await gramOf(x, rows, d, acquire(rows * rows));
    for (let r = 0; r < rows; r++) trace += g[r * rows + r];
    const eig = await symmetricEigenTopGemm(g, rows, k);
    release(g);
    values = eig.values;
    scores = eig.vectors;
    for (let c = 0; c < k; c++) {
      const root = Math.sqrt(Math.max(values[c], 0));
      for (let r = 0; r < rows; r++) scores[r * k + c] *= root;
    }
  } else {
    // X^T X as the Gram of X^T's rows (gramOf computes only the lower triangle).
    const xt = acquire(d * rows);
    const tile = 32;
    for (let r0 = 0; r0 < rows; r0 += tile)
      for (let j0 = 0; j0 < d; j0 += tile)
        for (let r = r0; r < Math.min(rows, r0 + tile); r++)
          for (let j = j0; j < Math.min(d, j0 + tile); j++) xt[j * rows + r] = x[r * d + j];
    const cov = await gramOf(xt, d, rows, acquire(d * d));
    release(xt);
    for (let j = 0; j < d; j++) trace += cov[j * d + j];
    const eig = await symmetricEigenTopGemm(cov, d, k);
    release(cov);
    values = eig.values;
    scores = await gemm(x, eig.vectors, rows, d, k);
  }
  fixSigns(scores, rows, k);
  const explainedVarianceRatio = new Float64Array(k);
  for (let c = 0; c < k; c++) explainedVarianceRatio[c] = trace > 0 ? Math.max(values[c], 0) / trace : 0;
  return { scores, explainedVarianceRatio };
}

/** Flip columns so that each column's entry of largest |value| (ties: lowest row) is positive. */
export function fixSigns(a: Float64Array, rows: number, cols: number): void {
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
    if (a[at * cols + c] < 0) for (let r = 0; r < rows; r++) a[r * cols + c] = -a[r * cols + c];
  }
}
