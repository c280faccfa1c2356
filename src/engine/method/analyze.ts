/**
 * The analysis of METHOD.md on an embedding bundle, on the calling thread (see runAnalysis.ts for the worker-thread
 * version, which calls the same stage functions in the same order and so gives bit-identical results). The heavy
 * products run on onnxruntime's single-threaded Gemm (gemm.ts), hence async; large temporaries come from scratch.ts.
 * A map per reference costs one S Q product per model and one Gram of the points, all on Gemm.
 *
 * Stages: (A) per model: PCA (pca.ts) and displacement numbers (metrics.ts); (B) per unordered model pair: Procrustes
 * (procrustes.ts); then the D matrix and the reference; (C) per reference (main first, then every other model in
 * models order for the robustness check): alignment A[m][t] = S[m][t] Q_{m,ref}, points, cosine distances, 2-D map
 * (mds.ts); finally assembly of the AnalysisResult.
 *
 * Points: 'flatten' = A[m][t] flattened row by row (length N*k); 'centroid' = column mean of A[m][t] (length k),
 * computed as mean(S[m][t]) Q_{m,ref}. Order: model-major, task-minor. Cosine distance 1 - <p,q>/(|p||q|), exactly 0
 * on the diagonal and exactly symmetric. Reference: the user's, else the column j with the smallest
 * mean_{i != j} D[i][j] (ties: first). Robustness: for every other model r, the map made with r as reference is
 * compared with the main map by scipy.spatial.procrustes disparity, and per model the argsort (stable) of its
 * non-Base tasks' trajectory lengths is compared with the main map's.
 */
import { performance } from 'node:perf_hooks';
import { UserError } from '../errors';
import { gemm, gramOf } from '../kernels/gemm';
import { classicalMds, kruskalStress, smacofMds } from './mds';
import { mapDisparity, modelDisplacement, TaskDisplacement } from './metrics';
import { pcaModel } from './pca';
import { acquire, release, trimScratch } from '../kernels/scratch';
import { releaseKernels } from '../kernels/wasm';
import { normalisedDistance, pairIndex, procrustesPair, rotationOnto, sumOfSquares } from './procrustes';
import {
  AnalysisOptions,
  AnalysisResult,
  BASE_TASK,
  DisplacementRow,
  EmbeddingBundle,
  MdsMethod,
  PointsMode,
  RobustnessRow,
  TopMover,
} from '../types';

export const DEFAULT_K = 200;

export interface ResolvedOptions {
  /** Effective k = min(requested, N*T - 1, min d). */
  k: number;
  points: PointsMode;
  mds: MdsMethod;
  seed: number;
  reference?: string;
  /** Whether the neighbour overlaps (and relative movements) are computed. */
  neighbourOverlap: boolean;
}

/**
 * Checks the bundle's shape and the options; throws UserError. Cheap: the values themselves (NaN/Inf) are checked per
 * model by analyseModel, in the workers, overlapped with the other models' work.
 */
export function resolveOptions(bundle: EmbeddingBundle, options: AnalysisOptions = {}): ResolvedOptions {
  const { models, tasks, n, dims, embeddings } = bundle;
  if (models.length === 0) throw new UserError('the bundle has no models', 'bundle');
  if (tasks[0] !== BASE_TASK) throw new UserError(`the first task must be "${BASE_TASK}"`, 'bundle.tasks');
  if (new Set(tasks).size !== tasks.length) throw new UserError('task names repeat', 'bundle.tasks');
  if (new Set(models).size !== models.length) throw new UserError('model names repeat', 'bundle.models');
  if (!Number.isInteger(n) || n < 3) throw new UserError(`need at least 3 queries, got ${n}`, 'bundle.n');
  if (dims.length !== models.length || embeddings.length !== models.length)
    throw new UserError('dims and embeddings must have one entry per model', 'bundle');
  models.forEach((model, m) => {
    if (!Number.isInteger(dims[m]) || dims[m] < 1) throw new UserError(`bad dimension ${dims[m]}`, `bundle.dims[${m}]`);
    if (embeddings[m].length !== tasks.length)
      throw new UserError(`${embeddings[m].length} task matrices for ${tasks.length} tasks`, model);
    embeddings[m].forEach((mat, t) => {
      const where = `${model}/${tasks[t]}`;
      if (mat.length !== n * dims[m]) throw new UserError(`expected ${n} x ${dims[m]} numbers, got ${mat.length}`, where);
    });
  });
  const requested = options.k ?? DEFAULT_K;
  if (!Number.isInteger(requested) || requested < 1) throw new UserError(`k must be a positive integer, got ${requested}`, 'k');
  const points = options.points ?? 'flatten';
  if (points !== 'flatten' && points !== 'centroid') throw new UserError(`unknown points mode "${points}"`, 'points');
  const mds = options.mds ?? 'classical';
  if (mds !== 'classical' && mds !== 'smacof') throw new UserError(`unknown MDS method "${mds}"`, 'mds');
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new UserError(`seed must be an integer, got ${seed}`, 'seed');
  if (options.reference !== undefined && !models.includes(options.reference))
    throw new UserError(`unknown reference model "${options.reference}" (models: ${models.join(', ')})`, 'reference');
  const neighbourOverlap = options.neighbourOverlap ?? true;
  if (typeof neighbourOverlap !== 'boolean') throw new UserError('neighbourOverlap must be true or false', 'neighbourOverlap');
  const k = Math.min(requested, n * tasks.length - 1, Math.min(...dims));
  return { k, points, mds, seed, reference: options.reference, neighbourOverlap };
}

