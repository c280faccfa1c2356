/**
 * `npm run bench` = build, then `node out/bench/run.js [--quick] [--only analysis,embedding,incremental,host,memory,evaluation,evaluation-paper]
 * [--out FILE]`. Prints a table per section and writes BENCHMARKS.md (a full run of every section) or, for --quick
 * and --only runs, out/bench/BENCHMARKS-partial.md, so a smoke run never replaces the real results. The file is
 * rewritten after every section, so a stopped run keeps what it measured (marked unfinished).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../src/engine/io/paths';
import { analysisScenarios, benchAnalysis, type AnalysisOutcome } from './analysisBench';
import { benchEmbedding, type EmbeddingOutcome } from './embeddingBench';
import { benchEvaluation } from './evaluationBench';
import { benchPaperEvaluation } from './evaluationPaperBench';
import { benchHost, type HostOutcome } from './hostBench';
import { benchIncremental, type IncrementalOutcome } from './incrementalBench';
import { machineInfo } from './machine';
import { benchMemory, type MemoryOutcome } from './memoryBench';
import { renderMarkdown, type Results } from './report';

export const SECTIONS = ['analysis', 'embedding', 'incremental', 'host', 'memory', 'evaluation', 'evaluation-paper'] as const;
type Section = (typeof SECTIONS)[number];

function parseArgs(argv: string[]): { quick: boolean; only: Section[]; out?: string } {
  let quick = false;
  let only: Section[] = [...SECTIONS];
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--only' || arg === '--out') {
      const value = argv[++i];
      if (value === undefined) usage(`${arg} needs a value`);
      if (arg === '--out') out = path.resolve(value);
      else {
        only = value.split(',').map((s) => s.trim()) as Section[];
        const bad = only.filter((s) => !SECTIONS.includes(s));
        if (bad.length) usage(`unknown section ${bad.join(', ')}`);
      }
    } else usage(`unknown option ${arg}`);
  }
  return { quick, only, out };
}

function usage(problem: string): never {
  console.error(`${problem}\nusage: node out/bench/run.js [--quick] [--only ${SECTIONS.join(',')}] [--out FILE]`);
  process.exit(2);
}

/**
 * The section measured by the end-to-end test (the first map in a real VS Code), not by this suite: kept as it is
 * in the file being rewritten. It starts at its heading and runs to the end of the file.
 */
const END_TO_END_HEADING = '## First map in VS Code (end-to-end test)';
function keptEndToEndSection(file: string): string {
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const at = old.indexOf(END_TO_END_HEADING);
  return at < 0 ? '' : `\n${old.slice(at)}`;
}

async function main(): Promise<void> {
  const { quick, only, out } = parseArgs(process.argv.slice(2));
  const log = (line: string): void => console.log(line);
  const started = Date.now();
  const results: Results = { machine: machineInfo(), quick, sections: only, loadAverages: [] };
  const complete = !quick && only.length === SECTIONS.length;
  const file = out ?? (complete ? path.join(packageRoot(), 'BENCHMARKS.md') : path.join(packageRoot(), 'out', 'bench', 'BENCHMARKS-partial.md'));
  // Written after every section (so a long run that is stopped keeps what it measured), atomically.
  const save = (): string => {
    results.totalSeconds = (Date.now() - started) / 1000;
    const markdown = renderMarkdown(results) + keptEndToEndSection(file);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, markdown);
    fs.renameSync(temp, file);
    // The raw figures beside it, so the Markdown can be re-rendered (report.ts) without re-running.
    fs.mkdirSync(path.join(packageRoot(), 'out', 'bench'), { recursive: true });
    fs.writeFileSync(path.join(packageRoot(), 'out', 'bench', `${path.basename(file, '.md')}.json`), JSON.stringify(results, null, 1));
    return markdown;
  };
  const note = (label: string): void => {
    results.loadAverages.push({ label, load: os.loadavg() });
    if (label !== 'start') save();
  };
  note('start');
  if (only.includes('analysis')) {
    const outcomes: AnalysisOutcome[] = [];
    for (const scenario of analysisScenarios(quick)) {
      log(`\n[analysis] ${scenario.name}`);
      outcomes.push(await benchAnalysis(scenario, log));
      note(`after analysis: ${scenario.name}`);
    }
    results.analysis = outcomes;
  }
  if (only.includes('embedding')) {
    log('\n[embedding] our pipeline vs raw onnxruntime-node');
    results.embedding = await benchEmbedding(quick, log) as EmbeddingOutcome[];
    note('after embedding');
  }
  if (only.includes('incremental')) {
    log('\n[incremental] one instruction changed vs cold run');
    results.incremental = await benchIncremental(quick, log) as IncrementalOutcome;
    note('after incremental');
  }
  if (only.includes('host')) {
    log('\n[host] event-loop delay on the main thread during a full run');
    results.host = await benchHost(quick, log) as HostOutcome;
    note('after host');
  }
  if (only.includes('memory')) {
    log('\n[memory] peak RSS of the paper-scale analysis');
    results.memory = await benchMemory(quick, log) as MemoryOutcome;
    note('after memory');
  }
  if (only.includes('evaluation')) {
    log('\n[evaluation] retrieval over 100k documents vs numpy');
    results.evaluation = await benchEvaluation(quick, log);
    note('after evaluation');
  }
  if (only.includes('evaluation-paper')) {
    log('\n[evaluation-paper] the task evaluation at paper scale vs numpy + scikit-learn');
    results.paperEvaluation = await benchPaperEvaluation(quick, log);
    note('after evaluation-paper');
  }
  results.finished = true;
  console.log(`\n${save()}`);
  console.log(`written: ${file}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
