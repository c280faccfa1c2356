/**
 * Worker thread for runAnalysis.ts: runs one stage function of analyze.ts per message and posts the result.
 * Inputs it shares with the other worker (scores, rotations) arrive as SharedArrayBuffer-backed arrays; scores and
 * rotations it computes go back in shared arrays it allocates (posted, they are shared with the caller and the other
 * worker, not copied), map results are transferred back: nothing is copied twice.
 */
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { analyze, mapForReference, modelDisplacementStage, modelPcaStage } from './analyze';
import { displacementUncertainty } from './displacementIntervals';
import { scoreModelCells } from '../evaluation/cells';
import { mulberry32, svd, svdWithoutU, tridiagonalEigenTop } from '../kernels/linalg';
import { collectYoungGarbage } from '../kernels/youngGarbage';
import { previewInFrame } from './preview';
import { procrustesPair } from './procrustes';
import { sharedCopyOf, sharedFloat64 } from '../kernels/shared';
import type { WorkerHint, WorkerReply, WorkerRequest } from './runAnalysis';
import type { EvaluationData } from '../evaluation/types';

const port = parentPort;
if (!port) throw new Error('analysisWorker.js must run in a worker thread');

/** Set when the pool has work waiting for this worker (a WorkerHint): the warm-up's optional part then gives way. */
let workWaiting = false;

port.on('message', (message: WorkerRequest | WorkerHint) => {
  if (message.type === 'workWaiting') workWaiting = true;
  else void handle(message);
});

