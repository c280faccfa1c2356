/**
 * Embedder for an OpenAI-compatible server (vLLM, TEI, Ollama, LM Studio, llama.cpp server, OpenAI):
 * POST {base}/v1/embeddings { model, input: [...] } -> { data: [{ index, embedding: number[] }] }.
 * The API key comes from the caller (environment variable in the CLI, SecretStorage in the extension).
 */
import { CancelledError, UserError } from '../engine/errors';
import { planBatches } from './batching';
import type { EmbedOptions, Embedder } from './embedder';
import { type Family, familyIdentity, type ModelOverrides, renderDocument, renderText, resolveFamily } from './families';
import { normalizeL2 } from './pooling';

export interface HttpEmbedderOptions {
  /** Server base URL, e.g. http://127.0.0.1:8000 (a trailing /v1 is accepted). */
  baseUrl: string;
  /** Model name sent in the request. */
  model: string;
  apiKey?: string;
  /** Texts per request. Default 64. */
  batchSize?: number;
  /**
   * Total time for one request (one batch), retries and waits included, in ms. Default 120000 (2 minutes): a server
   * that never answers, trickles bytes or asks to retry much later ends the run with a clear message by then.
   */
  timeoutMs?: number;
  /** Retries after a 429 or 5xx (or a network error), within timeoutMs. Default 4. */
  retries?: number;
  /** First backoff delay in ms, doubled each retry (a Retry-After header wins). Default 500. */
  backoffMs?: number;
  /**
   * Template and normalisation. The family is detected from the model name (generic when unknown); pooling
   * happens on the server. Vectors are L2-normalised only when `normalize: true` is given.
   */
  overrides?: ModelOverrides;
  /** Display name. Default: the model name. */
  name?: string;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
export const DEFAULT_REQUEST_RETRIES = 4;
const TIMEOUT_HINT = 'raise it with --timeout SECONDS or the instructionLens.requestTimeoutSeconds setting';

export class HttpEmbedder implements Embedder {
  readonly name: string;
  readonly family: Family;
  readonly url: string;
  private readonly options: Required<Omit<HttpEmbedderOptions, 'apiKey' | 'overrides' | 'name'>> & { apiKey?: string };
  private readonly normalize: boolean;

  constructor(options: HttpEmbedderOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new UserError(`"${options.baseUrl}" is not a URL (expected e.g. http://127.0.0.1:8000)`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new UserError(`"${options.baseUrl}" is not an http(s) URL`);
    }
    const root = base.href.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.url = `${root}/v1/embeddings`;
    if (!options.model) throw new UserError(`no model name given for ${this.url}`);
    this.name = options.name ?? options.model;
    this.family = resolveFamily(options.model, undefined, { ...options.overrides, pooling: undefined });
    this.normalize = options.overrides?.normalize ?? false;
    this.options = {
      baseUrl: root,
      model: options.model,
      apiKey: options.apiKey,
      batchSize: options.batchSize ?? 64,
      timeoutMs: options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      retries: options.retries ?? DEFAULT_REQUEST_RETRIES,
      backoffMs: options.backoffMs ?? 500,
    };
  }

  async identity(): Promise<string> {
    const { template, baseTemplate } = this.family;
    return `openai|${this.url}|model=${this.options.model}|normalize=${this.normalize}|${JSON.stringify({ template, baseTemplate })}`;
  }

  render(instruction: string | null, query: string): string {
    return renderText(this.family, instruction, query);
  }

  renderDocument(text: string): string {
    return renderDocument(this.family, text);
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const { signal, onProgress } = options;
    const result = new Array<Float32Array>(texts.length);
    let done = 0;
    let dim: number | undefined;
    onProgress?.({ kind: 'embed', model: this.name, done, total: texts.length });
    for (const batch of planBatches(texts, this.options.batchSize)) {
      if (signal?.aborted) throw new CancelledError();
      const vectors = await this.request(batch.map((i) => texts[i]), signal, onProgress);
      for (const [row, vector] of vectors.entries()) {
        dim ??= vector.length;
        if (vector.length !== dim) {
          throw new UserError(`${this.url} returned vectors of ${vector.length} dimensions after vectors of ${dim}`);
        }
        result[batch[row]] = this.normalize ? normalizeL2(vector) : vector;
      }
      await options.onBatch?.(batch, batch.map((textIndex) => result[textIndex]));
      done += batch.length;
      onProgress?.({ kind: 'embed', model: this.name, done, total: texts.length });
    }
    return result;
  }

  async dispose(): Promise<void> {}

