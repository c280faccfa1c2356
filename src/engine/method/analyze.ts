/**
 * The analysis of METHOD.md on an embedding bundle, on the calling thread (see runAnalysis.ts for the worker-thread
 * version, which calls the same stage functions in the same order and so gives bit-identical results). The heavy
 * products run on onnxruntime's single-threaded Gemm (gemm.ts), hence async; large temporaries come from scratch.ts.
 * A map per reference costs one S Q product per model and one Gram of the points, all on Gemm (in blocks of queries
 * where the points are large: mapPoints.ts).
 *
 * Stages: (0) prepareAnalysis: the bundle is checked, failed and degenerate models are left out (screen.ts) and the
 * options resolved on what is left; (A) per model: PCA (pca.ts) and displacement numbers (metrics.ts); (B) per
 * unordered model pair: Procrustes (procrustes.ts); then the D matrix and the reference; (C) per reference (main first,
 * then every other model in models order for the robustness check): alignment A[m][t] = S[m][t] Q_{m,ref}, points,
 * cosine distances, 2-D map (mds.ts); finally assembly of the AnalysisResult, with the bootstrap intervals of the mean
 * displacement and the task-order stability (displacementIntervals.ts) and the warnings (messages.ts).
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
import { recordOf } from '../records';
import { firstNonFinite } from '../kernels/finite';
import { type EngineMessage, messageText } from '../messages';
import { type DisplacementUncertainty, displacementUncertainty, type UncertaintyInput } from './displacementIntervals';
import { queryExample, type Screened, screenBundle } from './screen';
import { type ClassicalFit, classicalMdsFit, kruskalStress, smacofMds } from './mds';
import { buildFrame, type MapFrame } from './frame';
import { matrixDigest } from './frameDigest';
import { type AlignedInputs, alignedCosine } from './mapPoints';
import { mapDisparity, modelDisplacement, TaskDisplacement } from './metrics';
import { pcaModel } from './pca';
import { trimScratch } from '../kernels/scratch';
import { releaseKernels } from '../kernels/wasm';
import { normalisedDistance, pairIndex, procrustesPair, sumOfSquares } from './procrustes';
import { evaluateBundle, withEvaluation } from './evaluationStage';
import {
  AnalysisCore,
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
import { chooseK } from './kChoice';

/** The paper's k: the default asks for min(DEFAULT_K, N), see requestedK. */
export const DEFAULT_K = 200;
/** Two models whose Procrustes distance is below this both ways are one model under two names. */
export const SAME_MODEL_DISTANCE = 1e-9;

export interface ResolvedOptions {
  /** Effective k = min(requested, N*T - 1, min d); unrequested: min(DEFAULT_K, N, N*T - 1, min d). */
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
  if (!Number.isInteger(n) || n < 3) throw UserError.of({ code: 'tooFewQueries', params: { n } }, 'bundle.n');
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
  const requested = requestedK(options.k, n);
  if (!Number.isInteger(requested) || requested < 1) throw UserError.of({ code: 'kInvalid', params: { k: requested } }, 'k');
  const points = options.points ?? 'flatten';
  if (points !== 'flatten' && points !== 'centroid') throw new UserError(`unknown points mode "${points}"`, 'points');
  const mds = options.mds ?? 'classical';
  if (mds !== 'classical' && mds !== 'smacof') throw new UserError(`unknown MDS method "${mds}"`, 'mds');
  const seed = options.seed ?? 0;
  // Non-negative: the bootstrap's SplitMix64 stream is seeded with it.
  if (!Number.isSafeInteger(seed) || seed < 0) throw UserError.of({ code: 'seedInvalid', params: { seed } }, 'seed');
  if (options.reference !== undefined && !models.includes(options.reference))
    throw UserError.of({ code: 'unknownReference', params: { reference: options.reference, models: [...models] } }, 'reference');
  const neighbourOverlap = options.neighbourOverlap ?? true;
  if (typeof neighbourOverlap !== 'boolean') throw new UserError('neighbourOverlap must be true or false', 'neighbourOverlap');
  const { k } = chooseK(requested, n, tasks.length, models, dims);
  return { k, points, mds, seed, reference: options.reference, neighbourOverlap };
}

/** The k asked for: the user's, else DEFAULT_K capped at N, so that the Base alignment is determined (METHOD.md step 2). */
export function requestedK(k: number | undefined, n: number): number {
  return k ?? Math.min(DEFAULT_K, n);
}

