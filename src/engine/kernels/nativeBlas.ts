/**
 * The OpenBLAS addon (dist/blas.node, built from native/blas.c by scripts/build-native.mjs where Debian's static
 * OpenBLAS is installed): float64 Gemm, the lower triangle of a Gram, LAPACK's divide-and-conquer SVD and its MRRR
 * symmetric eigensolver. On this project's shapes it runs 1.2-2x as fast as onnxruntime's float64 Gemm, the SVD about
 * twice and the PCA's eigenproblems 1.3-1.6x as fast as ours in WebAssembly (BENCHMARKS.md); where it is absent the
 * engine uses those, with results equal to rounding.
 * INSTRUCTION_LENS_GEMM=onnxruntime leaves it unused even where it exists (the tests and benchmarks run both).
 * It is loaded on first use, per thread: only the analysis workers compute with it, synchronously, one thread each.
 */
import * as fs from 'node:fs';
import { distPath } from '../io/paths';

export interface NativeBlas {
  /** C (m x n, row-major) = op(A) op(B), as gemm() takes its operands. */
  dgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float64Array, b: Float64Array, c: Float64Array): void;
  /** The lower triangle of G = X X^T (n x n, row-major; the upper one left as it was) for X n x len row-major. */
  dsyrkLower(n: number, len: number, x: Float64Array, g: Float64Array): void;
  /** A = U Sigma V^T, A m x n column-major (overwritten), U m x m and V^T n x n column-major; LAPACK's info. */
  dgesdd(m: number, n: number, a: Float64Array, s: Float64Array, u: Float64Array, vt: Float64Array): number;
  /**
   * The k largest eigenvalues of the symmetric A (n x n, row-major lower triangle read, overwritten) into w,
   * ascending, and their unit eigenvectors into z (eigenvector c is z[c n, c n + n)), by LAPACK's dsyevr; LAPACK's
   * info, and where that is not 0 the lower triangle is given back unchanged.
   */
  dsyevrTop(n: number, k: number, a: Float64Array, w: Float64Array, z: Float64Array): number;
}

let loaded: NativeBlas | null | undefined;

/** The addon, or null where it is not built or INSTRUCTION_LENS_GEMM=onnxruntime. */
export function nativeBlas(): NativeBlas | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.INSTRUCTION_LENS_GEMM === 'onnxruntime') return loaded;
  const file = distPath('blas.node');
  if (fs.existsSync(file)) loaded = require(file) as NativeBlas;
  return loaded;
}

/** Which kernels this thread's products run on. */
export function gemmBackend(): 'openblas' | 'onnxruntime' {
  return nativeBlas() ? 'openblas' : 'onnxruntime';
}
