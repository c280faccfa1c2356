/**
 * Float64 matrix products: on OpenBLAS (nativeBlas.ts) where that addon was built, else on onnxruntime-node's CPU
 * Gemm kernel. Both are BLAS-class (about 10x the JS loops in linalg.ts) and agree to rounding. Each thread uses one
 * of them throughout, held to one thread of its own, so a product of given shapes always takes the same code path
 * and gives the same bits on every thread (our parallelism is runAnalysis's worker threads).
 *
 * On onnxruntime: one single-node ONNX graph per (transA, transB) variant, Y = op(A) op(B) with dynamic shapes, built in memory by a
 * minimal ONNX writer (onnxWriter.ts); its session is created once per thread and reused. Sessions run with one intra-op and
 * one inter-op thread, sequential execution and graph optimisation off, so a product of given shapes always takes
 * the same code path and gives the same bits on every thread (our parallelism is runAnalysis's worker threads).
 * onnxruntime is loaded on the first product, not on import: the CLI's and the extension host's threads import the
 * engine's stage code but never multiply (their workers do).
 */
import type * as Ort from 'onnxruntime-node';
import { nativeBlas } from './nativeBlas';
import { encodeOnnxModel, ONNX_DOUBLE, type OnnxValueInfo } from './onnxWriter';
import { acquire, release } from './scratch';
import { droppedCopy } from './youngGarbage';

export interface GemmOptions {
  /** Use A^T: A is given as k x m. */
  transA?: boolean;
  /** Use B^T: B is given as n x k. */
  transB?: boolean;
  /** Receives C (m x n elements, e.g. a subarray view); a new array when absent. */
  out?: Float64Array;
  /**
   * Every entry summed in the same order whatever its place in C, so that identical rows give identical entries:
   * the tie rules of METHOD.md and EVAL.md (the lower index wins among equal similarities) need it wherever entries
   * are ranked. onnxruntime's Gemm runs one k loop for every entry; OpenBLAS's edge kernels sum in another order than
   * its main kernel, so these products stay on onnxruntime.
   */
  sameOrderEveryEntry?: boolean;
}

/**
 * C (m x n, row-major) = op(A) op(B), op(A) m x k, op(B) k x n, both row-major as given (A is k x m when transA,
 * B is n x k when transB). Operands and `out` may be views (subarrays); onnxruntime reads and writes them in place.
 * SharedArrayBuffer-backed arrays, which onnxruntime refuses, go through scratch copies.
 */
export async function gemm(
  a: Float64Array,
  b: Float64Array,
  m: number,
  k: number,
  n: number,
  options: GemmOptions = {},
): Promise<Float64Array> {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const out = options.out ?? new Float64Array(m * n);
  if (a.length !== m * k || b.length !== k * n || out.length !== m * n)
    throw new Error(`gemm: bad operand sizes for ${m} x ${k} x ${n}`);
  if (m === 0 || n === 0) return out;
  if (k === 0) return out.fill(0);
  const native = options.sameOrderEveryEntry ? null : nativeBlas();
  if (native) {
    native.dgemm(transA, transB, m, n, k, a, b, out);
    return out;
  }
  const session = await gemmSession(transA, transB);
  const ort = runtime!;
  const scratch: Float64Array[] = [];
  const unshared = (x: Float64Array): Float64Array => {
    if (!(x.buffer instanceof SharedArrayBuffer)) return x;
    const copy = acquire(x.length);
    copy.set(x);
    scratch.push(copy);
    return copy;
  };
  try {
    const y = unshared(out);
    await session.run(
      {
        A: new ort.Tensor('float64', unshared(a), transA ? [k, m] : [m, k]),
        B: new ort.Tensor('float64', unshared(b), transB ? [n, k] : [k, n]),
      },
      { Y: new ort.Tensor('float64', y, [m, n]) },
    );
    if (y !== out) out.set(y);
    // onnxruntime-node returned a copy of Y, dropped here: collected while it is young (youngGarbage.ts).
    droppedCopy(m * n * Float64Array.BYTES_PER_ELEMENT);
    return out;
  } finally {
    release(...scratch);
  }
}