export interface ModelStage {
  /** N*T x k PCA scores (task-major rows). */
  scores: Float64Array;
  explainedVarianceRatio: Float64Array;
  displacement: TaskDisplacement[];
  /** Seconds this model's stage A took on its thread: PCA, displacement (neighbour searches included), neighbours. */
  seconds: ModelSeconds;
}

export interface ModelSeconds {
  pca: number;
  displacement: number;
  /** The neighbour searches and the numbers that need them, part of `displacement`. */
  neighbours: number;
}

/** Stage A for model m; first a UserError if one of its values is NaN or infinite. */
export async function analyseModel(bundle: EmbeddingBundle, m: number, k: number, neighbours = true): Promise<ModelStage> {
  const mats = bundle.embeddings[m];
  mats.forEach((mat, t) => {
    for (let x = 0; x < mat.length; x++)
      if (!Number.isFinite(mat[x]))
        throw new UserError(`non-finite value in row ${Math.floor(x / bundle.dims[m])}`, `${bundle.models[m]}/${bundle.tasks[t]}`);
  });
  const started = performance.now();
  const { scores, explainedVarianceRatio } = await pcaModel(mats, bundle.n, bundle.dims[m], k);
  const pcaDone = performance.now();
  const time = { seconds: 0 };
  const displacement = await modelDisplacement(mats, bundle.n, bundle.dims[m], bundle.models[m], bundle.tasks, neighbours, time);
  const seconds = { pca: (pcaDone - started) / 1000, displacement: (performance.now() - pcaDone) / 1000, neighbours: time.seconds };
  return { scores, explainedVarianceRatio, displacement, seconds };
}

export interface MapStage {
  /** P x 2 row-major map coordinates, P = M*T. */
  coords: Float64Array;
  /** P x P cosine distances. */
  cosine: Float64Array;
  stress: number;
}

export interface MapInputs {
  /** Per model, its N*T x k scores. */
  scores: readonly Float64Array[];
  /** Q for every unordered pair i < j (pairIndex order), k x k. */
  pairRotations: readonly Float64Array[];
  n: number;
  tasks: number;
  k: number;
  points: PointsMode;
  mds: MdsMethod;
  seed: number;
}

/**
 * Stage C: points aligned onto reference `ref`, their cosine distances and the 2-D map. The products (S Q per model,
 * the Gram of the points) run on onnxruntime's Gemm.
 */
export async function mapForReference(input: MapInputs, ref: number): Promise<MapStage> {
  const { scores, pairRotations, n, tasks, k } = input;
  const models = scores.length;
  const p = models * tasks;
  const len = input.points === 'flatten' ? n * k : k;
  const pts = acquire(p * len);
  for (let m = 0; m < models; m++) {
    const rotation = rotationOnto(pairRotations, m, ref, models);
    const s = scores[m];
    const align = async (x: Float64Array, rows: number, offset: number): Promise<void> => {
      const out = pts.subarray(offset, offset + rows * k);
      if (rotation) await gemm(x, rotation.q, rows, k, k, { transB: rotation.transposed, out });
      else out.set(x);
    };
    if (input.points === 'flatten') {
      await align(s, n * tasks, m * tasks * n * k);
    } else {
      const means = new Float64Array(tasks * k);
      for (let t = 0; t < tasks; t++) {
        for (let i = 0; i < n; i++) {
          const o = (t * n + i) * k;
          for (let c = 0; c < k; c++) means[t * k + c] += s[o + c];
        }
        for (let c = 0; c < k; c++) means[t * k + c] /= n;
      }
      await align(means, tasks, m * tasks * k);
    }
  }
  const g = await gramOf(pts, p, len);
  release(pts);
  const norms = new Float64Array(p);
  for (let a = 0; a < p; a++) {
    norms[a] = Math.sqrt(g[a * p + a]);
    if (!(norms[a] > 0)) {
      throw new UserError(
        `the aligned point of model #${Math.floor(a / tasks) + 1}, task #${(a % tasks) + 1} is zero: ` +
          'its embeddings do not vary',
        'bundle',
      );
    }
  }
  const cosine = new Float64Array(p * p);
  for (let a = 0; a < p; a++)
    for (let b = 0; b < a; b++) {
      const v = 1 - g[a * p + b] / (norms[a] * norms[b]);
      cosine[a * p + b] = v;
      cosine[b * p + a] = v;
    }
  const coords = input.mds === 'classical' ? classicalMds(cosine, p) : smacofMds(cosine, p, input.seed);
  return { coords, cosine, stress: kruskalStress(coords, cosine, p) };
}

