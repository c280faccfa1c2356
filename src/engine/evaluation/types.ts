/**
 * Shapes of the task evaluation of ../shared/docs/EVAL.md. Pure types and constants: safe to import from any side.
 * Names that come from users (task names, labels, ids) live in arrays aligned with rows or tasks, never as object keys.
 */

export type EvalKind = 'retrieval' | 'reranking' | 'sts' | 'classification' | 'clustering';

/** Every kind, in the order they are reported. */
export const EVAL_KINDS: readonly EvalKind[] = ['retrieval', 'reranking', 'sts', 'classification', 'clustering'];

export type EvalMetric =
  | 'nDCG@10'
  | 'MRR@10'
  | 'Recall@100'
  | 'MAP'
  | 'accuracy'
  | 'macroF1'
  | 'kNNAccuracy'
  | 'vMeasure'
  | 'ARI'
  | 'spearman'
  | 'pearson';

/** The metrics of each kind, main metric first (EVAL.md "Metrics"). */
export const KIND_METRICS: Readonly<Record<EvalKind, readonly EvalMetric[]>> = {
  retrieval: ['nDCG@10', 'MRR@10', 'Recall@100'],
  reranking: ['MAP', 'MRR@10'],
  sts: ['spearman', 'pearson'],
  classification: ['accuracy', 'macroF1', 'kNNAccuracy'],
  clustering: ['vMeasure', 'ARI'],
};

/**
 * The paper's task names and the kind each maps to by default (a task's `kind:` in the instruction set overrides).
 * A list, not an object: task names are user data.
 */
export const DEFAULT_TASK_KINDS: readonly (readonly [string, EvalKind])[] = [
  ['Retrieval', 'retrieval'],
  ['Reranking', 'reranking'],
  ['STS', 'sts'],
  ['Classification', 'classification'],
  ['Clustering', 'clustering'],
];

/**
 * The reserved name of the corpus documents' embeddings (<bundle>/<model>/Corpus.npy): never a task. Compared
 * ignoring case, since file systems that ignore case would merge Corpus.npy with a task's corpus.npy.
 */
export const CORPUS_TASK = 'Corpus';

export function isCorpusTask(name: string): boolean {
  return name.toLowerCase() === CORPUS_TASK.toLowerCase();
}

/**
 * The labelled data of an analysis, aligned with the bundle's query rows (row i = query i). Row and document indices
 * are 0-based here; messages to users give 1-based line numbers.
 */
export interface EvaluationData {
  /** Query id per row: the `id` / `_id` field, else the 1-based line number as a string. */
  queryIds: string[];
  /** Label per row, when the query file has labels (all rows or none). */
  labels?: string[];
  /** STS pairs: rows a[p], b[p] with gold score[p]. */
  pairs?: { a: Int32Array; b: Int32Array; score: Float64Array };
  /** Corpus document ids, in the order of the corpus embeddings. */
  corpusIds?: string[];
  /** Qrels: query row, document index (into corpusIds), graded relevance. */
  qrels?: { query: Int32Array; doc: Int32Array; score: Float64Array };
  /** Home kind of each task, in the bundle's task order (null for Base and for tasks of no kind). */
  homeKinds: (EvalKind | null)[];
}

/** One row of results.json `evaluation` (EVAL.md "results.json"). */
export interface EvaluationRow {
  model: string;
  task: string;
  kind: EvalKind;
  metric: EvalMetric;
  value: number;
  /** Base's value of the same model, kind and metric. */
  base: number;
  delta: number;
  /** 95% paired-bootstrap interval of the main metric; null on the other metrics' rows. */
  ciLow: number | null;
  ciHigh: number | null;
  deltaCiLow: number | null;
  deltaCiHigh: number | null;
  /** True on the task's own kind. */
  home: boolean;
  /** Units scored (queries; pairs for sts). */
  n: number;
}

/** One row of results.json `displacementVsPerformance`. */
export interface DisplacementVsPerformanceRow {
  kind: EvalKind;
  metric: EvalMetric;
  /** Spearman correlation across (model, non-Base task) cells of mean cosine displacement and Delta; null if undefined. */
  spearman: number | null;
  /** Number of cells. */
  n: number;
}

/**
 * One row of results.json `leaderboard`: the wordings of one instruction (two or more tasks whose home kind is
 * `kind`) ranked for one model by the kind's main metric (descending; ties: tasks order), each with its paired
 * difference to the best wording. The bootstrap resamples are the kind's shared ones, so the differences are paired.
 */
export interface LeaderboardRow {
  model: string;
  kind: EvalKind;
  /** The kind's main metric. */
  metric: EvalMetric;
  task: string;
  /** 1 = best. */
  rank: number;
  value: number;
  /** 95% bootstrap interval of `value`. */
  ciLow: number;
  ciHigh: number;
  /** The best wording (rank 1) of this model and kind. */
  best: string;
  /** value - the best's value (0 for the best itself). */
  difference: number;
  /** 95% paired-bootstrap interval of the difference (0, 0 for the best itself). */
  differenceCiLow: number;
  differenceCiHigh: number;
  /** The difference's interval excludes 0: the best beats this wording beyond the resampling noise. */
  significant: boolean;
}