async function handle(request: WorkerRequest): Promise<void> {
  try {
    if (request.type === 'pca') {
      const stage = await modelPcaStage(request.bundle, 0, request.k, request.withFrame);
      // Scores (and a frame's mean and basis) in shared memory: shared with the caller and the other worker, not copied.
      const { mean, basis } = stage;
      const shared = { ...stage, scores: sharedCopyOf(stage.scores), ...(mean && basis ? { mean: sharedCopyOf(mean), basis: sharedCopyOf(basis) } : {}) };
      reply({ id: request.id, type: 'pca', stage: shared });
    } else if (request.type === 'displacement') {
      reply({ id: request.id, type: 'displacement', stage: await modelDisplacementStage(request.bundle, 0, request.neighbours, request.withFrame) });
    } else if (request.type === 'pairs') {
      const started = performance.now();
      const rotations: Float64Array[] = [];
      const sigmaSums: number[] = [];
      for (const { source, target } of request.pairs) {
        // Q straight into the shared array posted back (no copy).
        const rotation = sharedFloat64(request.k * request.k);
        sigmaSums.push((await procrustesPair(source, target, request.n, request.k, rotation)).sigmaSum);
        rotations.push(rotation);
      }
      reply({ id: request.id, type: 'pairs', rotations, sigmaSums, seconds: (performance.now() - started) / 1000 });
    } else if (request.type === 'uncertainty') {
      reply({ id: request.id, type: 'uncertainty', uncertainty: displacementUncertainty(request.input) });
    } else if (request.type === 'evaluate') {
      const cells = await scoreModelCells(request.job);
      reply({ id: request.id, type: 'evaluate', cells }, cells.map((cell) => cell.replicates.buffer as ArrayBuffer));
    } else if (request.type === 'preview') {
      reply({ id: request.id, type: 'preview', result: await previewInFrame(request.frame, request.bundle, request.source, request.neighbours) });
    } else if (request.type === 'warm') {
      await warmUp(request.evaluation);
      reply({ id: request.id, type: 'warm' });
    } else {
      const started = performance.now();
      const map = await mapForReference(request.input, request.ref, request.withFrame);
      const seconds = (performance.now() - started) / 1000;
      const transfer = [map.coords.buffer as ArrayBuffer];
      if (request.wantCosine) transfer.push(map.cosine.buffer as ArrayBuffer);
      reply(
        {
          id: request.id,
          type: 'map',
          coords: map.coords,
          stress: map.stress,
          cosine: request.wantCosine ? map.cosine : undefined,
          frame: map.frame,
          seconds,
        },
        transfer,
      );
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    reply({ id: request.id, type: 'error', name: e.name, message: e.message, stack: e.stack });
  }
}

/**
 * Whole analyses of a small seeded bundle on this thread: loads onnxruntime and the kernels and gets V8 to compile
 * the engine's loops, which the first real analysis would otherwise run unoptimised. Then the same with labelled
 * data, for the evaluation's loops, unless work is waiting or no evaluation will come (`evaluation` false): the CLI
 * reading a small bundle has its first models queued before the first part ends, and the evaluation part would only
 * delay them (about 150 ms of the 3-model interactive case); the extension embeds for seconds meanwhile, so there it
 * runs.
 *
 * Each pass analyses a structured clone of the bundle, as a job's input arrives through postMessage: the clone's
 * arrays have other hidden classes than arrays built here, and code optimised on these was thrown away at the first
 * job ("wrong map" deoptimisations of the PCA's loops). One pass left most of the stage functions below V8's
 * threshold for optimising them, so the first real analysis ran them unoptimised and compiled them on the way; with
 * WARM_PASSES the whole 3-model interactive process took about 0.8x its time (measured in BENCHMARKS.md). Larger
 * dimensions, to take the Gram path and the blocked Gram products too (24, 80, 160), cost more than they saved.
 */
/** Passes of the warm-up's analysis without labelled data. */
const WARM_PASSES = 3;

async function warmUp(evaluation: boolean): Promise<void> {
  const rng = mulberry32(1);
  warmKernels(rng);
  const n = 40;
  const dims = [24, 16, 32];
  // Both storage types a bundle can have (float32 .npy files stay float32, embedded models give float64), so that the
  // compiled loops expect both: optimised on float64 alone, they would be thrown away at the first float32 matrix.
  const embeddings = dims.map((d, m) =>
    [0, 1, 2].map(() => {
      const values = Array.from({ length: n * d }, () => rng() - 0.5);
      return m === 1 ? Float64Array.from(values) : Float32Array.from(values);
    }),
  );
  // With a little labelled data, so that the evaluation's loops are compiled too.
  const docs = 50;
  const corpus = dims.map((d) => Float64Array.from({ length: docs * d }, () => rng() - 0.5));
  const entries = 4 * n;
  const labels: EvaluationData = {
    queryIds: Array.from({ length: n }, (_, i) => String(i + 1)),
    corpusIds: Array.from({ length: docs }, (_, j) => String(j)),
    qrels: {
      query: Int32Array.from({ length: entries }, (_, e) => e >> 2),
      doc: Int32Array.from({ length: entries }, (_, e) => (e * 7) % docs),
      score: Float64Array.from({ length: entries }, (_, e) => e % 3),
    },
    pairs: { a: Int32Array.from({ length: n }, (_, p) => p), b: Int32Array.from({ length: n }, (_, p) => (p + 1) % n), score: Float64Array.from({ length: n }, (_, p) => p % 5) },
    homeKinds: [null, 'retrieval', 'sts'],
  };
  const bundle = { models: ['a', 'b', 'c'], tasks: ['Base', 't1', 't2'], n, dims, embeddings };
  for (let pass = 0; pass < WARM_PASSES; pass++) await analyze(structuredClone(bundle), { k: 8 });
  if (workWaiting || !evaluation) return;
  await analyze(structuredClone({ ...bundle, corpus, evaluation: labels }), { k: 8 });
}

/**
 * The WebAssembly kernels on inputs large enough for V8 to tier them up (about 35 ms): the small analysis below does
 * not, and a kernel runs its whole call in the code it started with, so the first real model's tridiagonalisation ran
 * in baseline code (a first 768 x 768 eigenproblem took 278 ms instead of 110 ms). The blocked tridiagonalisation
 * (gemmEigen.ts) needs none: it calls its kernels once per panel, and its first n = 1200 took no longer than its second.
 */
function warmKernels(rng: () => number): void {
  const symmetric = (n: number): Float64Array => {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng() - 0.5;
    return a;
  };
  for (let r = 0; r < 3; r++) {
    // Both eigenvalue kernels: bisection for k <= n/3, QL above (linalg.ts eigenOfTridiagonal).
    tridiagonalEigenTop(symmetric(120), 120, 40);
    tridiagonalEigenTop(symmetric(120), 120, 60);
    svd(symmetric(60), 60, 60);
    svdWithoutU(symmetric(60), 60, 60, { s: new Float64Array(60), v: new Float64Array(60 * 60) });
  }
}

/** Posts the reply, then collects the job's young garbage (youngGarbage.ts) while the worker would wait anyway. */
function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
  collectYoungGarbage();
}
