/**
 * Section 1: runAnalysis (worker threads) against bench/numpy_reference.py doing the same math, on the same bundle
 * files. Both sides do everything runAnalysis does ("full"); the numpy script also reports its core stages (PCA,
 * Procrustes, main map). A single-thread stage breakdown of both (our analyze() stage functions on this thread,
 * numpy with one BLAS thread) shows where the time goes. Also checks our D against numpy's D.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { baseNormSquared, baseScores, distancesAndReference, MapInputs, mapForReference, referenceOrder, resolveOptions } from '../src/engine/method/analyze';
import { readBundle, writeBundle } from '../src/engine/io/bundle';
import { CancelledError } from '../src/engine/errors';
import { mapDisparity, modelDisplacement } from '../src/engine/method/metrics';
import { pcaModel } from '../src/engine/method/pca';
import { procrustesPair } from '../src/engine/method/procrustes';
import { runAnalysis } from '../src/engine/method/runAnalysis';
import type { AnalysisResult, EmbeddingBundle } from '../src/engine/types';
import { numpyMissing, runNumpy } from './machine';
import { ratioOf, summarize, type Summary } from './stats';
import { embeddingBytes, PAPER_DIMS, syntheticBundle } from './synthetic';

export interface AnalysisScenario {
  name: string;
  models: number;
  n: number;
  dims: readonly number[];
  reps: number;
  /** Stop repeating once this many seconds were spent on one side (at least one repetition always runs). */
  budgetSeconds: number;
  /**
   * One repetition of ours is stopped (runAnalysis's AbortSignal) after max(capSeconds, 2 x numpy's median) seconds,
   * so that a stopped run still decides a 1.5x target; the result is then "> cap".
   */
  capSeconds: number;
  /** Also run the single-thread stage breakdown. */
  breakdown: boolean;
  /** Issue 5 target for ours/numpy, when there is one. */
  target?: number;
}

export const STAGES = ['pca', 'displacement', 'procrustes', 'map', 'robustness'] as const;
export type Stage = (typeof STAGES)[number];

export interface NumpyRun {
  numpy: string;
  scipy: string;
  python: string;
  blas: Record<string, unknown>;
  k: number;
  core: number[];
  full: number[];
  stages: Record<Stage, number>[];
  reference: string;
  models: string[];
  procrustesDistance: number[][];
}

export interface AnalysisOutcome {
  scenario: AnalysisScenario;
  sizeMiB: { float64: number; float32: number };
  k: number;
  ours: Summary;
  /** Set when our repetition was stopped at capSeconds: `ours` and the ratios are then lower bounds. */
  oursCapped?: boolean;
  capSeconds?: number;
  /** The faster of numpy with 1 and with 2 BLAS threads (by median full time); the ratios use this one. */
  numpy?: { full: Summary; core: Summary; run: NumpyRun; threads: number };
  /** numpy full time per BLAS thread count. */
  numpyByThreads?: Record<string, Summary>;
  /** ours total / numpy full (like for like). */
  ratio?: Summary;
  /** ours total / numpy core: what the ratio would be if numpy skipped robustness and displacement. */
  ratioVsCore?: Summary;
  breakdown?: { ours: Record<Stage, number>; numpy?: Record<Stage, number> };
  check?: { maxRelativeError: number; referenceAgrees: boolean; ourReference: string; numpyReference: string };
  skipped?: string;
}

