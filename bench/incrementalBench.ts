/**
 * Section 3: a live update (one instruction of six changed) against a cold run, both through the code path the
 * extension uses (src/extension/analysis.ts): embedAll with an EmbeddingCache, then runAnalysis on its bundle.
 * Two models (the shared ones), paper-en's tasks, 200 queries. Models stay loaded between runs (as in the
 * extension's live mode), so neither side pays model loading. Cold = empty cache folder; update = the cache holds
 * every other text, one task's instruction is new (a different one every repetition, so it is a real miss).
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { analyze } from '../src/engine/method/analyze';
import { runAnalysis } from '../src/engine/method/runAnalysis';
import { presetTasks } from '../src/inputs/presets';
import { EmbeddingCache, SESSION_MEMORY_BYTES } from '../src/models/cache';
import type { EmbeddingBundle } from '../src/engine/types';
import type { Embedder, TaskSpec } from '../src/models/embedder';
import { embedAll } from '../src/models/pipeline';
import { createEmbedder } from '../src/models/registry';
import { benchQueries, GLOVE, sharedModelsMissing, USE_LITE } from './queries';
import { pairedRatio, summarize, type Summary } from './stats';

export interface IncrementalOutcome {
  queries: number;
  cold?: Summary;
  update?: Summary;
  /** Of the update: embedding vs analysis seconds. */
  updateEmbed?: Summary;
  updateAnalysis?: Summary;
  coldEmbed?: Summary;
  coldAnalysis?: Summary;
  ratio?: Summary;
  /** The update's bundle analysed by analyze() on this thread (no worker pool): the pool's fixed cost shows. */
  inThreadAnalysis?: Summary;
  skipped?: string;
}

export async function benchIncremental(quick: boolean, log: (line: string) => void): Promise<IncrementalOutcome> {
  const queries = benchQueries(quick ? 40 : 200);
  const reps = quick ? 2 : 3;
  const missing = sharedModelsMissing();
  if (missing) return { queries: queries.length, skipped: missing };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'il-bench-incremental-'));
  const embedders: Embedder[] = [];
  try {
    for (const folder of [USE_LITE, GLOVE]) embedders.push(await createEmbedder(folder, { dtype: 'fp32', offline: true, cacheDir: path.join(dir, 'models') }));
    for (const e of embedders) await e.embed(['warm-up']); // model loading is not timed
    const tasks = presetTasks('paper-en');
    let lastBundle: EmbeddingBundle | undefined;
    const run = async (cache: EmbeddingCache, taskList: TaskSpec[]): Promise<{ embed: number; analysis: number }> => {
      const start = performance.now();
      const { bundle } = await embedAll({ queries, tasks: taskList, embedders, cache });
      lastBundle = bundle;
      const mid = performance.now();
      await runAnalysis(bundle);
      return { embed: (mid - start) / 1000, analysis: (performance.now() - mid) / 1000 };
    };
    const cold: { embed: number; analysis: number }[] = [];
    const update: { embed: number; analysis: number }[] = [];
    for (let r = 0; r < reps; r++) {
      // As the extension's live mode: one cache instance across runs, with its in-memory layer.
      const cache = new EmbeddingCache(path.join(dir, `cache-${r}`), { memoryBytes: SESSION_MEMORY_BYTES });
      cold.push(await run(cache, tasks));
      const changed = tasks.map((t, i) => (i === tasks.length - 1 ? { ...t, instruction: `${t.instruction} Variant ${r + 1}.` } : t));
      update.push(await run(cache, changed));
      const total = (x: { embed: number; analysis: number }): string => (x.embed + x.analysis).toFixed(3);
      log(`    rep ${r + 1}: cold ${total(cold[r])} s, one instruction changed ${total(update[r])} s`);
    }
    const inThread: number[] = [];
    for (let r = 0; r < reps; r++) {
      const start = performance.now();
      await analyze(lastBundle!);
      inThread.push((performance.now() - start) / 1000);
    }
    const totals = (xs: typeof cold): number[] => xs.map((x) => x.embed + x.analysis);
    return {
      queries: queries.length,
      cold: summarize(totals(cold)),
      update: summarize(totals(update)),
      coldEmbed: summarize(cold.map((x) => x.embed)),
      coldAnalysis: summarize(cold.map((x) => x.analysis)),
      updateEmbed: summarize(update.map((x) => x.embed)),
      updateAnalysis: summarize(update.map((x) => x.analysis)),
      ratio: pairedRatio(totals(update), totals(cold)),
      inThreadAnalysis: summarize(inThread),
    };
  } finally {
    for (const e of embedders) await e.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  }
}
