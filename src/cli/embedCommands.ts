/**
 * `instruction-lens embed` (queries x instructions x models -> an embedding bundle) and `instruction-lens run`
 * (the same, then the analysis exactly as `analyze` runs it on the written bundle).
 */
import * as fs from 'node:fs/promises';
import { forceHint } from '../engine/io/forceHint';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleAsStored, checkBundleNames, checkBundleTarget, writeBundle } from '../engine/io/bundle';
import { UserError } from '../engine/errors';
import { analysisOutputs, type Replaced, refuseReplacingInputs } from '../engine/io/inputGuard';
import { checkOutputDir, writeOutputs } from '../engine/io/outputs';
import { checkWritableFolder } from '../engine/io/writable';
import { prewarmAnalysis, type StageSeconds } from '../engine/method/runAnalysis';
import type { EmbeddingBundle } from '../engine/types';
import { type EvaluationSources, resolveEvaluation } from '../inputs/evaluationFiles';
import { readInstructionFile } from '../inputs/instructions';
import { readQueries } from '../inputs/queries';
import { EmbeddingCache } from '../models/cache';
import type { Embedder, TaskSpec } from '../models/embedder';
import { embedAll } from '../models/pipeline';
import { createEmbedder } from '../models/registry';
import { DTYPES } from '../models/transformersEmbedder';
import { CLI_SURFACE, messageText } from '../engine/messages';
import { scriptCoverage } from '../models/languages';
import { analysisOptionsFrom, ANALYSIS_OPTIONS, ANALYSIS_USAGE, bundleSize, printWarnings, stageSummary } from './analyzeCommand';
import { choiceOption, type CliIo, type Command, intOption, parseCommandArgs, quoted, UsageError } from './args';
import { modelOptionWarnings } from './modelOptions';
import { evaluationSummary } from './evaluationSummary';
import { analyseWithMapFlags, MAP_OPTIONS, MAP_USAGE, mapFlagsFrom, prepareMapFlags, writeFrameOutput } from './mapFlags';
import { ProgressPrinter } from './progress';
import { type ModelProvenance, provenanceOptions } from '../engine/io/provenance';
import { version } from './version';

async function isNonEmptyFolder(dir: string): Promise<boolean> {
  try {
    return (await fs.readdir(dir)).length > 0;
  } catch {
    return false;
  }
}

/** Where Hub downloads and the embedding cache live unless --cache says otherwise. */
export function defaultCacheRoot(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'instruction-lens');
}

