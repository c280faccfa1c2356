/**
 * `instruction-lens embed` (queries x instructions x models -> an embedding bundle) and `instruction-lens run`
 * (the same, then the analysis exactly as `analyze` runs it on the written bundle).
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleAsStored, writeBundle } from '../engine/io/bundle';
import { UserError } from '../engine/errors';
import { checkOutputDir, writeOutputs } from '../engine/io/outputs';
import { prewarmAnalysis, runAnalysis, type StageSeconds } from '../engine/method/runAnalysis';
import type { EmbeddingBundle } from '../engine/types';
import { readInstructionSet } from '../inputs/instructions';
import { readQueries } from '../inputs/queries';
import { EmbeddingCache } from '../models/cache';
import type { Embedder } from '../models/embedder';
import { embedAll } from '../models/pipeline';
import { createEmbedder } from '../models/registry';
import { analysisOptionsFrom, ANALYSIS_OPTIONS, ANALYSIS_USAGE, stageSummary } from './analyzeCommand';
import { type CliIo, type Command, intOption, parseCommandArgs, UsageError } from './args';
import { ProgressPrinter } from './progress';

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
  force: { type: 'boolean' },
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
  --dtype <d>                ONNX weights for transformers.js models: fp32 (default), fp16, q8, q4
  --batch-size <N>           texts per model call
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
}

function embedRequestFrom(values: Record<string, string | boolean | undefined>): EmbedRequest {
  const text = (name: string) => {
    const value = values[name];
    return typeof value === 'string' && value.trim() !== '' ? value : undefined;
  };
  const queriesFile = text('queries');
  if (!queriesFile) throw new UsageError('missing --queries <file>');
  const instructions = text('instructions');
  if (!instructions) throw new UsageError('missing --instructions <file|paper-en|paper-ja>');
  const models = (text('models') ?? 'use-lite').split(',').map((id) => id.trim());
  if (models.some((id) => id === '')) throw new UsageError(`--models has an empty entry: '${text('models')}'`);
  return {
    queriesFile,
    instructions,
    models,
    cacheRoot: path.resolve(text('cache') ?? defaultCacheRoot()),
    offline: values.offline === true,
    dtype: text('dtype'),
    batchSize: intOption(text('batch-size'), '--batch-size', 1, 4096),
  };
}

/** Reads the inputs, embeds with every model (cache first) and returns the bundle. */
async function embedRequest(request: EmbedRequest, io: CliIo): Promise<EmbeddingBundle> {
  const queryFile = await readQueries(request.queriesFile);
  for (const duplicate of queryFile.duplicates) {
    io.stderr(`note: ${request.queriesFile}: duplicate query kept once (lines ${duplicate.lines.join(', ')}): ${duplicate.text}\n`);
  }
  const tasks = await readInstructionSet(request.instructions);
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
        }),
      );
    }
    const names = embedders.map((embedder) => embedder.name);
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated !== undefined) throw new UserError(`--models: two models are both named '${repeated}'`);
    io.stderr(
      `embedding ${queryFile.queries.length} queries x ${tasks.length} tasks with ${names.join(', ')}\n`,
    );
    const cache = new EmbeddingCache(path.join(request.cacheRoot, 'embeddings'));
    const { bundle, stats } = await embedAll({
      queries: queryFile.queries,
      tasks,
      embedders,
      cache,
      signal: io.signal,
      onProgress: (event) => progress.update(event),
    });
    progress.finish();
    io.stderr(`embedding cache: ${stats.hits} hits, ${stats.misses} misses\n`);
    return bundle;
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
\`instruction-lens analyze\` reads.

Options:
  --out, -o <dir>            the bundle folder (must not exist or be empty, unless --force replaces an old bundle)
${EMBED_USAGE}  --help, -h                 show this help
`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, EMBED_OPTIONS);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const out = values.out;
    if (!out) throw new UsageError('missing --out <dir>');
    const bundle = await embedRequest(embedRequestFrom(values), io);
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
${EMBED_USAGE}${ANALYSIS_USAGE}  --help, -h                 show this help
`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { ...EMBED_OPTIONS, ...ANALYSIS_OPTIONS });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const out = values.out;
    if (!out) throw new UsageError('missing --out <dir>');
    const force = values.force === true;
    const request = embedRequestFrom(values);
    const options = analysisOptionsFrom(values);
    // Refuse before the work, not after it.
    await checkOutputDir(out, force);
    const bundleDir = path.join(out, 'embeddings');
    if (!force && (await isNonEmptyFolder(bundleDir))) {
      throw new UserError('an earlier run\'s bundle is here; not overwriting it (use --force to replace it)', bundleDir);
    }
    prewarmAnalysis(); // the analysis workers start while the models embed
    const bundle = await embedRequest(request, io);
    if (options.reference !== undefined && !bundle.models.includes(options.reference)) {
      throw new UsageError(`--reference: '${options.reference}' is not one of the models (${bundle.models.join(', ')})`);
    }
    await writeBundle(bundleDir, bundle, { overwrite: force });
    io.stdout(`wrote ${bundleDir}\n`);
    io.stderr(`analysing ${bundle.models.length} models x ${bundle.tasks.length} tasks x ${bundle.n} queries\n`);
    // The stored (float32) values, so that `analyze` on the written bundle reproduces these results exactly.
    let stages: StageSeconds | undefined;
    const result = await runAnalysis(bundleAsStored(bundle), options, io.signal, (seconds) => (stages = seconds));
    for (const warning of result.warnings) io.stderr(`warning: ${warning}\n`);
    for (const file of await writeOutputs(out, result, { force })) io.stdout(`wrote ${file}\n`);
    if (stages) io.stderr(stageSummary(stages));
  },
};
