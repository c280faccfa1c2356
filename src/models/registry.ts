/**
 * Model spec -> Embedder. A spec is `use-lite`, `openai:NAME@BASEURL`, `bundle:PATH[#MODEL]` (embeddings computed
 * elsewhere), a local model folder, or a Hugging Face Hub id. The display name is the folder's basename, the Hub id,
 * the endpoint's model name, or the bundle's model name.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../engine/errors';
import { createBundleEmbedder, parseBundleSpec } from './bundleEmbedder';
import type { Embedder } from './embedder';
import type { ModelOverrides } from './families';
import { HttpEmbedder } from './httpEmbedder';
import { createTransformersEmbedder, DTYPES, type Dtype } from './transformersEmbedder';
import { createUseLiteEmbedder } from './useLite';

export const USE_LITE_SPEC = 'use-lite';

export interface CreateEmbedderOptions {
  /** Where Hub downloads go. */
  cacheDir?: string;
  /** Hugging Face Hub address or mirror (default $HF_ENDPOINT, else https://huggingface.co/). */
  hubUrl?: string;
  /** No network: Hub models only from the cache folder; endpoints only on this machine. */
  offline?: boolean;
  dtype?: string;
  /** Bearer token for `openai:` endpoints (from an environment variable or SecretStorage; never a settings file). */
  apiKey?: string;
  overrides?: ModelOverrides;
  batchSize?: number;
  /** `openai:` endpoints: total time per request, retries included (default 2 minutes), and retries (default 4). */
  requestTimeoutMs?: number;
  requestRetries?: number;
}

/** `openai:NAME@BASEURL` -> its parts, or undefined when `spec` is not an endpoint spec. */
export function parseEndpointSpec(spec: string): { model: string; baseUrl: string } | undefined {
  if (!spec.startsWith('openai:')) return undefined;
  const match = /^openai:(.+)@(https?:\/\/.+)$/.exec(spec);
  if (!match) throw new UserError(`model "${spec}": expected openai:NAME@BASEURL, e.g. openai:bge-m3@http://127.0.0.1:8000`);
  return { model: match[1], baseUrl: match[2] };
}

/** The kinds of embedder a model spec makes: their options differ (dtype, batch size, request timeout and retries). */
export type ModelKind = 'bundle' | 'use-lite' | 'endpoint' | 'transformers';

/** Which kind of embedder `spec` makes, without making it; a malformed bundle: or openai: spec is a UserError. */
export function modelKind(spec: string): ModelKind {
  const trimmed = spec.trim();
  if (parseBundleSpec(trimmed)) return 'bundle';
  if (trimmed === USE_LITE_SPEC) return 'use-lite';
  if (parseEndpointSpec(trimmed)) return 'endpoint';
  return 'transformers';
}

export async function createEmbedder(spec: string, options: CreateEmbedderOptions = {}): Promise<Embedder> {
  const trimmed = spec.trim();
  if (trimmed === '') throw new UserError('empty model id');
  const bundle = parseBundleSpec(trimmed);
  if (bundle) return createBundleEmbedder(bundle.path, bundle.model);
  if (trimmed === USE_LITE_SPEC) return createUseLiteEmbedder({ cacheDir: options.cacheDir, batchSize: options.batchSize });
  const endpoint = parseEndpointSpec(trimmed);
  if (endpoint) {
    const host = new URL(endpoint.baseUrl).hostname;
    if (options.offline && !['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
      throw new UserError(`model "${trimmed}": offline mode allows only endpoints on this machine (127.0.0.1 or localhost)`);
    }
    return new HttpEmbedder({
      baseUrl: endpoint.baseUrl,
      model: endpoint.model,
      apiKey: options.apiKey,
      overrides: options.overrides,
      batchSize: options.batchSize,
      timeoutMs: options.requestTimeoutMs,
      retries: options.requestRetries,
    });
  }
  const dtype = options.dtype ?? 'fp32';
  if (!(DTYPES as readonly string[]).includes(dtype)) {
    throw new UserError(`unknown dtype "${dtype}" (one of ${DTYPES.join(', ')})`);
  }
  const model = trimmed === '~' || trimmed.startsWith('~/') ? path.join(os.homedir(), trimmed.slice(1)) : trimmed;
  return createTransformersEmbedder({
    model,
    dtype: dtype as Dtype,
    cacheDir: options.cacheDir,
    hubUrl: options.hubUrl,
    offline: options.offline,
    overrides: options.overrides,
    batchSize: options.batchSize,
  });
}
