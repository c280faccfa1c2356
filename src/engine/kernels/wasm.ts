/**
 * The WebAssembly kernels of linalg.c (built by scripts/build-wasm.sh, copied to dist/ by esbuild.mjs): one
 * instance per thread, compiled synchronously on first use (the module is small). Arrays are copied into the
 * module's memory for a call and out of it afterwards; the copies cost a few milliseconds where the kernels cost
 * hundreds.
 */
import * as fs from 'node:fs';
import { distPath } from '../io/paths';

// Node has the WebAssembly API as a global; its types come with TypeScript's DOM library, which this project does
// not load: the part used here.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: object);
    readonly exports: object;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  interface Global {
    readonly value: unknown;
  }
}

/** Byte offsets of arrays of doubles in the module's memory. */
type Ptr = number;

export interface Kernels {
  tridiagonalize(a: Ptr, n: number, diag: Ptr, off: Ptr, beta: Ptr, work: Ptr): void;
  /** The number of columns reduced. */
  tridiagonal_panel(a: Ptr, n: number, k0: number, panel: number, diag: Ptr, off: Ptr, beta: Ptr, vw: Ptr, wv: Ptr, work: Ptr): number;
  tridiagonal_update(a: Ptr, n: number, r0: number, vw: Ptr, wv: Ptr, width: number): void;
  tridiagonal_subtract(a: Ptr, n: number, ra: number, rb: number, r0: number, p: Ptr): void;
  tridiagonal_finish(a: Ptr, n: number, diag: Ptr, off: Ptr): void;
  /** 0, or 1 when the QL iteration did not converge. */
  tridiagonal_eigenvalues(d: Ptr, e: Ptr, n: number): number;
  tridiagonal_top_eigenvalues(d: Ptr, e: Ptr, n: number, k: number, values: Ptr, work: Ptr): void;
  tridiagonal_eigenvectors(diag: Ptr, off: Ptr, n: number, values: Ptr, k: number, zt: Ptr, work: Ptr): void;
  /** 0, or 1 when the QR iteration did not converge. */
  svd(a: Ptr, m: number, n: number, s: Ptr, u: Ptr, v: Ptr, e: Ptr, work: Ptr, wantU: number): number;
}

interface Instance {
  kernels: Kernels;
  memory: WebAssembly.Memory;
  heapBase: number;
}

let loaded: Instance | undefined;

function instance(): Instance {
  if (!loaded) {
    const module = new WebAssembly.Module(fs.readFileSync(distPath('linalg.wasm')));
    const exports = new WebAssembly.Instance(module, {}).exports as unknown as Kernels & {
      memory: WebAssembly.Memory;
      __heap_base: WebAssembly.Global;
    };
    loaded = { kernels: exports, memory: exports.memory, heapBase: Number(exports.__heap_base.value) };
  }
  return loaded;
}

const PAGE = 65536;

/**
 * Lays out arrays of the given lengths (in doubles) one after another in the module's memory, growing it when
 * needed, and returns the kernels with each array's view and byte offset, zero-filled (the SVD, like LINPACK's,
 * relies on zeros it never writes). The views stay
 * valid until the next call of heap() on this thread (growing the memory detaches them).
 */
export function heap(lengths: readonly number[]): { kernels: Kernels; views: Float64Array[]; at: Ptr[] } {
  if (leased) throw new Error('linalg: the kernels\' memory is held by an unfinished leaseHeap() on this thread');
  const { kernels, memory, heapBase } = instance();
  const base = Math.ceil(heapBase / 16) * 16;
  const at: Ptr[] = [];
  let end = base;
  for (const length of lengths) {
    at.push(end);
    end += Math.ceil(length / 2) * 16; // 16-byte aligned starts for the SIMD loads
  }
  if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
  const views = lengths.map((length, i) => new Float64Array(memory.buffer, at[i], length).fill(0));
  return { kernels, views, at };
}

/** Whether a leaseHeap() layout is in use on this thread. */
let leased = false;

/**
 * heap() for a caller that awaits between kernel calls (gemmEigen.ts's blocked tridiagonalisation, whose matrix
 * products run on onnxruntime meanwhile): the layout stays valid, and until release() any other heap() on this thread
 * throws instead of laying its arrays over these. The analysis workers run one job at a time, so none is refused there.
 */
export function leaseHeap(lengths: readonly number[]): { kernels: Kernels; views: Float64Array[]; at: Ptr[]; release(): void } {
  const layout = heap(lengths);
  leased = true;
  return { ...layout, release: () => (leased = false) };
}

/**
 * Drops this thread's instance, and with it its memory, which only grows (to n^2 doubles for the largest
 * eigenproblem, 134 MB at n = 4096). analyze() calls it when it finishes, as it trims its scratch memory; the
 * analysis workers keep theirs between jobs like their scratch buffers, since fresh pages are slow to touch on
 * some machines (a page fault per 4 KiB).
 */
export function releaseKernels(): void {
  if (leased) throw new Error('linalg: releaseKernels() during a leaseHeap()');
  loaded = undefined;
}
