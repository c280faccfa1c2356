/**
 * The retrieval and reranking kinds of EVAL.md. Vectors are L2-normalised, so similarity = dot product; every tie is
 * broken by the lower document index.
 *
 * Retrieval ranks the whole corpus for each query without ever holding queries x documents similarities: the
 * products run on onnxruntime's Gemm (kernels/gemm.ts) one block of queries x one block of documents at a time, and
 * each query keeps a running top-100 in a bounded heap (no sort of the corpus). Memory: one block product
 * (blockQueries x blockDocs doubles, 8 MiB by default), one normalised block of documents (blockDocs x d), plus 100
 * entries per query. Documents are normalised as each block is copied (vectors.ts), never as a whole copy. Documents are visited in index
 * order, so a document whose similarity equals the heap's worst is never better than it (lower index wins): a strict
 * comparison decides, and the result does not depend on the block sizes.
 *
 * Retrieval metrics (pytrec_eval's definitions, as MTEB): nDCG@10 with the graded qrels score as gain, DCG = sum over
 * ranks r = 1..10 of gain / log2(r + 1), ideal DCG from the query's qrels sorted by score; MRR@10; Recall@100.
 * A qrels score <= 0 gains nothing and is not relevant. Units: the queries with at least one document of score > 0
 * (the others are left out; the caller warns). Reranking: each query's own qrels candidates, ranked by similarity;
 * MAP (average precision: mean over the relevant candidates of the precision at their rank) and MRR@10. Units, as
 * MTEB's reranking evaluator: the queries with at least one relevant and one non-relevant candidate (a query with
 * only relevant or only non-relevant candidates says nothing about the ranking).
 * A query-document pair listed twice in the qrels counts once, with its last score (pytrec_eval reads qrels into a
 * dictionary).
 */
import { gemm } from '../kernels/gemm';
import { acquire, release } from '../kernels/scratch';
import type { KindScore } from './scorer';
import { Documents, normalisedRowInto } from './vectors';

/** Depth of the retrieval ranking: Recall@100 needs the top 100. */
export const RETRIEVAL_DEPTH = 100;
/** Cut-off of nDCG and MRR. */
export const METRIC_CUTOFF = 10;

export interface Qrels {
  query: Int32Array;
  doc: Int32Array;
  score: Float64Array;
}

/** The qrels grouped by query row (compressed rows): query q's candidates are entries offsets[q]..offsets[q+1]-1. */
export interface QrelsIndex {
  offsets: Int32Array;
  /** Candidate document indices, ascending within each query. */
  doc: Int32Array;
  score: Float64Array;
  /** Query rows with a document of score > 0, ascending: the retrieval units. */
  retrievalQueries: Int32Array;
  /** Query rows with a relevant and a non-relevant candidate, ascending: the reranking units. */
  rerankingQueries: Int32Array;
}

/** Groups the qrels by query row for `nQueries` queries (each pair once, last score kept). */
export function indexQrels(qrels: Qrels, nQueries: number): QrelsIndex {
  const byQuery: Map<number, number>[] = Array.from({ length: nQueries }, () => new Map());
  for (let e = 0; e < qrels.query.length; e++) {
    const q = qrels.query[e];
    if (!(q >= 0 && q < nQueries)) throw new RangeError(`qrels entry ${e}: query row ${q} outside 0..${nQueries - 1}`);
    byQuery[q].set(qrels.doc[e], qrels.score[e]);
  }
  const offsets = new Int32Array(nQueries + 1);
  byQuery.forEach((docs, q) => (offsets[q + 1] = offsets[q] + docs.size));
  const doc = new Int32Array(offsets[nQueries]);
  const score = new Float64Array(offsets[nQueries]);
  const retrieval: number[] = [];
  const reranking: number[] = [];
  byQuery.forEach((docs, q) => {
    const sorted = [...docs.keys()].sort((a, b) => a - b);
    let relevant = 0;
    sorted.forEach((j, x) => {
      doc[offsets[q] + x] = j;
      score[offsets[q] + x] = docs.get(j)!;
      if (docs.get(j)! > 0) relevant++;
    });
    if (relevant > 0) retrieval.push(q);
    if (relevant > 0 && relevant < sorted.length) reranking.push(q);
  });
  return { offsets, doc, score, retrievalQueries: Int32Array.from(retrieval), rerankingQueries: Int32Array.from(reranking) };
}

export interface BlockSizes {
  /** Query rows per block product (default 256). */
  blockQueries?: number;
  /** Documents per block product (default 4096). */
  blockDocs?: number;
}

export interface TopK {
  /** Entries per query: min(k, nDocs). */
  k: number;
  /** nQueries x k document indices, best first (similarity descending, then lower index). */
  docs: Int32Array;
  /** Their similarities. */
  similarity: Float64Array;
}

