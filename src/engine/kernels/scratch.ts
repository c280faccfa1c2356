/**
 * Reusable scratch memory for the engine's large temporary matrices (centred stacks, Gram matrices, aligned points).
 * Touching freshly allocated memory costs a page fault per 4 KiB, which on some machines (sandboxes, VMs) costs more
 * than the arithmetic done on it; buffers taken here come from a per-thread free list instead.
 *
 * acquire() hands out a buffer that no one else holds until release(); contents are unspecified (not zeroed), so a
 * caller must write every element it reads. Concurrent analyses on one thread (interleaved at awaits) are safe: each
 * gets its own buffers. trimScratch() drops the free buffers (analyze() calls it when it finishes).
 */

const free: ArrayBuffer[] = [];

/**
 * A Float64Array of `length` elements over a buffer owned by the caller until release(). Not zeroed. The smallest free
 * buffer that is large enough is reused; when none is, the free buffers are dropped before a new one is made: the work
 * has moved on to larger arrays, and keeping the smaller ones only held memory (at N = 10,000 each worker kept its
 * neighbour stage's two 328 MB unit-row buffers while the maps took 576 MB more).
 */
export function acquire(length: number): Float64Array {
  const bytes = length * Float64Array.BYTES_PER_ELEMENT;
  let best = -1;
  for (let i = 0; i < free.length; i++)
    if (free[i].byteLength >= bytes && (best < 0 || free[i].byteLength < free[best].byteLength)) best = i;
  if (best >= 0) return new Float64Array(free.splice(best, 1)[0], 0, length);
  free.length = 0;
  return new Float64Array(new ArrayBuffer(bytes), 0, length);
}

/** Returns a buffer from acquire() to the free list; the array must not be used afterwards. */
export function release(...arrays: Float64Array[]): void {
  for (const a of arrays) free.push(a.buffer as ArrayBuffer);
}

/** Frees the memory of every buffer not currently acquired. */
export function trimScratch(): void {
  free.length = 0;
}
