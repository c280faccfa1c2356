/**
 * A matrix's values fed to a hash as float64 bytes, whatever precision it stores: a float32 bundle hashes as its
 * widened copy would (frame digests, bundle identities, the evaluation memo), without making that copy.
 */
import type { Hash } from 'node:crypto';
import type { EmbeddingMatrix } from './types';

/** Float32 values widened this many at a time. */
const WIDEN_SLICE = 1 << 16;

export function updateWithFloat64(hash: Hash, matrix: EmbeddingMatrix): Hash {
  if (matrix instanceof Float64Array) return hash.update(new Uint8Array(matrix.buffer, matrix.byteOffset, matrix.byteLength));
  const wide = new Float64Array(Math.min(WIDEN_SLICE, matrix.length));
  for (let start = 0; start < matrix.length; start += WIDEN_SLICE) {
    const part = matrix.subarray(start, Math.min(start + WIDEN_SLICE, matrix.length));
    wide.set(part);
    hash.update(new Uint8Array(wide.buffer, 0, part.length * Float64Array.BYTES_PER_ELEMENT));
  }
  return hash;
}