/**
 * The k most similar documents of each query: `queries` nQueries x d (L2-normalised, row-major; views and shared
 * memory are fine), documents normalised block by block. Blocked products on Gemm with a running top-k heap per query
 * (see the file comment).
 */
export async function topK(
  queries: Float64Array,
  nQueries: number,
  documents: Documents,
  k: number,
  blocks: BlockSizes = {},
): Promise<TopK> {
  const { rows: nDocs, d } = documents;
  const kk = Math.min(k, nDocs);
  const blockQueries = Math.max(1, Math.min(blocks.blockQueries ?? 256, nQueries));
  const blockDocs = Math.max(1, Math.min(blocks.blockDocs ?? 4096, nDocs));
  // Per query a heap whose root is the worst kept entry (lowest similarity, then highest index).
  const heapSim = new Float64Array(nQueries * kk);
  const heapDoc = new Int32Array(nQueries * kk);
  const size = new Int32Array(nQueries);
  const product = acquire(blockQueries * blockDocs);
  // Each block of documents is normalised into this (Gemm would copy shared memory on every call anyway).
  const docCopy = acquire(blockDocs * d);
  const queryCopy = queries.buffer instanceof SharedArrayBuffer ? Float64Array.from(queries) : queries;
  try {
    for (let j0 = 0; j0 < nDocs; j0 += blockDocs) {
      const cols = Math.min(blockDocs, nDocs - j0);
      for (let c = 0; c < cols; c++) normalisedRowInto(documents.data, j0 + c, d, documents.norms[j0 + c], docCopy, c * d);
      const docBlock = docCopy.subarray(0, cols * d);
      for (let q0 = 0; q0 < nQueries; q0 += blockQueries) {
        const rows = Math.min(blockQueries, nQueries - q0);
        const out = product.subarray(0, rows * cols);
        // Ties go to the lower index: a document's similarity must not depend on its place in the block.
        await gemm(queryCopy.subarray(q0 * d, (q0 + rows) * d), docBlock, rows, d, cols, { transB: true, out, sameOrderEveryEntry: true });
        for (let i = 0; i < rows; i++) {
          const q = q0 + i;
          const base = q * kk;
          let filled = size[q];
          let worst = filled < kk ? -Infinity : heapSim[base];
          const row = i * cols;
          for (let c = 0; c < cols; c++) {
            const s = out[row + c];
            if (filled < kk) {
              heapPush(heapSim, heapDoc, base, filled++, s, j0 + c);
              if (filled === kk) worst = heapSim[base];
            } else if (s > worst) {
              heapReplaceRoot(heapSim, heapDoc, base, kk, s, j0 + c);
              worst = heapSim[base];
            }
          }
          size[q] = filled;
        }
      }
    }
  } finally {
    release(product, docCopy);
  }
  // Each heap, best first.
  const docs = new Int32Array(nQueries * kk);
  const similarity = new Float64Array(nQueries * kk);
  const order = Array.from({ length: kk }, (_, x) => x);
  for (let q = 0; q < nQueries; q++) {
    const base = q * kk;
    order.sort((a, b) => heapSim[base + b] - heapSim[base + a] || heapDoc[base + a] - heapDoc[base + b]);
    order.forEach((x, r) => {
      docs[base + r] = heapDoc[base + x];
      similarity[base + r] = heapSim[base + x];
    });
    for (let x = 0; x < kk; x++) order[x] = x;
  }
  return { k: kk, docs, similarity };
}

/** a is worse than b: lower similarity, or equal similarity and higher index. */
function worse(sa: number, da: number, sb: number, db: number): boolean {
  return sa < sb || (sa === sb && da > db);
}

function heapPush(sim: Float64Array, doc: Int32Array, base: number, filled: number, s: number, j: number): void {
  let x = filled;
  while (x > 0) {
    const parent = (x - 1) >> 1;
    if (!worse(s, j, sim[base + parent], doc[base + parent])) break;
    sim[base + x] = sim[base + parent];
    doc[base + x] = doc[base + parent];
    x = parent;
  }
  sim[base + x] = s;
  doc[base + x] = j;
}

function heapReplaceRoot(sim: Float64Array, doc: Int32Array, base: number, k: number, s: number, j: number): void {
  let x = 0;
  for (;;) {
    const left = 2 * x + 1;
    if (left >= k) break;
    let child = left;
    const right = left + 1;
    if (right < k && worse(sim[base + right], doc[base + right], sim[base + left], doc[base + left])) child = right;
    if (!worse(sim[base + child], doc[base + child], s, j)) break;
    sim[base + x] = sim[base + child];
    doc[base + x] = doc[base + child];
    x = child;
  }
  sim[base + x] = s;
  doc[base + x] = j;
}

