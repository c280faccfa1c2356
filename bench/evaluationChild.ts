/**
 * Child process of the evaluation benchmark: loads the files of bench/numpy_retrieval.py (generate), then scores
 * retrieval for each task with ranking.ts (blocked Gemm products, running top-100) on this thread. Loading is not
 * timed. Prints JSON: seconds per task, total, the metrics, and the peak resident memory above the memory after
 * loading and onnxruntime's first product (VmHWM reset through /proc/self/clear_refs, as the numpy side does).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseNpy } from '../src/engine/io/npy';
import { indexQrels, scoreRetrieval } from '../src/engine/evaluation/ranking';
import { gemm } from '../src/engine/kernels/gemm';
import { documentsOf } from '../src/engine/evaluation/vectors';

function statusKiB(field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) : 0;
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  // Widened on loading, as the engine holds the documents (and normalises the queries) in float64.
  const load = (name: string) => {
    const matrix = parseNpy(fs.readFileSync(path.join(dir, name)), name);
    return { ...matrix, data: Float64Array.from(matrix.data) };
  };
  const corpus = load('corpus.npy');
  const rows = load('qrels.npy');
  const tasks = fs.readdirSync(dir).filter((f) => f.startsWith('queries_')).sort().map(load);
  const n = tasks[0].rows;
  const entries = rows.rows;
  const at = (e: number, c: number): number => rows.data[e * 3 + c];
  const qrels = indexQrels(
    {
      query: Int32Array.from({ length: entries }, (_, e) => at(e, 0)),
      doc: Int32Array.from({ length: entries }, (_, e) => at(e, 1)),
      score: Float64Array.from({ length: entries }, (_, e) => at(e, 2)),
    },
    n,
  );
  // onnxruntime and its Gemm session load on the first product: load them before measuring, as numpy's BLAS is.
  await gemm(new Float64Array(4), new Float64Array(4), 2, 2, 2);
  (globalThis as { gc?: () => void }).gc?.();
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux: the peak then includes loading
  }
  const loaded = statusKiB('VmRSS');
  const seconds: number[] = [];
  const metrics: number[][] = [];
  // The documents' norms (the engine computes them once per model) are counted in the first task's time.
  let started = performance.now();
  const documents = documentsOf(corpus.data, corpus.rows, corpus.cols);
  for (const task of tasks) {
    const start = started;
    const score = await scoreRetrieval(task.data, documents, qrels);
    seconds.push((performance.now() - start) / 1000);
    started = performance.now();
    metrics.push(score.values);
  }
  const total = seconds.reduce((a, b) => a + b, 0);
  console.log(JSON.stringify({ seconds, total, metrics, peakAboveLoadedKiB: statusKiB('VmHWM') - loaded }));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
