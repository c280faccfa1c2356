/**
 * The PCA's symmetric eigenproblems: LAPACK's dsyevr on the OpenBLAS addon, or linalg.symmetricEigenTop with its
 * matrix products on gemm().
 *
 * From n = 1024 the tridiagonalisation is linalg.c's blocked one (LAPACK dsytrd): each panel of 32 columns is
 * reduced in WebAssembly, and its rank-64 update of the trailing lower triangle, half of the reduction's work, is a
 * Gemm product vw wv^T (in row blocks, each against the columns up to its last row, so that little of the upper
 * triangle is computed) subtracted in WebAssembly; trailing matrices below 256 rows get it in WebAssembly. The
 * kernels' memory holds the matrix throughout (leaseHeap), and the products read and write it in place. It reads
 * the matrix once per column and writes it once per panel, where the fused reduction of linalg.ts reads and writes it
 * once per column: 0.65x its time at n = 2048, 0.85x at 1200, the same at 768 and below, where the fused one is kept
 * (measured in bench/SCALE.md).
 *
 * The back-transformation applies the n-2 Householder reflectors to the k tridiagonal eigenvectors in blocks of 64 in
 * compact WY form (LAPACK dlarft/dlarfb): H_r0 ... H_r1-1 = I - V T V^T, so Z <- Z - V (T (V^T Z)), blocks applied
 * last first. Same math as the JS loop in linalg.ts (2 n^2 k multiply-adds) at BLAS speed. Deterministic like every
 * gemm() call: which reduction and update run depends on the sizes only.
 */
import { gemm } from './gemm';
import { eigenOfTridiagonal, TopEigen, type Tridiagonal, tridiagonalEigenTop } from './linalg';
import { nativeBlas } from './nativeBlas';
import { acquire, release } from './scratch';
import { leaseHeap } from './wasm';

/** Matrices from this size on are reduced by the blocked tridiagonalisation. */
export const BLOCKED_FROM = 1024;
/** Columns per panel of the blocked tridiagonalisation, LAPACK's usual block size. */
const PANEL = 32;
/** Trailing matrices with at least this many rows get their panel's update on Gemm. */
const GEMM_UPDATE_ROWS = 256;
/** Row blocks of a Gemm update: at least this many rows each, at most UPDATE_MAX_BLOCKS blocks (as gramOf). */
const UPDATE_BLOCK_ROWS = 64;
const UPDATE_MAX_BLOCKS = 16;

function updateBlocks(rows: number): number {
  return Math.max(1, Math.min(UPDATE_MAX_BLOCKS, Math.floor(rows / UPDATE_BLOCK_ROWS)));
}

/** Lower triangle of `a` (n x n, overwritten with the reflectors, as linalg.ts's tridiagonalize) -> T, blocked. */
export async function tridiagonalizeBlocked(a: Float64Array, n: number): Promise<Tridiagonal> {
  const width = 2 * PANEL;
  // The largest block of any update: the products are written there, inside the kernels' memory.
  let strip = 0;
  for (let k0 = PANEL; k0 < n; k0 += PANEL) {
    const rows = n - k0;
    if (rows >= GEMM_UPDATE_ROWS) strip = Math.max(strip, (Math.ceil(rows / updateBlocks(rows)) + 1) * rows);
  }
  const lease = leaseHeap([n * n, n, n, n, width * n, width * n, 2 * n + width, strip]);
  try {
    const {
      kernels,
      views: [wa, diag, off, beta, vw, wv, , product],
      at,
    } = lease;
    wa.set(a);
    for (let k0 = 0; k0 < n - 2; ) {
      k0 += kernels.tridiagonal_panel(at[0], n, k0, PANEL, at[1], at[2], at[3], at[4], at[5], at[6]);
      const rows = n - k0;
      if (rows < GEMM_UPDATE_ROWS) {
        kernels.tridiagonal_update(at[0], n, k0, at[4], at[5], width);
        continue;
      }
      const blocks = updateBlocks(rows);
      for (let x = 0; x < blocks; x++) {
        const ra = k0 + Math.round((rows * x) / blocks);
        const rb = k0 + Math.round((rows * (x + 1)) / blocks);
        const out = product.subarray(0, (rb - ra) * (rb - k0));
        await gemm(vw.subarray(ra * width, rb * width), wv.subarray(k0 * width, rb * width), rb - ra, width, rb - k0, { transB: true, out });
        kernels.tridiagonal_subtract(at[0], n, ra, rb, k0, at[7]);
      }
    }
    kernels.tridiagonal_finish(at[0], n, at[1], at[2]);
    a.set(wa);
    return { diag: diag.slice(), off: off.slice(), beta: beta.slice() };
  } finally {
    lease.release();
  }
}

