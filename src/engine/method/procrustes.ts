/**
 * Steps 2-3 of METHOD.md: orthogonal Procrustes between models' Base scores.
 *
 * For source i and target j (Base scores S_i, S_j, N x k): M = S_i^T S_j = U Sigma V^T, Q_ij = U V^T. The SVD is
 * computed once per unordered pair: Q_ji = Q_ij^T and both directions share Sigma. The normalised distance uses
 * ||S_i Q - S_j||^2 = ||S_i||^2 + ||S_j||^2 - 2 sum(Sigma): D[i][j] = max(0, that) / ||S_j||^2, D[i][i] = 0.
 *
 * The SVD's QR iteration costs most when it rotates U as well as V, so U is not formed: U = M V Sigma^-1, whose
 * columns carry rounding of order eps ||M|| / sigma_l (at paper scale M's condition number is up to 4e9, and
 * Q^T Q - I measured up to 2e-9), then one Newton-Schulz step Q <- Q (3I - Q^T Q) / 2 makes Q orthogonal to rounding
 * (the departure squares). Where Q^T Q - I exceeds 1e-8 (M near rank-deficient, as when k > N), the full SVD is used
 * instead: it completes the null directions deterministically and Q stays orthogonal.
 *
 * Where the OpenBLAS addon is built (kernels/nativeBlas.ts), LAPACK's dgesdd gives U, Sigma and V at once (about
 * half the time of our SVD without U) and Q = U V^T; it completes null directions too, so it needs no fallback.
 */
import { gemm } from '../kernels/gemm';
import { svd, svdWithoutU } from '../kernels/linalg';
import { nativeBlas } from '../kernels/nativeBlas';
import { acquire, release } from '../kernels/scratch';

export interface PairAlignment {
  /** Q_ij (k x k row-major) for the pair's first model as source. */
  q: Float64Array;
  /** Sum of the singular values of S_i^T S_j. */
  sigmaSum: number;
}

/** Largest |Q^T Q - I| entry for which one Newton-Schulz step gives an orthogonal Q (the departure squares). */
const ORTHOGONALITY_BEFORE_STEP = 1e-8;

/** Q_ij and the singular value sum; Q into `out` (k x k) when given. Temporaries from scratch: no garbage per pair. */
export async function procrustesPair(
  si: Float64Array,
  sj: Float64Array,
  n: number,
  k: number,
  out: Float64Array = new Float64Array(k * k),
): Promise<PairAlignment> {
  // Column-major M_ij is the row-major buffer of M_ji = S_j^T S_i.
  const mColumnMajor = await gemm(sj, si, k, n, k, { transA: true, out: acquire(k * k) });
  const native = nativeBlas();
  if (native) {
    // dgesdd overwrites its input: it gets a copy, so that our SVD can still take M where LAPACK fails to converge.
    const [a, s, u, vt] = [acquire(k * k), acquire(k), acquire(k * k), acquire(k * k)];
    a.set(mColumnMajor);
    const converged = native.dgesdd(k, k, a, s, u, vt) === 0;
    let sigmaSum = 0;
    for (let l = 0; l < k; l++) sigmaSum += s[l];
    // Column-major U and V^T are the row-major buffers of U^T and V, so Q = U V^T = (U^T)^T (V)^T.
    if (converged) await gemm(u, vt, k, k, k, { transA: true, transB: true, out });
    release(a, s, u, vt);
    if (converged) {
      release(mColumnMajor);
      return { q: out, sigmaSum };
    }
  }
  const { s, v } = svdWithoutU(mColumnMajor, k, k, { s: acquire(k), v: acquire(k * k) });
  let sigmaSum = 0;
  for (let l = 0; l < k; l++) sigmaSum += s[l];
  // Column-major V is the row-major buffer of V^T; U^T = Sigma^-1 V^T M^T, and M^T's row-major buffer is mColumnMajor.
  const ut = await gemm(v, mColumnMajor, k, k, k, { out: acquire(k * k) });
  for (let l = 0; l < k; l++) {
    const inverse = 1 / s[l];
    for (let c = 0; c < k; c++) ut[l * k + c] *= inverse;
  }
  const q = await gemm(ut, v, k, k, k, { transA: true, out: acquire(k * k) });
  const qtq = await gemm(q, q, k, k, k, { transA: true, out: ut });
  let departure = 0;
  for (let r = 0; r < k; r++)
    for (let c = 0; c < k; c++) departure = Math.max(departure, Math.abs(qtq[r * k + c] - (r === c ? 1 : 0)));
  if (departure <= ORTHOGONALITY_BEFORE_STEP) {
    const step = await gemm(q, qtq, k, k, k, { out: v });
    for (let x = 0; x < k * k; x++) out[x] = 1.5 * q[x] - 0.5 * step[x];
  } else {
    const full = svd(mColumnMajor, k, k, { u: qtq, s, v });
    // Column-major U and V are the row-major buffers of U^T and V^T, so Q = U V^T = (U^T)^T (V^T).
    await gemm(full.u, full.v, k, k, k, { transA: true, out });
  }
  release(mColumnMajor, s, v, ut, q);
  return { q: out, sigmaSum };
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
