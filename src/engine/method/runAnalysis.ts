/**
 * analyze() off the caller's thread: prepareAnalysis (checks, the degenerate-embedding screen) and the final assembly
 * (bootstrap intervals included) run on this thread as in analyze(); the stage functions (analyze.ts) run in up to two
 * worker threads (dist/analysisWorker.js). Stage A (per-model PCA and displacement) and stage B (per-pair Procrustes) and stage C
 * (one map per reference) are each spread over the workers; each stage function gets the same inputs as in analyze(),
 * so the result is bit-identical to analyze(bundle, options).
 *
 * Data movement: the workers read each model's matrices in shared memory, in place when the bundle is there already
 * (readBundle, embedAll), otherwise from a copy (sharedCopy) dropped when the model's job ends;
 * the workers put scores and rotations into SharedArrayBuffers they allocate (so that this thread, possibly the
 * extension host's, never touches their fresh pages) and that stages B and C then read in place;
 * map coordinates and the main cosine matrix are transferred back.
 */
import { Worker } from 'node:worker_threads';
import {
  assembleResult,
  baseNormSquared,
  baseScores,
  distancesAndReference,
  combineModelStage,
  MapInputs,
  MapStage,
  ModelDisplacementStage,
  ModelPcaStage,
  ModelStage,
  prepareAnalysis,
  referenceOrder,
  requestedK,
  uncertaintyInput,
} from './analyze';
import type { DisplacementUncertainty, UncertaintyInput } from './displacementIntervals';
import { CancelledError, UserError } from '../errors';
import type { CellScore, EvaluationJob } from '../evaluation/cells';
import { evaluateBundle, withEvaluation } from './evaluationStage';
import { buildFrame, type MapFrame } from './frame';
import type { TaskDisplacement } from './metrics';
import { distPath } from '../io/paths';
import { isShared, sharedFloat64 } from '../kernels/shared';
import type { ReadModel } from '../io/bundle';
import { chooseK } from './kChoice';
import { AnalysisCore, AnalysisOptions, AnalysisResult, EmbeddingBundle, EmbeddingMatrix } from '../types';

export const MAX_WORKERS = 2;

/**
 * Procrustes pairs per worker job: one 200 x 200 pair takes about 10 ms and a job's round trip about 0.6 ms (0.7 s of
 * idle workers over the 1,225 pairs of 50 models); four to a job keep that small and the last job short. Below 16
 * pairs, one pair to a job, so that both workers get some (the 3 pairs of 3 models went to one worker as one job).
 */
const PAIRS_PER_JOB = 4;

function pairsPerJob(pairs: number): number {
  return pairs < 4 * PAIRS_PER_JOB ? 1 : PAIRS_PER_JOB;
}

export type WorkerRequest =
  | { id: number; type: 'pca'; bundle: EmbeddingBundle; k: number; withFrame: boolean }
  | { id: number; type: 'displacement'; bundle: EmbeddingBundle; neighbours: boolean; withFrame: boolean }
  | { id: number; type: 'pairs'; pairs: { source: Float64Array; target: Float64Array }[]; n: number; k: number }
  | { id: number; type: 'map'; input: MapInputs; ref: number; wantCosine: boolean; withFrame: boolean }
  | { id: number; type: 'uncertainty'; input: UncertaintyInput }
  | { id: number; type: 'evaluate'; job: EvaluationJob }
  | { id: number; type: 'preview'; frame: MapFrame; bundle: EmbeddingBundle; source: string; neighbours: boolean }
  | { id: number; type: 'warm'; evaluation: boolean };

/** Told to a worker busy warming up when jobs wait for it (no reply). */
export type WorkerHint = { type: 'workWaiting' };

