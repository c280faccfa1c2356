/**
 * Data shapes shared by the engine, the CLI, the model providers, the extension host and the webview.
 * Pure types: safe to import from any side (no Node or VS Code APIs).
 */
import type { EvaluationMemo } from './evaluation/memo';
import type { DisplacementVsPerformanceRow, EvaluationData, EvaluationRow, LeaderboardRow } from './evaluation/types';
import type { EngineMessage } from './messages';

import type { Provenance } from './io/provenance';

/** Name of the task that carries no instruction. Always first in `tasks`. */
export const BASE_TASK = 'Base';

/**
 * One N x d embedding matrix, row-major: float64, or float32 as a float32 .npy file stores it (readBundle keeps the
 * stored precision, half the memory; reading a float32 element gives its exact float64 value, so every computation
 * gives the same bits as on the widened matrix).
 */
export type EmbeddingMatrix = Float64Array | Float32Array;

/**
 * Embeddings of N queries under T tasks for M models.
 * `embeddings[m][t]` is model m's N x dims[m] matrix for task t, row-major (row i = query i).
 */
export interface EmbeddingBundle {
  models: string[];
  /** Base first, then the other tasks in a stable order. */
  tasks: string[];
  /** Number of queries (rows of every matrix). */
  n: number;
  dims: number[];
  embeddings: EmbeddingMatrix[][];
  /** Query texts in row order, when known. */
  queries?: string[];
  /** Instruction text per task name, when known (shown in hover text and tables). A Map: task names are data. */
  instructions?: ReadonlyMap<string, string>;
  /** The labelled data of the task evaluation (docs/EVAL.md), aligned with the query rows. */
  evaluation?: EvaluationData;
  /**
   * Per model: the corpus documents' embeddings, evaluation.corpusIds.length x dims[m], row-major, in corpusIds order
   * (embedded once per model in the family's document form). Present when evaluation.corpusIds is.
   */
  corpus?: Float64Array[];
  /** 1-based line of each query in its file, parallel to the rows; default: row + 1 (queries.txt). */
  queryLines?: number[];
  /** Models that were asked for but could not embed (load or server error): reported, not analysed. */
  failedModels?: ModelFailure[];
  /** Per model (parallel to `models`): its tokenizer's unknown-token counts per query, or null when it has none. */
  unknownTokens?: (UnknownTokenCounts | null)[];
}

/** A model left out of the analysis, with the reason (English). */
export interface ModelFailure {
  model: string;
  error: string;
}

/** Per query (row order): how many of its tokens the tokenizer maps to its unknown token, out of how many. */
export interface UnknownTokenCounts {
  unknown: number[];
  tokens: number[];
}

export type PointsMode = 'flatten' | 'centroid';
export type MdsMethod = 'classical' | 'smacof';

export interface AnalysisOptions {
  /**
   * Requested PCA dimension; the effective k is min(k, N*T-1, min d). Default: min(200, N, N*T-1, min d), which keeps
   * the Base alignment determined (METHOD.md step 2).
   */
  k?: number;
  points?: PointsMode;
  mds?: MdsMethod;
  /** Reference model name; default: the model with the smallest mean Procrustes distance onto it. */
  reference?: string;
  /** Seed of SMACOF's random start and of the evaluation's bootstrap and k-means. Default 0. */
  seed?: number;
  /**
   * Live mode: keep one memo across analyses of the same inputs, so that only the tasks whose embeddings changed are
   * scored again (the other cells, Base's included, and the documents' hashes are reused). Not part of the result.
   */
  evaluationMemo?: EvaluationMemo;
  /**
   * Compute the neighbour overlaps and relative movements (N^2 d work per model and task: minutes at N = 10,000).
   * Default true. When false, those numbers are null and the top movers are the queries of largest cosine distance.
   */
  neighbourOverlap?: boolean;
}

export interface MapPoint {
  model: string;
  task: string;
  x: number;
  y: number;
}

export interface DisplacementRow {
  model: string;
  task: string;
  meanCosineDistance: number;
  /** 95% bootstrap interval of meanCosineDistance over queries (EVAL.md "Uncertainty"). */
  meanCosineDistanceCiLow: number;
  meanCosineDistanceCiHigh: number;
  medianCosineDistance: number;
  p90CosineDistance: number;
  trajectoryLength: number;
  shiftFraction: number;
  /** null when the analysis ran with neighbourOverlap off (see warnings). */
  neighbourOverlap: number | null;
}

export interface TopMover {
  model: string;
  task: string;
  /** Query row index. */
  index: number;
  query?: string;
  /** Cosine distance between this query's Base and task embeddings (model's own space). */
  cosineDistance: number;
  /**
   * Movement relative to the query's Base neighbours (see METHOD notes in src/engine/metrics.ts); null when the
   * analysis ran with neighbourOverlap off.
   */
  relativeMovement: number | null;
  /** Jaccard overlap of this query's 10 nearest neighbours under Base and under the task; null as relativeMovement. */
  neighbourOverlap: number | null;
}

