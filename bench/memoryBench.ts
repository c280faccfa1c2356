/**
 * Section 5: peak memory of the paper-scale analysis against the bytes of the embeddings themselves. A child
 * process (out/bench/memoryChild.js) reads the bundle and runs runAnalysis; its peak RSS minus the RSS before
 * reading is compared with issue 14's limit, 2.5x the float32 bytes of the bundle (sum N*d*T*4) + 200 MiB.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { writeBundle } from '../src/engine/io/bundle';
import { PAPER_DIMS, embeddingBytes, syntheticBundle } from './synthetic';
import { summarize, type Summary } from './stats';

/** Issue 14's memory limit: 2.5x the float32 bundle + 200 MiB; the memory figure is peak / this limit. */
export function memoryLimitBytes(float32Bytes: number): number {
  return 2.5 * float32Bytes + 200 * 2 ** 20;
}

export interface MemoryOutcome {
  models: number;
  n: number;
  float64Bytes: number;
  float32Bytes: number;
  /** Peak RSS minus baseline, bytes, per repetition. */
  peakAboveBaseline: Summary;
  /** RSS after reading the bundle, minus baseline. */
  loadedAboveBaseline: Summary;
  /** Peak above baseline / issue 14's limit (2.5x the float32 bytes + 200 MiB). */
  ratio: Summary;
}

export async function benchMemory(quick: boolean, log: (line: string) => void): Promise<MemoryOutcome> {
  const spec = quick ? { models: 6, n: 60, dims: [384, 512, 768, 1024, 1536, 2048] } : { models: 18, n: 200, dims: PAPER_DIMS };
  const reps = quick ? 1 : 2;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'il-bench-memory-'));
  try {
    const bundleDir = path.join(dir, 'bundle');
    const bundle = syntheticBundle({ ...spec, seed: 5 });
    const bytes = embeddingBytes(bundle);
    await writeBundle(bundleDir, bundle);
    const peaks: number[] = [];
    const loaded: number[] = [];
    for (let r = 0; r < reps; r++) {
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, 'memoryChild.js'), bundleDir], { maxBuffer: 2 ** 20 });
      const m = JSON.parse(stdout.trim().split('\n').pop()!) as { baselineKiB: number; loadedKiB: number; peakKiB: number };
      peaks.push((m.peakKiB - m.baselineKiB) * 1024);
      loaded.push((m.loadedKiB - m.baselineKiB) * 1024);
      log(`    rep ${r + 1}: peak ${(peaks[r] / 2 ** 20).toFixed(0)} MiB above baseline (after reading: ${(loaded[r] / 2 ** 20).toFixed(0)} MiB)`);
    }
    return {
      models: spec.models,
      n: spec.n,
      float64Bytes: bytes.float64,
      float32Bytes: bytes.float32,
      peakAboveBaseline: summarize(peaks),
      loadedAboveBaseline: summarize(loaded),
      ratio: summarize(peaks.map((p) => p / memoryLimitBytes(bytes.float32))),
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
