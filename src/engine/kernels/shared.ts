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

export function isShared(a: Float64Array): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}