export interface RobustnessRow {
  reference: string;
  /** scipy.spatial.procrustes disparity between the map made with this reference and the main map. */
  disparity: number;
  /** Per model: does the order of its tasks by trajectory length match the main map? */
  taskOrderPreserved: Record<string, boolean>;
}

/** A model's task order by mean displacement and how often the bootstrap resamples keep it. */
export interface TaskOrderStability {
  model: string;
  /** Non-Base tasks, largest mean cosine distance first (ties: task order). */
  order: string[];
  /** Share of the resamples in which the whole order holds. */
  share: number;
  /** adjacentShares[i]: share of the resamples in which order[i] moves queries more than order[i + 1]. */
  adjacentShares: number[];
}

export interface AnalysisResult {
  models: string[];
  tasks: string[];
  n: number;
  dims: number[];
  k: number;
  reference: string;
  referenceChosenBy: 'auto' | 'user';
  pointsMode: PointsMode;
  mdsMethod: MdsMethod;
  /** Kruskal stress-1 of the 2-D map against the cosine distances. */
  mdsStress: number;
  /** M x M, models order; row = source i mapped onto column j. */
  procrustesDistance: number[][];
  /** (M*T) x (M*T) in `points` order. */
  cosineDistance: number[][];
  /** Model-major, task-minor (models order, tasks order). */
  points: MapPoint[];
  /** One row per (model, non-Base task), model-major. */
  displacement: DisplacementRow[];
  explainedVarianceRatio: Record<string, number[]>;
  robustness: RobustnessRow[];
  /**
   * Up to 10 per (model, non-Base task), largest relativeMovement first (ties: lower index); with neighbourOverlap
   * off, largest cosineDistance first.
   */
  topMovers: TopMover[];
  /**
   * Caveats about this result, one plain English sentence each; always present, [] when there are none: models left out,
   * degenerate embeddings, two names for one model, an explicit k above N (the alignment is then not unique), neighbour
   * overlap turned off.
   */
  warnings: string[];
  /** The same caveats in structured form (a code and its parameters), parallel to `warnings`. */
  warningDetails: EngineMessage[];
  /** Models left out (failed to embed, zero vectors): the result is partial when this is not empty. */
  failedModels: ModelFailure[];
  /** One row per model (models order). */
  taskOrderStability: TaskOrderStability[];
  queries?: string[];
  /** Own properties only: read with ownValue (src/engine/records.ts), a task may be named `toString`. */
  instructions?: Record<string, string>;
  /** Task evaluation (EVAL.md), models, tasks, kinds, metrics order; [] without labelled data. */
  evaluation: EvaluationRow[];
  /** One row per evaluated kind; [] without labelled data. */
  displacementVsPerformance: DisplacementVsPerformanceRow[];
  /** Wordings of one instruction ranked per model and kind (two or more tasks at home on a kind); [] otherwise. */
  leaderboard: LeaderboardRow[];
  /**
   * How the map was made; absent for a plain exact analysis. 'anchored': an exact analysis whose map was moved onto
   * an earlier map (mapAnchor); 'preview': points projected into the frame of an earlier analysis (mapFrame).
   */
  mapMode?: MapMode;
  mapAnchor?: MapAnchor;
  mapFrame?: MapFrameInfo;
  /** Where the result came from (src/engine/io/provenance.ts); written by the CLI's run and the extension. */
  provenance?: Provenance;
}

export type MapMode = 'exact' | 'anchored' | 'preview';

/** The rigid motion that anchored an exact map to the previous one: [x y] -> [x y] rotation + translation. */
export interface MapAnchor {
  /** Points present in both maps (matched by model and task). */
  matchedPoints: number;
  rotation: [[number, number], [number, number]];
  translation: [number, number];
  /** The rotation includes a reflection (determinant -1). */
  reflected: boolean;
  /** Root mean square distance between the anchored points and their previous positions. */
  rmsResidual: number;
}

/** A preview in the frozen frame of an earlier analysis. */
export interface MapFrameInfo {
  /** The frame's id (frame.json frameId): a digest of what the frame holds. */
  frameId: string;
  /** The points placed by out-of-sample MDS (their task changed or is new); every other point is the frame's own. */
  projected: { model: string; task: string }[];
}

/** The keys the evaluation stage adds (evaluationStage.ts); the rest is the displacement analysis (METHOD.md). */
export type EvaluationKeys = 'evaluation' | 'displacementVsPerformance' | 'leaderboard';

/** An AnalysisResult before the evaluation stage. */
export type AnalysisCore = Omit<AnalysisResult, EvaluationKeys>;
