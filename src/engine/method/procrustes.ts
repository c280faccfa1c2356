/**
 * Steps 2-3 of METHOD.md: orthogonal Procrustes between models' Base scores.
 *
 * For source i and target j (Base scores S_i, S_j, N x k): M = S_i^T S_j = U Sigma V^T, Q_ij = U V^T. The SVD is
 * computed once per unordered pair: Q_ji = Q_ij^T and both directions share Sigma. The normalised distance uses
 * ||S_i Q - S_j||^2 = ||S_i||^2 + ||S_j||^2 - 2 sum(Sigma): D[i][j] = max(0, that) / ||S_j||^2, D[i][i] = 0.
 * A rank-deficient M (k > N) still gives an orthogonal Q: the SVD completes the null directions deterministically.
 */
import { gemm } from '../kernels/gemm';
import { svd } from '../kernels/linalg';
import { acquire, release } from '../kernels/scratch';

export interface PairAlignment {
  /** Q_ij (k x k row-major) for the pair's first model as source. */
  q: Float64Array;
  /** Sum of the singular values of S_i^T S_j. */
  sigmaSum: number;
}

/** Q_ij and the singular value sum; Q into `out` (k x k) when given. Temporaries from scratch: no garbage per pair. */
export async function procrustesPair(
  si: Float64Array,
  sj: Float64Array,
  n: number,
  k: number,
  out?: Float64Array,
): Promise<PairAlignment> {
  // Column-major M_ij is the row-major buffer of M_ji = S_j^T S_i.
  const mColumnMajor = await gemm(sj, si, k, n, k, { transA: true, out: acquire(k * k) });
  const { u, s, v } = svd(mColumnMajor, k, k, { u: acquire(k * k), s: acquire(k), v: acquire(k * k) });
  // Column-major U and V are the row-major buffers of U^T and V^T, so Q = U V^T = (U^T)^T (V^T).
  const q = await gemm(u, v, k, k, k, { transA: true, out });
  let sigmaSum = 0;
  for (let l = 0; l < k; l++) sigmaSum += s[l];
  release(mColumnMajor, u, s, v);
  return { q, sigmaSum };
}

export function sumOfSquares(a: Float64Array, from = 0, to = a.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i] * a[i];
  return s;
}

/** D[i][j] from ||S_i||^2, ||S_j||^2 and the singular value sum of their pair. */
export function normalisedDistance(normSqSource: number, normSqTarget: number, sigmaSum: number): number {
  return Math.max(0, normSqSource + normSqTarget - 2 * sigmaSum) / normSqTarget;
}

/** Index of the unordered pair (i < j) among M models, in (0,1), (0,2), ..., (1,2), ... order. */
export function pairIndex(i: number, j: number, models: number): number {
  return i * models - (i * (i + 1)) / 2 + (j - i - 1);
}

/**
 * Q_{m,ref} from the stored pair rotations: the stored k x k matrix and whether Q_{m,ref} is its transpose
 * (Q_ji = Q_ij^T); null when m = ref (identity).
 */
export function rotationOnto(
  pairs: readonly Float64Array[],
  m: number,
  ref: number,
  models: number,
): { q: Float64Array; transposed: boolean } | null {
  if (m === ref) return null;
  if (m < ref) return { q: pairs[pairIndex(m, ref, models)], transposed: false };
  return { q: pairs[pairIndex(ref, m, models)], transposed: true };
}