/**
 * Rows per block of gramOf's block-lower-triangular split (at least; at most 16 blocks). Each block's product is
 * taken as rows 0..end against the block's rows (the block's columns of the lower triangle, the tall operand first):
 * onnxruntime's Gemm loses less on a short second operand than on a short first one, so blocks this small still pay
 * (300 x 40,000, a 50-model map's Gram: 8 blocks 0.83x the time of the 4 blocks of 64 rows taken the other way round,
 * 0.62x one product; 1024 x 1200 0.92x; medians of 15, alternating).
 */
const GRAM_BLOCK_ROWS = 36;
const GRAM_MAX_BLOCKS = 16;

/**
 * G (n x n) = X X^T for X (n x len) row-major, exactly symmetric: the lower triangle is computed and mirrored onto
 * the upper one (not with `lowerOnly`, for callers that read the lower triangle alone, such as the eigensolver: the
 * upper one is then left as `out` had it; mirroring a 4096 x 4096 matrix column by column takes about 60 ms). Rows go
 * in up to 16 blocks of equal size; block b is one product of rows 0..end of block b with its rows, so about
 * (B+1)/(2B) of the full product's work is done. The split depends on n only (same bits on every thread). Into `out`
 * when given; `sameOrderEveryEntry` as gemm's.
 */
export async function gramOf(
  x: Float64Array,
  n: number,
  len: number,
  out: Float64Array = new Float64Array(n * n),
  lowerOnly = false,
  sameOrderEveryEntry = false,
): Promise<Float64Array> {
  const native = sameOrderEveryEntry ? null : nativeBlas();
  if (native) {
    native.dsyrkLower(n, len, x, out);
    if (!lowerOnly) mirrorLower(out, n);
    return out;
  }
  const blocks = Math.min(GRAM_MAX_BLOCKS, Math.floor(n / GRAM_BLOCK_ROWS));
  if (blocks < 2) {
    await gemm(x, x, n, len, n, { transB: true, out, sameOrderEveryEntry });
  } else {
    const strip = acquire(Math.ceil(n / blocks) * n);
    for (let b = 0; b < blocks; b++) {
      const r0 = Math.round((n * b) / blocks);
      const r1 = Math.round((n * (b + 1)) / blocks);
      const rows = r1 - r0;
      // part[j][i] = <x_j, x_(r0+i)> for j < r1: column r0 + i of G's rows 0..r1-1.
      const part = strip.subarray(0, r1 * rows);
      await gemm(x.subarray(0, r1 * len), x.subarray(r0 * len, r1 * len), r1, len, rows, { transB: true, out: part, sameOrderEveryEntry });
      for (let i = 0; i < rows; i++) {
        const row = (r0 + i) * n;
        for (let j = 0; j <= r0 + i; j++) out[row + j] = part[j * rows + i];
      }
    }
    release(strip);
  }
  if (!lowerOnly) mirrorLower(out, n);
  return out;
}

/** Copies the lower triangle of the n x n row-major matrix onto its upper triangle. */
export function mirrorLower(g: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) g[i * n + j] = g[j * n + i];
}

const sessions = new Map<string, Promise<Ort.InferenceSession>>();
let runtime: typeof Ort | undefined;

function gemmSession(transA: boolean, transB: boolean): Promise<Ort.InferenceSession> {
  const key = `${+transA}${+transB}`;
  let session = sessions.get(key);
  if (!session) {
    runtime ??= require('onnxruntime-node') as typeof Ort;
    session = runtime.InferenceSession.create(gemmModel(transA, transB), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'disabled',
      enableCpuMemArena: true,
    });
    sessions.set(key, session);
    session.catch(() => sessions.delete(key));
  }
  return session;
}

/** A model of one Gemm node on float64 matrices with named dynamic dimensions. */
function gemmModel(transA: boolean, transB: boolean): Uint8Array {
  const matrix = (name: string, rows: string, cols: string): OnnxValueInfo => ({ name, type: ONNX_DOUBLE, shape: [rows, cols] });
  return encodeOnnxModel(
    {
      name: 'gemm',
      nodes: [{ op: 'Gemm', inputs: ['A', 'B'], outputs: ['Y'], name: 'gemm', attributes: { transA: +transA, transB: +transB } }],
      initializers: [],
      inputs: [transA ? matrix('A', 'k', 'm') : matrix('A', 'm', 'k'), transB ? matrix('B', 'n', 'k') : matrix('B', 'k', 'n')],
      outputs: [matrix('Y', 'm', 'n')],
    },
    { opset: 13, irVersion: 8, producerName: 'instruction-lens', producerVersion: '1' },
  );
}
