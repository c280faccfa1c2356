/** `instruction-lens analyze <bundle> --out <dir>`: the paper's analysis of an embedding bundle, without VS Code. */
import { readBundle } from '../engine/io/bundle';
import { mayHaveEvaluation } from '../engine/io/bundleEvaluation';
import { bundleModelIdentities, bundleProvenance } from '../engine/io/bundleProvenance';
import { UserError } from '../engine/errors';
import { analysisOutputs, refuseReplacingInputs } from '../engine/io/inputGuard';
import { checkOutputDir, writeOutputs } from '../engine/io/outputs';
import { CLI_SURFACE, messageText } from '../engine/messages';
import type { AnalysisOptions, AnalysisResult, EmbeddingBundle, MdsMethod, PointsMode } from '../engine/types';
import { choiceOption, type CliIo, type Command, intOption, parseCommandArgs, UsageError } from './args';
import { evaluationSummary } from './evaluationSummary';
import { chooseK } from '../engine/method/kChoice';
import { earlyPca, prewarmAnalysis, type StageSeconds } from '../engine/method/runAnalysis';
import { version } from './version';
import { analyseWithMapFlags, MAP_OPTIONS, MAP_USAGE, mapFlagsFrom, prepareMapFlags, writeFrameOutput } from './mapFlags';

const POINTS_MODES: readonly PointsMode[] = ['flatten', 'centroid'];
const MDS_METHODS: readonly MdsMethod[] = ['classical', 'smacof'];

/** The analysis options, shared with `run`. */
export const ANALYSIS_OPTIONS = {
  k: { type: 'string' },
  points: { type: 'string' },
  mds: { type: 'string' },
  reference: { type: 'string' },
  seed: { type: 'string' },
  'no-neighbours': { type: 'boolean' },
} as const;

export const ANALYSIS_USAGE = `  --k <N>                    PCA dimension before alignment (capped at N*T-1 and the smallest d); default
                             min(200, N, N*T-1, smallest d): at most N keeps the Base alignment determined
  --points <mode>            flatten (default): one point per model and task is the whole aligned configuration;
                             centroid: the mean of the aligned queries
  --mds <method>             classical (default, deterministic) or smacof (metric MDS, seeded)
  --reference <MODEL>        reference model for the common space (default: the one the others map onto best)
  --seed <N>                 seed of SMACOF's random start and of the bootstrap's resamples (default 0)
  --no-neighbours            skip the neighbour overlap (N^2 work per model and task: minutes at 10,000 queries);
                             neighbourOverlap and relativeMovement are then null, top movers by cosine distance
`;

/**
 * When --k asked for more than METHOD.md step 2 allows: the k asked for, the k used and the bound that set it
 * (N*T - 1, the smallest model dimension, or both). Undefined when k was not asked for or not capped.
 */
export function kCapNote(requested: number | undefined, result: Pick<AnalysisResult, 'k' | 'n' | 'tasks' | 'models' | 'dims'>): string | undefined {
  if (requested === undefined || result.k >= requested) return undefined;
  const choice = chooseK(requested, result.n, result.tasks.length, result.models, result.dims);
  const bounds: string[] = [];
  if (choice.rows === choice.k) bounds.push(`N*T - 1 = ${result.n} queries x ${result.tasks.length} tasks - 1 = ${choice.rows}`);
  if (choice.dimension === choice.k) bounds.push(`the smallest model dimension, ${choice.dimension} (model ${choice.dimensionModel})`);
  return `note: --k ${requested} capped: k = ${result.k} used, since k is at most ${bounds.join(' and at most ')}`;
}

/** The result's caveats on stderr, naming the CLI's flags, a note when --k was capped and one when models were left out. */
export function printWarnings(result: AnalysisResult, options: AnalysisOptions, io: CliIo): void {
  const capped = kCapNote(options.k, result);
  if (capped !== undefined) io.stderr(`${capped}\n`);
  for (const warning of result.warningDetails) io.stderr(`warning: ${messageText(warning, CLI_SURFACE)}\n`);
  if (result.failedModels.length > 0) {
    const left = result.failedModels.map((failure) => failure.model).join(', ');
    io.stderr(`note: partial result: ${left} left out; ${result.models.length} of ${result.models.length + result.failedModels.length} models analysed\n`);
  }
}

