/**
 * Section 4: responsiveness of the thread that starts a run (the extension host's, in the extension). During a
 * full run, embedding both shared models (worker threads) then the paper-scale analysis (runAnalysis, worker
 * threads), perf_hooks.monitorEventLoopDelay samples the event-loop delay and a setInterval(0) probe records the
 * longest gap between its ticks. The synthetic bundle is made before monitoring starts.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { runAnalysis } from '../src/engine/method/runAnalysis';
import { presetTasks } from '../src/inputs/presets';
import type { Embedder } from '../src/models/embedder';
import { embedAll } from '../src/models/pipeline';
import { createEmbedder } from '../src/models/registry';
import { benchQueries, GLOVE, sharedModelsMissing, USE_LITE } from './queries';
import { PAPER_DIMS, syntheticBundle } from './synthetic';

export interface HostOutcome {
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Longest gap between two ticks of a setInterval(0) probe, and how many ticks it saw. */
  probeMaxGapMs: number;
  probeTicks: number;
  embedded: boolean;
  /** The same figures per phase of the run. */
  phases: { label: string; seconds: number; p99Ms: number; maxMs: number; probeMaxGapMs: number }[];
  note?: string;
}

export async function benchHost(quick: boolean, log: (line: string) => void): Promise<HostOutcome> {
  const bundle = quick
    ? syntheticBundle({ models: 6, n: 60, dims: [384, 512, 768, 1024, 1536, 2048], seed: 3 })
    : syntheticBundle({ models: 18, n: 200, dims: PAPER_DIMS, seed: 3 });
  const missing = sharedModelsMissing();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'il-bench-host-'));
  const embedders: Embedder[] = [];
  try {
    if (!missing) for (const folder of [USE_LITE, GLOVE]) embedders.push(await createEmbedder(folder, { dtype: 'fp32', offline: true, cacheDir: dir }));
    const queries = benchQueries(quick ? 40 : 200);
    const phases: { label: string; work: () => Promise<unknown> }[] = [];
    if (embedders.length) {
      phases.push({
        label: 'embedding both shared models (model loading included)',
        work: () => embedAll({ queries, tasks: presetTasks('paper-en'), embedders }),
      });
    }
    phases.push({ label: `analysis (${bundle.models.length} models × ${bundle.n} queries)`, work: () => runAnalysis(bundle) });
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    let last = performance.now();
    let maxGap = 0;
    let phaseGap = 0;
    let ticks = 0;
    const probe = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      phaseGap = Math.max(phaseGap, now - last);
      last = now;
      ticks++;
    }, 0);
    histogram.enable();
    const start = performance.now();
    const phaseResults: HostOutcome['phases'] = [];
    try {
      for (const phase of phases) {
        log(`  ${phase.label}`);
        const own = monitorEventLoopDelay({ resolution: 10 });
        own.enable();
        phaseGap = 0;
        const phaseStart = performance.now();
        await phase.work();
        own.disable();
        phaseResults.push({
          label: phase.label,
          seconds: (performance.now() - phaseStart) / 1000,
          p99Ms: own.percentile(99) / 1e6,
          maxMs: own.max / 1e6,
          probeMaxGapMs: phaseGap,
        });
      }
    } finally {
      histogram.disable();
      clearInterval(probe);
    }
    const ns = 1e6;
    return {
      seconds: (performance.now() - start) / 1000,
      p50Ms: histogram.percentile(50) / ns,
      p99Ms: histogram.percentile(99) / ns,
      maxMs: histogram.max / ns,
      probeMaxGapMs: maxGap,
      probeTicks: ticks,
      embedded: embedders.length > 0,
      phases: phaseResults,
      ...(missing ? { note: `analysis only: ${missing}` } : {}),
    };
  } finally {
    for (const e of embedders) await e.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  }
}
