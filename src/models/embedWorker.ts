/**
 * Worker thread that runs one transformers.js model (bundled to dist/embedWorker.js). The caller's thread sends
 * `load` once, then one `batch` at a time; the worker tokenizes, runs the ONNX model, pools and normalises.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { UserError } from '../engine/errors';
import { fetchDenseLayer, loadDenseLayer } from './dense';
import { INSTRUCTION_SEPARATOR } from './families';
import { applyDense, type DenseLayer, maskLeadingTokens, normalizeL2, poolTokens, splitRows } from './pooling';
import {
  hubCacheFolder,
  type LoadRequest,
  NETWORK_FAILURE,
  onnxFileStem,
  unavailableMessage,
  type WorkerMessage,
  type WorkerRequest,
} from './workerProtocol';

type Transformers = typeof import('@huggingface/transformers');

interface Tensor {
  data: ArrayLike<number | bigint>;
  dims: number[];
  type: string;
  /** transformers.js Tensor conversion (float16 outputs arrive as raw Uint16Array bits). */
  to(type: 'float32'): Tensor;
}

function float32(tensor: Tensor): ArrayLike<number> {
  return (tensor.type === 'float32' ? tensor : tensor.to('float32')).data as ArrayLike<number>;
}

interface Tokenizer {
  (texts: string | string[], options: Record<string, unknown>): Record<string, Tensor>;
  /** undefined for a token outside the vocabulary */
  convert_tokens_to_ids(token: string): number | undefined;
  unk_token_id?: number | null;
}

interface LoadedModel {
  request: LoadRequest;
  tokenizer: Tokenizer;
  model: (inputs: Record<string, Tensor>) => Promise<Record<string, Tensor>>;
  pooling: 'cls' | 'mean' | 'last' | 'output';
  dense?: DenseLayer;
  /** The tokenizer's own limit (model_max_length); the family's maxLength never exceeds it. */
  modelMaxLength: number;
  /** Appended to every text: the family's end token when this tokenizer does not add it itself. */
  textSuffix: string;
}

const port = parentPort;
if (!port) throw new Error('embedWorker must run in a worker thread');

let loaded: LoadedModel | undefined;