  /**
   * One batch, with retries on 429, 5xx and network errors, all within one deadline (timeoutMs). Each wait before a
   * retry is reported as progress ("retrying in 30 s: server said 429 Too Many Requests"); a wait the deadline cannot
   * hold ends the request at once with what the server did.
   */
  private async request(input: string[], signal: AbortSignal | undefined, onProgress: EmbedOptions['onProgress']): Promise<Float32Array[]> {
    const body = JSON.stringify({ model: this.options.model, input });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const deadline = Date.now() + this.options.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(body, headers, deadline - Date.now(), signal);
      if (outcome.text !== undefined) return this.parse(outcome.text, input.length);
      const { problem, retryable, retryAfterMs } = outcome;
      const attempts = `${attempt} ${attempt === 1 ? 'attempt' : 'attempts'}`;
      if (!retryable || attempt > this.options.retries) {
        throw new UserError(`${this.url}: ${problem}${retryable ? ` (after ${attempts})` : ''}`);
      }
      const waitMs = retryAfterMs ?? this.backoff(attempt - 1);
      const left = deadline - Date.now();
      if (waitMs >= left) {
        const asked = retryAfterMs === undefined ? '' : `, and asked to retry in ${formatSeconds(retryAfterMs)}`;
        throw new UserError(
          `${this.url}: ${problem}${asked}; giving up after ${attempts}: retrying would exceed the ` +
            `${formatSeconds(this.options.timeoutMs)} limit per request (${TIMEOUT_HINT})`,
        );
      }
      onProgress?.({ kind: 'wait', model: this.name, done: 0, total: 0, waitSeconds: Math.ceil(waitMs / 1000), reason: problem });
      await sleep(waitMs, signal);
    }
  }

  /** One HTTP exchange within `timeLeftMs`: the body of a 2xx answer, or what went wrong. */
  private async attempt(
    body: string,
    headers: Record<string, string>,
    timeLeftMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ text: string } | { text?: undefined; problem: string; retryable: boolean; retryAfterMs?: number }> {
    if (signal?.aborted) throw new CancelledError();
    if (timeLeftMs <= 0) {
      return { problem: `no answer within the ${formatSeconds(this.options.timeoutMs)} limit per request (${TIMEOUT_HINT})`, retryable: false };
    }
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeLeftMs);
    const onAbort = (): void => timeout.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let response: Response | undefined;
    try {
      // The signal also covers reading the body: a server sending a byte a second is cut off at the deadline.
      response = await fetch(this.url, { method: 'POST', headers, body, signal: timeout.signal });
      const text = await response.text();
      if (response.ok) return { text };
      const retryable = response.status === 429 || response.status >= 500;
      const detail = text.trim().slice(0, 300);
      return {
        problem: `the server answered HTTP ${response.status} ${response.statusText}`.trimEnd() + (detail ? `: ${detail}` : ''),
        retryable,
        retryAfterMs: retryable ? retryAfterMs(response.headers.get('retry-after')) : undefined,
      };
    } catch (error) {
      if (signal?.aborted) throw new CancelledError();
      if (timeout.signal.aborted) {
        const what = response ? `the server answered HTTP ${response.status} but did not finish sending its answer` : 'the server did not answer';
        return { problem: `${what} within the ${formatSeconds(this.options.timeoutMs)} limit per request (${TIMEOUT_HINT})`, retryable: false };
      }
      const cause = (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message;
      return { problem: `request failed: ${cause}`, retryable: true };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private backoff(attempt: number): number {
    return this.options.backoffMs * 2 ** attempt;
  }

  /** Validates an embeddings response and returns the vectors in input order. */
  private parse(text: string, count: number): Float32Array[] {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UserError(`${this.url} returned malformed JSON: ${JSON.stringify(text.slice(0, 120))}`);
    }
    const data = (json as { data?: unknown })?.data;
    if (!Array.isArray(data)) throw new UserError(`${this.url} returned no "data" array`);
    if (data.length !== count) {
      throw new UserError(`${this.url} returned ${data.length} embeddings for ${count} inputs`);
    }
    const out = new Array<Float32Array>(count);
    let dim: number | undefined;
    for (const [position, item] of data.entries()) {
      const index = (item as { index?: unknown })?.index ?? position;
      const embedding = (item as { embedding?: unknown })?.embedding;
      if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= count || out[index as number]) {
        const shown = typeof index === 'object' && index !== null ? 'not a number' : JSON.stringify(index);
        throw new UserError(`${this.url} returned data[${position}].index = ${shown}: not a new index below ${count}`);
      }
      if (!Array.isArray(embedding) || embedding.length === 0 || !embedding.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new UserError(`${this.url} returned data[${position}].embedding that is not a non-empty array of finite numbers`);
      }
      const overflow = embedding.findIndex((v) => !Number.isFinite(Math.fround(v as number)));
      if (overflow >= 0) {
        throw new UserError(
          `${this.url} returned data[${position}].embedding[${overflow}] = ${embedding[overflow]}, which overflows float32 (magnitude above 3.4e38): not an embedding`,
        );
      }
      dim ??= embedding.length;
      if (embedding.length !== dim) {
        throw new UserError(
          `${this.url} returned data[${position}].embedding with ${embedding.length} dimensions, data[0] has ${dim}`,
        );
      }
      out[index as number] = Float32Array.from(embedding as number[]);
    }
    return out;
  }
}

/** Retry-After in ms (seconds or an HTTP date); undefined when absent or unreadable. The deadline bounds it. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.max(ms, 0) : undefined;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
}


function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new CancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