const EMBED_OPTIONS = {
  queries: { type: 'string', short: 'q' },
  instructions: { type: 'string', short: 'i' },
  models: { type: 'string', short: 'm' },
  out: { type: 'string', short: 'o' },
  cache: { type: 'string' },
  offline: { type: 'boolean' },
  dtype: { type: 'string' },
  'batch-size': { type: 'string' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  force: { type: 'boolean' },
  pairs: { type: 'string' },
  corpus: { type: 'string' },
  qrels: { type: 'string' },
} as const;

const EMBED_USAGE = `  --queries, -q <file>       queries: .txt (one per line, # comments), .jsonl, .csv, .tsv or .json
  --instructions, -i <src>   instruction set (.json/.yaml with {"tasks": [{"name", "instruction"}]}) or a preset:
                             paper-en, paper-ja. Base (no instruction) is always added.
  --models, -m <ids>         comma-separated model ids (default use-lite): a Hugging Face Hub id, a local model
                             folder, use-lite (built-in, offline), or openai:NAME@BASEURL (OpenAI-compatible
                             /v1/embeddings; API key from INSTRUCTION_LENS_API_KEY or OPENAI_API_KEY), or
                             bundle:PATH[#MODEL] (embeddings computed elsewhere, matched by query and instruction)
  --cache <dir>              Hub downloads and the embedding cache (default ${path.join('~', '.cache', 'instruction-lens')})
  --offline                  no network: Hub models only from the cache, endpoints only on this machine
  --dtype <d>                ONNX weights for Hub and local ONNX models: fp32 (default), fp16, q8, q4
  --batch-size <N>           texts per model call (not for bundle: models)
  --pairs <file>             STS pairs (id1, id2, score; CSV/TSV with a header, or JSONL); ids are query ids
  --corpus <file>            documents for retrieval and reranking (id or _id, text, optional title; CSV/TSV/JSONL,
                             BEIR's corpus.jsonl as is); needs --qrels
  --qrels <file>             relevance (query_id, doc_id, score; BEIR's qrels/*.tsv as is); needs --corpus
                             These override the instruction set's evaluation block; labels (classification,
                             clustering) come from the query file's label column or field.
  --timeout <seconds>        openai: endpoints: the most one request may take, retries and waits included (default 120)
  --retries <N>              openai: endpoints: retries after HTTP 429, 5xx or a network error (default 4)
  --force                    replace the results of an earlier run in the output folder
`;

interface EmbedRequest {
  queriesFile: string;
  instructions: string;
  models: string[];
  cacheRoot: string;
  offline: boolean;
  dtype?: string;
  batchSize?: number;
  /** The evaluation files given on the command line (each overrides the instruction set's). */
  evaluation: EvaluationSources;
  requestTimeoutMs?: number;
  requestRetries?: number;
  /** Options that some of the models ignore, one line each (printed before the work). */
  optionWarnings: string[];
}

function embedRequestFrom(values: Record<string, string | boolean | undefined>): EmbedRequest {
  // parseCommandArgs refuses empty values, so a string here is a value the user gave.
  const text = (name: string) => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const queriesFile = text('queries');
  if (!queriesFile) throw new UsageError('missing --queries <file>');
  const instructions = text('instructions');
  if (!instructions) throw new UsageError('missing --instructions <file|paper-en|paper-ja>');
  const models = (text('models') ?? 'use-lite').split(',').map((id) => id.trim());
  if (models.some((id) => id === '')) throw new UsageError(`--models has an empty entry (got ${quoted(text('models') ?? '')})`);
  const request = {
    queriesFile,
    instructions,
    models,
    cacheRoot: path.resolve(text('cache') ?? defaultCacheRoot()),
    offline: values.offline === true,
    dtype: choiceOption(text('dtype'), '--dtype', DTYPES),
    batchSize: intOption(text('batch-size'), '--batch-size', 1, 4096),
    evaluation: { pairs: text('pairs'), corpus: text('corpus'), qrels: text('qrels') },
    requestTimeoutMs: secondsOption(text('timeout'), '--timeout'),
    requestRetries: intOption(text('retries'), '--retries', 0, 20),
  };
  const given = { dtype: text('dtype'), batchSize: text('batch-size'), timeout: text('timeout'), retries: text('retries') };
  return { ...request, optionWarnings: modelOptionWarnings(models, given) };
}

/** A duration in seconds (a positive number, fractions allowed, at most an hour) as ms; undefined when absent. */
function secondsOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const seconds = /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  if (!(seconds > 0 && seconds <= 3600)) throw new UsageError(`${name} must be a number of seconds above 0 and at most 3600 (got ${quoted(value)})`);
  return Math.round(seconds * 1000);
}

/**
 * Reads the inputs, embeds with every model (cache first) and returns the bundle, and each model's identity (for the
 * result's provenance, read before the embedders close). First, no input may be among what `replaced` names.
 */
