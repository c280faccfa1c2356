/**
 * `embed` and `run` options that only some kinds of model use (--dtype, --batch-size, --timeout, --retries): given
 * when no chosen model uses it, the option is a usage error; when some models ignore it, a warning names them. Never
 * silently ignored.
 */
import { type ModelKind, modelKind } from '../models/registry';
import { UsageError } from './args';

interface KindOption {
  flag: string;
  /** Who uses it, in words. */
  usedBy: string;
  kinds: readonly ModelKind[];
}

export const KIND_OPTIONS = {
  dtype: { flag: '--dtype', usedBy: 'Hugging Face Hub and local ONNX models (transformers.js)', kinds: ['transformers'] },
  batchSize: { flag: '--batch-size', usedBy: 'models that embed (not bundle: models)', kinds: ['transformers', 'use-lite', 'endpoint'] },
  timeout: { flag: '--timeout', usedBy: 'openai: endpoints', kinds: ['endpoint'] },
  retries: { flag: '--retries', usedBy: 'openai: endpoints', kinds: ['endpoint'] },
} as const satisfies Record<string, KindOption>;

/**
 * Checks the kind-specific options given (name -> the value as written) against the models: throws a UsageError for
 * an option no model uses; returns one warning line per option that some models ignore.
 */
export function modelOptionWarnings(models: readonly string[], given: Partial<Record<keyof typeof KIND_OPTIONS, string>>): string[] {
  const kinds = models.map(modelKind);
  const warnings: string[] = [];
  for (const [name, option] of Object.entries(KIND_OPTIONS) as [keyof typeof KIND_OPTIONS, KindOption][]) {
    const value = given[name];
    if (value === undefined) continue;
    const ignoring = models.filter((_, i) => !option.kinds.includes(kinds[i]));
    if (ignoring.length === 0) continue;
    const who = ignoring.join(', ');
    const written = `${option.flag} ${value}`;
    if (ignoring.length === models.length) {
      throw new UsageError(`${written} is for ${option.usedBy}; ${who} ${ignoring.length === 1 ? 'does' : 'do'} not use it: drop ${option.flag}`);
    }
    warnings.push(`${written} is for ${option.usedBy}; ${who} ${ignoring.length === 1 ? 'ignores' : 'ignore'} it`);
  }
  return warnings;
}
