/**
 * Queries x tasks x models -> EmbeddingBundle. Texts are rendered per model family, looked up in the embedding
 * cache, and only the misses are embedded: one embed() call per model holding the misses of every task (and of the
 * corpus documents), so that batching (sorted by length) works across tasks.
 * Corpus documents (docs/EVAL.md "What is embedded") are embedded once per model in the family's document form,
 * through the same cache, into `bundle.corpus`. A model that fails is left out and named in the bundle
 * (failedModels); the others go on. Tokenizers with an unknown token also count it in each query (unknownTokens).
 */
import { BASE_TASK, type EmbeddingBundle, type ModelFailure, type UnknownTokenCounts } from '../engine/types';
import { CancelledError, UserError } from '../engine/errors';
import { sharedFloat64 } from '../engine/kernels/shared';
import { CORPUS_TASK, isCorpusTask } from '../engine/evaluation/types';
import { checkTextLength } from '../inputs/limits';
import type { EmbeddingCache } from './cache';
import type { EmbedProgress, Embedder, TaskSpec } from './embedder';

export interface EmbedAllOptions {
  queries: string[];
  /** Corpus documents as embedded (title + " " + text); each is rendered with the model's document form. */
  documents?: string[];
  /** 1-based line of each query in its file (messages name queries by line); default: position + 1. */
  queryLines?: number[];
  /** tasks[0] is Base (instruction null); every other task has an instruction. */
  tasks: TaskSpec[];
  embedders: Embedder[];
  cache?: EmbeddingCache;
  signal?: AbortSignal;
  onProgress?: (progress: EmbedProgress) => void;
}

export interface EmbedAllResult {
  /**
   * The models that embedded; those that failed (load error, server error, bad vectors) are in `bundle.failedModels`
   * and the others go on. Throws UserError only when every model failed.
   */
  bundle: EmbeddingBundle;
  /** Distinct rendered texts found in / missing from the cache, over all models (all misses without a cache). */
  stats: { hits: number; misses: number };
}

/** Cache identity suffix of a model's unknown-token counts per query text (stored as [unknown, tokens]). */
const UNKNOWN_TOKENS_IDENTITY = '|unknown-tokens';

export async function embedAll(options: EmbedAllOptions): Promise<EmbedAllResult> {
  const { queries, documents, tasks, embedders, cache, signal, onProgress } = options;
  validate(queries, tasks, embedders);
  if (documents?.length === 0) throw new UserError('the corpus is empty');
  const stats = { hits: 0, misses: 0 };
  const models: string[] = [];
  const embeddings: Float64Array[][] = [];
  const corpus: Float64Array[] = [];
  const dims: number[] = [];
  const unknownTokens: (UnknownTokenCounts | null)[] = [];
  const failedModels: ModelFailure[] = [];
  for (const embedder of embedders) {
    if (signal?.aborted) throw new CancelledError();
    try {
      const { matrices, documentMatrix, dim } = await embedModel(embedder, queries, documents, tasks, cache, stats, signal, onProgress);
      const counts = await unknownTokenCounts(embedder, queries, cache, signal);
      models.push(embedder.name);
      embeddings.push(matrices);
      if (documentMatrix) corpus.push(documentMatrix);
      dims.push(dim);
      unknownTokens.push(counts);
    } catch (error) {
      if (error instanceof CancelledError || signal?.aborted) throw error;
      failedModels.push({ model: embedder.name, error: error instanceof Error ? error.message : String(error) });
    }
  }
  if (models.length === 0) {
    throw UserError.of({ code: 'noModelLeft', params: { errors: failedModels.map((f) => `${f.model}: ${f.error}`) } });
  }
  const instructions = new Map<string, string>();
  for (const task of tasks) if (task.instruction !== null) instructions.set(task.name, task.instruction);
  const bundle: EmbeddingBundle = {
    models,
    tasks: tasks.map((t) => t.name),
    n: queries.length,
    dims,
    embeddings,
    queries: [...queries],
    instructions,
  };
  if (options.queryLines) bundle.queryLines = [...options.queryLines];
  if (failedModels.length > 0) bundle.failedModels = failedModels;
  if (documents) bundle.corpus = corpus;
  if (unknownTokens.some((counts) => counts !== null)) bundle.unknownTokens = unknownTokens;
  return { bundle, stats };
}

/**
 * One model's T matrices (rows in query order) and, with documents, its corpus matrix: cache first, one embed() call
 * for every miss.
 */
