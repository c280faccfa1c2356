/**
 * Where an analysed bundle came from (results.json `provenance` of `analyze`): the bundle's own query and evaluation
 * files, its tasks' texts, each model with its identity, and the options asked for.
 *
 * A model's identity is the same wherever it is named: as the `bundle:PATH#MODEL` embedder (its cache key) and here.
 * It is the SHA-256 of its task matrices' values as float64, in task order, whatever precision the files store.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { updateWithFloat64 } from '../float64Hash';
import type { AnalysisOptions, EmbeddingBundle } from '../types';
import { BASE_TASK } from '../types';
import { type Provenance, provenanceOptions } from './provenance';

/** The bundle's files that say where its rows and labels came from (as embed writes them), in this order. */
const QUERY_FILES = ['queries.jsonl', 'queries.txt'];
const EVALUATION_FILES = ['pairs.tsv', 'qrels.tsv', 'corpus_ids.txt', 'kinds.json'];

export function bundleModelIdentity(bundle: EmbeddingBundle, m: number): string {
  const hash = createHash('sha256');
  for (const matrix of bundle.embeddings[m]) updateWithFloat64(hash, matrix);
  return `bundle|${bundle.models[m]}|sha256:${hash.digest('hex')}`;
}

/**
 * Every model's identity, one model at a time with a return to the event loop between them, so that a caller can
 * compute them while the analysis workers run (a paper-scale bundle: about 0.3 s of hashing).
 */
export async function bundleModelIdentities(bundle: EmbeddingBundle): Promise<string[]> {
  const identities: string[] = [];
  for (let m = 0; m < bundle.models.length; m++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    identities.push(bundleModelIdentity(bundle, m));
  }
  return identities;
}

/** The provenance of `analyze <bundlePath>` (`tool`: the analysing tool's name and version). */
export async function bundleProvenance(
  bundlePath: string,
  bundle: EmbeddingBundle,
  identities: readonly string[],
  tool: Provenance['tool'],
  options: AnalysisOptions,
): Promise<Provenance> {
  const isFolder = (await fs.stat(bundlePath)).isDirectory();
  const present = async (names: readonly string[]): Promise<string[]> => {
    if (!isFolder) return [];
    const found = await Promise.all(names.map((name) => fs.stat(path.join(bundlePath, name)).then((s) => s.isFile(), () => false)));
    return names.filter((_, i) => found[i]).map((name) => path.join(bundlePath, name));
  };
  const queryFile = (await present(QUERY_FILES))[0];
  return {
    tool,
    ...(queryFile !== undefined ? { queryFile } : {}),
    instructions: {
      source: bundlePath,
      tasks: bundle.tasks.map((name) => ({ name, instruction: name === BASE_TASK ? null : (bundle.instructions?.get(name) ?? null) })),
    },
    evaluationFiles: await present(EVALUATION_FILES),
    models: bundle.models.map((name, m) => ({ id: `bundle:${bundlePath}#${name}`, name, identity: identities[m] })),
    options: provenanceOptions(options),
  };
}
