/**
 * Data shapes shared by the engine, the CLI, the model providers, the extension host and the webview.
 * Pure types: safe to import from any side (no Node or VS Code APIs).
 */

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
  /** Instruction text per task name, when known (shown in hover text and tables). */
  instructions?: Record<string, string>;
}

export type PointsMode = 'flatten' | 'centroid';
export type MdsMethod = 'classical' | 'smacof';

export interface AnalysisOptions {
  /** Requested PCA dimension; the effective k is min(k, N*T-1, min d). Default 200. */
  k?: number;
  points?: PointsMode;
  mds?: MdsMethod;
  /** Reference model name; default: the model with the smallest mean Procrustes distance onto it. */
  reference?: string;
  /** Seed of SMACOF's random start. Default 0. */
  seed?: number;
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
   * Caveats about this result, one plain sentence each; always present, [] when there are none. Currently: k greater
   * than the number of queries, where the Procrustes alignment (and so the map) is not unique; neighbour overlap
   * turned off.
   */
  warnings: string[];
  queries?: string[];
  instructions?: Record<string, string>;
}
