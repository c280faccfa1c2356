/**
 * Paper-scale timing of the analysis engine: 18 models x 6 tasks x 200 queries (or --queries N; 2000 = the issue's
 * 10x case), d mixed 384..4096, seeded synthetic embeddings (shared low-rank structure, task shifts, noise, so
 * spectra look like real ones). Wall and CPU time (the machine may be shared: CPU time is the steadier figure).
 * Run: npx tsc -p tsconfig.json && node esbuild.mjs &&
 *      node out/bench/engine-scale.js [--queries N] [--whole-only] [--sync-only | --workers-only]
 */
import { performance } from 'node:perf_hooks';
import { analyseModel, analyze, resolveOptions } from '../src/engine/method/analyze';
import { mulberry32 } from '../src/engine/kernels/linalg';
import { procrustesPair } from '../src/engine/method/procrustes';
import { runAnalysis } from '../src/engine/method/runAnalysis';
import { EmbeddingBundle } from '../src/engine/types';

const DIMS = [384, 384, 512, 768, 768, 768, 1024, 1024, 1024, 1024, 1536, 1536, 2048, 2560, 3584, 4096, 4096, 1024];
const TASKS = ['Base', 'Retrieval', 'Reranking', 'STS', 'Classification', 'Clustering'];
const queriesAt = process.argv.indexOf('--queries');
const N = queriesAt > 0 ? Number(process.argv[queriesAt + 1]) : 200;
const RANK = 48;

function normal(rng: () => number): number {
  const u = Math.max(rng(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

export function paperScaleBundle(seed = 1): EmbeddingBundle {
  const rng = mulberry32(seed);
  const base = Float64Array.from({ length: N * RANK }, () => normal(rng));
  const latent = TASKS.map((_, t) => {
    if (t === 0) return base;
    const common = Float64Array.from({ length: RANK }, () => normal(rng) * 0.2 * t);
    return Float64Array.from(base, (v, x) => v + common[x % RANK] + normal(rng) * 0.1 * t);
  });
  const embeddings = DIMS.map((d) => {
    const mix = Float64Array.from({ length: RANK * d }, (_, x) => (normal(rng) / (1 + Math.floor(x / d))) * 0.3);
    const offset = Float64Array.from({ length: d }, () => normal(rng));
    return latent.map((z) => {
      const e = new Float64Array(N * d);
      for (let i = 0; i < N; i++)
        for (let r = 0; r < RANK; r++) {
          const a = z[i * RANK + r];
          for (let j = 0; j < d; j++) e[i * d + j] += a * mix[r * d + j];
        }
      for (let x = 0; x < e.length; x++) e[x] += offset[x % d] + normal(rng) * 0.05;
      return e;
    });
  });
  return { models: DIMS.map((d, m) => `model${m}-${d}`), tasks: TASKS, n: N, dims: DIMS, embeddings };
}

/** Wall and CPU seconds (CPU of the whole process, worker threads included: the machine may be shared). */
async function timed<T>(label: string, work: () => T | Promise<T>): Promise<T> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  console.log(`${label}: wall ${((performance.now() - wall) / 1000).toFixed(2)} s, cpu ${cpuSeconds.toFixed(2)} s`);
  return result;
}

async function main(): Promise<void> {
  const bundle = paperScaleBundle();
  const opts = resolveOptions(bundle);
  console.log(`18 models x 6 tasks x ${N} queries, k = ${opts.k}`);
  if (!process.argv.includes('--whole-only')) await stageTimings(bundle, opts.k);
  const sync = process.argv.includes('--workers-only') ? undefined : await timed('analyze() whole (1 thread)', () => analyze(bundle));
  if (process.argv.includes('--sync-only')) return;
  const viaWorkers = await timed('runAnalysis() whole (2 workers)', () => runAnalysis(bundle));
  if (sync) console.log(`runAnalysis() === analyze(): ${JSON.stringify(viaWorkers) === JSON.stringify(sync)}`);
  console.log(`k = ${viaWorkers.k}, reference = ${viaWorkers.reference}, MDS stress = ${viaWorkers.mdsStress.toFixed(4)}`);
}

async function stageTimings(bundle: EmbeddingBundle, k: number): Promise<void> {
  const stages = await timed('stage A, PCA + displacement of 18 models (1 thread)', async () => {
    const out = [];
    for (let m = 0; m < bundle.models.length; m++) out.push(await analyseModel(bundle, m, k));
    return out;
  });
  const base = (m: number): Float64Array => stages[m].scores.subarray(0, N * k);
  await timed(`stage B, 10 of the 153 Procrustes pairs (k=${k}, 1 thread)`, async () => {
    for (let j = 1; j <= 10; j++) await procrustesPair(base(0), base(j), N, k);
  });
}

if (require.main === module) void main();
