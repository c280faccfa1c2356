/**
 * linalg.symmetricEigenTop with its back-transformation on onnxruntime's Gemm: the n-2 Householder reflectors are
 * applied to the k tridiagonal eigenvectors in blocks of 64 in compact WY form (LAPACK dlarft/dlarfb):
 * H_r0 ... H_r1-1 = I - V T V^T, so Z <- Z - V (T (V^T Z)), blocks applied last first. Same math as the JS loop in
 * linalg.ts (2 n^2 k multiply-adds) at BLAS speed; deterministic like every gemm() call. (A blocked reduction,
 * LAPACK dsytrd style, was tried: its JS matrix-vector half alone costs about what linalg.ts's fused loop costs.)
 */
import { gemm } from './gemm';
import { TopEigen, tridiagonalEigenTop } from './linalg';
import { acquire, release } from './scratch';

const BLOCK = 64;

/** Top-k eigenpairs of the symmetric n x n matrix `a` (lower triangle read, `a` overwritten); see linalg.ts. */
export async function symmetricEigenTopGemm(a: Float64Array, n: number, k: number): Promise<TopEigen> {
  const { values, tridiagonalVectors: z, beta } = tridiagonalEigenTop(a, n, k);
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