/** What the stages analyse: the screened bundle (models left out removed) and its resolved options. */
export interface PreparedAnalysis {
  bundle: EmbeddingBundle;
  opts: ResolvedOptions;
  screened: Screened;
}

/**
 * Checks the whole bundle and the options (resolveOptions), leaves out failed and degenerate models (screen.ts), and
 * resolves the options again on what is left (k depends on the models' dimensions). Throws UserError when no model is
 * left. A reference that was left out falls back to the automatic choice, with a warning.
 */
export function prepareAnalysis(bundle: EmbeddingBundle, options: AnalysisOptions = {}): PreparedAnalysis {
  if (bundle.models.length === 0 && (bundle.failedModels?.length ?? 0) > 0) throw noModelLeft(bundle.failedModels!);
  resolveOptions(bundle, { ...options, reference: undefined });
  const screened = screenBundle(bundle);
  if (screened.bundle.models.length === 0) throw noModelLeft(screened.failures);
  let kept = options;
  if (options.reference !== undefined && screened.failures.some((failure) => failure.model === options.reference)) {
    kept = { ...options, reference: undefined };
    screened.warnings.push({ code: 'referenceLeftOut', params: { model: options.reference } });
  }
  return { bundle: screened.bundle, opts: resolveOptions(screened.bundle, kept), screened };
}

function noModelLeft(failures: readonly { model: string; error: string }[]): UserError {
  return UserError.of({ code: 'noModelLeft', params: { errors: failures.map((f) => `${f.model}: ${f.error}`) } });
}

export interface ModelStage {
  /** N*T x k PCA scores (task-major rows). */
  scores: Float64Array;
  explainedVarianceRatio: Float64Array;
  displacement: TaskDisplacement[];
  /** With a frame only (frame.ts): the PCA's mean and basis, and a digest of each task's matrix. */
  frame?: ModelFrameStage;
  /** Seconds this model's stage A took on its thread: PCA, displacement (neighbour searches included), neighbours. */
  seconds: ModelSeconds;
}

export interface ModelFrameStage {
  mean: Float64Array;
  basis: Float64Array;
  taskDigests: string[];
}

export interface ModelSeconds {
  pca: number;
  displacement: number;
  /** The neighbour searches and the numbers that need them, part of `displacement`. */
  neighbours: number;
}

/** Stage A's PCA half for one model (pcaModel), with the seconds it took; the mean and basis with a frame. */
export interface ModelPcaStage {
  scores: Float64Array;
  explainedVarianceRatio: Float64Array;
  mean?: Float64Array;
  basis?: Float64Array;
  seconds: number;
}

/** Stage A's displacement half for one model, with its seconds; the tasks' matrix digests with a frame. */
export interface ModelDisplacementStage {
  displacement: TaskDisplacement[];
  seconds: { displacement: number; neighbours: number };
  taskDigests?: string[];
}

/**
 * Stage A for model m: its PCA half and its displacement half, which need only the model's own matrices, so that the
 * workers run them as separate jobs (a large model's two halves on both threads at once). Each half first raises a
 * UserError if one of the model's values is NaN or infinite (checked on the model's thread, rather than over the
 * whole bundle before any worker starts; by both halves, so that the message is the same whichever ends first).
 * `withFrame` also keeps what the frame of a live preview needs (frame.ts).
 */
export async function analyseModel(
  bundle: EmbeddingBundle,
  m: number,
  k: number,
  neighbours = true,
  withFrame = false,
): Promise<ModelStage> {
  return combineModelStage(await modelPcaStage(bundle, m, k, withFrame), await modelDisplacementStage(bundle, m, neighbours, withFrame));
}

export async function modelPcaStage(bundle: EmbeddingBundle, m: number, k: number, withFrame: boolean): Promise<ModelPcaStage> {
  checkFinite(bundle, m);
  const started = performance.now();
  const pca = await pcaModel(bundle.embeddings[m], bundle.n, bundle.dims[m], k, withFrame);
  return { ...pca, seconds: (performance.now() - started) / 1000 };
}

