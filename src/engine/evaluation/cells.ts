/**
 * Scoring the cells of one model: each (task, kind) of the cross matrix gives every metric of the kind and the main
 * metric's 1000 bootstrap replicates (EVAL.md "Uncertainty"). A job holds only clonable data, so runAnalysis's
 * workers run the same scoreModelCells as analyze() on the calling thread, and give the same bits.
 *
 * Every vector is L2-normalised first (vectors.ts): the task matrices into copies, the documents as ranking.ts reads
 * them (no copy of the corpus).
 */
import { replicates, resampleIndices } from './bootstrap';
import { scoreClassification } from './classification';
import { scoreClustering } from './clustering';
import { indexQrels, QrelsIndex, scoreRetrieval, scoreReranking } from './ranking';
import type { KindScore } from './scorer';
import { scoreSts, StsPairs } from './sts';
import { EVAL_KINDS, EvalKind, EvaluationData, KIND_METRICS } from './types';
import { Documents, documentsOf, normaliseRows } from './vectors';
import type { EmbeddingMatrix } from '../types';

/** The scorer of each kind (tests substitute their own to count calls or to check the wiring). */
export interface EvaluationScorers {
  retrieval(queries: Float64Array, documents: Documents, qrels: QrelsIndex): Promise<KindScore>;
  reranking(queries: Float64Array, documents: Documents, qrels: QrelsIndex): KindScore;
  sts(vectors: Float64Array, d: number, pairs: StsPairs): KindScore;
  classification(
    vectors: Float64Array,
    n: number,
    d: number,
    labels: Int32Array,
    labelCount: number,
    labelNames: readonly string[],
  ): Promise<KindScore>;
  clustering(vectors: Float64Array, n: number, d: number, labels: Int32Array, labelCount: number, seed: number): Promise<KindScore>;
}

/** The engine's scorers: the one registry analyze() and the analysis workers use. */
export const EVALUATION_SCORERS: EvaluationScorers = {
  retrieval: (queries, documents, qrels) => scoreRetrieval(queries, documents, qrels),
  reranking: scoreReranking,
  sts: scoreSts,
  classification: scoreClassification,
  clustering: scoreClustering,
};

/** One (model, task, kind) cell. */
export interface CellScore {
  /** Units scored. */
  n: number;
  /** Every metric of the kind on all units, KIND_METRICS order. */
  values: number[];
  /** The main metric on each of the kind's shared bootstrap resamples. */
  replicates: Float64Array;
}

/** The evaluation data in the scorers' form, with each kind's unit count. */
export interface PreparedData {
  /** Kinds with data, EVAL_KINDS order. */
  kinds: EvalKind[];
  units: Map<EvalKind, number>;
  qrels?: QrelsIndex;
  nDocs: number;
  pairs?: StsPairs;
  /** Label index per query: the labels sorted (UTF-16 code unit order, as np.unique for BMP labels), 0-based. */
  labels?: Int32Array;
  labelNames: string[];
}

/** `hasCorpus`: the documents' embeddings are there (retrieval and reranking need them beside the qrels). */
export function prepareData(data: EvaluationData, n: number, hasCorpus: boolean): PreparedData {
  const units = new Map<EvalKind, number>();
  const prepared: PreparedData = { kinds: [], units, nDocs: data.corpusIds?.length ?? 0, labelNames: [] };
  if (data.qrels && data.corpusIds && hasCorpus) {
    prepared.qrels = indexQrels(data.qrels, n);
    units.set('retrieval', prepared.qrels.retrievalQueries.length);
    units.set('reranking', prepared.qrels.rerankingQueries.length);
  }
  if (data.pairs) {
    prepared.pairs = data.pairs;
    units.set('sts', data.pairs.a.length);
  }
  if (data.labels) {
    const names = [...new Set(data.labels)].sort();
    const indexOf = new Map(names.map((name, x) => [name, x]));
    prepared.labels = Int32Array.from(data.labels, (label) => indexOf.get(label)!);
    prepared.labelNames = names;
    units.set('classification', n);
    units.set('clustering', n);
  }
  prepared.kinds = EVAL_KINDS.filter((kind) => units.has(kind));
  return prepared;
}

/** What scoring one model's missing cells needs: clonable, for a worker. */
export interface EvaluationJob {
  /** Model name (messages only). */
  model: string;
  n: number;
  d: number;
  /** The tasks to score: index into the bundle's tasks, the raw n x d matrix, and the kinds wanted. */
  tasks: { task: number; matrix: EmbeddingMatrix; kinds: EvalKind[] }[];
  /** The model's documents, nDocs x d (when retrieval or reranking is wanted). */
  corpus?: Float64Array;
  data: EvaluationData;
  seed: number;
}

/** The cells of a job, in job order (task by task, kinds in the order asked). */
export async function scoreModelCells(job: EvaluationJob, scorers: EvaluationScorers = EVALUATION_SCORERS): Promise<CellScore[]> {
  const { n, d } = job;
  const prepared = prepareData(job.data, n, job.corpus !== undefined);
  const corpus = job.corpus && documentsOf(job.corpus, prepared.nDocs, d, `${job.model}/Corpus`);
  const resamples = new Map<EvalKind, Int32Array>();
  const cells: CellScore[] = [];
  for (const { matrix, kinds } of job.tasks) {
    const vectors = normaliseRows(matrix, n, d, job.model);
    for (const kind of kinds) {
      const score = await scoreKind(kind, vectors, n, d, corpus, prepared, job.seed, scorers);
      const expected = prepared.units.get(kind);
      if (score.n !== expected || score.values.length !== KIND_METRICS[kind].length)
        throw new Error(`${kind} scorer of ${job.model}: ${score.n} units and ${score.values.length} metrics, expected ${expected}`);
      let indices = resamples.get(kind);
      if (!indices) resamples.set(kind, (indices = resampleIndices(job.seed, score.n)));
      cells.push({ n: score.n, values: score.values, replicates: replicates(indices, score.n, (s) => score.mainOn(s)) });
    }
  }
  return cells;
}

function scoreKind(
  kind: EvalKind,
  vectors: Float64Array,
  n: number,
  d: number,
  corpus: Documents | undefined,
  data: PreparedData,
  seed: number,
  scorers: EvaluationScorers,
): Promise<KindScore> | KindScore {
  const missing = (what: string): never => {
    throw new Error(`${kind}: no ${what}`);
  };
  switch (kind) {
    case 'retrieval':
      return scorers.retrieval(vectors, corpus ?? missing('corpus'), data.qrels ?? missing('qrels'));
    case 'reranking':
      return scorers.reranking(vectors, corpus ?? missing('corpus'), data.qrels ?? missing('qrels'));
    case 'sts':
      return scorers.sts(vectors, d, data.pairs ?? missing('pairs'));
    case 'classification':
      return scorers.classification(vectors, n, d, data.labels ?? missing('labels'), data.labelNames.length, data.labelNames);
    case 'clustering':
      return scorers.clustering(vectors, n, d, data.labels ?? missing('labels'), data.labelNames.length, seed);
  }
}
