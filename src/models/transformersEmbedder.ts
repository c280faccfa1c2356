/**
 * In-process embedder on @huggingface/transformers (onnxruntime-node), run in a worker thread (dist/embedWorker.js)
 * so that the caller's thread never blocks. The caller's thread plans length-sorted batches and sends them one at
 * a time: cancelling therefore stops work within one batch.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelledError, UserError } from '../engine/errors';
import { distPath } from '../engine/io/paths';
import type { UnknownTokenCounts } from '../engine/types';
import { planBatchesByLength } from './batching';
import type { EmbedOptions, Embedder } from './embedder';
import {
  type Family,
  type FamilyId,
  familyIdentity,
  type ModelConfigHints,
  type ModelOverrides,
  renderDocument,
  renderText,
  resolveFamily,
} from './families';
import { errorFromWorker, hubCacheFolder, type LoadRequest, onnxFileStem, unavailableMessage, type WorkerMessage, type WorkerRequest } from './workerProtocol';

export const DTYPES = ['fp32', 'fp16', 'q8', 'q4'] as const;

/**
 * In the cache identity: vectors are computed without padding, one model run per token count (embedWorker.embedBatch),
 * so that a recomputed vector equals the cached one bit for bit; vectors cached before, from padded batches, are not
 * mixed with these.
 */
export const UNPADDED_BATCHES = 'batches=unpadded';
export type Dtype = (typeof DTYPES)[number];

/** File-name suffix transformers.js uses for each dtype (onnx/model{suffix}.onnx). */
const DTYPE_SUFFIX: Record<Dtype, string> = { fp32: '', fp16: '_fp16', q8: '_quantized', q4: '_q4' };

export interface TransformersEmbedderOptions {
  /** Hugging Face Hub id, or a path to a local model folder. */
  model: string;
  /** Hub revision (branch, tag or commit). Default "main". */
  revision?: string;
  dtype?: Dtype;
  /** Where Hub downloads go. Default ~/.cache/instruction-lens/models. */
  cacheDir?: string;
  /** No network: only the cache folder or a local folder. */
  offline?: boolean;
  /** Hugging Face Hub address or mirror. Default: $HF_ENDPOINT, else https://huggingface.co/. */
  hubUrl?: string;
  /** Texts per model call. Default 32. */
  batchSize?: number;
  overrides?: ModelOverrides;
  /** Display name. Default: the folder's basename or the Hub id. */
  name?: string;
}

/**
 * The token each family's pooled position must hold. Qwen3-Embedding pools the <|endoftext|> its tokenizer appends
 * (METHOD.md); a tokenizer.json from before that post-processor was added to the Hub repository (June 2025), or a
 * copy of one, does not append it, and the worker then appends it itself.
 */
const END_TOKEN: Partial<Record<FamilyId, string>> = { 'qwen3-embedding': '<|endoftext|>' };

/** config.json: the family hints, and whether the export is encoder-decoder (which ONNX file holds the states). */
type ExportConfig = ModelConfigHints & { is_encoder_decoder?: boolean };

export function defaultModelCacheDir(): string {
  return path.join(os.homedir(), '.cache', 'instruction-lens', 'models');
}

/** True when `spec` names a folder on disk (rather than a Hub id). */
export function isLocalModelPath(spec: string): boolean {
  if (path.isAbsolute(spec) || spec.startsWith('.') || spec.includes('\\')) return true;
  try {
    return fs.statSync(spec).isDirectory();
  } catch {
    return false;
  }
}