export function analysisScenarios(quick: boolean): AnalysisScenario[] {
  if (quick) {
    const dims = [384, 512, 768, 1024, 1536, 2048];
    return [
      { name: 'paper scale (quick: 6 models × 60 queries)', models: 6, n: 60, dims, reps: 2, budgetSeconds: 30, capSeconds: 120, breakdown: true, target: 1.5 },
      { name: '10× queries (quick: 6 models × 600 queries)', models: 6, n: 600, dims, reps: 2, budgetSeconds: 30, capSeconds: 120, breakdown: false, target: 1.5 },
      { name: 'more models (quick: 12 models × 60 queries)', models: 12, n: 60, dims, reps: 2, budgetSeconds: 30, capSeconds: 120, breakdown: false },
    ];
  }
  return [
    { name: 'paper scale (18 models × 6 tasks × 200 queries)', models: 18, n: 200, dims: PAPER_DIMS, reps: 3, budgetSeconds: 150, capSeconds: 300, breakdown: true, target: 1.5 },
    { name: '10× queries (18 models × 6 tasks × 2000 queries)', models: 18, n: 2000, dims: PAPER_DIMS, reps: 2, budgetSeconds: 200, capSeconds: 300, breakdown: false, target: 1.5 },
    { name: '50 models (50 models × 6 tasks × 200 queries)', models: 50, n: 200, dims: PAPER_DIMS, reps: 2, budgetSeconds: 150, capSeconds: 300, breakdown: false },
  ];
}

export async function benchAnalysis(scenario: AnalysisScenario, log: (line: string) => void): Promise<AnalysisOutcome> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'il-bench-analysis-'));
  try {
    const bundleDir = path.join(dir, 'bundle');
    log(`  generating and writing the bundle (${scenario.models} models, N=${scenario.n})`);
    await writeBundle(bundleDir, syntheticBundle({ models: scenario.models, n: scenario.n, dims: scenario.dims, seed: 7 }));
    const bundle = await readBundle(bundleDir);
    const bytes = embeddingBytes(bundle);
    const k = resolveOptions(bundle).k;
    const outcome: Partial<AnalysisOutcome> = {
      scenario,
      k,
      sizeMiB: { float64: bytes.float64 / 2 ** 20, float32: bytes.float32 / 2 ** 20 },
    };

    const missing = await numpyMissing();
    let numpyOneThread: Record<Stage, number> | undefined;
    if (missing) {
      outcome.skipped = `numpy comparison skipped: ${missing}`;
      log(`  ${outcome.skipped}`);
    } else {
      // On a loaded machine two BLAS threads can be much slower than one (each waits for the other's time slice),
      // so both are measured and the faster one is numpy's figure. Two threads get one repetition first, and the
      // rest only when that one beats the one-thread median.
      outcome.numpyByThreads = {};
      const numpyArgs = (reps: number): string[] => [bundleDir, '--k', '200', '--reps', String(reps), '--budget', String(scenario.budgetSeconds)];
      const merge = (a: NumpyRun | undefined, b: NumpyRun): NumpyRun =>
        a ? { ...b, full: [...a.full, ...b.full], core: [...a.core, ...b.core], stages: [...a.stages, ...b.stages] } : b;
      const runs: Record<string, NumpyRun> = {};
      for (const threads of [1, 2]) {
        log(`  numpy/scipy reference (OPENBLAS_NUM_THREADS=${threads})`);
        const env = { OPENBLAS_NUM_THREADS: String(threads) };
        let run = (await runNumpy(numpyArgs(threads === 1 ? scenario.reps : 1), env)) as NumpyRun;
        if (threads === 2 && scenario.reps > 1 && run.full[0] < summarize(runs['1'].full).median) {
          run = merge(run, (await runNumpy(numpyArgs(scenario.reps - 1), env)) as NumpyRun);
        }
        runs[String(threads)] = run;
        log(`    full: ${run.full.map((x) => x.toFixed(2)).join(', ')} s`);
      }
      numpyOneThread = runs['1'].stages[0];
      for (const threads of [1, 2]) {
        const run = runs[String(threads)];
        const full = summarize(run.full);
        outcome.numpyByThreads[String(threads)] = full;
        if (!outcome.numpy || full.median < outcome.numpy.full.median) outcome.numpy = { full, core: summarize(run.core), run, threads };
      }
    }

    const cap = Math.max(scenario.capSeconds, 2 * (outcome.numpy?.full.median ?? 0));
    outcome.capSeconds = cap;
    log(`  runAnalysis (worker threads; a repetition is stopped after ${cap.toFixed(0)} s)`);
    const times: number[] = [];
    let result: AnalysisResult | undefined;
    let spent = 0;
    for (let r = 0; r < scenario.reps && (r === 0 || spent < scenario.budgetSeconds); r++) {
      const start = performance.now();
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), cap * 1000);
      try {
        result = await runAnalysis(bundle, {}, stop.signal);
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
        outcome.oursCapped = true;
        times.push(cap);
        log(`    rep ${r + 1}: stopped after ${cap.toFixed(0)} s (cap)`);
        break;
      } finally {
        clearTimeout(timer);
      }
      const s = (performance.now() - start) / 1000;
      times.push(s);
      spent += s;
      log(`    rep ${r + 1}: ${s.toFixed(2)} s`);
    }
    outcome.ours = summarize(times);
    if (outcome.numpy) {
      outcome.ratio = ratioOf(outcome.ours, outcome.numpy.full);
      outcome.ratioVsCore = ratioOf(outcome.ours, outcome.numpy.core);
      if (result) outcome.check = compareD(result, outcome.numpy.run);
    }

    if (scenario.breakdown && !outcome.oursCapped) {
      log('  single-thread stage breakdown of ours (analyze() stage functions on this thread)');
      const ours = await stageBreakdown(bundle, k);
      outcome.breakdown = { ours, numpy: numpyOneThread };
    }
    return outcome as AnalysisOutcome;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Largest |ours - numpy| / |numpy| over the off-diagonal entries of D. */
