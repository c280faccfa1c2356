/**
 * Queries x tasks x models -> EmbeddingBundle. Texts are rendered per model family, looked up in the embedding
 * cache, and only the misses are embedded: one embed() call per model holding the misses of every task, so that
 * batching (sorted by length) works across tasks.
 */
import { BASE_TASK, type EmbeddingBundle } from '../engine/types';
import { CancelledError, UserError } from '../engine/errors';
import { sharedFloat64 } from '../engine/kernels/shared';
import { checkTextLength } from '../inputs/limits';
import type { EmbeddingCache } from './cache';
import type { EmbedProgress, Embedder, TaskSpec } from './embedder';

export interface EmbedAllOptions {
  queries: string[];
  /** tasks[0] is Base (instruction null); every other task has an instruction. */
  tasks: TaskSpec[];
  embedders: Embedder[];
  cache?: EmbeddingCache;
  signal?: AbortSignal;
  onProgress?: (progress: EmbedProgress) => void;
}

export interface EmbedAllResult {
  bundle: EmbeddingBundle;
  /** Distinct rendered texts found in / missing from the cache, over all models (all misses without a cache). */
  stats: { hits: number; misses: number };
}

export async function embedAll(options: EmbedAllOptions): Promise<EmbedAllResult> {
  const { queries, tasks, embedders, cache, signal, onProgress } = options;
  validate(queries, tasks, embedders);
  const stats = { hits: 0, misses: 0 };
  const embeddings: Float64Array[][] = [];
  const dims: number[] = [];
  for (const embedder of embedders) {
    if (signal?.aborted) throw new CancelledError();
    // rendered[t][q]: the text the model sees; unique: each distinct text once.
    const rendered = tasks.map((task) => queries.map((query) => embedder.render(task.instruction, query)));
    const unique = [...new Set(rendered.flat())];
    const vectors = new Map<string, Float32Array>();
    const identity = cache ? await embedder.identity() : '';
    const cached = cache ? await cache.getMany(identity, unique) : unique.map(() => undefined);
    const missing: string[] = [];
    unique.forEach((text, i) => {
      const vector = cached[i];
      if (vector) vectors.set(text, vector);
      else missing.push(text);
    });
    stats.hits += unique.length - missing.length;
    stats.misses += missing.length;
    if (missing.length > 0) {
      let reported = 0;
      // Each batch is cached as it completes (checked first, so that a bad vector never enters the cache).
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
    const dim = vectors.get(unique[0])!.length;
    checkVectors(embedder.name, unique, unique.map((text) => vectors.get(text)!));
    dims.push(dim);
    embeddings.push(
      rendered.map((texts) => {
        const matrix = sharedFloat64(queries.length * dim);
        texts.forEach((text, row) => matrix.set(vectors.get(text)!, row * dim));
        return matrix;
      }),
    );
  }
  const instructions = new Map<string, string>();
  for (const task of tasks) if (task.instruction !== null) instructions.set(task.name, task.instruction);
  return {
    bundle: {
      models: embedders.map((e) => e.name),
      tasks: tasks.map((t) => t.name),
      n: queries.length,
      dims,
      embeddings,
      queries: [...queries],
      instructions,
    },
    stats,
  };
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
