/**
 * linalg.symmetricEigenTop with its two O(n^3) parts blocked so that most of their arithmetic runs on onnxruntime's
 * Gemm (deterministic like every gemm() call); same reflectors, same storage, same tridiagonal eigensolver.
 *
 * - Reduction (LAPACK dsytrd/dlatrd): panels of 32 columns; within a panel each column gets the panel's pending
 *   rank-2 updates applied to it alone, and the trailing matrix-vector product reads the stored matrix and corrects
 *   for the pending updates with the panel's V and W; after the panel, A22 -= V W^T + W V^T in one product. The
 *   last columns go to the unblocked loop of linalg.ts.
 * - Back-transformation (LAPACK dlarft/dlarfb): reflectors in blocks of 64 in compact WY form,
 *   H_r0 ... H_r1-1 = I - V T V^T, so Z <- Z - V (T (V^T Z)), blocks applied last first.
 */
import { gemm } from './gemm';
import { TopEigen, tridiagonalize, tridiagonalTop } from './linalg';
import { acquire, release } from './scratch';

const BLOCK = 64;
const PANEL = 32;
/** Below this trailing size the unblocked loop is as fast. */
const UNBLOCKED = 128;

/** Top-k eigenpairs of the symmetric n x n matrix `a` (lower triangle read, `a` overwritten); see linalg.ts. */
export async function symmetricEigenTopGemm(a: Float64Array, n: number, k: number): Promise<TopEigen> {
  const diag = new Float64Array(n);
  const off = new Float64Array(n);
  const beta = new Float64Array(n);
  const start = await reducePanels(a, n, diag, off, beta);
  tridiagonalize(a, n, diag, off, beta, start);
  const { values, tridiagonalVectors: z } = tridiagonalTop(diag, off, k);
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

/**
 * Reduces columns 0..c-1 in panels and returns c; the trailing triangle (rows and columns >= c) is then fully
 * updated. Reflectors and beta as linalg.tridiagonalize stores them.
 */
async function reducePanels(a: Float64Array, n: number, diag: Float64Array, off: Float64Array, beta: Float64Array): Promise<number> {
  let c0 = 0;
  if (n - UNBLOCKED < PANEL) return 0;
  const vp = new Float64Array(PANEL * n); // v_l of the panel at l * n + i (zero above its support)
  const wp = new Float64Array(PANEL * n);
  const v = new Float64Array(n);
  const w = new Float64Array(n);
  for (; n - c0 - PANEL >= UNBLOCKED; c0 += PANEL) {
    vp.fill(0);
    wp.fill(0);
    for (let j = 0; j < PANEL; j++) {
      const k = c0 + j;
      const s = k + 1;
      // Column k (rows >= k) gets the panel's pending updates.
      w.fill(0, k, n);
      for (let l = 0; l < j; l++) {
        const o = l * n;
        const wk = wp[o + k];
        const vk = vp[o + k];
        for (let i = k; i < n; i++) w[i] += vp[o + i] * wk + wp[o + i] * vk;
      }
      for (let i = k; i < n; i++) a[i * n + k] -= w[i];
      diag[k] = a[k * n + k];
      let tail = 0;
      for (let i = s + 1; i < n; i++) tail += a[i * n + k] * a[i * n + k];
      const x0 = a[s * n + k];
      if (tail === 0) {
        off[k] = x0;
        beta[k] = 0;
        continue; // no reflection: v_j = w_j = 0
      }
      const norm = Math.sqrt(x0 * x0 + tail);
      const alpha = x0 >= 0 ? -norm : norm;
      v.fill(0, 0, s);
      v[s] = x0 - alpha;
      for (let i = s + 1; i < n; i++) v[i] = a[i * n + k];
      const b = 1 / (alpha * (alpha - x0));
      off[k] = alpha;
      beta[k] = b;
      symmetricProduct(a, n, s, v, w);
      // Pending updates: w -= sum_l v_l (w_l . v) + w_l (v_l . v), over rows >= s.
      for (let l = 0; l < j; l++) {
        const o = l * n;
        let wv = 0;
        let vv = 0;
        for (let i = s; i < n; i++) {
          wv += wp[o + i] * v[i];
          vv += vp[o + i] * v[i];
        }
        for (let i = s; i < n; i++) w[i] -= vp[o + i] * wv + wp[o + i] * vv;
      }
      let pv = 0;
      for (let i = s; i < n; i++) {
        w[i] *= b;
        pv += w[i] * v[i];
      }
      const half = 0.5 * b * pv;
      for (let i = s; i < n; i++) w[i] -= half * v[i];
      const store = k * n;
      for (let i = s; i < n; i++) a[store + i] = v[i];
      vp.set(v.subarray(s, n), j * n + s);
      wp.set(w.subarray(s, n), j * n + s);
    }
    // A22 -= V W^T + W V^T on rows and columns >= c1, lower triangle.
    const c1 = c0 + PANEL;
    const m = n - c1;
    const left = acquire(m * 2 * PANEL);
    const right = acquire(m * 2 * PANEL);
    for (let l = 0; l < PANEL; l++) {
      const o = l * n + c1;
      for (let i = 0; i < m; i++) {
        const dst = i * 2 * PANEL + l;
        left[dst] = vp[o + i];
        left[dst + PANEL] = wp[o + i];
        right[dst] = wp[o + i];
        right[dst + PANEL] = vp[o + i];
      }
    }
    const p = await gemm(left, right, m, 2 * PANEL, m, { transB: true, out: acquire(m * m) });
    for (let i = 0; i < m; i++) {
      const row = (c1 + i) * n + c1;
      const pr = i * m;
      for (let j = 0; j <= i; j++) a[row + j] -= p[pr + j];
    }
    release(left, right, p);
  }
  return c0;
}

/** w[s..n-1] = A[s.., s..] v[s..] from the lower triangle of `a` (read only); rows in pairs to share loads. */
function symmetricProduct(a: Float64Array, n: number, s: number, v: Float64Array, w: Float64Array): void {
  w.fill(0, s, n);
  let i = s;
  for (; i + 1 < n; i += 2) {
    const r1 = i * n;
    const r2 = r1 + n;
    const v1 = v[i];
    const v2 = v[i + 1];
    let acc1 = 0;
    let acc2 = 0;
    for (let j = s; j < i; j++) {
      const a1 = a[r1 + j];
      const a2 = a[r2 + j];
      const vj = v[j];
      acc1 += a1 * vj;
      acc2 += a2 * vj;
      w[j] += a1 * v1 + a2 * v2;
    }
    const o2 = a[r2 + i];
    w[i] += acc1 + a[r1 + i] * v1 + o2 * v2;
    w[i + 1] += acc2 + o2 * v1 + a[r2 + i + 1] * v2;
  }
  for (; i < n; i++) {
    const row = i * n;
    const vi = v[i];
    let acc = 0;
    for (let j = s; j < i; j++) {
      acc += a[row + j] * v[j];
      w[j] += a[row + j] * vi;
    }
    w[i] += acc + a[row + i] * vi;
  }
}
