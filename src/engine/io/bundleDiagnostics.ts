/**
 * <bundle>/diagnostics.json: what embedding learnt beside the vectors, so that `analyze` on a written bundle reports
 * what `run` reported: the queries' 1-based lines in their file, the models that failed to embed, and per model its
 * tokenizer's unknown-token counts per query. Optional; written only when there is something to keep.
 *
 *   { "queryLines": [3, 4, ...],                                  N positive integers
 *     "failedModels": [{ "model": "...", "error": "..." }, ...],  models not in the bundle
 *     "unknownTokens": [{ "model": "...", "unknown": [...], "tokens": [...] }, ...] }   N counts each, unknown <= tokens
 */
import { UserError } from '../errors';
import type { EmbeddingBundle, ModelFailure, UnknownTokenCounts } from '../types';

export const DIAGNOSTICS_FILE = 'diagnostics.json';

export type BundleDiagnostics = Pick<EmbeddingBundle, 'queryLines' | 'failedModels' | 'unknownTokens'>;

/** The file's text, or undefined when the bundle has no diagnostics. */
export function diagnosticsJson(bundle: EmbeddingBundle): string | undefined {
  const out: Record<string, unknown> = {};
  if (bundle.queryLines) out.queryLines = bundle.queryLines;
  if (bundle.failedModels && bundle.failedModels.length > 0) out.failedModels = bundle.failedModels;
  const counts = bundle.models.flatMap((model, m) => {
    const entry = bundle.unknownTokens?.[m];
    return entry ? [{ model, unknown: entry.unknown, tokens: entry.tokens }] : [];
  });
  if (counts.length > 0) out.unknownTokens = counts;
  return Object.keys(out).length > 0 ? JSON.stringify(out, null, 2) + '\n' : undefined;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Validates the file against the bundle's models and N; throws UserError naming the file and the field. */
export function parseDiagnostics(text: string, file: string, models: readonly string[], n: number): BundleDiagnostics {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`invalid JSON (${(error as Error).message})`, file);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UserError('expected a JSON object', file);
  const record = value as Record<string, unknown>;
  const out: BundleDiagnostics = {};
  const counts = (v: unknown, where: string): number[] => {
    if (!Array.isArray(v) || v.length !== n || !v.every(isCount)) throw new UserError(`${where} must be ${n} non-negative integers`, file);
    return v;
  };
  if (record.queryLines !== undefined) {
    const lines = counts(record.queryLines, 'queryLines');
    if (lines.some((line) => line < 1)) throw new UserError('queryLines must be 1-based line numbers', file);
    out.queryLines = lines;
  }
  if (record.failedModels !== undefined) {
    if (!Array.isArray(record.failedModels)) throw new UserError('failedModels must be an array', file);
    out.failedModels = record.failedModels.map((entry: unknown, i): ModelFailure => {
      const f = entry as Record<string, unknown> | null;
      if (!f || typeof f !== 'object' || typeof f.model !== 'string' || typeof f.error !== 'string') {
        throw new UserError(`failedModels[${i}] must be {"model": string, "error": string}`, file);
      }
      if (models.includes(f.model)) throw new UserError(`failedModels[${i}]: model '${f.model}' is in the bundle`, file);
      return { model: f.model, error: f.error };
    });
  }
  if (record.unknownTokens !== undefined) {
    if (!Array.isArray(record.unknownTokens)) throw new UserError('unknownTokens must be an array', file);
    const byModel: (UnknownTokenCounts | null)[] = models.map(() => null);
    record.unknownTokens.forEach((entry: unknown, i) => {
      const where = `unknownTokens[${i}]`;
      const u = entry as Record<string, unknown> | null;
      if (!u || typeof u !== 'object' || typeof u.model !== 'string') throw new UserError(`${where} must name a model`, file);
      const m = models.indexOf(u.model);
      if (m < 0) throw new UserError(`${where}: model '${u.model}' is not in the bundle`, file);
      if (byModel[m]) throw new UserError(`${where}: model '${u.model}' appears twice`, file);
      const unknown = counts(u.unknown, `${where}.unknown`);
      const tokens = counts(u.tokens, `${where}.tokens`);
      if (unknown.some((count, q) => count > tokens[q])) throw new UserError(`${where}: more unknown tokens than tokens`, file);
      byModel[m] = { unknown, tokens };
    });
    out.unknownTokens = byModel;
  }
  return out;
}