/** Mean of per-unit values over a resample (the main metric of retrieval and reranking is a per-query mean). */
function meanScore(values: number[][], perUnit: Float64Array): KindScore {
  const n = perUnit.length;
  return {
    n,
    values: values.map((v) => v.reduce((a, b) => a + b, 0) / n),
    mainOn(sample: Int32Array): number {
      let sum = 0;
      for (let i = 0; i < sample.length; i++) sum += perUnit[sample[i]];
      return sum / n;
    },
  };
}

/** DCG of gains in rank order, ranks 1..cutoff. */
function dcg(gains: ArrayLike<number>, cutoff: number): number {
  let s = 0;
  for (let r = 1; r <= Math.min(cutoff, gains.length); r++) s += gains[r - 1] / Math.log2(r + 1);
  return s;
}

/**
 * Retrieval of one task: `queries` nQueries x d, L2-normalised, row-major. Metrics in KIND_METRICS order: nDCG@10,
 * MRR@10, Recall@100, each the mean over qrels.retrievalQueries (the units).
 */
export async function scoreRetrieval(
  queries: Float64Array,
  documents: Documents,
  qrels: QrelsIndex,
  blocks: BlockSizes = {},
): Promise<KindScore> {
  const d = documents.d;
  const units = qrels.retrievalQueries;
  const n = units.length;
  const unitQueries = new Float64Array(n * d);
  units.forEach((q, u) => unitQueries.set(queries.subarray(q * d, (q + 1) * d), u * d));
  const top = await topK(unitQueries, n, documents, RETRIEVAL_DEPTH, blocks);
  const ndcg = new Float64Array(n);
  const mrr: number[] = [];
  const recall: number[] = [];
  for (let u = 0; u < n; u++) {
    const q = units[u];
    const gainOf = new Map<number, number>();
    const ideal: number[] = [];
    for (let e = qrels.offsets[q]; e < qrels.offsets[q + 1]; e++) {
      if (qrels.score[e] > 0) {
        gainOf.set(qrels.doc[e], qrels.score[e]);
        ideal.push(qrels.score[e]);
      }
    }
    ideal.sort((a, b) => b - a);
    const ranked = top.docs.subarray(u * top.k, (u + 1) * top.k);
    const gains = Array.from(ranked.subarray(0, METRIC_CUTOFF), (j) => gainOf.get(j) ?? 0);
    ndcg[u] = dcg(gains, METRIC_CUTOFF) / dcg(ideal, METRIC_CUTOFF);
    const first = gains.findIndex((g) => g > 0);
    mrr.push(first < 0 ? 0 : 1 / (first + 1));
    let found = 0;
    for (const j of ranked) if (gainOf.has(j)) found++;
    recall.push(found / gainOf.size);
  }
  return meanScore([Array.from(ndcg), mrr, recall], ndcg);
}

/**
 * Reranking of one task: each unit query's qrels candidates ranked by similarity (`queries` nQueries x d,
 * L2-normalised). Metrics in KIND_METRICS order: MAP, MRR@10, means over qrels.rerankingQueries.
 */
export function scoreReranking(queries: Float64Array, documents: Documents, qrels: QrelsIndex): KindScore {
  const d = documents.d;
  const row = new Float64Array(d);
  const units = qrels.rerankingQueries;
  const ap = new Float64Array(units.length);
  const mrr: number[] = [];
  units.forEach((q, u) => {
    const start = qrels.offsets[q];
    const count = qrels.offsets[q + 1] - start;
    const sim = new Float64Array(count);
    for (let x = 0; x < count; x++) {
      const j = qrels.doc[start + x];
      normalisedRowInto(documents.data, j, d, documents.norms[j], row, 0);
      let s = 0;
      for (let c = 0; c < d; c++) s += queries[q * d + c] * row[c];
      sim[x] = s;
    }
    // Candidates are in ascending document order, so the index tie-break is the candidate position.
    const order = Array.from({ length: count }, (_, x) => x).sort((a, b) => sim[b] - sim[a] || a - b);
    let hits = 0;
    let precisionSum = 0;
    let reciprocal = 0;
    order.forEach((x, r) => {
      if (qrels.score[start + x] > 0) {
        hits++;
        precisionSum += hits / (r + 1);
        if (hits === 1 && r < METRIC_CUTOFF) reciprocal = 1 / (r + 1);
      }
    });
    ap[u] = precisionSum / hits;
    mrr.push(reciprocal);
  });
  return meanScore([Array.from(ap), mrr], ap);
}