/** Only the options the user gave: the engine fills in its defaults for the rest. */
export function analysisOptionsFrom(values: {
  [K in keyof typeof ANALYSIS_OPTIONS]?: (typeof ANALYSIS_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
}): AnalysisOptions {
  const options: AnalysisOptions = {};
  const k = intOption(values.k, '--k', 1);
  if (k !== undefined) options.k = k;
  const points = choiceOption(values.points, '--points', POINTS_MODES);
  if (points !== undefined) options.points = points;
  const mds = choiceOption(values.mds, '--mds', MDS_METHODS);
  if (mds !== undefined) options.mds = mds;
  const seed = intOption(values.seed, '--seed', 0, 2 ** 32 - 1);
  if (seed !== undefined) options.seed = seed;
  if (values.reference !== undefined) options.reference = values.reference;
  if (values['no-neighbours'] === true) options.neighbourOverlap = false;
  return options;
}

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: 'analyse an embedding bundle: results.json, CSV tables and a self-contained report.html',
  usage: `Usage: instruction-lens analyze <bundle> --out <dir> [options]

Analyses the embeddings in <bundle> (a folder <bundle>/<model>/<task>.npy, or a .jsonl file of
{"model", "task", "index", "vector"} lines) and writes results.json, displacement.csv, procrustes.csv
and report.html into <dir>. A bundle folder may carry evaluation data (queries.jsonl with ids and labels,
pairs.tsv, qrels.tsv, corpus_ids.txt, <model>/Corpus.npy and kinds.json, as \`embed\` writes them): then it also
writes evaluation.csv and prints a summary of the task evaluation.

Options:
  --out, -o <dir>            output folder (created if missing)
${ANALYSIS_USAGE}${MAP_USAGE}  --force                    replace results of an earlier run in <dir> (other files are never touched)
  --help, -h                 show this help
`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      out: { type: 'string', short: 'o' },
      force: { type: 'boolean' },
      ...ANALYSIS_OPTIONS,
      ...MAP_OPTIONS,
    });
    if (positionals.length === 0) throw new UsageError('missing the bundle (a folder or a .jsonl file)');
    if (positionals.length > 1) throw new UsageError(`expected one bundle, got ${positionals.length}: ${positionals.join(' ')}`);
    if (values.out === undefined || values.out === '') throw new UsageError('missing --out <dir>');
    const bundlePath = positionals[0];
    const outDir = values.out;
    const force = values.force === true;

    const options = analysisOptionsFrom(values);
    const mapFlags = mapFlagsFrom(values, options);
    // The analysis workers start (onnxruntime, kernels, compiled loops) while the bundle is read.
    prewarmAnalysis({ evaluation: mayHaveEvaluation(bundlePath) });

    // Refuse before the work, not after it.
    await checkOutputDir(outDir, force);
    const prepared = await prepareMapFlags(mapFlags, outDir, force);
    if (force) await refuseReplacingInputs(analysisOutputs(outDir, mapFlags.saveFrame), [bundlePath]);
    // Each model's PCA starts as soon as its files are read while a worker waits idle (an analysis in a saved frame,
    // a preview, has none); such a job is never queued, so if the bundle then fails it only runs to its end.
    const bundle = await readBundle(bundlePath, prepared.frame ? undefined : earlyPca(options, prepared.flags.saveFrame));
    if (options.reference !== undefined && !bundle.models.includes(options.reference)) {
      throw new UserError(
        `--reference: model '${options.reference}' is not in the bundle (models: ${bundle.models.join(', ')})`,
        bundlePath,
      );
    }
    io.stderr(
      `analysing ${bundleSize(bundle)} from ${bundlePath}\n`,
    );
    let stages: StageSeconds | undefined;
    // The models' identities (hashes of their values) are computed on this thread while the workers analyse.
    const identities = bundleModelIdentities(bundle);
    const { result, frame } = await analyseWithMapFlags(bundle, options, prepared, io.signal, (seconds) => (stages = seconds));
    result.provenance = await bundleProvenance(bundlePath, bundle, await identities, { name: 'instruction-lens', version: version() }, options);
    printWarnings(result, options, io);
    for (const line of evaluationSummary(result)) io.stdout(`${line}\n`);
    for (const file of await writeOutputs(outDir, result, { force })) io.stdout(`wrote ${file}\n`);
    for (const line of await writeFrameOutput(outDir, frame, force)) io.stdout(`${line}\n`);
    if (stages) io.stderr(stageSummary(stages));
  },
};

/** "3 models x 6 tasks x 200 queries", singular where it is one. */
export function bundleSize(bundle: { models: readonly string[]; tasks: readonly string[]; n: number }): string {
  const count = (value: number, one: string, many: string): string => `${value} ${value === 1 ? one : many}`;
  return `${count(bundle.models.length, 'model', 'models')} x ${count(bundle.tasks.length, 'task', 'tasks')} x ${count(bundle.n, 'query', 'queries')}`;
}

/** One stderr line: the workers' seconds per stage and the neighbour overlap's share (the part worth turning off). */
export function stageSummary(s: StageSeconds): string {
  const total = s.pca + s.displacement + s.procrustes + s.maps;
  const share = total > 0 ? Math.round((100 * s.neighbours) / total) : 0;
  const f = (x: number): string => `${x.toFixed(2)} s`;
  return (
    `analysis stages (worker seconds): PCA ${f(s.pca)}, displacement ${f(s.displacement)} ` +
    `(neighbour overlap ${f(s.neighbours)}, ${share}% of the analysis), Procrustes ${f(s.procrustes)}, maps ${f(s.maps)}\n`
  );
}
