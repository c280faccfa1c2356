import { createHash } from 'node:crypto';

/** Cosine similarity in float64. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

/** A vector that depends only on `text` (from SHA-256 of text and position), for cache tests. */
export function deterministicVector(text: string, dim: number): Float32Array {
  const out = new Float32Array(dim);
  for (let block = 0; block * 8 < dim; block++) {
    const digest = createHash('sha256').update(`${text}#${block}`).digest();
    for (let j = 0; j < 8 && block * 8 + j < dim; j++) out[block * 8 + j] = digest.readInt32LE(j * 4) / 2 ** 31;
  }
  return out;
}