function compareD(ours: AnalysisResult, numpy: NumpyRun): AnalysisOutcome['check'] {
  let worst = 0;
  const m = ours.models.length;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) {
      if (i === j) continue;
      const a = ours.procrustesDistance[i][j];
      const b = numpy.procrustesDistance[i][j];
      worst = Math.max(worst, Math.abs(a - b) / Math.max(Math.abs(b), 1e-300));
    }
  return { maxRelativeError: worst, referenceAgrees: ours.reference === numpy.reference, ourReference: ours.reference, numpyReference: numpy.reference };
}

/**
 * analyze()'s stages one after another on this thread, timed separately (seconds). Stage functions are awaited:
 * they may be synchronous or return promises.
 */
async function stageBreakdown(bundle: EmbeddingBundle, k: number): Promise<Record<Stage, number>> {
  const { n, dims, models, tasks } = bundle;
  const mCount = models.length;
  const out = {} as Record<Stage, number>;
  let start = performance.now();
  const scores: Float64Array[] = [];
  for (let m = 0; m < mCount; m++) scores.push((await pcaModel(bundle.embeddings[m], n, dims[m], k)).scores);
  out.pca = (performance.now() - start) / 1000;

  start = performance.now();
  for (let m = 0; m < mCount; m++) await modelDisplacement(bundle.embeddings[m], n, dims[m], models[m], tasks);
  out.displacement = (performance.now() - start) / 1000;

  start = performance.now();
  const pairRotations: Float64Array[] = [];
  const sigmaSums: number[] = [];
  for (let i = 0; i < mCount; i++)
    for (let j = i + 1; j < mCount; j++) {
      const pair = await procrustesPair(baseScores(scores[i], n, k), baseScores(scores[j], n, k), n, k);
      pairRotations.push(pair.q);
      sigmaSums.push(pair.sigmaSum);
    }
  const { ref } = distancesAndReference(models, scores.map((s) => baseNormSquared(s, n, k)), sigmaSums, undefined);
  out.procrustes = (performance.now() - start) / 1000;

  const input: MapInputs = { scores, pairRotations, n, tasks: tasks.length, k, points: 'flatten', mds: 'classical', seed: 0 };
  start = performance.now();
  const main = await mapForReference(input, ref);
  out.map = (performance.now() - start) / 1000;

  start = performance.now();
  for (const r of referenceOrder(mCount, ref).slice(1)) mapDisparity(main.coords, (await mapForReference(input, r)).coords, mCount * tasks.length);
  out.robustness = (performance.now() - start) / 1000;
  return out;
}
