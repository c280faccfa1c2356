/**
 * The models a user configures (setting `instructionLens.models`, the model quick pick) and what each kind may do
 * in an untrusted workspace. Pure: no VS Code API, so it is unit-tested directly.
 */
import * as path from 'node:path';
import { BUNDLE_SPEC_PREFIX, parseBundleSpec } from '../models/bundleEmbedder';

export const USE_LITE = 'use-lite';

/** One entry of `instructionLens.models`: an id plus optional per-model settings. */
export interface ModelEntry {
  /** `use-lite`, a Hub id (owner/name), a local folder, `openai:NAME@BASEURL` or `bundle:PATH[#MODEL]`. */
  id: string;
  dtype?: 'fp32' | 'fp16' | 'q8' | 'q4';
  overrides?: {
    template?: string;
    baseTemplate?: string;
    pooling?: 'cls' | 'mean' | 'last' | 'output' | 'auto';
    normalize?: boolean;
    maxLength?: number;
  };
}

export type ModelKind = 'use-lite' | 'endpoint' | 'bundle' | 'folder' | 'hub';

export function modelKind(id: string): ModelKind {
  if (id === USE_LITE) return 'use-lite';
  if (id.startsWith('openai:')) return 'endpoint';
  if (id.startsWith(BUNDLE_SPEC_PREFIX)) return 'bundle';
  if (path.isAbsolute(id) || id.startsWith('.') || id.startsWith('~') || id.includes('\\')) return 'folder';
  return 'hub';
}

export function endpointId(model: string, baseUrl: string): string {
  return `openai:${model}@${baseUrl.replace(/\/+$/, '')}`;
}

/**
 * Why a model may not be used in an untrusted workspace (Restricted Mode), or undefined when it may. In Restricted
 * Mode nothing is downloaded and no endpoint is called: only use-lite (shipped with the extension) and local model
 * folders load.
 */
export function restrictedModeRefusal(id: string): 'download' | 'endpoint' | undefined {
  const kind = modelKind(id);
  if (kind === 'hub') return 'download';
  if (kind === 'endpoint') return 'endpoint';
  return undefined;
}

/**
 * Reads the raw setting value into entries. Strings are ids; objects need a string `id`. Relative folder paths
 * resolve against `baseFolder` (the workspace folder); `~` against `home`. Invalid entries are reported, not dropped
 * silently.
 */
export function parseModelEntries(
  raw: unknown,
  baseFolder: string | undefined,
  home: string,
): { entries: ModelEntry[]; problems: string[] } {
  const entries: ModelEntry[] = [];
  const problems: string[] = [];
  if (raw === undefined || raw === null) return { entries, problems };
  if (!Array.isArray(raw)) return { entries, problems: ['instructionLens.models must be an array'] };
  raw.forEach((item, index) => {
    const where = `instructionLens.models[${index}]`;
    const entry: ModelEntry | undefined =
      typeof item === 'string'
        ? { id: item }
        : typeof item === 'object' && item !== null && typeof (item as { id?: unknown }).id === 'string'
          ? (item as ModelEntry)
          : undefined;
    if (!entry || entry.id.trim() === '') {
      problems.push(`${where}: expected a model id string or an object with an "id"`);
      return;
    }
    entries.push({ ...entry, id: resolveModelId(entry.id.trim(), baseFolder, home) });
  });
  return { entries, problems };
}

export function resolveModelId(id: string, baseFolder: string | undefined, home: string): string {
  const bundle = parseBundleSpec(id);
  if (bundle) {
    const folder = resolveModelId(path.isAbsolute(bundle.path) ? bundle.path : `./${bundle.path}`, baseFolder, home);
    return `${BUNDLE_SPEC_PREFIX}${folder}${bundle.model === undefined ? '' : `#${bundle.model}`}`;
  }
  if (modelKind(id) !== 'folder') return id;
  if (id === '~' || id.startsWith('~/')) return path.join(home, id.slice(1));
  return baseFolder && !path.isAbsolute(id) ? path.resolve(baseFolder, id) : path.resolve(id);
}

/** Recently used model ids first (most recent first), then the configured ones, `use-lite` always present. */
export function orderModelChoices(configured: readonly string[], recent: readonly string[]): string[] {
  return [...new Set([...recent, ...configured, USE_LITE])];
}

/** Adds `used` at the front of the recent list, keeps at most `limit`. */
export function updateRecent(recent: readonly string[], used: readonly string[], limit = 10): string[] {
  const next = [...used, ...recent.filter((id) => !used.includes(id))];
  return next.slice(0, limit);
}

/**
 * What a transformers.js model folder lacks, given the relative paths of its files: config.json, tokenizer.json and
 * ONNX weights (onnx/*.onnx). A bundle (MODEL/TASK.npy files) lacks nothing.
 */
export function missingModelFiles(files: readonly string[]): string[] {
  const names = files.map((file) => file.replace(/\\/g, '/'));
  if (names.some((name) => /^[^/]+\/[^/]+\.npy$/i.test(name))) return [];
  const missing: string[] = [];
  if (!names.includes('config.json')) missing.push('config.json');
  if (!names.includes('tokenizer.json')) missing.push('tokenizer.json');
  if (!names.some((name) => name.toLowerCase().endsWith('.onnx'))) missing.push('onnx/model.onnx');
  return missing;
}
