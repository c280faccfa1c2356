/**
 * Model families: how each family attaches a task instruction to a query, and how it pools token states.
 * The templates are those of docs/METHOD.md ("Model families"). Every family also states its Base form
 * (the query with no task instruction).
 */
import { UserError } from '../engine/errors';
import { ownValue } from '../engine/records';

/**
 * cls: first token; mean: attention-mask weighted mean; last: last non-padding token (by the attention mask);
 * output: the model's own `sentence_embedding` output; auto: `output` when the model has it, else `last` for a
 * causal decoder export (one with a key/value cache), else `mean`.
 */
export type Pooling = 'cls' | 'mean' | 'last' | 'output' | 'auto';
export const POOLINGS: readonly Pooling[] = ['cls', 'mean', 'last', 'output', 'auto'];

export type FamilyId = 'qwen3-embedding' | 'e5-instruct' | 'e5-mistral' | 'instructor' | 'bge-v1.5' | 'multilingual-e5' | 'ruri-v3' | 'generic';

/**
 * INSTRUCTOR embeds the pair [instruction, text] as one concatenated sequence but pools over the text tokens only.
 * Its rendered text keeps the two parts apart with this separator (U+001F, "unit separator", which no tokenizer
 * sees: the embedder splits on it), so the cache key still holds the exact instruction and text.
 */
export const INSTRUCTION_SEPARATOR = '\u001f';

export interface Family {
  id: FamilyId;
  /** Template with `{instruction}` and `{query}` used when a task has an instruction. */
  template: string;
  /** Template with `{query}` used for Base (no instruction). */
  baseTemplate: string;
  /**
   * Template with `{text}` for corpus documents (retrieval and reranking, docs/EVAL.md "What is embedded"): the
   * family's document form, never a task instruction. Not part of familyIdentity: the rendered text is the cache key.
   */
  documentTemplate: string;
  pooling: Pooling;
  normalize: boolean;
  maxLength: number;
  /** INSTRUCTOR only: mean over the text tokens (instruction masked out), then the model's Dense layer. */
  instructionMasked?: boolean;
}

/** Per-model overrides (CLI flags, extension settings). Any field left out keeps the family's value. */
export interface ModelOverrides {
  family?: FamilyId;
  template?: string;
  baseTemplate?: string;
  pooling?: Pooling;
  normalize?: boolean;
  maxLength?: number;
}

const FAMILIES: Record<FamilyId, Family> = {
  // Base: the bare query (Qwen3-Embedding's documented form for text without an instruction).
  'qwen3-embedding': {
    id: 'qwen3-embedding',
    template: 'Instruct: {instruction}\nQuery:{query}',
    baseTemplate: '{query}',
    documentTemplate: '{text}',
    pooling: 'last',
    normalize: true,
    maxLength: 8192,
  },
  // Base: the bare query (the e5-instruct cards embed text without an instruction as is).
  'e5-instruct': {
    id: 'e5-instruct',
    template: 'Instruct: {instruction}\nQuery: {query}',
    baseTemplate: '{query}',
    documentTemplate: '{text}',
    pooling: 'mean',
    normalize: true,
    maxLength: 512,
  },
  // Base: the bare query. Decoder model: last-token pooling.
  'e5-mistral': {
    id: 'e5-mistral',
    template: 'Instruct: {instruction}\nQuery: {query}',
    baseTemplate: '{query}',
    documentTemplate: '{text}',
    pooling: 'last',
    normalize: true,
    maxLength: 4096,
  },
  // Base: the text with an empty instruction, so every token is pooled.
  instructor: {
    id: 'instructor',
    template: `{instruction}${INSTRUCTION_SEPARATOR}{query}`,
    baseTemplate: '{query}',
    documentTemplate: `Represent the document for retrieval:${INSTRUCTION_SEPARATOR}{text}`,
    pooling: 'mean',
    normalize: true,
    maxLength: 512,
    instructionMasked: true,
  },
  // Base: the bare query (bge-v1.5 works without its retrieval prefix too). The default retrieval prefix is
  // "Represent this sentence for searching relevant passages: " and is given as the Retrieval instruction.
  'bge-v1.5': {
    id: 'bge-v1.5',
    template: '{instruction}{query}',
    baseTemplate: '{query}',
    documentTemplate: '{text}',
    pooling: 'cls',
    normalize: true,
    maxLength: 512,
  },
  // Not instruction-aware: every task renders as `query: {query}`, as METHOD.md states; Base is the same
  // `query: ` prefix. Override the template to attach an instruction anyway.
  'multilingual-e5': {
    id: 'multilingual-e5',
    template: 'query: {query}',
    baseTemplate: 'query: {query}',
    documentTemplate: 'passage: {text}',
    pooling: 'mean',
    normalize: true,
    maxLength: 512,
  },
  // The instruction is one of ruri-v3's role prefixes ("検索クエリ: ", "検索文書: ", "トピック: ") or any text put in
  // front of the query; Base is no prefix.
  'ruri-v3': {
    id: 'ruri-v3',
    template: '{instruction}{query}',
    baseTemplate: '{query}',
    documentTemplate: '検索文書: {text}',
    pooling: 'mean',
    normalize: true,
    maxLength: 8192,
  },
  // Base: the bare query. Pooling: the model's own sentence_embedding output when it has one, else mean.
  generic: {
    id: 'generic',
    template: '{instruction} {query}',
    baseTemplate: '{query}',
    documentTemplate: '{text}',
    pooling: 'auto',
    normalize: true,
    maxLength: 512,
  },
};

