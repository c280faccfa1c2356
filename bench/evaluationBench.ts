/**
 * Section 6: retrieval at scale (issue 13): 1000 queries x 6 tasks over 100k documents, d 384, scored by ranking.ts
 * (blocked Gemm products of 256 queries x 4096 documents, running top-100; one thread, as each analysis worker runs
 * one model) against bench/numpy_retrieval.py doing the same scoring (Q @ D_block.T over 4096 documents at a time,
 * running top-100 merged by argpartition) on the same files, with 1 and with 2 BLAS threads. Both sides run in a
 * child process, load the files untimed, and report their peak memory above the memory after loading, which shows
 * that neither holds queries x documents similarities (1000 x 100k doubles = 763 MiB per task). The metrics of both
 * sides are compared.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../src/engine/io/paths';
import { numpyEnv, numpyMissing } from './machine';

const run = promisify(execFile);
const SCRIPT = path.join(packageRoot(), 'bench', 'numpy_retrieval.py');

export interface RetrievalSide {
  seconds: number[];
  total: number;
  metrics: number[][];
  peakAboveLoadedKiB: number;
}

export interface EvaluationOutcome {
  docs: number;
  queries: number;
  tasks: number;
  dim: number;
  ours: RetrievalSide;
  /** numpy per BLAS thread count ('1', '2'). */
  numpy?: Record<string, RetrievalSide & { threads?: unknown }>;
  /** ours total / the faster numpy total. */
  ratio?: number;
  /** ours total / numpy with one BLAS thread (like for like: one thread each). */
  ratioOneThread?: number;
  /** Largest |ours - numpy| over every task's nDCG@10, MRR@10 and Recall@100. */
  maxMetricDifference?: number;
  skipped?: string;
}

export const EVALUATION_TARGET = 1;

export async function benchEvaluation(quick: boolean, log: (line: string) => void): Promise<EvaluationOutcome> {
  const size = quick ? { docs: 20000, queries: 200, tasks: 2, dim: 384 } : { docs: 100000, queries: 1000, tasks: 6, dim: 384 };
  const missing = await numpyMissing();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'il-bench-evaluation-'));
  try {
    if (missing) throw new Error(`the evaluation benchmark needs numpy to generate its data: ${missing}`);
    log(`  generating ${size.docs} documents, ${size.tasks} x ${size.queries} queries, d ${size.dim}`);
    await run('python3', [SCRIPT, 'generate', dir, '--docs', String(size.docs), '--queries', String(size.queries), '--tasks', String(size.tasks), '--dim', String(size.dim)], {
      env: numpyEnv(),
    });
    const child = path.join(__dirname, 'evaluationChild.js');
    const ours = JSON.parse((await run(process.execPath, ['--expose-gc', child, dir], { maxBuffer: 2 ** 24 })).stdout) as RetrievalSide;
    log(`  ours: ${ours.total.toFixed(2)} s, peak ${(ours.peakAboveLoadedKiB / 1024).toFixed(0)} MiB above the loaded data`);
    const outcome: EvaluationOutcome = { ...size, ours };
    outcome.numpy = {};
    for (const threads of ['1', '2']) {
      const env = numpyEnv({ OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads });
      const side = JSON.parse((await run('python3', [SCRIPT, 'score', dir], { env, maxBuffer: 2 ** 24 })).stdout) as RetrievalSide;
      outcome.numpy[threads] = side;
      log(`  numpy (${threads} BLAS thread${threads === '1' ? '' : 's'}): ${side.total.toFixed(2)} s, peak ${(side.peakAboveLoadedKiB / 1024).toFixed(0)} MiB`);
    }
    const best = Math.min(outcome.numpy['1'].total, outcome.numpy['2'].total);
    outcome.ratio = ours.total / best;
    outcome.ratioOneThread = ours.total / outcome.numpy['1'].total;
    outcome.maxMetricDifference = Math.max(
      ...ours.metrics.flatMap((values, t) => values.map((v, x) => Math.abs(v - outcome.numpy!['1'].metrics[t][x]))),
    );
    log(`  ours / numpy: ${outcome.ratio.toFixed(2)} (vs one BLAS thread ${outcome.ratioOneThread.toFixed(2)}); metrics agree to ${outcome.maxMetricDifference.toExponential(1)}`);
    return outcome;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