async function embedModel(
  embedder: Embedder,
  queries: string[],
  documents: string[] | undefined,
  tasks: TaskSpec[],
  cache: EmbeddingCache | undefined,
  stats: { hits: number; misses: number },
  signal: AbortSignal | undefined,
  onProgress: EmbedAllOptions['onProgress'],
): Promise<{ matrices: Float64Array[]; documentMatrix?: Float64Array; dim: number }> {
  // rendered[t][q]: the text the model sees; unique: each distinct text once (a document may equal a query).
  const rendered = tasks.map((task) => queries.map((query) => embedder.render(task.instruction, query)));
  const renderedDocuments = documents?.map((text) => embedder.renderDocument(text)) ?? [];
  const unique = [...new Set([...rendered.flat(), ...renderedDocuments])];
  const vectors = new Map<string, Float32Array>();
  const identity = cache ? await embedder.identity() : '';
  const cached = cache ? await cache.getMany(identity, unique) : unique.map(() => undefined);
  const missing: string[] = [];
  unique.forEach((text, i) => {
    const vector = cached[i];
    if (vector) vectors.set(text, vector);
    else missing.push(text);
  });
  if (missing.length > 0) {
    let reported = 0;
    // Each batch is cached as it completes (checked first, so that a bad vector never enters the cache): a run that
    // is killed resumes where it was.
    const onBatch = async (indices: readonly number[], batch: readonly Float32Array[]): Promise<void> => {
      const texts = indices.map((i) => missing[i]);
      checkVectors(embedder.name, texts, [...batch]);
      if (cache) await cache.setMany(identity, texts, batch);
      reported += indices.length;
    };
    const computed = await embedder.embed(missing, { signal, onProgress, onBatch });
    if (computed.length !== missing.length) {
      throw new Error(`model ${embedder.name} returned ${computed.length} vectors for ${missing.length} texts`);
    }
    missing.forEach((text, i) => vectors.set(text, computed[i]));
    checkVectors(embedder.name, missing, computed);
    // An embedder that does not report batches (a bundle) is cached at the end.
    if (cache && reported === 0) await cache.setMany(identity, missing, computed);
  }
  stats.hits += unique.length - missing.length;
  stats.misses += missing.length;
  const dim = vectors.get(unique[0])!.length;
  checkVectors(embedder.name, unique, unique.map((text) => vectors.get(text)!));
  const matrixOf = (texts: string[]): Float64Array => {
    const matrix = sharedFloat64(texts.length * dim);
    texts.forEach((text, row) => matrix.set(vectors.get(text)!, row * dim));
    return matrix;
  };
  return { matrices: rendered.map(matrixOf), documentMatrix: documents ? matrixOf(renderedDocuments) : undefined, dim };
}

/**
 * The unknown-token counts of the bare queries (the language question is about them, not the instructions), cached
 * beside the embeddings so that a run served from the cache reports the same. A tokenizer without an unknown token is
 * cached as zero counts.
 */
async function unknownTokenCounts(
  embedder: Embedder,
  queries: string[],
  cache: EmbeddingCache | undefined,
  signal: AbortSignal | undefined,
): Promise<UnknownTokenCounts | null> {
  if (!embedder.countUnknownTokens) return null;
  const identity = cache ? (await embedder.identity()) + UNKNOWN_TOKENS_IDENTITY : '';
  const cached = cache ? await cache.getMany(identity, queries) : [];
  if (cache && cached.every((pair) => pair !== undefined)) {
    return { unknown: cached.map((pair) => pair![0]), tokens: cached.map((pair) => pair![1]) };
  }
  const counts = await embedder.countUnknownTokens(queries, { signal });
  if (cache) {
    const pairs = queries.map((_, i) => Float32Array.of(counts?.unknown[i] ?? 0, counts?.tokens[i] ?? 0));
    await cache.setMany(identity, queries, pairs);
  }
  return counts;
}

function validate(queries: string[], tasks: TaskSpec[], embedders: Embedder[]): void {
  if (queries.length === 0) throw new UserError('no queries to embed');
  // Backstop for texts that did not come from a checked file (the extension's selection as an instruction).
  queries.forEach((query, i) => checkTextLength(query, `query ${i + 1}`));
  if (embedders.length === 0) throw new UserError('no models to embed with');
  if (tasks.length === 0 || tasks[0].instruction !== null || tasks[0].name !== BASE_TASK) {
    throw new Error(`embedAll: tasks[0] must be ${BASE_TASK} with instruction null`);
  }
  const names = new Set<string>();
  for (const [i, task] of tasks.entries()) {
    if (names.has(task.name)) throw new UserError(`task "${task.name}" appears twice`);
    if (isCorpusTask(task.name)) throw new UserError(`"${task.name}" is reserved (a bundle's corpus embeddings are ${CORPUS_TASK}.npy), not a task name`);
    names.add(task.name);
    if (i > 0 && task.instruction === null) throw new UserError(`task "${task.name}" has no instruction`);
    if (task.instruction !== null) checkTextLength(task.instruction, `the instruction of task "${task.name}"`);
  }
  const models = new Set<string>();
  for (const embedder of embedders) {
    if (models.has(embedder.name)) throw new UserError(`model "${embedder.name}" is listed twice`);
    models.add(embedder.name);
  }
}

function checkVectors(model: string, texts: string[], vectors: Float32Array[]): void {
  const dim = vectors[0]?.length ?? 0;
  if (dim === 0) throw new Error(`model ${model} returned an empty vector`);
  vectors.forEach((vector, i) => {
    if (!vector || vector.length !== dim) {
      throw new Error(`model ${model} returned ${vector?.length ?? 0} dimensions for "${texts[i]}", ${dim} for others`);
    }
    if (!vector.every(Number.isFinite)) throw new Error(`model ${model} returned a non-finite value for "${texts[i]}"`);
  });
}