export const FAMILY_IDS = Object.keys(FAMILIES) as FamilyId[];

export function familyById(id: FamilyId): Family {
  const family = ownValue(FAMILIES, id);
  if (!family) throw new UserError(`unknown model family "${id}" (known: ${FAMILY_IDS.join(', ')})`);
  return { ...family };
}

/** The parts of a Hugging Face config.json that tell families apart. */
export interface ModelConfigHints {
  model_type?: string;
  architectures?: string[];
  _name_or_path?: string;
}

/**
 * Detects the family from the model id (Hub id or folder name) and, failing that, from config.json. The id wins
 * because config.json alone cannot tell e.g. Qwen3-Embedding from a Qwen3 chat model.
 */
export function detectFamily(modelId: string, config?: ModelConfigHints): FamilyId {
  const byId = detectFromName(modelId);
  if (byId) return byId;
  const byConfigName = config?._name_or_path ? detectFromName(config._name_or_path) : undefined;
  if (byConfigName) return byConfigName;
  const architectures = (config?.architectures ?? []).join(' ').toLowerCase();
  if (architectures.includes('instructor')) return 'instructor';
  return 'generic';
}

function detectFromName(name: string): FamilyId | undefined {
  const n = name.toLowerCase();
  if (/qwen3-embedding/.test(n)) return 'qwen3-embedding';
  if (/e5-mistral/.test(n)) return 'e5-mistral';
  if (/e5-[a-z0-9-]*instruct/.test(n)) return 'e5-instruct';
  if (/instructor-/.test(n)) return 'instructor';
  if (/bge-[a-z0-9-]*v1\.5/.test(n)) return 'bge-v1.5';
  if (/multilingual-e5-(small|base|large)/.test(n)) return 'multilingual-e5';
  if (/ruri-v3/.test(n)) return 'ruri-v3';
  return undefined;
}

/** The family after overrides, validated. */
export function resolveFamily(modelId: string, config?: ModelConfigHints, overrides: ModelOverrides = {}): Family {
  const family = familyById(overrides.family ?? detectFamily(modelId, config));
  if (overrides.template !== undefined) {
    if (!overrides.template.includes('{query}')) throw new UserError(`template "${overrides.template}" has no {query}`);
    family.template = overrides.template;
  }
  if (overrides.baseTemplate !== undefined) {
    if (!overrides.baseTemplate.includes('{query}')) {
      throw new UserError(`base template "${overrides.baseTemplate}" has no {query}`);
    }
    if (overrides.baseTemplate.includes('{instruction}')) {
      throw new UserError(`base template "${overrides.baseTemplate}" must not contain {instruction}`);
    }
    family.baseTemplate = overrides.baseTemplate;
  }
  if (overrides.pooling !== undefined) {
    if (!POOLINGS.includes(overrides.pooling)) {
      throw new UserError(`unknown pooling "${overrides.pooling}" (one of ${POOLINGS.join(', ')})`);
    }
    family.pooling = overrides.pooling;
  }
  if (overrides.normalize !== undefined) family.normalize = overrides.normalize;
  if (overrides.maxLength !== undefined) {
    if (!Number.isInteger(overrides.maxLength) || overrides.maxLength < 1) {
      throw new UserError(`max length must be a positive integer, got ${overrides.maxLength}`);
    }
    family.maxLength = overrides.maxLength;
  }
  return family;
}

/** The exact text the model sees for `query` under `instruction` (null = Base). */
export function renderText(family: Family, instruction: string | null, query: string): string {
  // Single-pass replacement so that braces inside the instruction or the query are never re-expanded.
  const template = instruction === null ? family.baseTemplate : family.template;
  return template.replace(/\{(instruction|query)\}/g, (_, name: string) =>
    name === 'query' ? query : (instruction as string),
  );
}

/** The exact text the model sees for a corpus document. */
export function renderDocument(family: Family, text: string): string {
  // Single-pass replacement, as in renderText.
  return family.documentTemplate.replace(/\{text\}/g, () => text);
}

/** Everything about a family that changes vectors: part of the embedding-cache identity. */
export function familyIdentity(family: Family): string {
  return JSON.stringify({
    template: family.template,
    baseTemplate: family.baseTemplate,
    pooling: family.pooling,
    normalize: family.normalize,
    maxLength: family.maxLength,
    instructionMasked: family.instructionMasked ?? false,
  });
}