export async function modelDisplacementStage(
  bundle: EmbeddingBundle,
  m: number,
  neighbours: boolean,
  withFrame: boolean,
): Promise<ModelDisplacementStage> {
  checkFinite(bundle, m);
  const mats = bundle.embeddings[m];
  const started = performance.now();
  const time = { seconds: 0 };
  const displacement = await modelDisplacement(mats, bundle.n, bundle.dims[m], bundle.models[m], bundle.tasks, neighbours, time);
  const seconds = { displacement: (performance.now() - started) / 1000, neighbours: time.seconds };
  return withFrame ? { displacement, seconds, taskDigests: mats.map(matrixDigest) } : { displacement, seconds };
}

/** The two halves of a model's stage A as one ModelStage (with its frame part when both halves kept theirs). */
export function combineModelStage(pca: ModelPcaStage, moved: ModelDisplacementStage): ModelStage {
  const { scores, explainedVarianceRatio, mean, basis } = pca;
  const seconds = { pca: pca.seconds, ...moved.seconds };
  const stage: ModelStage = { scores, explainedVarianceRatio, displacement: moved.displacement, seconds };
  if (mean && basis && moved.taskDigests) stage.frame = { mean, basis, taskDigests: moved.taskDigests };
  return stage;
}

/** A UserError naming the model, task and query of the first NaN or infinite value of model m, if there is one. */
function checkFinite(bundle: EmbeddingBundle, m: number): void {
  bundle.embeddings[m].forEach((mat, t) => {
    const x = firstNonFinite(mat);
    if (x >= 0)
      throw UserError.of({
        code: 'nonFinite',
        params: { model: bundle.models[m], task: bundle.tasks[t], line: queryExample(bundle, Math.floor(x / bundle.dims[m])).line },
      });
  });
}

export interface MapStage {
  /** P x 2 row-major map coordinates, P = M*T. */
  coords: Float64Array;
  /** P x P cosine distances. */
  cosine: Float64Array;
  stress: number;
  /** With a frame only: the P aligned points (P x len) and, for classical maps, what out-of-sample MDS needs. */
  frame?: { points: Float64Array; classical?: ClassicalFit };
}

export interface MapInputs extends AlignedInputs {
  mds: MdsMethod;
  seed: number;
}

/** Stage C: the cosine distances of the points aligned onto reference `ref` (mapPoints.ts) and the 2-D map. */
export async function mapForReference(input: MapInputs, ref: number, withFrame = false): Promise<MapStage> {
  const { cosine, points } = await alignedCosine(input, ref, withFrame);
  const p = input.scores.length * input.tasks;
  const fit = input.mds === 'classical' ? classicalMdsFit(cosine, p) : undefined;
  const coords = fit ? fit.coords : smacofMds(cosine, p, input.seed);
  const stage: MapStage = { coords, cosine, stress: kruskalStress(coords, cosine, p) };
  if (points) stage.frame = fit ? { points, classical: fit } : { points };
  return stage;
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

/** Final assembly from the stage results; `maps` is in referenceOrder (the main map alone for a preview). */
export function assembleResult(
  prepared: PreparedAnalysis,
  stages: readonly ModelStage[],
  distance: Float64Array,
  ref: number,
  maps: readonly MapStage[],
  uncertainty: DisplacementUncertainty,
): AnalysisCore {
  const { bundle, opts } = prepared;
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
        meanCosineDistanceCiLow: uncertainty.intervals[m][x].low,
        meanCosineDistanceCiHigh: uncertainty.intervals[m][x].high,
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
  // A preview (preview.ts) passes the main map only: no robustness rows.
  for (let x = 1; x < Math.min(order.length, maps.length); x++) {
    const other = maps[x];
    const taskOrderPreserved = recordOf(
      models.map((model, m) => {
        const a = taskOrder(trajectoryLengths(main.coords, m, tCount));
        const b = taskOrder(trajectoryLengths(other.coords, m, tCount));
        return [model, a.every((v, i) => v === b[i])] as const;
      }),
    );
    robustness.push({ reference: models[order[x]], disparity: mapDisparity(main.coords, other.coords, p), taskOrderPreserved });
  }
  const explainedVarianceRatio = recordOf(models.map((model, m) => [model, Array.from(stages[m].explainedVarianceRatio)] as const));
  const warningDetails = [...prepared.screened.warnings, ...sameModelWarnings(models, distance), ...analysisWarnings(opts.k, n, opts.neighbourOverlap)];
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
    warnings: warningDetails.map((warning) => messageText(warning)),
    warningDetails,
    failedModels: prepared.screened.failures.map((failure) => ({ ...failure })),
    taskOrderStability: uncertainty.taskOrderStability,
    ...(bundle.queries ? { queries: [...bundle.queries] } : {}),
    ...(bundle.instructions ? { instructions: recordOf(bundle.instructions) } : {}),
  };
}

