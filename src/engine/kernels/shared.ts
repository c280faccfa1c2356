/**
 * Float64 arrays in shared memory. Embedding matrices are allocated here when they are read or embedded, so that
 * runAnalysis's worker threads can use them in place instead of receiving a copy (peak memory: issue 5).
 */
export function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
}

/** A copy of `values` (float32 values widened) in shared memory. */
export function sharedCopyOf(values: Float64Array | Float32Array): Float64Array {
  const copy = sharedFloat64(values.length);
  copy.set(values);
  return copy;
}

/** A float32 copy of `values` in shared memory (the precision a float32 .npy file stores). */
export function sharedFloat32CopyOf(values: ArrayLike<number>): Float32Array {
  const copy = new Float32Array(new SharedArrayBuffer(values.length * Float32Array.BYTES_PER_ELEMENT));
  copy.set(values);
  return copy;
}

export function isShared(a: Float64Array | Float32Array): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}