async function embedRequest(
  request: EmbedRequest,
  io: CliIo,
  replaced: Replaced,
): Promise<{ bundle: EmbeddingBundle; models: ModelProvenance[]; tasks: TaskSpec[]; evaluationFiles: string[] }> {
  for (const warning of request.optionWarnings) io.stderr(`warning: ${warning} (going on)\n`);
  const queryFile = await readQueries(request.queriesFile);
  for (const duplicate of queryFile.duplicates) {
    io.stderr(`note: ${request.queriesFile}: duplicate query kept once (lines ${duplicate.lines.join(', ')}): ${duplicate.text}\n`);
  }
  const instructionSet = await readInstructionFile(request.instructions);
  for (const warning of instructionSet.warnings) io.stderr(`warning: ${warning}\n`);
  const tasks = instructionSet.tasks;
  // Every evaluation file is read and checked before any embedding work.
  const sources: EvaluationSources = {
    pairs: request.evaluation.pairs ?? instructionSet.evaluation.pairs,
    corpus: request.evaluation.corpus ?? instructionSet.evaluation.corpus,
    qrels: request.evaluation.qrels ?? instructionSet.evaluation.qrels,
  };
  const evaluationFiles = [sources.pairs, sources.corpus, sources.qrels].filter((file): file is string => file !== undefined);
  await refuseReplacingInputs(replaced, [request.queriesFile, request.instructions, ...evaluationFiles]);
  const { evaluation, documents } = await resolveEvaluation(request.queriesFile, queryFile, sources, tasks);
  const coverage = scriptCoverage(queryFile.queries, queryFile.lines, request.models);
  if (coverage) io.stderr(`warning: ${messageText(coverage, CLI_SURFACE)} (going on)\n`);
  for (const folder of ['embeddings', 'models']) {
    await checkWritableFolder(path.join(request.cacheRoot, folder), 'cache folder (choose another with --cache)');
  }
  const apiKey = process.env.INSTRUCTION_LENS_API_KEY || process.env.OPENAI_API_KEY || undefined;
  const embedders: Embedder[] = [];
  const progress = new ProgressPrinter(io);
  try {
    for (const spec of request.models) {
      embedders.push(
        await createEmbedder(spec, {
          cacheDir: path.join(request.cacheRoot, 'models'),
          offline: request.offline,
          dtype: request.dtype,
          apiKey,
          batchSize: request.batchSize,
          requestTimeoutMs: request.requestTimeoutMs,
          requestRetries: request.requestRetries,
        }),
      );
    }
    const names = embedders.map((embedder) => embedder.name);
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated !== undefined) throw new UserError(`--models: two models are both named '${repeated}'`);
    checkBundleNames(names, tasks.map((task) => task.name)); // before the work, not when the bundle is written
    const corpusNote = documents ? ` and ${documents.length} documents` : '';
    io.stderr(`embedding ${queryFile.queries.length} queries x ${tasks.length} tasks${corpusNote} with ${names.join(', ')}\n`);
    const cache = new EmbeddingCache(path.join(request.cacheRoot, 'embeddings'), {
      onWarning: (message) => io.stderr(`warning: ${message}\n`),
    });
    const { bundle, stats } = await embedAll({
      queries: queryFile.queries,
      documents,
      queryLines: queryFile.lines,
      tasks,
      embedders,
      cache,
      signal: io.signal,
      onProgress: (event) => progress.update(event),
    });
    progress.finish();
    io.stderr(`embedding cache: ${stats.hits} hits, ${stats.misses} misses\n`);
    if (evaluation) bundle.evaluation = evaluation;
    const models = await Promise.all(embedders.map(async (embedder, i) => ({ id: request.models[i], name: embedder.name, identity: await embedder.identity() })));
    return { bundle, models, tasks, evaluationFiles };
  } finally {
    progress.finish();
    await Promise.all(embedders.map((embedder) => embedder.dispose()));
  }
}

export const embedCommand: Command = {
  name: 'embed',
  summary: 'embed queries under each instruction with each model: an embedding bundle folder',
  usage: `Usage: instruction-lens embed --queries FILE --instructions FILE|paper-en|paper-ja --models ID[,ID...] --out DIR

Writes the bundle <DIR>/<model>/<task>.npy (+ queries.txt, tasks.txt, models.txt, instructions.json), which
\`instruction-lens analyze\` reads. With evaluation data (labels, --pairs, --corpus and --qrels, or the instruction
set's evaluation block) it also writes queries.jsonl (ids and labels, instead of queries.txt), pairs.tsv, qrels.tsv,
corpus_ids.txt, kinds.json and <DIR>/<model>/Corpus.npy.

Options:
  --out, -o <dir>            the bundle folder (must not exist or be empty, unless --force replaces an old bundle)
${EMBED_USAGE}  --help, -h                 show this help
`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, EMBED_OPTIONS);
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${quoted(positionals[0])} (this command takes options only)`);
    const out = values.out;
    if (!out) throw new UsageError('missing --out <dir>');
    const request = embedRequestFrom(values);
    // Refuse before the work, not after it.
    await checkBundleTarget(out, { overwrite: values.force === true });
    await checkWritableFolder(out, 'bundle folder');
    const { bundle } = await embedRequest(request, io, { folders: values.force === true ? [out] : [], files: [] });
    for (const failure of bundle.failedModels ?? []) {
      io.stderr(`warning: ${messageText({ code: 'modelFailed', params: failure }, CLI_SURFACE)}\n`);
    }
    await writeBundle(out, bundle, { overwrite: values.force === true });
    io.stdout(`wrote ${out}\n`);
  },
};

export const runCommand: Command = {
  name: 'run',
  summary: 'embed, then analyse: the bundle in <out>/embeddings and the analysis outputs in <out>',
  usage: `Usage: instruction-lens run --queries FILE --instructions FILE|paper-en|paper-ja --models ID[,ID...] --out DIR [options]