export type WorkerReply =
  | { id: number; type: 'pca'; stage: ModelPcaStage }
  | { id: number; type: 'displacement'; stage: ModelDisplacementStage }
  | { id: number; type: 'pairs'; rotations: Float64Array[]; sigmaSums: number[]; seconds: number }
  | { id: number; type: 'map'; coords: Float64Array; stress: number; cosine?: Float64Array; frame?: MapStage['frame']; seconds: number }
  | { id: number; type: 'uncertainty'; uncertainty: DisplacementUncertainty }
  | { id: number; type: 'evaluate'; cells: CellScore[] }
  | { id: number; type: 'preview'; result: AnalysisCore }
  | { id: number; type: 'warm' }
  | { id: number; type: 'error'; name: string; message: string; stack?: string };

type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

type Job = { request: WorkerRequest; resolve: (r: WorkerReply) => void; reject: (e: Error) => void };

class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<number, { job: Job; worker: Worker }>();
  private nextId = 0;
  private failure: Error | undefined;
  /** Workers told, during their warm-up, that jobs wait. */
  private readonly hinted = new Set<Worker>();
  /** Running jobs that their call gave up (abandon): the replies are dropped, the workers taken back. */
  private readonly abandoned = new Set<number>();
  /** How many times a call gave up its jobs: an early job made before then is no longer one to take. */
  abandonments = 0;

  constructor(size: number) {
    for (let w = 0; w < size; w++) {
      const worker = new Worker(distPath('analysisWorker.js'));
      worker.on('message', (reply: WorkerReply) => this.settle(worker, reply));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (!this.failure) this.fail(new Error(`analysis worker exited with code ${code}`));
      });
      this.all.push(worker);
      this.idle.push(worker);
    }
  }

  run(request: RequestBody): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.queue.push({ request: { ...request, id: this.nextId++ } as WorkerRequest, resolve, reject });
      this.dispatch();
    });
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Whether a worker waits with nothing queued for it. */
  get idleWorker(): boolean {
    return this.idle.length > 0 && this.queue.length === 0;
  }

  /** Holders of the pool: a call using it, its warm-up, each job started early (earlyPca). */
  private holds = 0;

  /**
   * While anything holds the pool, its workers keep the process alive (a process must not exit while a worker is
   * inside onnxruntime: see fail()); a pool that only waits for the next call does not.
   */
  hold(): void {
    if (this.holds++ === 0) for (const worker of this.all) worker.ref();
  }

  release(): void {
    if (--this.holds === 0) for (const worker of this.all) worker.unref();
  }

  /** Stops every worker. */
  close(): void {
    this.fail(new CancelledError());
  }

  /**
   * Ends a call's use of the pool (cancelled, or one of its jobs failed) and keeps the pool: queued and running jobs
   * are rejected with `reason` at once. A busy worker cannot be stopped safely (see fail()), so it finishes its job,
   * whose reply is dropped, and holds the pool until then; the next call's jobs wait for it. Stopping the pool instead
   * started two new workers (onnxruntime and the kernels loaded again) for every live edit that superseded a running
   * one: 128 of them in one 300-edit soak, their start-up on the extension host's thread and 46 MB more RSS at the end.
   */
  abandon(reason: Error): void {
    this.abandonments++;
    for (const job of this.queue) job.reject(reason);
    this.queue.length = 0;
    for (const [id, { job }] of this.running) {
      if (this.abandoned.has(id)) continue;
      job.reject(reason);
      this.abandoned.add(id);
      this.hold();
    }
  }

  /**
   * Rejects running, pending and later jobs with `reason` and stops the workers: idle ones now, busy ones when their
   * current job ends (settle). Terminating a thread while it is inside onnxruntime's native code aborts the whole
   * process (the binding throws a C++ exception as the thread's environment goes away), so a busy worker is left to
   * finish, and keeps the process alive until then.
   */
  fail(reason: Error): void {
    if (this.failure) return;
    this.failure = reason;
    for (const { job, worker } of this.running.values()) {
      job.reject(reason);
      worker.ref();
    }
    for (const job of this.queue) job.reject(reason);
    this.queue.length = 0;
    for (const worker of this.idle) void worker.terminate();
    this.idle.length = 0;
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(job.request.id, { job, worker });
      worker.postMessage(job.request);
    }
    if (this.queue.length === 0) return;
    for (const { job, worker } of this.running.values()) {
      if (job.request.type !== 'warm' || this.hinted.has(worker)) continue;
      this.hinted.add(worker);
      worker.postMessage({ type: 'workWaiting' } satisfies WorkerHint);
    }
  }

  private settle(worker: Worker, reply: WorkerReply): void {
    const entry = this.running.get(reply.id);
    if (!entry) return;
    this.running.delete(reply.id);
    if (this.failure) {
      void worker.terminate(); // its job was rejected by fail()
      return;
    }
    this.idle.push(worker);
    if (this.abandoned.delete(reply.id)) {
      this.release();
      this.dispatch();
      return;
    }
    if (reply.type === 'error') {
      const err = reply.name === 'UserError' ? new UserError(reply.message) : new Error(reply.message);
      if (reply.name !== 'UserError' && reply.stack) err.stack = reply.stack;
      entry.job.reject(err);
    } else entry.job.resolve(reply);
    this.dispatch();
  }
}