/** Reflectors per block of the back-transformation. */
const BLOCK = 64;

/**
 * Top-k eigenpairs of the symmetric n x n matrix `a` (lower triangle read, `a` overwritten): LAPACK's dsyevr where
 * the OpenBLAS addon is loaded (it gives the matrix back if it fails, and the path below solves it), else linalg.ts's
 * solver with the products above.
 */
export async function symmetricEigenTopGemm(a: Float64Array, n: number, k: number): Promise<TopEigen> {
  const count = Math.min(k, n);
  const blas = nativeBlas();
  if (blas && count > 0) {
    const w = new Float64Array(count);
    const z = acquire(n * count);
    const status = blas.dsyevrTop(n, count, a, w, z);
    if (status === 0) {
      const values = w.reverse();
      const vectors = new Float64Array(n * count);
      for (let c = 0; c < count; c++) {
        const from = (count - 1 - c) * n;
        for (let i = 0; i < n; i++) vectors[i * count + c] = z[from + i];
      }
      release(z);
      return { values, vectors };
    }
    release(z);
  }
  return symmetricEigenTopWasm(a, n, k);
}

/** linalg.ts's solver with its tridiagonalisation (from BLOCKED_FROM) and back-transformation on gemm(). */
async function symmetricEigenTopWasm(a: Float64Array, n: number, k: number): Promise<TopEigen> {
  const { values, tridiagonalVectors: z, beta } =
    n >= BLOCKED_FROM ? eigenOfTridiagonal(await tridiagonalizeBlocked(a, n), k) : tridiagonalEigenTop(a, n, k);
  const kk = values.length;
  const reflectors = n - 2; // H_0 .. H_{n-3}
  const starts: number[] = [];
  for (let r0 = 0; r0 < reflectors; r0 += BLOCK) starts.push(r0);
  for (const r0 of starts.reverse()) {
    const b = Math.min(BLOCK, reflectors - r0);
    const m = n - r0 - 1; // rows r0+1 .. n-1 hold every reflector of the block
    const v = acquire(m * b);
    v.fill(0);
    for (let j = 0; j < b; j++) {
      const r = r0 + j;
      if (beta[r] === 0) continue;
      const row = r * n;
      for (let i = r + 1; i < n; i++) v[(i - r0 - 1) * b + j] = a[row + i];
    }
    const vtv = await gemm(v, v, b, m, b, { transA: true });
    // Upper-triangular T (b x b): T[j][j] = beta_j, T[0:j, j] = -beta_j T[0:j, 0:j] V[:, 0:j]^T v_j.
    const t = new Float64Array(b * b);
    for (let j = 0; j < b; j++) {
      const bj = beta[r0 + j];
      t[j * b + j] = bj;
      for (let i = 0; i < j; i++) {
        let s = 0;
        for (let l = i; l < j; l++) s += t[i * b + l] * vtv[l * b + j];
        t[i * b + j] = -bj * s;
      }
    }
    const zs = z.subarray((r0 + 1) * kk, n * kk);
    const w = await gemm(v, zs, b, m, kk, { transA: true });
    const tw = await gemm(t, w, b, b, kk);
    const y = await gemm(v, tw, m, b, kk, { out: acquire(m * kk) });
    for (let x = 0; x < zs.length; x++) zs[x] -= y[x];
    release(v, y);
  }
  return { values, vectors: z };
}