function send(message: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

port.on('message', (request: WorkerRequest) => {
  if (request.type === 'load') {
    load(request).then(
      (model) => {
        loaded = model;
        send({ type: 'loaded', pooling: model.pooling, outputs: outputNames(model) });
      },
      (error: unknown) => send(errorMessage(error, undefined, request)),
    );
  } else if (request.type === 'tokens') {
    Promise.resolve()
      .then(() => countUnknownTokens(request.texts))
      .then(
        (counts) => send({ type: 'tokens', id: request.id, counts }),
        (error: unknown) => send(errorMessage(error, request.id, loaded?.request)),
      );
  } else if (request.type === 'count') {
    try {
      if (!loaded) throw new Error('embedWorker: count before load');
      send({ type: 'counts', id: request.id, counts: tokenCounts(loaded, request.texts) });
    } catch (error) {
      send(errorMessage(error, request.id, loaded?.request));
    }
  } else {
    embedBatch(request.texts).then(
      ({ dim, data }) => send({ type: 'vectors', id: request.id, dim, data }, [data.buffer as ArrayBuffer]),
      (error: unknown) => send(errorMessage(error, request.id, loaded?.request)),
    );
  }
});

function sessionNames(model: LoadedModel, kind: 'inputNames' | 'outputNames'): string[] {
  const sessions = (model.model as unknown as { sessions: Record<string, Record<typeof kind, string[]>> }).sessions;
  return sessions.model?.[kind] ?? [];
}

function outputNames(model: LoadedModel): string[] {
  return sessionNames(model, 'outputNames');
}

async function load(request: LoadRequest): Promise<LoadedModel> {
  // External to the bundle (esbuild.mjs): loaded from node_modules at run time.
  const transformers: Transformers = require('@huggingface/transformers');
  const { env, AutoConfig, AutoTokenizer, AutoModel, PreTrainedModel, LogLevel } = transformers;
  // Only errors: transformers.js warns about model classes it does not know (harmless for plain encoders).
  env.logLevel = LogLevel.ERROR;
  env.cacheDir = request.cacheDir;
  env.localModelPath = request.cacheDir;
  env.allowLocalModels = true;
  env.allowRemoteModels = !request.offline;
  env.remoteHost = request.hubUrl;
  // transformers.js reports reading a file from disk with the same events as downloading it: whether a file is
  // downloaded is decided when its load starts ('initiate', before anything is written), by whether it is on disk.
  // The model's files on disk: the local folder, or the Hub model's place in the cache folder.
  const folder = path.isAbsolute(request.model) ? request.model : hubCacheFolder(request.cacheDir, request.model, request.revision);
  const fromDisk = new Map<string, boolean>();
  const progress_callback = (info: { status: string; file?: string; loaded?: number; total?: number }): void => {
    if (info.file === undefined) return;
    if (!fromDisk.has(info.file)) fromDisk.set(info.file, fs.existsSync(path.join(folder, info.file)));
    if (info.status === 'progress') {
      send({ type: 'file', file: info.file, loaded: info.loaded ?? 0, total: info.total ?? 0, fromDisk: fromDisk.get(info.file) === true });
    }
  };
  const common = { revision: request.revision, progress_callback, local_files_only: request.offline };
  const tokenizer = await AutoTokenizer.from_pretrained(request.model, common);
  const config = await AutoConfig.from_pretrained(request.model, common);
  const stem = onnxFileStem(config as { is_encoder_decoder?: boolean });
  const modelOptions = { ...common, config, dtype: request.dtype as 'fp32' };
  // AutoModel would pick T5Model for an encoder-decoder export, which loads (and downloads) the decoder too and
  // cannot run without decoder inputs: the encoder is loaded alone, as an encoder-only model.
  const model =
    stem === 'model'
      ? await AutoModel.from_pretrained(request.model, modelOptions)
      : await PreTrainedModel.from_pretrained(request.model, { ...modelOptions, model_file_name: stem });
  const candidate: LoadedModel = {
    request,
    tokenizer: tokenizer as unknown as Tokenizer,
    model: model as unknown as LoadedModel['model'],
    pooling: 'mean',
    modelMaxLength: (tokenizer as unknown as { model_max_length?: number }).model_max_length ?? Infinity,
    textSuffix: '',
  };
  const outputs = outputNames(candidate);
  const hasSentence = outputs.includes('sentence_embedding');
  const hasTokens = outputs.includes('last_hidden_state');
  // A causal decoder export (it takes a key/value cache) sees the whole text only at its last token: decoder
  // embedders (Qwen3-Embedding, e5-mistral, Sarashina) pool that one, so `auto` does too.
  const decoder = sessionNames(candidate, 'inputNames').some((name) => name.startsWith('past_key_values.'));
  const pooling = request.pooling === 'auto' ? (hasSentence ? 'output' : decoder ? 'last' : 'mean') : request.pooling;
  const name = request.displayName;
  if (pooling === 'output' && !hasSentence) {
    throw new UserError(
      `model ${name} has no 'sentence_embedding' output (outputs: ${outputs.join(', ')}); use pooling mean, cls or last`,
    );
  }
  if (pooling !== 'output' && !hasTokens) {
    throw new UserError(
      `model ${name} has no 'last_hidden_state' output to pool (outputs: ${outputs.join(', ')})` +
        (hasSentence ? `; use pooling 'output'` : ''),
    );
  }
  candidate.pooling = pooling;
  if (request.endToken !== undefined) candidate.textSuffix = missingEndToken(candidate, request.endToken);
  if (request.instructionMasked) {
    if (pooling !== 'mean') throw new UserError(`INSTRUCTOR model ${name} needs mean pooling over the text tokens`);
    if (!path.isAbsolute(request.model) && !request.offline) {
      await fetchDenseLayer(request.hubUrl, request.model, request.revision ?? 'main', folder);
    }
    const dense = loadDenseLayer(folder);
    if (!dense) {
      throw new UserError(
        `INSTRUCTOR model ${name}: its Dense layer was not found (expected 2_Dense/config.json and ` +
          `2_Dense/model.safetensors in ${folder}); copy the original model's 2_Dense folder there, or choose the ` +
          `generic family to embed without the instruction masking and Dense layer`,
      );
    }
    candidate.dense = dense;
  }
  return candidate;
}

/**
 * Embeds a batch so that each text's vector does not depend on the other texts of the batch, to the last bit: a
 * vector recomputed later (a repaired cache entry, a resumed run) must equal the first one, or results change.
 * Padded batches do not give that (measured with use-lite: up to 3e-8, in 2 of 30 random batches): onnxruntime's
 * reduction over the padded sequence (the mean pooling's ReduceSum) sums in an order that depends on the padded
 * length and the batch's shape, and a batch of one row takes another path than several. So the model runs once per
 * token count, on the texts of that count only (no padding at all), and a text alone at its count runs as two
 * copies of itself. The caller plans batches by token count (countTokens), so that a batch is mostly one model run.
 * test/repair.test.ts checks that a text's vector is bit-identical whatever batch it is in, for both shared models.
 */
async function embedBatch(texts: string[]): Promise<{ dim: number; data: Float32Array }> {
  const model = loaded;
  if (!model) throw new Error('embedWorker: batch before load');
  const groups = new Map<number, number[]>(); // token count -> indices of the texts that have it
  tokenCounts(model, texts).forEach((count, i) => {
    const group = groups.get(count);
    if (group) group.push(i);
    else groups.set(count, [i]);
  });
  const rows = new Array<Float32Array>(texts.length);
  for (const indices of groups.values()) {
    const groupTexts = indices.map((i) => texts[i]);
    const vectors = await embedGroup(model, groupTexts.length === 1 ? [groupTexts[0], groupTexts[0]] : groupTexts);
    indices.forEach((textIndex, row) => (rows[textIndex] = vectors[row]));
  }
  const dim = rows[0]?.length ?? 0;
  const data = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => data.set(row, i * dim));
  return { dim, data };
}

