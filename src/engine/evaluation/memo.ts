/**
 * The live-mode memo of the evaluation: when one instruction changes, only that task's cells are scored again; the
 * other tasks' cells (Base's included) and the documents are reused. A cell is keyed by what determines it: the
 * model's name, the kind, the seed, a SHA-1 of the task's embedding matrix bytes and of the kind's data (labels,
 * pairs, qrels; for retrieval and reranking also the model's corpus embeddings, hashed once per array object).
 * Keys are strings built from hashes and lengths, never from user names alone (a name is one length-prefixed part).
 * After each evaluation the memo keeps only the cells that evaluation used, so it holds one analysis' worth.
 */
import { createHash, type Hash } from 'node:crypto';
import type { CellScore } from './cells';
import type { EvalKind, EvaluationData } from './types';
import type { EmbeddingMatrix } from '../types';
import { updateWithFloat64 } from '../float64Hash';

export class EvaluationMemo {
  private cells = new Map<string, CellScore>();
  private used = new Set<string>();
  /** Hash of each corpus array seen (the same array object in the next run is not hashed again). */
  private readonly corpusHashes = new WeakMap<Float64Array, string>();

  get size(): number {
    return this.cells.size;
  }

  get(key: string): CellScore | undefined {
    const cell = this.cells.get(key);
    if (cell) this.used.add(key);
    return cell;
  }

  set(key: string, cell: CellScore): void {
    this.cells.set(key, cell);
    this.used.add(key);
  }

  /** Drops every cell the evaluation just finished did not use. */
  endRun(): void {
    for (const key of this.cells.keys()) if (!this.used.has(key)) this.cells.delete(key);
    this.used = new Set();
  }

  corpusHash(corpus: Float64Array): string {
    let hash = this.corpusHashes.get(corpus);
    if (hash === undefined) {
      hash = digest((h) => updateArray(h, corpus));
      this.corpusHashes.set(corpus, hash);
    }
    return hash;
  }
}

/** Hash of a task's embedding matrix: its length and its values as float64, whatever it stores. */
export function matrixHash(matrix: EmbeddingMatrix): string {
  return digest((h) => updateWithFloat64(h.update(`${matrix.length}\u0000`), matrix));
}

/** The key of one cell: `taskHash` from matrixHash, `dataHash` from kindDataHash, `corpusHash` for retrieval and reranking. */
export function cellKey(model: string, kind: EvalKind, seed: number, taskHash: string, dataHash: string, corpusHash = ''): string {
  return [`${model.length}:${model}`, kind, seed, taskHash, dataHash, corpusHash].join('\u0000');
}

/** Hash of the part of the evaluation data that a kind reads. */
export function kindDataHash(kind: EvalKind, data: EvaluationData, n: number): string {
  return digest((h) => {
    h.update(`${kind}\u0000${n}\u0000`);
    if (kind === 'retrieval' || kind === 'reranking') {
      const q = data.qrels;
      if (q) for (const a of [q.query, q.doc, q.score]) updateArray(h, a);
      h.update(`\u0000${data.corpusIds?.length ?? -1}`);
    } else if (kind === 'sts') {
      const p = data.pairs;
      if (p) for (const a of [p.a, p.b, p.score]) updateArray(h, a);
    } else {
      for (const label of data.labels ?? []) h.update(`${label.length}:${label}\u0000`);
    }
  });
}

function digest(fill: (h: Hash) => void): string {
  const h = createHash('sha1');
  fill(h);
  return h.digest('hex');
}

function updateArray(h: Hash, a: Int32Array | Float64Array): void {
  h.update(`${a.length}\u0000`);
  h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

