/** Digests that tell a frame's inputs apart (frame.ts): SHA-256 of a matrix's float64 bytes, as hex. */
import { createHash } from 'node:crypto';
import { updateWithFloat64 } from '../float64Hash';
import type { EmbeddingMatrix } from '../types';

/** The digest of the float64 values, whatever the matrix stores: a float32 bundle and its widened copy agree. */
export function matrixDigest(matrix: EmbeddingMatrix): string {
  return updateWithFloat64(createHash('sha256'), matrix).digest('hex');
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
