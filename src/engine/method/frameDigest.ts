/** Digests that tell a frame's inputs apart (frame.ts): SHA-256 of a matrix's float64 bytes, as hex. */
import { createHash, type Hash } from 'node:crypto';
import type { EmbeddingMatrix } from '../types';

/** Values widened a slice at a time, so that a float32 matrix digests as its float64 copy would, without the copy. */
const WIDEN_SLICE = 1 << 16;

/** The digest of the float64 values, whatever the matrix stores: a float32 bundle and its widened copy agree. */
export function matrixDigest(matrix: EmbeddingMatrix): string {
  return updateWithFloat64(createHash('sha256'), matrix).digest('hex');
}

/** Feeds the matrix's values to `hash` as float64 bytes, whatever it stores (float32 values widened a slice at a time). */
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

/** SHA-256 of the query texts in order (length-prefixed, so that no two lists share a digest). */
export function queriesDigest(queries: readonly string[]): string {
  const hash = createHash('sha256');
  for (const query of queries) {
    const bytes = Buffer.from(query, 'utf8');
    hash.update(`${bytes.length}:`).update(bytes);
  }
  return hash.digest('hex');
}
