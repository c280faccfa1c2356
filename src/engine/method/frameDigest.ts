/** Digests that tell a frame's inputs apart (frame.ts): SHA-256 of a matrix's float64 bytes, as hex. */
import { createHash } from 'node:crypto';

export function matrixDigest(matrix: Float64Array): string {
  return createHash('sha256').update(new Uint8Array(matrix.buffer, matrix.byteOffset, matrix.byteLength)).digest('hex');
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