function maxLengthOf(model: LoadedModel): number {
  return Math.min(model.request.maxLength, model.modelMaxLength);
}

/** Tokens of each text as the model sees it (after truncation; INSTRUCTOR's separator removed, as embedGroup does). */
function tokenCounts(model: LoadedModel, texts: string[]): number[] {
  const seen = model.request.instructionMasked ? texts.map((text) => text.replace(INSTRUCTION_SEPARATOR, '')) : texts;
  const counts: number[] = [];
  // In slices, so that one very long text does not pad a whole large request.
  for (let start = 0; start < seen.length; start += 64) {
    const mask = model.tokenizer(seen.slice(start, start + 64), { padding: true, truncation: true, max_length: maxLengthOf(model) }).attention_mask;
    const [rows, columns] = mask.dims;
    for (let r = 0; r < rows; r++) {
      let count = 0;
      for (let c = 0; c < columns; c++) count += Number(mask.data[r * columns + c]);
      counts.push(count);
    }
  }
  return counts;
}

/** One model run over `texts`; row i is texts[i]'s vector. */
async function embedGroup(model: LoadedModel, texts: string[]): Promise<Float32Array[]> {
  const { normalize, instructionMasked } = model.request;
  const maxLength = maxLengthOf(model);
  const tokenizeOptions = { padding: true, truncation: true, max_length: maxLength };
  let fullTexts = texts;
  let instructionTokens: number[] | undefined;
  if (instructionMasked) {
    const parts = texts.map((text) => {
      const at = text.indexOf(INSTRUCTION_SEPARATOR);
      return at < 0 ? ['', text] : [text.slice(0, at), text.slice(at + 1)];
    });
    fullTexts = parts.map(([instruction, query]) => instruction + query);
    instructionTokens = parts.map(([instruction]) => leadingInstructionTokens(model, instruction, maxLength));
  }
  // (A text longer than maxLength loses the appended token to truncation, as it would lose its last words.)
  if (model.textSuffix) fullTexts = fullTexts.map((text) => text + model.textSuffix);
  const inputs = model.tokenizer(fullTexts, tokenizeOptions);
  const outputs = await model.model(inputs);
  let rows: Float32Array[];
  if (model.pooling === 'output') {
    const sentence = outputs.sentence_embedding;
    rows = splitRows(float32(sentence), sentence.dims);
  } else {
    const hidden = outputs.last_hidden_state;
    const mask = instructionTokens
      ? maskLeadingTokens(inputs.attention_mask.data, inputs.attention_mask.dims, instructionTokens)
      : inputs.attention_mask.data;
    if (instructionTokens) checkTextTokensLeft(model, texts, mask, hidden.dims[1]);
    rows = poolTokens({ data: float32(hidden), dims: hidden.dims, mask }, model.pooling);
  }
  if (model.dense) rows = rows.map((row) => applyDense(model.dense!, row));
  if (normalize) rows.forEach(normalizeL2);
  return rows;
}