Embeds, writes the bundle to <DIR>/embeddings/, then runs the analysis exactly as \`instruction-lens analyze
<DIR>/embeddings --out <DIR>\` would: results.json, displacement.csv, procrustes.csv, report.html.

Options:
  --out, -o <dir>            output folder
${EMBED_USAGE}${ANALYSIS_USAGE}${MAP_USAGE}  --help, -h                 show this help
`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { ...EMBED_OPTIONS, ...ANALYSIS_OPTIONS, ...MAP_OPTIONS });
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${quoted(positionals[0])} (this command takes options only)`);
    const out = values.out;
    if (!out) throw new UsageError('missing --out <dir>');
    const force = values.force === true;
    const request = embedRequestFrom(values);
    const options = analysisOptionsFrom(values);
    const mapFlags = mapFlagsFrom(values, options);
    // Refuse before the work, not after it.
    await checkOutputDir(out, force);
    const prepared = await prepareMapFlags(mapFlags, out, force);
    const bundleDir = path.join(out, 'embeddings');
    if (!force && (await isNonEmptyFolder(bundleDir))) {
      throw new UserError(`an earlier run's bundle is here; not overwriting it (${forceHint('it')})`, bundleDir);
    }
    await checkBundleTarget(bundleDir, { overwrite: force });
    await checkWritableFolder(bundleDir, 'bundle folder');
    prewarmAnalysis(); // the analysis workers start while the models embed
    const outputs = analysisOutputs(out, mapFlags.saveFrame);
    const replaced: Replaced = force ? { folders: [bundleDir, ...outputs.folders], files: outputs.files } : { folders: [], files: [] };
    const { bundle, models, tasks, evaluationFiles } = await embedRequest(request, io, replaced);
    const known = [...bundle.models, ...(bundle.failedModels ?? []).map((failure) => failure.model)];
    if (options.reference !== undefined && !known.includes(options.reference)) {
      throw new UsageError(`--reference: '${options.reference}' is not one of the models (${bundle.models.join(', ')})`);
    }
    await writeBundle(bundleDir, bundle, { overwrite: force });
    io.stdout(`wrote ${bundleDir}\n`);
    io.stderr(`analysing ${bundleSize(bundle)}\n`);
    // The stored (float32) values, so that `analyze` on the written bundle reproduces these results exactly.
    let stages: StageSeconds | undefined;
    const { result, frame } = await analyseWithMapFlags(bundleAsStored(bundle), options, prepared, io.signal, (seconds) => (stages = seconds));
    result.provenance = {
      tool: { name: 'instruction-lens', version: version() },
      queryFile: request.queriesFile,
      instructions: { source: request.instructions, tasks: tasks.map(({ name, instruction }) => ({ name, instruction })) },
      evaluationFiles,
      models,
      options: provenanceOptions(options),
    };
    printWarnings(result, options, io);
    for (const line of evaluationSummary(result)) io.stdout(`${line}\n`);
    for (const file of await writeOutputs(out, result, { force })) io.stdout(`wrote ${file}\n`);
    for (const line of await writeFrameOutput(out, frame, force)) io.stdout(`${line}\n`);
    if (stages) io.stderr(stageSummary(stages));
  },
};
