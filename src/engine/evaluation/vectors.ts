/**
 * L2 normalisation of the evaluation's vectors (EVAL.md: every vector is normalised first, for every kind). A row of
 * norm 0 stays 0 (its similarity to anything is 0). Query matrices are normalised into a copy (they are small); the
 * documents are not copied: ranking.ts divides each document row by its norm as it reads it, with the same
 * expression, so the numbers are the same as a normalised copy's.
 */
import { UserError } from '../errors';
import type { EmbeddingMatrix } from '../types';

/** Euclidean norm of each row of x (rows x d, row-major). UserError on a non-finite value. */
export function rowNorms(x: EmbeddingMatrix, rows: number, d: number, where = 'bundle'): Float64Array {
  if (x.length !== rows * d) throw new UserError(`expected ${rows} x ${d} numbers, got ${x.length}`, where);
  const norms = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += x[i * d + c] * x[i * d + c];
    if (!Number.isFinite(s)) throw new UserError(`non-finite value in row ${i + 1}`, where);
    norms[i] = Math.sqrt(s);
  }
  return norms;
}

/** Row j of x divided by `norm` into out[offset..offset+d) (zeros when the norm is 0). */
export function normalisedRowInto(x: EmbeddingMatrix, j: number, d: number, norm: number, out: Float64Array, offset: number): void {
  const o = j * d;
  if (norm === 0) out.fill(0, offset, offset + d);
  else for (let c = 0; c < d; c++) out[offset + c] = x[o + c] / norm;
}

/**
 * Rows of x divided by their norms, in float64; a float64 x itself when every norm is exactly 1 (dividing by 1 changes
 * nothing).
 */
export function normaliseRows(x: EmbeddingMatrix, rows: number, d: number, where = 'bundle'): Float64Array {
  const norms = rowNorms(x, rows, d, where);
  if (x instanceof Float64Array && norms.every((v) => v === 1)) return x;
  const out = new Float64Array(rows * d);
  for (let i = 0; i < rows; i++) normalisedRowInto(x, i, d, norms[i], out, i * d);
  return out;
}

/** The documents' embeddings as given (rows x d) with their norms: normalised as they are read. */
export interface Documents {
  data: Float64Array;
  rows: number;
  d: number;
  norms: Float64Array;
}

export function documentsOf(data: Float64Array, rows: number, d: number, where = 'Corpus'): Documents {
  return { data, rows, d, norms: rowNorms(data, rows, d, where) };
}
