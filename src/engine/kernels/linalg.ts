/**
 * Dense linear algebra on flat Float64Arrays (row-major unless a name says otherwise): a symmetric eigensolver for
 * the top k eigenpairs and a full SVD. The O(n^3) loops run as WebAssembly (linalg.c via wasm.ts), matrix
 * products on onnxruntime (gemm.ts). Every routine is deterministic: the same input gives the
 * same bits, whichever thread runs it.
 */
import { heap } from './wasm';

/** B (cols x rows) = A^T for A (rows x cols). */
function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const ai = i * cols;
    for (let j = 0; j < cols; j++) t[j * rows + i] = a[ai + j];
  }
  return t;
}

/** Deterministic PRNG (mulberry32); returns floats in [0, 1). Mirrored in test/fixtures/make_engine_fixtures.py. */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TopEigen {
  /** The k largest eigenvalues, descending. */
  values: Float64Array;
  /** n x k row-major; column c is the unit eigenvector of values[c]. */
  vectors: Float64Array;
}

/**
 * Top-k eigenpairs of a symmetric n x n matrix (row-major; only the lower triangle is read; `a` is overwritten).
 * Householder tridiagonalisation (reflectors kept, never accumulated), the k largest eigenvalues (by bisection, or
 * all by implicit QL without vectors when k > n/3), their eigenvectors by inverse iteration on the tridiagonal
 * (re-orthogonalised within clusters, as LAPACK dstein), then the k vectors are back-transformed through the
 * reflectors. Cost ~ 2/3 n^3 + 2 n^2 k.
 */
export function symmetricEigenTop(a: Float64Array, n: number, k: number): TopEigen {
  const { values, tridiagonalVectors, beta } = tridiagonalEigenTop(a, n, k);
  return { values, vectors: backTransform(a, n, beta, tridiagonalVectors, values.length) };
}

export interface TridiagonalEigen {
  /** The min(k, n) largest eigenvalues, descending. */
  values: Float64Array;
  /** n x k row-major: eigenvectors of the tridiagonal T (not yet back-transformed). */
  tridiagonalVectors: Float64Array;
  /** Reflector factors; reflector r is stored in `a`'s row r, columns r+1..n-1: H_r = I - beta[r] v v^T. */
  beta: Float64Array;
}

/**
 * symmetricEigenTop up to the back-transformation, which the caller applies: A = H T H^T with H = H_0 ... H_{n-3},
 * so A's eigenvectors are H z for T's eigenvectors z (see gemmEigen.ts for a blocked version on onnxruntime).
 */
export function tridiagonalEigenTop(a: Float64Array, n: number, k: number): TridiagonalEigen {
  const t: Tridiagonal = { diag: new Float64Array(n), off: new Float64Array(n), beta: new Float64Array(n) };
  tridiagonalize(a, n, t.diag, t.off, t.beta);
  return eigenOfTridiagonal(t, k);
}

/** T (diag, off; off[i] = T[i+1][i], off[n-1] = 0) and the reflector factors of the reduction that made it. */
export interface Tridiagonal {
  diag: Float64Array;
  off: Float64Array;
  beta: Float64Array;
}

/**
 * Eigenvalues are found by bisection (k of them) from n = BISECTION_FROM * k, else all n by QL: bisection took
 * 0.78-0.83x QL's time at n = 768, 0.56-0.57x at 1200, 1.15-1.2x at 512 (k = 200, PCA tridiagonals; the two agree to
 * 7.4e-15 lambda_max).
 */
const BISECTION_FROM = 3;

/** The min(k, n) largest eigenvalues of T and their eigenvectors (not yet back-transformed). */
export function eigenOfTridiagonal({ diag, off, beta }: Tridiagonal, k: number): TridiagonalEigen {
  const count = Math.min(k, diag.length);
  let values: Float64Array;
  if (count > 0 && diag.length >= BISECTION_FROM * count) values = tridiagonalTopEigenvalues(diag, off, count);
  else {
    const all = tridiagonalEigenvalues(diag, off);
    all.sort((x, y) => y - x);
    values = all.slice(0, count);
  }
  return { values, tridiagonalVectors: tridiagonalEigenvectors(diag, off, values), beta };
}

/**
 * Lower triangle of `a` -> T (diag, off); reflector k is stored in row k, columns k+1..n-1, with beta[k]
 * (linalg.c: the rank-2 updates fused with the next step's matrix-vector product).
 */
function tridiagonalize(a: Float64Array, n: number, diag: Float64Array, off: Float64Array, beta: Float64Array): void {
  const {
    kernels,
    views: [wa, wdiag, woff, wbeta],
    at,
  } = heap([n * n, n, n, n, 4 * n]);
  wa.set(a);
  kernels.tridiagonalize(at[0], n, at[1], at[2], at[3], at[4]);
  a.set(wa);
  diag.set(wdiag);
  off.set(woff);
  beta.set(wbeta);
}

/** All eigenvalues of the symmetric tridiagonal (diag, off), unsorted: implicit QL (linalg.c). */
function tridiagonalEigenvalues(diag: Float64Array, off: Float64Array): Float64Array {
  const n = diag.length;
  const {
    kernels,
    views: [d, e],
    at,
  } = heap([n, n]);
  d.set(diag);
  e.set(off);
  if (kernels.tridiagonal_eigenvalues(at[0], at[1], n) !== 0) throw new Error('tridiagonal QL did not converge');
  return d.slice();
}

