/** The one interface every embedding provider implements (transformers.js, HTTP, use-lite, bundles). */
import type { EvalKind } from '../engine/evaluation/types';
import type { UnknownTokenCounts } from '../engine/types';

export interface TaskSpec {
  name: string;
  /** null for Base (no instruction). */
  instruction: string | null;
  /** The task's home kind as the instruction set declares it (`kind:`); absent: the paper's name's kind, if any. */
  kind?: EvalKind;
}

export interface EmbedProgress {
  /**
   * load: reading a model file from disk (a local folder, or a Hub model already in the cache); download: fetching
   * it from the Hub; wait: a pause before retrying a request (an endpoint's 429 or 5xx, or a network error).
   */
  kind: 'load' | 'download' | 'embed' | 'wait';
  model: string;
  done: number;
  total: number;
  /** For loads and downloads: the model file being read. */
  file?: string;
  /** For waits: seconds until the retry. */
  waitSeconds?: number;
  /** For waits: what happened, e.g. "the server answered HTTP 429 Too Many Requests". */
  reason?: string;
}

export interface EmbedOptions {
  signal?: AbortSignal;
  onProgress?: (progress: EmbedProgress) => void;
  /**
   * Called (and awaited) as each batch completes, with the indices into `texts` and their vectors, so that the caller
   * can cache them at once: a run killed during a long embedding then resumes where it was.
   */
  onBatch?: (indices: readonly number[], vectors: readonly Float32Array[]) => Promise<void> | void;
}

export interface Embedder {
  /** Display name: the model's name in bundles, results and plots. */
  readonly name: string;
  /**
   * Stable identity for the embedding cache: provider, model id, revision or weights hash, dtype, pooling,
   * normalisation, max length. Two embedders with equal identity give equal vectors for equal texts.
   */
  identity(): Promise<string>;
  /** The exact text the model sees for `query` under `instruction` (null = Base), per the model family. */
  render(instruction: string | null, query: string): string;
  /** The exact text the model sees for a corpus document: the family's document form (docs/EVAL.md). */
  renderDocument(text: string): string;
  /** Embeds already-rendered texts; row i belongs to texts[i]. Throws CancelledError when the signal aborts. */
  embed(texts: string[], options?: EmbedOptions): Promise<Float32Array[]>;
  /**
   * Providers whose tokenizer has an unknown token: per text, how many of its tokens (special tokens not counted) are
   * that unknown token, of how many; null when the tokenizer has no unknown token.
   */
  countUnknownTokens?(texts: string[], options?: EmbedOptions): Promise<UnknownTokenCounts | null>;
  dispose(): Promise<void>;
}