/**
 * The pool kept between calls: live mode re-analyses after every pause in typing, and two fresh workers that each
 * load onnxruntime cost more than a small analysis itself. A call borrows it (or starts its own pool when another
 * call has it) and gives it back when it ends, cancelled or failed too (its jobs abandoned); a pool whose worker
 * failed is closed, and so is a second pool given back while one waits.
 */
let sparePool: WorkerPool | undefined;

function borrowPool(): WorkerPool {
  const pool = sparePool && !sparePool.failed ? sparePool : new WorkerPool(MAX_WORKERS);
  sparePool = undefined;
  pool.hold();
  return pool;
}

/**
 * Starts the worker pool ahead of a run: the extension and the CLI call it before embedding, which takes seconds, and
 * meanwhile the workers start and analyse a small bundle each, so that onnxruntime and the kernels are loaded and V8
 * has compiled the engine's loops (a first small analysis took about 1 s instead of 0.2 s without this). Nothing
 * happens when a started pool is waiting already. `evaluation: false` (the caller knows that no task performance will
 * be scored) leaves out the evaluation's part of the warm-up, which would only take CPU from reading a large bundle.
 */
export function prewarmAnalysis(options: { evaluation?: boolean } = {}): void {
  if (sparePool && !sparePool.failed) return;
  const pool = new WorkerPool(MAX_WORKERS);
  const evaluation = options.evaluation ?? true;
  // The warm-up holds the pool until it ends. A failed warm-up leaves a failed pool, which borrowPool replaces.
  pool.hold();
  const warmUps = Array.from({ length: MAX_WORKERS }, () => pool.run({ type: 'warm', evaluation }));
  void Promise.allSettled(warmUps).then(() => pool.release());
  sparePool = pool;
}

function givePoolBack(pool: WorkerPool): void {
  if (sparePool || pool.failed) {
    pool.close();
    return;
  }
  pool.release();
  sparePool = pool;
}

/** A model's PCA job started while its bundle was still being read (earlyPca). */
interface EarlyJob {
  /** The job's request: its one model's matrices are bundle.embeddings[0]. */
  bundle: EmbeddingBundle;
  k: number;
  withFrame: boolean;
  pool: WorkerPool;
  /** The pool's abandonments when the job was made: a call that gave up since then rejected it. */
  abandonments: number;
  reply: Promise<WorkerReply>;
}

/** Early jobs not taken by a run, by their model's first matrix: they go when the bundle goes. */
const earlyJobs = new WeakMap<EmbeddingMatrix, EarlyJob>();

