/**
 * Section 2: our embedding pipeline (createEmbedder -> TransformersEmbedder: worker thread, transformers.js,
 * pooling, normalisation, transfer back) against a raw onnxruntime-node InferenceSession on the same ONNX file,
 * fed the same token batches (same texts, same length-sorted batches of the same size, same tokenizer options),
 * tokenised beforehand outside the timing. Repetitions alternate ours / raw, so each ratio is of a pair run
 * back to back. Also: the share of our time that tokenising takes (the same batches tokenised on this thread).
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { presetTasks } from '../src/inputs/presets';
import { planBatches } from '../src/models/batching';
import type { Embedder } from '../src/models/embedder';
import { resolveFamily } from '../src/models/families';
import { createEmbedder } from '../src/models/registry';
import { benchQueries, GLOVE, sharedModelsMissing, USE_LITE } from './queries';
import { pairedRatio, summarize, type Summary } from './stats';

/** TransformersEmbedder's default batch size. */
const BATCH_SIZE = 32;

export interface EmbeddingOutcome {
  model: string;
  dtype: string;
  texts: number;
  ours?: Summary;
  raw?: Summary;
  ratio?: Summary;
  tokenizeShare?: Summary;
  /** ours / (raw + tokenising): against the runtime plus the tokenising any pipeline must do. */
  ratioWithTokenizing?: Summary;
  skipped?: string;
}

type Ort = typeof import('onnxruntime-node');
type OrtTensor = import('onnxruntime-node').Tensor;

interface TokenBatch {
  input_ids: { data: BigInt64Array; dims: number[] };
  attention_mask: { data: BigInt64Array; dims: number[] };
}

export async function benchEmbedding(quick: boolean, log: (line: string) => void): Promise<EmbeddingOutcome[]> {
  const queryCount = quick ? 40 : 200;
  const reps = quick ? 2 : 3;
  const missing = sharedModelsMissing();
  const cases: { folder: string; dtype: string }[] = [
    { folder: USE_LITE, dtype: 'fp32' },
    { folder: USE_LITE, dtype: 'q8' },
    { folder: GLOVE, dtype: 'fp32' },
    { folder: GLOVE, dtype: 'q8' },
  ];
  const out: EmbeddingOutcome[] = [];
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'il-bench-embed-'));
  try {
    for (const c of cases) {
      const model = path.basename(c.folder);
      const onnxFile = path.join(c.folder, 'onnx', c.dtype === 'q8' ? 'model_quantized.onnx' : 'model.onnx');
      const base: EmbeddingOutcome = { model, dtype: c.dtype, texts: 0 };
      if (missing) {
        out.push({ ...base, skipped: missing });
        continue;
      }
      if (!(await exists(onnxFile))) {
        out.push({ ...base, skipped: `no ${path.relative(c.folder, onnxFile)} in the shared model (only fp32 exists)` });
        log(`  ${model} ${c.dtype}: skipped (no quantized file)`);
        continue;
      }
      log(`  ${model} ${c.dtype}`);
      out.push(await benchOne(c.folder, c.dtype, onnxFile, queryCount, reps, cacheDir, log));
    }
  } finally {
    await fs.rm(cacheDir, { recursive: true, force: true });
  }
  return out;
}

async function benchOne(
  folder: string,
  dtype: string,
  onnxFile: string,
  queryCount: number,
  reps: number,
  cacheDir: string,
  log: (line: string) => void,
): Promise<EmbeddingOutcome> {
  const embedder: Embedder = await createEmbedder(folder, { dtype, offline: true, cacheDir });
  try {
    const queries = benchQueries(queryCount);
    const texts = presetTasks('paper-en').flatMap((t) => queries.map((q) => embedder.render(t.instruction, q)));
    await embedder.embed(texts); // loads the worker and the model, and warms it up on every batch shape: not timed

    const transformers = require('@huggingface/transformers') as typeof import('@huggingface/transformers');
    transformers.env.allowRemoteModels = false;
    transformers.env.logLevel = transformers.LogLevel.ERROR;
    const tokenizer = (await transformers.AutoTokenizer.from_pretrained(folder)) as unknown as (
      texts: string[],
      options: Record<string, unknown>,
    ) => TokenBatch;
    const family = resolveFamily(folder, JSON.parse(await fs.readFile(path.join(folder, 'config.json'), 'utf8')), undefined);
    const modelMax = (tokenizer as unknown as { model_max_length?: number }).model_max_length ?? Infinity;
    const options = { padding: true, truncation: true, max_length: Math.min(family.maxLength, modelMax) };
    const batches = planBatches(texts, BATCH_SIZE).map((b) => b.map((i) => texts[i]));
    const tokenize = (): TokenBatch[] => batches.map((b) => tokenizer(b, options));

    const ort = require('onnxruntime-node') as Ort;
    const session = await ort.InferenceSession.create(onnxFile, { executionProviders: ['cpu'] });
    const feeds = tokenize().map((tb) => feedsFor(ort, session.inputNames, tb));
    for (const f of feeds) await session.run(f); // warm-up on every batch shape

    const ours: number[] = [];
    const raw: number[] = [];
    const tokenizeSeconds: number[] = [];
    for (let r = 0; r < reps; r++) {
      let start = performance.now();
      await embedder.embed(texts);
      ours.push((performance.now() - start) / 1000);
      start = performance.now();
      for (const f of feeds) await session.run(f);
      raw.push((performance.now() - start) / 1000);
      start = performance.now();
      tokenize();
      tokenizeSeconds.push((performance.now() - start) / 1000);
      log(`    rep ${r + 1}: ours ${ours[r].toFixed(3)} s, raw ${raw[r].toFixed(3)} s, tokenising ${tokenizeSeconds[r].toFixed(3)} s`);
    }
    await session.release();
    return {
      model: path.basename(folder),
      dtype,
      texts: texts.length,
      ours: summarize(ours),
      raw: summarize(raw),
      ratio: pairedRatio(ours, raw),
      tokenizeShare: pairedRatio(tokenizeSeconds, ours),
      ratioWithTokenizing: pairedRatio(ours, raw.map((x, i) => x + tokenizeSeconds[i])),
    };
  } finally {
    await embedder.dispose();
  }
}

function feedsFor(ort: Ort, inputNames: readonly string[], batch: TokenBatch): Record<string, OrtTensor> {
  const feeds: Record<string, OrtTensor> = {};
  for (const name of inputNames) {
    if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', batch.input_ids.data, batch.input_ids.dims);
    else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', batch.attention_mask.data, batch.attention_mask.dims);
    else if (name === 'token_type_ids') {
      feeds[name] = new ort.Tensor('int64', new BigInt64Array(batch.input_ids.data.length), batch.input_ids.dims);
    } else throw new Error(`raw session: unexpected model input ${name}`);
  }
  return feeds;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