/** Stage B result assembled: D (M x M row-major) and the reference index. */
export function distancesAndReference(
  models: readonly string[],
  baseNormSq: readonly number[],
  sigmaSums: readonly number[],
  reference: string | undefined,
): { distance: Float64Array; ref: number } {
  const mCount = models.length;
  const distance = new Float64Array(mCount * mCount);
  for (let i = 0; i < mCount; i++)
    for (let j = i + 1; j < mCount; j++) {
      const sigma = sigmaSums[pairIndex(i, j, mCount)];
      distance[i * mCount + j] = normalisedDistance(baseNormSq[i], baseNormSq[j], sigma);
      distance[j * mCount + i] = normalisedDistance(baseNormSq[j], baseNormSq[i], sigma);
    }
  let ref = 0;
  if (reference !== undefined) ref = models.indexOf(reference);
  else if (mCount > 1) {
    let best = Infinity;
    for (let j = 0; j < mCount; j++) {
      let s = 0;
      for (let i = 0; i < mCount; i++) if (i !== j) s += distance[i * mCount + j];
      const mean = s / (mCount - 1);
      if (mean < best) {
        best = mean;
        ref = j;
      }
    }
  }
  return { distance, ref };
}

/** Squared Frobenius norm of a model's Base scores (the first N rows). */
export function baseNormSquared(scores: Float64Array, n: number, k: number): number {
  const s = sumOfSquares(scores, 0, n * k);
  if (!(s > 0)) throw new UserError('the Base embeddings of a model do not vary (all PCA scores are zero)', 'bundle');
  return s;
}

/** The order of references for stage C: main reference first, then every other model in models order. */
export function referenceOrder(models: number, ref: number): number[] {
  return [ref, ...Array.from({ length: models }, (_, i) => i).filter((i) => i !== ref)];
}

/** Final assembly from the stage results; `maps` is in referenceOrder. */
export function assembleResult(
  bundle: EmbeddingBundle,
  opts: ResolvedOptions,
  stages: readonly ModelStage[],
  distance: Float64Array,
  ref: number,
  maps: readonly MapStage[],
): AnalysisResult {
  const { models, tasks, n } = bundle;
  const mCount = models.length;
  const tCount = tasks.length;
  const p = mCount * tCount;
  const main = maps[0];
  const points = [];
  for (let m = 0; m < mCount; m++)
    for (let t = 0; t < tCount; t++) {
      const a = m * tCount + t;
      points.push({ model: models[m], task: tasks[t], x: main.coords[2 * a], y: main.coords[2 * a + 1] });
    }
  const displacement: DisplacementRow[] = [];
  const topMovers: TopMover[] = [];
  for (let m = 0; m < mCount; m++) {
    const lengths = trajectoryLengths(main.coords, m, tCount);
    stages[m].displacement.forEach((row, x) => {
      const task = tasks[x + 1];
      displacement.push({
        model: models[m],
        task,
        meanCosineDistance: row.meanCosineDistance,
        medianCosineDistance: row.medianCosineDistance,
        p90CosineDistance: row.p90CosineDistance,
        trajectoryLength: lengths[x],
        shiftFraction: row.shiftFraction,
        neighbourOverlap: row.neighbourOverlap,
      });
      for (const mover of row.movers) {
        topMovers.push({
          model: models[m],
          task,
          index: mover.index,
          ...(bundle.queries ? { query: bundle.queries[mover.index] } : {}),
          cosineDistance: mover.cosineDistance,
          relativeMovement: mover.relativeMovement,
          neighbourOverlap: mover.neighbourOverlap,
        });
      }
    });
  }
  const order = referenceOrder(mCount, ref);
  const robustness: RobustnessRow[] = [];
  for (let x = 1; x < order.length; x++) {
    const other = maps[x];
    const taskOrderPreserved: Record<string, boolean> = {};
    for (let m = 0; m < mCount; m++) {
      const a = taskOrder(trajectoryLengths(main.coords, m, tCount));
      const b = taskOrder(trajectoryLengths(other.coords, m, tCount));
      taskOrderPreserved[models[m]] = a.every((v, i) => v === b[i]);
    }
    robustness.push({ reference: models[order[x]], disparity: mapDisparity(main.coords, other.coords, p), taskOrderPreserved });
  }
  const explainedVarianceRatio: Record<string, number[]> = {};
  models.forEach((model, m) => (explainedVarianceRatio[model] = Array.from(stages[m].explainedVarianceRatio)));
  return {
    models: [...models],
    tasks: [...tasks],
    n,
    dims: [...bundle.dims],
    k: opts.k,
    reference: models[ref],
    referenceChosenBy: opts.reference === undefined ? 'auto' : 'user',
    pointsMode: opts.points,
    mdsMethod: opts.mds,
    mdsStress: main.stress,
    procrustesDistance: rows(distance, mCount),
    cosineDistance: rows(main.cosine, p),
    points,
    displacement,
    explainedVarianceRatio,
    robustness,
    topMovers,
    warnings: analysisWarnings(opts.k, n, opts.neighbourOverlap),
    ...(bundle.queries ? { queries: [...bundle.queries] } : {}),
    ...(bundle.instructions ? { instructions: { ...bundle.instructions } } : {}),
  };
}

