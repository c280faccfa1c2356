/**
 * Whole-process analysis, as a user runs it (issue 14): `node bin/instruction-lens.js analyze BUNDLE --out DIR`
 * against `python3 bench/numpy_reference.py BUNDLE --write DIR` (load, analyse once, write results.json and the
 * CSVs), each timed from outside as one process: start-up, imports, reading, analysis and writing included (ours
 * also writes report.html, which numpy's side does not). Runs are paired and alternate (ours, numpy with
 * OPENBLAS_NUM_THREADS=1, numpy with 2, or the settings given); numpy's figure per pair is the fastest; the ratio is per
 * pair. D of both results is compared (max relative error). The same synthetic bundles as the in-process benchmark.
 * Run: node out/bench/processBench.js [--scenarios interactive,paper,models50,n2000,n10000] [--reps N]
 *      [--numpy-threads 1,2] (the OPENBLAS_NUM_THREADS settings tried per pair; default both)
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { writeBundle } from '../src/engine/io/bundle';
import { packageRoot } from '../src/engine/io/paths';
import { NUMPY_SCRIPT, numpyEnv } from './machine';
import { fmt, pairedRatio, ratio, seconds, summarize, type Summary } from './stats';
import { embeddingBytes, PAPER_DIMS, syntheticBundle } from './synthetic';

const run = promisify(execFile);

interface Scenario {
  name: string;
  label: string;
  models: number;
  n: number;
  dims: readonly number[];
  target: number;
}

const SIX_DIMS = [384, 768, 1024, 2048, 3072, 4096];

export const PROCESS_SCENARIOS: Scenario[] = [
  { name: 'interactive', label: 'interactive: 3 models x 6 tasks x 200 queries, d 384..768', models: 3, n: 200, dims: [384, 512, 768], target: 1.0 },
  { name: 'paper', label: 'paper: 18 x 6 x 200, d 384..4096', models: 18, n: 200, dims: PAPER_DIMS, target: 0.8 },
  { name: 'models50', label: '50 models x 6 x 200', models: 50, n: 200, dims: PAPER_DIMS, target: 0.7 },
  { name: 'n2000', label: 'N = 2,000 (6 models, d 384..4096)', models: 6, n: 2000, dims: SIX_DIMS, target: 0.7 },
  { name: 'n10000', label: 'N = 10,000 (6 models, d 384..4096)', models: 6, n: 10000, dims: SIX_DIMS, target: 0.7 },
];

export interface ProcessOutcome {
  scenario: Scenario;
  float32MiB: number;
  ours: Summary;
  numpy: Summary;
  ratio: Summary;
  /** Max relative difference of D between the two results.json files. */
  dError: number;
  /** Max absolute difference of the bootstrap numbers: interval ends and task-order shares. */
  intervalError: number;
  /** The CLI's stage seconds (workers) of its last run, with the neighbour overlap's share. */
  stages: string;
}

async function timedProcess(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ seconds: number; stderr: string }> {
  const start = performance.now();
  const { stderr } = await run(command, args, { env, maxBuffer: 64 * 2 ** 20 });
  return { seconds: (performance.now() - start) / 1000, stderr };
}

/** The CLI's stage line: `analysis stages (worker seconds): PCA 1.2 s, ... (neighbour overlap 0.5 s, 20% ...)`. */
function stageLine(stderr: string): string {
  return /^analysis stages \(worker seconds\): (.*)$/m.exec(stderr)?.[1] ?? '';
}

interface ComparedResults {
  procrustesDistance: number[][];
  displacement: { meanCosineDistanceCiLow: number; meanCosineDistanceCiHigh: number }[];
  taskOrderStability: { share: number; adjacentShares: number[] }[];
}

async function readCompared(dir: string): Promise<ComparedResults> {
  return JSON.parse(await fs.readFile(path.join(dir, 'results.json'), 'utf8'));
}

/** The bootstrap numbers of a result in a fixed order: interval ends by row, then the shares by model. */
function bootstrapNumbers(r: ComparedResults): number[] {
  return [
    ...r.displacement.flatMap((row) => [row.meanCosineDistanceCiLow, row.meanCosineDistanceCiHigh]),
    ...r.taskOrderStability.flatMap((row) => [row.share, ...row.adjacentShares]),
  ];
}