/**
 * readBundle's `onModel` for the CLI's analyze: a model's PCA goes to the warmed spare pool as soon as the model's
 * files are read when a worker waits idle, instead of after the whole bundle (after their warm-up the workers waited
 * 150 ms at paper scale, 600 ms at 50 models); models read while both work are left to runAnalysis's costliest-first
 * order. runAnalysis then uses a job when the analysis asks for the same matrices (screening keeps the arrays), k and frame
 * option; k here is that of the models read so far, so a later model of smaller dimension, or one left out by the
 * screening, leaves a job unused: wasted work, never a different result (the job is the one runAnalysis would run).
 */
export function earlyPca(options: Pick<AnalysisOptions, 'k'>, withFrame: boolean): (model: ReadModel) => void {
  let smallest = Infinity;
  return ({ name, tasks, n, dim, matrices }) => {
    smallest = Math.min(smallest, dim);
    const requested = requestedK(options.k, n);
    const pool = sparePool;
    if (!pool || pool.failed || !pool.idleWorker || !Number.isInteger(requested) || requested < 1 || !matrices.every(isShared)) return;
    const { k } = chooseK(requested, n, tasks.length, [name], [smallest]);
    const bundle: EmbeddingBundle = { models: [name], tasks: [...tasks], n, dims: [dim], embeddings: [[...matrices]] };
    pool.hold();
    const reply = pool.run({ type: 'pca', bundle, k, withFrame });
    reply.then(
      () => pool.release(),
      () => pool.release(),
    );
    earlyJobs.set(matrices[0], { bundle, k, withFrame, pool, abandonments: pool.abandonments, reply });
  };
}

/** Whether an early job for these matrices waits to be used (tests). */
export function hasEarlyPca(matrices: readonly EmbeddingMatrix[]): boolean {
  return matrices.length > 0 && earlyJobs.has(matrices[0]);
}

/** The early job's reply when it is the PCA this pool would run for these matrices; it is taken (used once). */
function takeEarlyPca(pool: WorkerPool, matrices: readonly EmbeddingMatrix[], k: number, withFrame: boolean): Promise<WorkerReply> | undefined {
  const job = matrices.length > 0 ? earlyJobs.get(matrices[0]) : undefined;
  if (!job || job.pool !== pool || job.abandonments !== pool.abandonments || job.k !== k || job.withFrame !== withFrame) return undefined;
  const made = job.bundle.embeddings[0];
  if (made.length !== matrices.length || made.some((mat, t) => mat !== matrices[t])) return undefined;
  earlyJobs.delete(matrices[0]);
  return job.reply;
}

/** Elements copied between two returns to the event loop: 8 MB, a few milliseconds. */
const COPY_SLICE = 1 << 20;

/**
 * `source` itself when it is in shared memory already (readBundle and embedAll put it there), otherwise a copy in
 * shared memory, made a slice at a time with a return to the event loop before each slice:
 * the caller may be the VS Code extension host's thread, and one synchronous copy of a paper-scale bundle (about
 * 260 MB) would stall it for a second or more. The caller's arrays are never detached or changed.
 */
async function sharedCopy(source: Float64Array, signal: AbortSignal | undefined): Promise<Float64Array>;
async function sharedCopy(source: EmbeddingMatrix, signal: AbortSignal | undefined): Promise<EmbeddingMatrix>;
async function sharedCopy(source: EmbeddingMatrix, signal: AbortSignal | undefined): Promise<EmbeddingMatrix> {
  if (isShared(source)) return source;
  const copy = sharedFloat64(source.length);
  for (let start = 0; start < source.length; start += COPY_SLICE) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw new CancelledError();
    copy.set(source.subarray(start, Math.min(start + COPY_SLICE, source.length)), start);
  }
  return copy;
}

/**
 * Stage E on the workers, one job per model (largest first so that the workers finish together). The documents go
 * in shared memory (a copy made a slice at a time unless they are there already), so no worker copies them.
 */