/** The k largest eigenvalues of the symmetric tridiagonal (diag, off), descending: bisection (linalg.c). */
function tridiagonalTopEigenvalues(diag: Float64Array, off: Float64Array, k: number): Float64Array {
  const n = diag.length;
  const {
    kernels,
    views: [d, e, values],
    at,
  } = heap([n, n, k, 2 * n]);
  d.set(diag);
  e.set(off);
  kernels.tridiagonal_top_eigenvalues(at[0], at[1], n, k, at[2], at[3]);
  return values.slice();
}

/**
 * Unit eigenvectors (n x k row-major) of the tridiagonal for the given eigenvalues (descending), by inverse
 * iteration with re-orthogonalisation within clusters, as LAPACK dstein does (linalg.c).
 */
function tridiagonalEigenvectors(diag: Float64Array, off: Float64Array, values: Float64Array): Float64Array {
  const n = diag.length;
  const k = values.length;
  const {
    kernels,
    views: [wdiag, woff, wvalues, zt],
    at,
  } = heap([n, n, k, k * n, 6 * n]);
  wdiag.set(diag);
  woff.set(off);
  wvalues.set(values);
  kernels.tridiagonal_eigenvectors(at[0], at[1], n, at[2], k, at[3], at[4]);
  return transpose(zt, k, n);
}

/**
 * z (n x k) <- H_0 H_1 ... H_{n-3} z, the reflectors stored by tridiagonalize. Works on z^T (one vector per row),
 * four vectors at a time: the four stay in cache while every reflector streams past them once, and their four dot
 * products are independent chains.
 */
function backTransform(a: Float64Array, n: number, beta: Float64Array, z: Float64Array, k: number): Float64Array {
  const zt = transpose(z, n, k);
  const k4 = k - (k % 4);
  for (let c0 = 0; c0 < k4; c0 += 4) {
    const z0 = c0 * n;
    const z1 = z0 + n;
    const z2 = z1 + n;
    const z3 = z2 + n;
    for (let r = n - 3; r >= 0; r--) {
      const b = beta[r];
      if (b === 0) continue;
      const store = r * n;
      let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
      for (let i = r + 1; i < n; i++) {
        const vi = a[store + i];
        d0 += vi * zt[z0 + i];
        d1 += vi * zt[z1 + i];
        d2 += vi * zt[z2 + i];
        d3 += vi * zt[z3 + i];
      }
      d0 *= b;
      d1 *= b;
      d2 *= b;
      d3 *= b;
      for (let i = r + 1; i < n; i++) {
        const vi = a[store + i];
        zt[z0 + i] -= vi * d0;
        zt[z1 + i] -= vi * d1;
        zt[z2 + i] -= vi * d2;
        zt[z3 + i] -= vi * d3;
      }
    }
  }
  for (let c = k4; c < k; c++) {
    const zo = c * n;
    for (let r = n - 3; r >= 0; r--) {
      const b = beta[r];
      if (b === 0) continue;
      const store = r * n;
      let dot = 0;
      for (let i = r + 1; i < n; i++) dot += a[store + i] * zt[zo + i];
      dot *= b;
      for (let i = r + 1; i < n; i++) zt[zo + i] -= a[store + i] * dot;
    }
  }
  return transpose(zt, k, n);
}

export interface Svd {
  /** m x n column-major (thin U). */
  u: Float64Array;
  /** Singular values, descending, length n. */
  s: Float64Array;
  /** n x n column-major. */
  v: Float64Array;
}

/**
 * Full SVD A = U diag(s) V^T of an m x n matrix (m >= n) given column-major (not modified): Householder
 * bidiagonalisation and implicit-shift QR (LINPACK dsvdc, as in JAMA; linalg.c). U and V stay orthogonal
 * when A is rank-deficient: null directions are completed by the Householder reflectors, deterministically.
 * Into the arrays of `into` (u m*n, s n, v n*n) when given, else into new ones.
 */
export function svd(aIn: Float64Array, m: number, n: number, into?: Svd): Svd {
  const { u, s, v } = runSvd(aIn, m, n, true);
  if (!into) return { u: u.slice(), s: s.slice(0, n), v: v.slice() };
  into.u.set(u);
  into.s.set(s.subarray(0, n));
  into.v.set(v);
  return into;
}

/**
 * svd() without U, which is neither formed nor rotated (about half of the work): the same s and V, bit for bit. Into
 * the arrays of `into` (s n, v n*n).
 */
export function svdWithoutU(aIn: Float64Array, m: number, n: number, into: { s: Float64Array; v: Float64Array }): { s: Float64Array; v: Float64Array } {
  const { s, v } = runSvd(aIn, m, n, false);
  into.s.set(s.subarray(0, n));
  into.v.set(v);
  return into;
}

/** linalg.c's svd on a copy of `aIn` in the module's memory; the views are valid until the next heap() call. */
function runSvd(aIn: Float64Array, m: number, n: number, wantU: boolean): Svd {
  if (m < n) throw new Error('svd needs m >= n');
  const {
    kernels,
    views: [a, s, u, v],
    at,
  } = heap([m * n, n + 1, wantU ? m * n : 0, n * n, n, m]);
  a.set(aIn);
  if (kernels.svd(at[0], m, n, at[1], at[2], at[3], at[4], at[5], wantU ? 1 : 0) !== 0) throw new Error('svd did not converge');
  return { u, s, v };
}