export async function benchProcess(
  scenario: Scenario,
  reps: number,
  log: (line: string) => void,
  numpyThreads: readonly number[] = [1, 2],
): Promise<ProcessOutcome> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'il-bench-process-'));
  try {
    const bundleDir = path.join(dir, 'bundle');
    const bundle = syntheticBundle({ models: scenario.models, n: scenario.n, dims: scenario.dims, seed: 7 });
    const bytes = embeddingBytes(bundle);
    await writeBundle(bundleDir, bundle);
    const cli = path.join(packageRoot(), 'bin', 'instruction-lens.js');
    const ours: number[] = [];
    const numpy: number[] = [];
    let stages = '';
    for (let r = 0; r < reps; r++) {
      const cliRun = await timedProcess(process.execPath, [cli, 'analyze', bundleDir, '--out', path.join(dir, 'ours'), '--force'], process.env);
      const a = cliRun.seconds;
      stages = stageLine(cliRun.stderr);
      const numpyArgs = [NUMPY_SCRIPT, bundleDir, '--write', path.join(dir, 'numpy')];
      const byThreads: string[] = [];
      let best = Infinity;
      for (const threads of numpyThreads) {
        const t = (await timedProcess('python3', numpyArgs, numpyEnv({ OPENBLAS_NUM_THREADS: String(threads) }))).seconds;
        best = Math.min(best, t);
        byThreads.push(`${fmt(t)} s (${threads} thread${threads > 1 ? 's' : ''})`);
      }
      ours.push(a);
      numpy.push(best);
      log(`  ${scenario.name} rep ${r + 1}: ours ${fmt(a)} s, numpy ${byThreads.join(' / ')}; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    }
    const oursResult = await readCompared(path.join(dir, 'ours'));
    const numpyResult = await readCompared(path.join(dir, 'numpy'));
    const dNumpy = numpyResult.procrustesDistance;
    let dError = 0;
    oursResult.procrustesDistance.forEach((row, i) =>
      row.forEach((v, j) => (dError = Math.max(dError, Math.abs(v - dNumpy[i][j]) / Math.max(Math.abs(dNumpy[i][j]), 1e-300)))),
    );
    const numpyBootstrap = bootstrapNumbers(numpyResult);
    const intervalError = bootstrapNumbers(oursResult).reduce((worst, v, i) => Math.max(worst, Math.abs(v - numpyBootstrap[i])), 0);
    return {
      scenario,
      float32MiB: bytes.float32 / 2 ** 20,
      ours: summarize(ours),
      numpy: summarize(numpy),
      ratio: pairedRatio(ours, numpy),
      dError,
      intervalError,
      stages,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function processTable(outcomes: readonly ProcessOutcome[]): string {
  const lines = [
    '| case | bundle (float32) | ours (CLI process) | numpy (process) | ours / numpy | target | D max rel. err | bootstrap max abs. err |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const o of outcomes) {
    const verdict = o.ratio.median <= o.scenario.target ? `met (≤ ${o.scenario.target}×)` : `MISSED by ${fmt(o.ratio.median / o.scenario.target)}× (target ≤ ${o.scenario.target}×)`;
    lines.push(
      `| ${o.scenario.label} | ${o.float32MiB.toFixed(0)} MiB | ${seconds(o.ours)} | ${seconds(o.numpy)} | ${ratio(o.ratio)} | ${verdict} | ${o.dError.toExponential(1)} | ${o.intervalError.toExponential(1)} |`,
    );
  }
  lines.push('', 'Our stages (seconds of worker time, last CLI run of each case; the neighbour overlap is part of displacement):', '');
  for (const o of outcomes) lines.push(`- ${o.scenario.label}: ${o.stages}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const at = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const names = (at('--scenarios') ?? 'interactive,paper').split(',');
  const reps = Number(at('--reps') ?? '3');
  const numpyThreads = (at('--numpy-threads') ?? '1,2').split(',').map(Number);
  const outcomes: ProcessOutcome[] = [];
  for (const name of names) {
    const scenario = PROCESS_SCENARIOS.find((s) => s.name === name);
    if (!scenario) throw new Error(`unknown scenario ${name}`);
    outcomes.push(await benchProcess(scenario, reps, (line) => console.error(line), numpyThreads));
    console.log(processTable(outcomes));
  }
}

if (require.main === module) void main();