async function evaluationOnWorkers(pool: WorkerPool, jobs: EvaluationJob[], signal: AbortSignal | undefined): Promise<CellScore[][]> {
  const cost = (job: EvaluationJob): number => job.d * (job.corpus?.length ?? job.n);
  const order = jobs.map((_, j) => j).sort((a, b) => cost(jobs[b]) - cost(jobs[a]) || a - b);
  const cells = new Array<CellScore[]>(jobs.length);
  const running: Promise<void>[] = [];
  for (const j of order) {
    const job = jobs[j];
    const corpus = job.corpus && (await sharedCopy(job.corpus, signal));
    const run = pool.run({ type: 'evaluate', job: { ...job, corpus } }).then((reply) => {
      if (reply.type !== 'evaluate') throw new Error('unexpected worker reply');
      cells[j] = reply.cells;
    });
    run.catch(() => undefined); // handled by Promise.all below (see stage A)
    running.push(run);
  }
  await Promise.all(running);
  return cells;
}

/**
 * Relative costs of stage A's jobs, for their order: operations weighted by the speed they run at on this machine
 * (about 30 GFLOP/s on Gemm, 6 for the WebAssembly tridiagonalisation, 1 for the engine's JavaScript loops). Only
 * the order matters.
 */
function pcaCost(rows: number, d: number, k: number): number {
  const size = Math.min(rows, d);
  return (rows * d * size + 2 * rows * d * k) / 30 + (4 / 3) * size ** 3 / 6 + (8 * size * k * k) / 6;
}

function displacementCost(n: number, tasks: number, d: number, neighbours: boolean): number {
  const loops = tasks * n * d * (neighbours ? 16 : 6);
  return loops + (neighbours ? (tasks * n * n * d) / 30 : 0);
}

/**
 * Seconds the workers spent per stage, summed over their jobs (CPU-bound work on two threads: the shares show where
 * the time goes). `neighbours` is the part of `displacement` spent on the neighbour overlap.
 */
export interface StageSeconds {
  pca: number;
  displacement: number;
  neighbours: number;
  procrustes: number;
  maps: number;
}

export async function runAnalysis(
  input: EmbeddingBundle,
  options: AnalysisOptions = {},
  signal?: AbortSignal,
  onStageSeconds?: (seconds: StageSeconds) => void,
): Promise<AnalysisResult> {
  return (await runStages(input, options, signal, false, onStageSeconds)).result;
}

/**
 * runAnalysis plus the frame of its map (frame.ts), bit-identical to analyzeWithFrame. The frame's large arrays
 * (bases, points) are in shared memory, so that runPreview hands them to a worker without a copy.
 */
export async function runAnalysisWithFrame(
  bundle: EmbeddingBundle,
  options: AnalysisOptions = {},
  signal?: AbortSignal,
  onStageSeconds?: (seconds: StageSeconds) => void,
): Promise<{ result: AnalysisResult; frame: MapFrame }> {
  const { result, frame } = await runStages(bundle, options, signal, true, onStageSeconds);
  if (!frame) throw new Error('runAnalysisWithFrame: no frame');
  return { result, frame };
}

/**
 * previewInFrame (preview.ts) in a worker thread, then the task evaluation on the workers (with the options' memo, only
 * the changed tasks are scored again): `source` names the frame in error messages.
 */
export async function runPreview(
  frame: MapFrame,
  bundle: EmbeddingBundle,
  source: string,
  signal?: AbortSignal,
  options: Pick<AnalysisOptions, 'evaluationMemo' | 'neighbourOverlap'> = {},
): Promise<AnalysisResult> {
  if (signal?.aborted) throw new CancelledError();
  const pool = borrowPool();
  let finished = false;
  const onAbort = (): void => pool.abandon(new CancelledError());
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const shared: EmbeddingBundle = { ...bundle, embeddings: [] };
    for (const mats of bundle.embeddings) {
      const copies: EmbeddingMatrix[] = [];
      for (const mat of mats) copies.push(await sharedCopy(mat, signal));
      shared.embeddings.push(copies);
    }
    const reply = await pool.run({ type: 'preview', frame, bundle: shared, source, neighbours: options.neighbourOverlap ?? true });
    if (reply.type !== 'preview') throw new Error('unexpected worker reply');
    const evaluation = await evaluateBundle(shared, frame.seed, reply.result.displacement, options.evaluationMemo, (jobs) =>
      evaluationOnWorkers(pool, jobs, signal),
    );
    if (signal?.aborted) throw new CancelledError();
    finished = true;
    return withEvaluation(reply.result, evaluation);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // A call that did not finish (cancelled, or a job failed) leaves no job of its own queued or running.
    if (!finished) pool.abandon(new CancelledError());
    givePoolBack(pool);
  }
}