/**
 * The caveats of the options. k > N (only when the user asked for it: the default is at most N): the Base scores have
 * rank <= N < k, so S_i^T S_j is rank-deficient and Q_ij is not determined outside the span of the Base embeddings (the
 * SVD completes it arbitrarily, though deterministically). Neighbour overlap off: which numbers are null.
 */
export function analysisWarnings(k: number, n: number, neighbourOverlap: boolean): EngineMessage[] {
  const warnings: EngineMessage[] = [];
  if (k > n) warnings.push({ code: 'kAboveQueries', params: { k, n } });
  if (!neighbourOverlap) warnings.push({ code: 'neighbourOverlapOff', params: {} });
  return warnings;
}

/** Pairs of models with D below SAME_MODEL_DISTANCE both ways (models order). */
export function sameModelWarnings(models: readonly string[], distance: Float64Array): EngineMessage[] {
  const m = models.length;
  const warnings: EngineMessage[] = [];
  for (let i = 0; i < m; i++)
    for (let j = i + 1; j < m; j++)
      if (distance[i * m + j] < SAME_MODEL_DISTANCE && distance[j * m + i] < SAME_MODEL_DISTANCE)
        warnings.push({ code: 'sameModel', params: { first: models[i], second: models[j] } });
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
  return (await analyzeOnThread(bundle, options, false)).result;
}

/** analyze() plus the frame of its map (frame.ts), for live previews and `--save-frame`. Same result. */
export async function analyzeWithFrame(bundle: EmbeddingBundle, options?: AnalysisOptions): Promise<{ result: AnalysisResult; frame: MapFrame }> {
  const { result, frame } = await analyzeOnThread(bundle, options, true);
  if (!frame) throw new Error('analyzeWithFrame: no frame');
  return { result, frame };
}

async function analyzeOnThread(
  bundle: EmbeddingBundle,
  options: AnalysisOptions | undefined,
  withFrame: boolean,
): Promise<{ result: AnalysisResult; frame?: MapFrame }> {
  try {
    return await analyzeStages(bundle, options, withFrame);
  } finally {
    trimScratch();
    releaseKernels();
  }
}

async function analyzeStages(
  input: EmbeddingBundle,
  options: AnalysisOptions | undefined,
  withFrame: boolean,
): Promise<{ result: AnalysisResult; frame?: MapFrame }> {
  const prepared = prepareAnalysis(input, options);
  const { bundle, opts } = prepared;
  const mCount = bundle.models.length;
  const stages: ModelStage[] = [];
  for (let m = 0; m < mCount; m++) stages.push(await analyseModel(bundle, m, opts.k, opts.neighbourOverlap, withFrame));
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
  const mapInput: MapInputs = {
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
  for (const r of referenceOrder(mCount, ref)) maps.push(await mapForReference(mapInput, r, withFrame && r === ref));
  const core = assembleResult(prepared, stages, distance, ref, maps, displacementUncertainty(uncertaintyInput(prepared, stages)));
  const result = withEvaluation(core, await evaluateBundle(bundle, opts.seed, core.displacement, options?.evaluationMemo));
  if (!withFrame) return { result };
  return { result, frame: buildFrame(bundle, opts, stages, pairRotations, distance, ref, maps[0]) };
}

/** What the bootstrap of the mean displacement needs from stage A: per model and task, the per-query distances. */
export function uncertaintyInput(prepared: PreparedAnalysis, stages: readonly ModelStage[]): UncertaintyInput {
  const { models, tasks, n } = prepared.bundle;
  return {
    models,
    tasks,
    cosineDistances: stages.map((stage) => stage.displacement.map((row) => row.cosineDistances)),
    means: stages.map((stage) => stage.displacement.map((row) => row.meanCosineDistance)),
    n,
    seed: prepared.opts.seed,
  };
}

/** The Base rows (the first N) of a model's scores, as a view. */
export function baseScores(scores: Float64Array, n: number, k: number): Float64Array {
  return scores.subarray(0, n * k);
}
