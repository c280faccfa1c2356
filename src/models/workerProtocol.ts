/** Messages between TransformersEmbedder (caller's thread) and embedWorker (worker thread). */
import * as path from 'node:path';
import { UserError } from '../engine/errors';
import type { Pooling } from './families';

export interface LoadRequest {
  type: 'load';
  /** Hub id, or an absolute folder path. */
  model: string;
  /** Name shown in messages. */
  displayName: string;
  revision?: string;
  dtype: string;
  /** Where Hub downloads go (transformers.js env.cacheDir); never inside node_modules. */
  cacheDir: string;
  offline: boolean;
  /** Hub address (a mirror), e.g. https://huggingface.co/. */
  hubUrl: string;
  pooling: Pooling;
  normalize: boolean;
  maxLength: number;
  instructionMasked: boolean;
  /** The token the pooled last position must hold (Qwen3-Embedding: <|endoftext|>), appended when the tokenizer does not. */
  endToken?: string;
}

export interface BatchRequest {
  type: 'batch';
  id: number;
  texts: string[];
}

/** Counts the unknown tokens of each text (tokenizer only, no special tokens). */
export interface TokensRequest {
  type: 'tokens';
  id: number;
  texts: string[];
}

/** Token counts of texts (after truncation), to plan batches by them. */
export interface CountRequest {
  type: 'count';
  id: number;
  texts: string[];
}

export type WorkerRequest = LoadRequest | BatchRequest | TokensRequest | CountRequest;

/** Progress reading one model file: from disk (a local folder, or a Hub model already in the cache) or from the Hub. */
export interface FileProgressMessage {
  type: 'file';
  file: string;
  loaded: number;
  total: number;
  /** true: the file is read from disk, nothing is downloaded. */
  fromDisk: boolean;
}

export interface LoadedMessage {
  type: 'loaded';
  /** The pooling actually used (`auto` resolved). */
  pooling: Exclude<Pooling, 'auto'>;
  outputs: string[];
}

export interface VectorsMessage {
  type: 'vectors';
  id: number;
  dim: number;
  /** texts.length x dim, row-major. */
  data: Float32Array;
}

export interface TokensMessage {
  type: 'tokens';
  id: number;
  /** Per text; null when the tokenizer has no unknown token. */
  counts: { unknown: number[]; tokens: number[] } | null;
}

export interface ErrorMessage {
  type: 'error';
  /** Batch id, absent for load errors. */
  id?: number;
  message: string;
  /** true: a problem with the user's input (model id, folder, options): shown without a stack. */
  user: boolean;
  /** The worker-side stack of an unexpected error, for INSTRUCTION_LENS_DEBUG=1; never part of the message. */
  stack?: string;
}

/** The Error a worker's error message stands for on the caller's side (UserError for the user's input). */
export function errorFromWorker(message: ErrorMessage): Error {
  if (message.user) return new UserError(message.message);
  const error = new Error(message.message);
  if (message.stack !== undefined) error.stack = message.stack;
  return error;
}

export interface CountsMessage {
  type: 'counts';
  id: number;
  counts: number[];
}

export type WorkerMessage = FileProgressMessage | LoadedMessage | VectorsMessage | TokensMessage | CountsMessage | ErrorMessage;

/**
 * The folder where a Hub model's files are kept in the cache folder (transformers.js reads them there as local
 * files, and its file cache writes downloads there): `<cacheDir>/<owner>/<name>`, plus the revision unless main.
 */
export function hubCacheFolder(cacheDir: string, model: string, revision: string | undefined): string {
  return path.join(cacheDir, model, ...(revision === undefined || revision === 'main' ? [] : [revision]));
}

/** The message for a model that cannot be loaded from what is on disk (offline, or missing files in a folder). */
export function unavailableMessage(request: LoadRequest, detail: string): string {
  if (path.isAbsolute(request.model)) {
    return `model folder ${request.model} cannot be loaded with dtype ${request.dtype}: ${detail}`;
  }
  if (!request.offline && NETWORK_FAILURE.test(detail)) {
    return (
      `model "${request.model}" is not in the cache folder ${request.cacheDir} and the Hugging Face Hub ` +
      `(${request.hubUrl}) cannot be reached: ${detail}. Download it once with network access, or point at a local ` +
      `folder holding config.json, tokenizer.json and onnx/model.onnx instead of the Hub id.`
    );
  }
  return (
    `model "${request.model}" is not available ${request.offline ? 'offline' : 'from the Hugging Face Hub'} ` +
    `(looked in ${request.cacheDir}): ${detail}. Download it once with network access, or point at a local ` +
    `folder holding config.json, tokenizer.json and onnx/model.onnx instead of the Hub id.`
  );
}

/**
 * The ONNX file (without dtype suffix) that holds the model's token states. An encoder-decoder export (T5, hence
 * INSTRUCTOR: onnx/encoder_model.onnx beside decoder_model*.onnx) is embedded by its encoder alone; every other
 * export is onnx/model.onnx.
 */
export function onnxFileStem(config: { is_encoder_decoder?: boolean } | undefined): 'model' | 'encoder_model' {
  return config?.is_encoder_decoder === true ? 'encoder_model' : 'model';
}

/** Error texts of a Hub that cannot be reached (DNS, refused, reset, timeout). */
export const NETWORK_FAILURE = /fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|UND_ERR|network/i;