async function runStages(
  input: EmbeddingBundle,
  options: AnalysisOptions,
  signal: AbortSignal | undefined,
  withFrame: boolean,
  onStageSeconds?: (seconds: StageSeconds) => void,
): Promise<{ result: AnalysisResult; frame?: MapFrame }> {
  if (signal?.aborted) throw new CancelledError();
  const prepared = prepareAnalysis(input, options);
  const { bundle, opts } = prepared;
  const { models, tasks, n, dims } = bundle;
  const mCount = models.length;
  const k = opts.k;
  const rows = n * tasks.length;
  const pool = borrowPool();
  let finished = false;
  const onAbort = (): void => pool.abandon(new CancelledError());
  const spent: StageSeconds = { pca: 0, displacement: 0, neighbours: 0, procrustes: 0, maps: 0 };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // Stage A: each model's PCA and displacement as two jobs, the costliest first (longest-first scheduling), so that
    // the two workers finish together even when one model outweighs the rest (at N = 2,000 the d = 4096 PCA alone).
    const jobs = models.flatMap((_, m) => [
      { m, part: 'pca' as const, cost: pcaCost(rows, dims[m], k) },
      { m, part: 'displacement' as const, cost: displacementCost(n, tasks.length, dims[m], opts.neighbourOverlap) },
    ]);
    jobs.sort((a, b) => b.cost - a.cost || a.m - b.m || (a.part === 'pca' ? -1 : 1));
    const pcaStages = new Array<ModelPcaStage>(mCount);
    const displacementStages = new Array<ModelDisplacementStage>(mCount);
    // Each model's matrices are copied into shared memory a slice at a time (see sharedCopy), once, before its first
    // job; a job starts as soon as its model is there, so the workers begin while later models are still being copied.
    const sharedModels = new Array<EmbeddingBundle | undefined>(mCount);
    const modelJobs: Promise<void>[] = [];
    for (const { m, part } of jobs) {
      let sub = sharedModels[m];
      if (!sub) {
        const mats: EmbeddingMatrix[] = [];
        for (const mat of bundle.embeddings[m]) mats.push(await sharedCopy(mat, signal));
        sub = sharedModels[m] = { models: [models[m]], tasks, n, dims: [dims[m]], embeddings: [mats] };
      }
      const request: RequestBody =
        part === 'pca'
          ? { type: 'pca', bundle: sub, k, withFrame }
          : { type: 'displacement', bundle: sub, neighbours: opts.neighbourOverlap, withFrame };
      const early = part === 'pca' ? takeEarlyPca(pool, bundle.embeddings[m], k, withFrame) : undefined;
      const job = (early ?? pool.run(request)).then((reply) => {
        if (reply.type === 'pca') {
          pcaStages[m] = reply.stage;
          spent.pca += reply.stage.seconds;
        } else if (reply.type === 'displacement') {
          displacementStages[m] = reply.stage;
          spent.displacement += reply.stage.seconds.displacement;
          spent.neighbours += reply.stage.seconds.neighbours;
        }
      });
      // A job may fail while later models are still being copied, before Promise.all below listens: mark its
      // rejection handled now (Promise.all still rejects with it) so that it is not an unhandled rejection.
      job.catch(() => undefined);
      modelJobs.push(job);
    }
    await Promise.all(modelJobs);
    sharedModels.fill(undefined); // copies made for the workers go now, not after stages B and C
    const stages = pcaStages.map((pca, m) => combineModelStage(pca, displacementStages[m]));
    const scores = stages.map((stage) => stage.scores);
    const baseNorms = stages.map((s) => baseNormSquared(s.scores, n, k));

    // Stage B, in the pairIndex order of procrustes.ts.
    const pairs: { i: number; j: number }[] = [];
    for (let i = 0; i < mCount; i++) for (let j = i + 1; j < mCount; j++) pairs.push({ i, j });
    const sigmaSums = new Array<number>(pairs.length).fill(0);
    const pairRotations = new Array<Float64Array>(pairs.length).fill(new Float64Array(0)); // the workers' shared arrays
    const pairJobs: Promise<void>[] = [];
    const perJob = pairsPerJob(pairs.length);
    for (let first = 0; first < pairs.length; first += perJob) {
      const batch = pairs.slice(first, first + perJob);
      pairJobs.push(
        pool
          .run({
            type: 'pairs',
            pairs: batch.map(({ i, j }) => ({ source: baseScores(scores[i], n, k), target: baseScores(scores[j], n, k) })),
            n,
            k,
          })
          .then((reply) => {
            if (reply.type !== 'pairs') return;
            reply.rotations.forEach((rotation, x) => {
              pairRotations[first + x] = rotation;
              sigmaSums[first + x] = reply.sigmaSums[x];
            });
            spent.procrustes += reply.seconds;
          }),
      );
    }
    // The bootstrap of the mean displacement needs only stage A: it runs beside stages B and C, queued after the
    // pairs, which stage C waits for.
    const uncertaintyJob = pool.run({ type: 'uncertainty', input: uncertaintyInput(prepared, stages) }).then((reply) => {
      if (reply.type !== 'uncertainty') throw new Error('unexpected worker reply');
      return reply.uncertainty;
    });
    uncertaintyJob.catch(() => undefined); // awaited below; handled now in case stage B fails first
    await Promise.all(pairJobs);
    const { distance, ref } = distancesAndReference(models, baseNorms, sigmaSums, opts.reference);

    // Stage C.
    const input: MapInputs = { scores, pairRotations, n, tasks: tasks.length, k, points: opts.points, mds: opts.mds, seed: opts.seed };
    const order = referenceOrder(mCount, ref);
    const maps = await Promise.all(
      order.map(async (r, x): Promise<MapStage> => {
        const reply = await pool.run({ type: 'map', input, ref: r, wantCosine: x === 0, withFrame: withFrame && x === 0 });
        if (reply.type !== 'map') throw new Error('unexpected worker reply');
        spent.maps += reply.seconds;
        const stage: MapStage = { coords: reply.coords, stress: reply.stress, cosine: reply.cosine ?? new Float64Array(0) };
        if (reply.frame) stage.frame = reply.frame;
        return stage;
      }),
    );
    const uncertainty = await uncertaintyJob;
    if (signal?.aborted) throw new CancelledError();
    const core = assembleResult(prepared, stages, distance, ref, maps, uncertainty);
    const evaluation = await evaluateBundle(prepared.bundle, opts.seed, core.displacement, options.evaluationMemo, (jobs) =>
      evaluationOnWorkers(pool, jobs, signal),
    );
    if (signal?.aborted) throw new CancelledError();
    const result = withEvaluation(core, evaluation);
    const frame = withFrame ? buildFrame(prepared.bundle, opts, stages, pairRotations, distance, ref, maps[0]) : undefined;
    onStageSeconds?.(spent);
    finished = true;
    return frame ? { result, frame } : { result };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // A call that did not finish (cancelled, or a job failed) leaves no job of its own queued or running.
    if (!finished) pool.abandon(new CancelledError());
    givePoolBack(pool);
  }
}