/**
 * INSTRUCTOR pools the text's own tokens only: a text with none left after the instruction (its tokens merge into the
 * instruction's last word, or it is truncated away) is the user's input problem, said as such.
 */
function checkTextTokensLeft(model: LoadedModel, texts: string[], mask: ArrayLike<number | bigint>, seq: number): void {
  texts.forEach((text, row) => {
    for (let t = 0; t < seq; t++) if (Number(mask[row * seq + t]) !== 0) return;
    const [instruction, query] = text.split(INSTRUCTION_SEPARATOR);
    throw new UserError(
      `INSTRUCTOR model ${model.request.displayName}: the query ${JSON.stringify(query.slice(0, 80))} has no token of its own after ` +
        `the instruction ${JSON.stringify(instruction.slice(0, 80))} (they run together into one word, or the query is cut off by the ` +
        `length limit): end the instruction with a space or a colon`,
    );
  });
}

/** Per text: its tokens (no special tokens) that are the tokenizer's unknown token, and all its tokens. */
function countUnknownTokens(texts: string[]): { unknown: number[]; tokens: number[] } | null {
  const model = loaded;
  if (!model) throw new Error('embedWorker: tokens before load');
  const unk = model.tokenizer.unk_token_id;
  if (unk === undefined || unk === null) return null;
  const unknown: number[] = [];
  const tokens: number[] = [];
  for (const text of texts) {
    const ids = Array.from(model.tokenizer(text, { add_special_tokens: false }).input_ids.data, Number);
    unknown.push(ids.filter((id) => id === unk).length);
    tokens.push(ids.length);
  }
  return { unknown, tokens };
}

/**
 * `token` when the tokenizer does not end a text with it by itself (a tokenizer.json without the post-processor
 * that appends it), '' when it does or does not know the token. Written into the text, it is split out as the
 * special token it is.
 */
function missingEndToken(model: LoadedModel, token: string): string {
  const id = model.tokenizer.convert_tokens_to_ids(token);
  if (id === undefined) return '';
  const ids = Array.from(model.tokenizer('a', {}).input_ids.data, Number);
  return ids.at(-1) === id ? '' : token;
}

/**
 * How many leading positions of `instruction + text` belong to the instruction: the tokenizer's leading special
 * tokens plus the instruction's own tokens. INSTRUCTOR computes len(tokenize(instruction)) - 1, which is the same
 * for its T5 tokenizer (one trailing </s>, no leading special token); this form also holds for tokenizers that add
 * a leading [CLS] / BOS or no special token at all.
 */
function leadingInstructionTokens(model: LoadedModel, instruction: string, maxLength: number): number {
  if (instruction === '') return 0;
  const ids = (options: Record<string, unknown>): number[] =>
    Array.from(model.tokenizer(instruction, { ...options, truncation: true, max_length: maxLength }).input_ids.data, Number);
  const withSpecial = ids({ add_special_tokens: true });
  const plain = ids({ add_special_tokens: false });
  for (let offset = 0; offset + plain.length <= withSpecial.length; offset++) {
    if (plain.every((id, i) => withSpecial[offset + i] === id)) return offset + plain.length;
  }
  return withSpecial.length - 1;
}

function errorMessage(error: unknown, id: number | undefined, request: LoadRequest | undefined): WorkerMessage {
  if (error instanceof UserError) return { type: 'error', id, message: error.message, user: true };
  const text = error instanceof Error ? error.message : String(error);
  const detail = error instanceof Error && error.cause instanceof Error ? `${text} (${error.cause.message})` : text;
  if (request && id === undefined && (/not found locally|file was not found|Could not locate file|404/i.test(text) || NETWORK_FAILURE.test(detail))) {
    return { type: 'error', id, message: unavailableMessage(request, detail), user: true };
  }
  // The message only: the stack travels apart and is printed only when debugging is asked for.
  return { type: 'error', id, message: text, user: false, stack: error instanceof Error ? error.stack : undefined };
}