export async function createTransformersEmbedder(options: TransformersEmbedderOptions): Promise<TransformersEmbedder> {
  const dtype = options.dtype ?? 'fp32';
  if (!DTYPES.includes(dtype)) throw new UserError(`unknown dtype "${dtype}" (one of ${DTYPES.join(', ')})`);
  const cacheDir = path.resolve(options.cacheDir ?? defaultModelCacheDir());
  const offline = options.offline ?? false;
  const local = isLocalModelPath(options.model);
  const model = local ? path.resolve(options.model) : options.model;
  let config: ExportConfig | undefined;
  let weightFiles: string[] = [];
  if (local) {
    if (!fs.existsSync(model) || !fs.statSync(model).isDirectory()) throw new UserError(`model folder not found`, model);
    config = readConfig(path.join(model, 'config.json'));
    weightFiles = onnxFilesFor(model, dtype, onnxFileStem(config));
  } else {
    if (!/^[\w.-]+(\/[\w.-]+)?$/.test(model)) {
      throw new UserError(`"${model}" is neither a model folder nor a Hugging Face Hub id (owner/name)`);
    }
    const cachedConfig = path.join(hubCacheFolder(cacheDir, model, options.revision), 'config.json');
    if (fs.existsSync(cachedConfig)) config = readConfig(cachedConfig);
    else if (offline) {
      throw new UserError(
        unavailableMessage({ model, offline, cacheDir, dtype, hubUrl: hubUrl(options.hubUrl) } as LoadRequest, `no ${path.relative(cacheDir, cachedConfig)}`),
      );
    }
  }
  const family = resolveFamily(model, config, options.overrides);
  const name = options.name ?? (local ? path.basename(model) : model);
  return new TransformersEmbedder({
    name,
    family,
    weightFiles,
    batchSize: options.batchSize ?? 32,
    request: {
      type: 'load',
      model,
      displayName: name,
      revision: options.revision,
      dtype,
      cacheDir,
      offline,
      hubUrl: hubUrl(options.hubUrl),
      pooling: family.pooling,
      normalize: family.normalize,
      maxLength: family.maxLength,
      instructionMasked: family.instructionMasked ?? false,
      endToken: END_TOKEN[family.id],
    },
  });
}

function hubUrl(given: string | undefined): string {
  const url = given ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co/';
  return url.endsWith('/') ? url : `${url}/`;
}

function readConfig(file: string): ExportConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UserError('no config.json in the model folder', path.dirname(file));
  }
  try {
    return JSON.parse(text) as ExportConfig;
  } catch (error) {
    throw new UserError(`config.json is not valid JSON: ${(error as Error).message}`, file);
  }
}

/**
 * The files whose bytes define the model for `dtype`: the ONNX graph transformers.js will read plus its
 * external-data files, the tokenizer and config files, and INSTRUCTOR's Dense layer when present.
 */
function onnxFilesFor(folder: string, dtype: Dtype, fileStem: string): string[] {
  const onnxDir = path.join(folder, 'onnx');
  const stem = `${fileStem}${DTYPE_SUFFIX[dtype]}.onnx`;
  const files = fs.existsSync(onnxDir) ? fs.readdirSync(onnxDir).sort() : [];
  const used = files.filter((f) => f === stem || f.startsWith(`${stem}_data`));
  if (!used.includes(stem)) {
    const available = DTYPES.filter((d) => files.includes(`${fileStem}${DTYPE_SUFFIX[d]}.onnx`));
    throw new UserError(
      `no onnx/${stem} for dtype ${dtype}` +
        (available.length ? ` (this folder has dtype ${available.join(', ')})` : ` (no onnx/${fileStem}*.onnx at all)`),
      folder,
    );
  }
  // The tokenizer and config change the vectors too.
  const extras = ['config.json', 'tokenizer.json', 'tokenizer_config.json', '2_Dense/config.json', '2_Dense/model.safetensors']
    .map((f) => path.join(folder, f))
    .filter((f) => fs.existsSync(f));
  return [...used.map((f) => path.join(onnxDir, f)), ...extras];
}

/**
 * SHA-256 over the files (relative name + bytes). Hashing a multi-gigabyte model on every run would be slow, so
 * each file's hash is remembered in `<cacheDir>/file-hashes.json`, keyed by path, size and modification time.
 */
