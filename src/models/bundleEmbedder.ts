/**
 * An embedding bundle as a model: embeddings computed elsewhere (a Python pipeline, a GPU cluster) take part in a
 * run beside live models. Spec `bundle:PATH` (a bundle with one model) or `bundle:PATH#MODEL`. The bundle must say
 * which query and which instruction each row and task belongs to (queries.txt and, for tasks other than Base,
 * instructions.json): a query or instruction the bundle does not hold is a clear error, never a wrong vector.
 * Corpus documents cannot be served: a bundle keeps them by id (corpus_ids.txt), not by text; analyse such a bundle
 * with `analyze` instead.
 */
import { readBundle } from '../engine/io/bundle';
import { bundleModelIdentity } from '../engine/io/bundleProvenance';
import { UserError } from '../engine/errors';
import { BASE_TASK } from '../engine/types';
import type { Embedder } from './embedder';

export const BUNDLE_SPEC_PREFIX = 'bundle:';

/** `bundle:PATH#MODEL` -> its parts, or undefined when `spec` is not a bundle spec. */
export function parseBundleSpec(spec: string): { path: string; model?: string } | undefined {
  if (!spec.startsWith(BUNDLE_SPEC_PREFIX)) return undefined;
  const rest = spec.slice(BUNDLE_SPEC_PREFIX.length);
  const hash = rest.lastIndexOf('#');
  const bundlePath = hash < 0 ? rest : rest.slice(0, hash);
  if (bundlePath === '') throw new UserError(`model "${spec}": expected bundle:PATH or bundle:PATH#MODEL`);
  return hash < 0 ? { path: bundlePath } : { path: bundlePath, model: rest.slice(hash + 1) };
}

/** A query as queries.txt stores it (one per line). */
function queryKey(query: string): string {
  return query.replace(/\r\n|\r|\n/g, ' ');
}

export async function createBundleEmbedder(bundlePath: string, modelName?: string): Promise<Embedder> {
  const bundle = await readBundle(bundlePath);
  let m: number;
  if (modelName !== undefined) {
    m = bundle.models.indexOf(modelName);
    if (m < 0) throw new UserError(`no model "${modelName}" in this bundle (models: ${bundle.models.join(', ')})`, bundlePath);
  } else if (bundle.models.length === 1) {
    m = 0;
  } else {
    throw new UserError(
      `the bundle holds ${bundle.models.length} models (${bundle.models.join(', ')}): name one as bundle:PATH#MODEL`,
      bundlePath,
    );
  }
  if (!bundle.queries) throw new UserError('the bundle has no queries.txt, so its rows cannot be matched to queries', bundlePath);
  const rowOf = new Map(bundle.queries.map((query, row) => [queryKey(query), row]));
  const taskOf = new Map<string | null, number>([[null, bundle.tasks.indexOf(BASE_TASK)]]);
  for (const [task, instruction] of bundle.instructions ?? []) taskOf.set(instruction, bundle.tasks.indexOf(task));
  const name = bundle.models[m];
  const dim = bundle.dims[m];
  const matrices = bundle.embeddings[m];
  // Hashed as float64 whatever the stored precision (readBundle keeps float32 files float32): the same identity as
  // when every bundle was widened on reading, so cached embeddings stay valid.
  const identity = bundleModelIdentity(bundle, m);

  return {
    name,
    identity: async () => identity,
    // The "text" is the lookup key: which instruction and which query.
    render: (instruction, query) => JSON.stringify([instruction, queryKey(query)]),
    renderDocument: (text) => JSON.stringify({ document: text }),
    async embed(texts) {
      return texts.map((text) => {
        const key = JSON.parse(text) as [string | null, string] | { document: string };
        if (!Array.isArray(key)) {
          throw new UserError(
            `model "${name}" cannot embed corpus documents: a bundle holds its documents by id, not by text (run \`analyze\` on a bundle that has Corpus.npy instead)`,
            bundlePath,
          );
        }
        const [instruction, query] = key;
        const task = taskOf.get(instruction);
        if (task === undefined) {
          throw new UserError(`model "${name}" has no embeddings for the instruction "${instruction}"`, bundlePath);
        }
        const row = rowOf.get(query);
        if (row === undefined) throw new UserError(`model "${name}" has no embedding of the query "${query}"`, bundlePath);
        return new Float32Array(matrices[task].subarray(row * dim, (row + 1) * dim));
      });
    },
    dispose: async () => undefined,
  };
}
