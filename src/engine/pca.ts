/**
 * Step 1 of METHOD.md: PCA per model on all its tasks stacked.
 *
 * The T matrices (N x d each) are stacked into X (N*T x d), X is centred by its column mean, and the scores on the
 * top-k principal axes are returned (S = X_c W_k, N*T x k, task-major rows like the stack). When N*T < d the
 * eigenproblem is solved on the Gram matrix X_c X_c^T (S = U_k sqrt(lambda_k)), otherwise on the d x d matrix
 * X_c^T X_c; a d x d matrix is never built when N*T < d. Component signs: the entry of largest absolute value in
 * each score column (ties: lowest row) is made positive. Explained variance ratio = the k eigenvalues / the sum of
 * all eigenvalues (the trace, i.e. the total variance of the centred stack).
 */
import { gram, matmul, symmetricEigenTop, transpose } from './linalg';

export interface ModelPca {
  /** N*T x k row-major; rows task-major (task t, query i at row t*N + i). */
  scores: Float64Array;
  explainedVarianceRatio: Float64Array;
}

export function pcaModel(mats: Float64Array[], n: number, d: number, k: number): ModelPca {
  const rows = n * mats.length;
  const x = new Float64Array(rows * d);
  mats.forEach((m, t) => x.set(m, t * n * d));
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
    const g = gram(x, rows, d);
    for (let r = 0; r < rows; r++) trace += g[r * rows + r];
    const eig = symmetricEigenTop(g, rows, k);
    values = eig.values;
    scores = eig.vectors;
    for (let c = 0; c < k; c++) {
      const root = Math.sqrt(Math.max(values[c], 0));
      for (let r = 0; r < rows; r++) scores[r * k + c] *= root;
    }
  } else {
    const cov = gram(transpose(x, rows, d), d, rows);
    for (let j = 0; j < d; j++) trace += cov[j * d + j];
    const eig = symmetricEigenTop(cov, d, k);
    values = eig.values;
    scores = matmul(x, eig.vectors, rows, d, k);
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