/**
 * Caveats of the result. k > N: the Base scores have rank <= N < k, so S_i^T S_j is rank-deficient and Q_ij is not
 * determined outside the span of the Base embeddings (the SVD completes it arbitrarily, though deterministically).
 * Neighbour overlap off: which numbers are null.
 */
export function analysisWarnings(k: number, n: number, neighbourOverlap = true): string[] {
  const warnings: string[] = [];
  if (k > n)
    warnings.push(
      `k = ${k} exceeds the number of queries (${n}): the alignment outside the span of the Base embeddings is not ` +
        `determined by the data, so the map may change with --k; use --k ${n} or more queries (at least ${k}) for a unique map`,
    );
  if (!neighbourOverlap)
    warnings.push(
      'neighbour overlap was not computed (turned off): neighbourOverlap and relativeMovement are null, and the top ' +
        'movers are the queries of largest cosine distance',
    );
  return warnings;
}

function trajectoryLengths(coords: Float64Array, m: number, tasks: number): number[] {
  const b = m * tasks;
  const out: number[] = [];
  for (let t = 1; t < tasks; t++) {
    const dx = coords[2 * (b + t)] - coords[2 * b];
    const dy = coords[2 * (b + t) + 1] - coords[2 * b + 1];
    out.push(Math.sqrt(dx * dx + dy * dy));
  }
  return out;
}

function taskOrder(lengths: number[]): number[] {
  return lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
}

function rows(a: Float64Array, size: number): number[][] {
  return Array.from({ length: size }, (_, i) => Array.from(a.subarray(i * size, (i + 1) * size)));
}

/** The whole analysis on this thread; the products run one after another on onnxruntime's single-threaded Gemm. */
export async function analyze(bundle: EmbeddingBundle, options?: AnalysisOptions): Promise<AnalysisResult> {
  try {
    return await analyzeStages(bundle, options);
  } finally {
    trimScratch();
    releaseKernels();
  }
}

async function analyzeStages(bundle: EmbeddingBundle, options?: AnalysisOptions): Promise<AnalysisResult> {
  const opts = resolveOptions(bundle, options);
  const mCount = bundle.models.length;
  const stages: ModelStage[] = [];
  for (let m = 0; m < mCount; m++) stages.push(await analyseModel(bundle, m, opts.k, opts.neighbourOverlap));
  const baseNorms = stages.map((s) => baseNormSquared(s.scores, bundle.n, opts.k));
  const pairRotations: Float64Array[] = [];
  const sigmaSums: number[] = [];
  const base = (m: number): Float64Array => baseScores(stages[m].scores, bundle.n, opts.k);
  for (let i = 0; i < mCount; i++)
    for (let j = i + 1; j < mCount; j++) {
      const pair = await procrustesPair(base(i), base(j), bundle.n, opts.k);
      pairRotations.push(pair.q);
      sigmaSums.push(pair.sigmaSum);
    }
  const { distance, ref } = distancesAndReference(bundle.models, baseNorms, sigmaSums, opts.reference);
  const input: MapInputs = {
    scores: stages.map((s) => s.scores),
    pairRotations,
    n: bundle.n,
    tasks: bundle.tasks.length,
    k: opts.k,
    points: opts.points,
    mds: opts.mds,
    seed: opts.seed,
  };
  const maps: MapStage[] = [];
  for (const r of referenceOrder(mCount, ref)) maps.push(await mapForReference(input, r));
  return assembleResult(bundle, opts, stages, distance, ref, maps);
}

/** The Base rows (the first N) of a model's scores, as a view. */
export function baseScores(scores: Float64Array, n: number, k: number): Float64Array {
  return scores.subarray(0, n * k);
}