async function sha256OfFiles(folder: string, files: string[], cacheDir: string): Promise<string> {
  const memoFile = path.join(cacheDir, 'file-hashes.json');
  let memo: Record<string, { size: number; mtimeMs: number; sha256: string }> = {};
  try {
    memo = JSON.parse(fs.readFileSync(memoFile, 'utf8'));
  } catch {
    // none yet, or unreadable: start afresh
  }
  let changed = false;
  const hash = createHash('sha256');
  for (const file of files) {
    const { size, mtimeMs } = fs.statSync(file);
    let known = memo[file];
    if (!known || known.size !== size || known.mtimeMs !== mtimeMs) {
      const fileHash = createHash('sha256');
      for await (const chunk of fs.createReadStream(file)) fileHash.update(chunk as Buffer);
      known = memo[file] = { size, mtimeMs, sha256: fileHash.digest('hex') };
      changed = true;
    }
    hash.update(`${path.relative(folder, file).split(path.sep).join('/')}\0${known.sha256}\0`);
  }
  if (changed) {
    fs.mkdirSync(cacheDir, { recursive: true });
    const temp = `${memoFile}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(memo));
    fs.renameSync(temp, memoFile);
  }
  return hash.digest('hex');
}

interface EmbedderSetup {
  name: string;
  family: Family;
  /** Local folder only: the ONNX files hashed into the identity. */
  weightFiles: string[];
  batchSize: number;
  request: LoadRequest;
}

interface PendingBatch {
  resolve: (message: WorkerMessage) => void;
  /** Settles when the worker answers (or fails). */
  answered: Promise<WorkerMessage>;
}

export class TransformersEmbedder implements Embedder {
  readonly name: string;
  readonly family: Family;
  private readonly setup: EmbedderSetup;
  private identityPromise?: Promise<string>;
  private worker?: Worker;
  private loading?: Promise<void>;
  private loadListener?: EmbedOptions['onProgress'];
  private readonly pending = new Map<number, PendingBatch>();
  private nextId = 1;
  /** Calls to embed() run one after another on the single worker. */
  private queue: Promise<unknown> = Promise.resolve();
  private workerFailure?: Error;

  constructor(setup: EmbedderSetup) {
    this.setup = setup;
    this.name = setup.name;
    this.family = setup.family;
  }

  identity(): Promise<string> {
    this.identityPromise ??= (async () => {
      const { request, weightFiles } = this.setup;
      const source =
        weightFiles.length > 0
          ? `files-sha256:${await sha256OfFiles(request.model, weightFiles, request.cacheDir)}`
          : `hub:${request.model}@${request.revision ?? 'main'}`;
      const end = request.endToken === undefined ? '' : `|end=${request.endToken}`;
      return `transformers.js|${source}|dtype=${request.dtype}|${UNPADDED_BATCHES}|${familyIdentity(this.family)}${end}`;
    })();
    return this.identityPromise;
  }

  render(instruction: string | null, query: string): string {
    return renderText(this.family, instruction, query);
  }

  renderDocument(text: string): string {
    return renderDocument(this.family, text);
  }

  embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const run = this.queue.then(() => this.embedNow(texts, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  countUnknownTokens(texts: string[], options: EmbedOptions = {}): Promise<UnknownTokenCounts | null> {
    const run = this.queue.then(async () => {
      await this.cancellable(this.ensureLoaded(), options.signal);
      const message = await this.cancellable(this.ask((id) => ({ type: 'tokens', id, texts })), options.signal);
      if (message.type === 'tokens') return message.counts;
      if (message.type === 'error') throw errorFromWorker(message);
      throw new Error(`unexpected worker message ${message.type}`);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Stops the worker, once the request it is running (a batch, a token count, the model's load) has ended: a thread
   * terminated inside onnxruntime's native code aborts the whole process (Ctrl-C during an embedding ended with
   * "terminate called after throwing an instance of 'Napi::Error'"). A cancelled run thus waits for one batch.
   */
  async dispose(): Promise<void> {
    const running: Promise<unknown>[] = [...this.pending.values()].map((batch) => batch.answered);
    if (this.loading) running.push(this.loading);
    await Promise.allSettled(running);
    const worker = this.worker;
    this.worker = undefined;
    this.loading = undefined;
    if (worker) await worker.terminate();
  }

  private async embedNow(texts: string[], options: EmbedOptions): Promise<Float32Array[]> {
    const { signal, onProgress } = options;
    if (signal?.aborted) throw new CancelledError();
    const result = new Array<Float32Array>(texts.length);
    if (texts.length === 0) return result;
    this.loadListener = onProgress;
    try {
      await this.cancellable(this.ensureLoaded(), signal);
    } finally {
      this.loadListener = undefined;
    }
    const total = texts.length;
    let done = 0;
    onProgress?.({ kind: 'embed', model: this.name, done, total });
    const counts = await this.cancellable(this.countTokens(texts), signal);
    for (const batch of planBatchesByLength(counts, this.setup.batchSize)) {
      if (signal?.aborted) throw new CancelledError();
      const message = await this.cancellable(this.runBatch(batch.map((i) => texts[i])), signal);
      batch.forEach((textIndex, row) => {
        result[textIndex] = message.data.slice(row * message.dim, (row + 1) * message.dim);
      });
      await options.onBatch?.(batch, batch.map((textIndex) => result[textIndex]));
      done += batch.length;
      onProgress?.({ kind: 'embed', model: this.name, done, total });
    }
    return result;
  }

  /** Resolves with `work`, or rejects with CancelledError as soon as the signal aborts (work continues unobserved). */
  private cancellable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) return work;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new CancelledError());
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  private ensureLoaded(): Promise<void> {
    this.loading ??= this.startWorker().catch((error: unknown) => {
      this.loading = undefined;
      void this.dispose();
      throw error;
    });
    return this.loading;
  }

  private startWorker(): Promise<void> {
    const script = distPath('embedWorker.js');
    if (!fs.existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\``);
    const worker = new Worker(script);
    this.worker = worker;
    this.workerFailure = undefined;
    return new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => {
        this.workerFailure = error;
        reject(error);
        for (const [, batch] of this.pending) batch.resolve({ type: 'error', message: error.message, user: false });
        this.pending.clear();
      };
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'file') {
          this.loadListener?.({
            kind: message.fromDisk ? 'load' : 'download',
            model: this.name,
            done: message.loaded,
            total: message.total,
            file: message.file,
          });
        } else if (message.type === 'loaded') {
          worker.unref();
          resolve();
        } else if (message.type === 'error' && message.id === undefined) {
          worker.unref();
          reject(errorFromWorker(message));
        } else if (message.id !== undefined) {
          const batch = this.pending.get(message.id);
          this.pending.delete(message.id);
          if (this.pending.size === 0) worker.unref();
          batch?.resolve(message);
        }
      });
      worker.on('error', (error) => fail(error));
      worker.on('exit', (code) => {
        if (this.worker === worker) {
          this.worker = undefined;
          this.loading = undefined;
          fail(new Error(`embedding worker for ${this.name} exited with code ${code}`));
        }
      });
      this.post(this.setup.request);
    });
  }

  private post(request: WorkerRequest): void {
    if (!this.worker) throw this.workerFailure ?? new Error(`embedding worker for ${this.name} is not running`);
    this.worker.ref();
    this.worker.postMessage(request);
  }

  private async runBatch(texts: string[]): Promise<{ dim: number; data: Float32Array }> {
    const message = await this.ask((id) => ({ type: 'batch', id, texts }));
    if (message.type === 'vectors') return message;
    if (message.type === 'error') throw errorFromWorker(message);
    throw new Error(`unexpected worker message ${message.type}`);
  }

  /** Token counts of `texts`, to plan batches that run as few model runs as possible (see embedWorker). */
  private async countTokens(texts: string[]): Promise<number[]> {
    const message = await this.ask((id) => ({ type: 'count', id, texts }));
    if (message.type === 'counts') return message.counts;
    if (message.type === 'error') throw errorFromWorker(message);
    throw new Error(`unexpected worker message ${message.type}`);
  }

  private ask(request: (id: number) => WorkerRequest): Promise<WorkerMessage> {
    const id = this.nextId++;
    let resolve!: (message: WorkerMessage) => void;
    const answered = new Promise<WorkerMessage>((settle) => (resolve = settle));
    this.pending.set(id, { resolve, answered });
    try {
      this.post(request(id));
    } catch (error) {
      this.pending.delete(id);
      return Promise.reject(error);
    }
    return answered;
  }
}
