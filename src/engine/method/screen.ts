/**
 * Degenerate embeddings, found before the analysis (issue 12, "garbage is presented as a result"): per model and task,
 * zero vectors (the model is left out: a cosine distance needs a direction), distinct queries with exactly the same
 * vector (reported with their share), and a tokenizer that does not know a large share of the queries' tokens
 * (reported; counts come from the embedder). Models that failed to embed arrive in `bundle.failedModels`.
 * Queries are named by their 1-based line in the query file and their text, never by a row index.
 */
import { type EngineMessage, messageText, type QueryExample } from '../messages';
import type { EmbeddingBundle, EmbeddingMatrix, ModelFailure, UnknownTokenCounts } from '../types';

/** A tokenizer that does not know more than this share of the queries' tokens gets a warning. */
export const UNKNOWN_TOKEN_THRESHOLD = 0.2;
/** Queries quoted per message. */
export const EXAMPLE_QUERIES = 3;

export interface Screened {
  /** The bundle without the models left out (the input itself when none is). */
  bundle: EmbeddingBundle;
  /** Models left out: those of bundle.failedModels, then those with zero vectors, in models order. */
  failures: ModelFailure[];
  warnings: EngineMessage[];
}

/** The 1-based line and text of query row `row`. */
export function queryExample(bundle: EmbeddingBundle, row: number): QueryExample {
  const line = bundle.queryLines?.[row] ?? row + 1;
  const query = bundle.queries?.[row];
  return query === undefined ? { line } : { line, query };
}

export function screenBundle(bundle: EmbeddingBundle): Screened {
  const failures: ModelFailure[] = [];
  const warnings: EngineMessage[] = [];
  for (const failure of bundle.failedModels ?? []) {
    failures.push(failure);
    warnings.push({ code: 'modelFailed', params: { model: failure.model, error: failure.error } });
  }
  const kept: number[] = [];
  bundle.models.forEach((model, m) => {
    const zero = rowFinding(bundle, m, zeroRows);
    if (zero) {
      const warning: EngineMessage = { code: 'zeroVectors', params: { model, ...zero } };
      warnings.push(warning);
      failures.push({ model, error: messageText(warning) });
      return;
    }
    kept.push(m);
    const identical = rowFinding(bundle, m, identicalRows);
    if (identical) warnings.push({ code: 'identicalVectors', params: { model, ...identical } });
    const counts = bundle.unknownTokens?.[m];
    const unknown = counts ? unknownTokenFinding(bundle, counts) : undefined;
    if (unknown) warnings.push({ code: 'unknownTokens', params: { model, ...unknown } });
  });
  if (kept.length === bundle.models.length) return { bundle, failures, warnings };
  const pick = <T>(values: readonly T[]): T[] => kept.map((m) => values[m]);
  const screened: EmbeddingBundle = {
    ...bundle,
    models: pick(bundle.models),
    dims: pick(bundle.dims),
    embeddings: pick(bundle.embeddings),
  };
  if (bundle.unknownTokens) screened.unknownTokens = pick(bundle.unknownTokens);
  return { bundle: screened, failures, warnings };
}

interface RowFinding {
  tasks: string[];
  count: number;
  n: number;
  share: number;
  examples: QueryExample[];
}

/**
 * Runs a row detector on every task matrix of model m; undefined when no row is flagged anywhere. `count` and
 * `examples` are those of the task with the most flagged rows (the first on ties); `tasks` lists every flagged task.
 */
function rowFinding(bundle: EmbeddingBundle, m: number, detect: (mat: EmbeddingMatrix, n: number, d: number) => number[]): RowFinding | undefined {
  const { n, tasks } = bundle;
  const d = bundle.dims[m];
  let worst: number[] = [];
  const flagged: string[] = [];
  bundle.embeddings[m].forEach((mat, t) => {
    const rows = detect(mat, n, d);
    if (rows.length === 0) return;
    flagged.push(tasks[t]);
    if (rows.length > worst.length) worst = rows;
  });
  if (flagged.length === 0) return undefined;
  return {
    tasks: flagged,
    count: worst.length,
    n,
    share: worst.length / n,
    examples: worst.slice(0, EXAMPLE_QUERIES).map((row) => queryExample(bundle, row)),
  };
}

/** Rows whose every value is 0, ascending. */
export function zeroRows(mat: EmbeddingMatrix, n: number, d: number): number[] {
  const rows: number[] = [];
  for (let i = 0; i < n; i++) {
    let zero = true;
    for (let j = i * d; j < (i + 1) * d && zero; j++) zero = mat[j] === 0;
    if (zero) rows.push(i);
  }
  return rows;
}

/** Leading values of a row that identicalRows hashes (equal rows have equal prefixes; the rest is compared exactly). */
const HASHED_VALUES = 64;

/**
 * Rows equal (value for value) to at least one other row, ascending. Rows are grouped by a hash of the bits of their
 * first values, then compared exactly within a group: about N * 64 values hashed per matrix whatever d is (18 models
 * of up to 4096 dimensions at N = 200 took 0.2 s when whole rows were hashed).
 */
export function identicalRows(mat: EmbeddingMatrix, n: number, d: number): number[] {
  // The values' bits as 32-bit words: two per float64 value, one per float32 value.
  const words = mat.BYTES_PER_ELEMENT / 4;
  const bits = new Uint32Array(mat.buffer, mat.byteOffset, mat.length * words);
  const hashed = Math.min(d, HASHED_VALUES);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    let hash = 0x811c9dc5;
    for (let x = words * i * d; x < words * (i * d + hashed); x++) hash = Math.imul(hash ^ bits[x], 0x01000193);
    const group = groups.get(hash);
    if (group) group.push(i);
    else groups.set(hash, [i]);
  }
  const same = (a: number, b: number): boolean => {
    for (let j = 0; j < d; j++) if (mat[a * d + j] !== mat[b * d + j]) return false;
    return true;
  };
  const flagged = new Uint8Array(n);
  for (const group of groups.values()) {
    for (let x = 0; x < group.length; x++)
      for (let y = x + 1; y < group.length; y++)
        if (same(group[x], group[y])) flagged[group[x]] = flagged[group[y]] = 1;
  }
  const rows: number[] = [];
  flagged.forEach((f, i) => f && rows.push(i));
  return rows;
}

/** The unknown-token share over all queries when it exceeds the threshold, with the queries that have the largest share. */
function unknownTokenFinding(bundle: EmbeddingBundle, counts: UnknownTokenCounts): { share: number; examples: QueryExample[] } | undefined {
  let unknown = 0;
  let tokens = 0;
  for (let i = 0; i < bundle.n; i++) {
    unknown += counts.unknown[i];
    tokens += counts.tokens[i];
  }
  const share = tokens > 0 ? unknown / tokens : 0;
  if (!(share > UNKNOWN_TOKEN_THRESHOLD)) return undefined;
  const rowShare = (i: number): number => (counts.tokens[i] > 0 ? counts.unknown[i] / counts.tokens[i] : 0);
  const rows = Array.from({ length: bundle.n }, (_, i) => i)
    .filter((i) => counts.unknown[i] > 0)
    .sort((a, b) => rowShare(b) - rowShare(a) || a - b);
  return { share, examples: rows.slice(0, EXAMPLE_QUERIES).map((row) => queryExample(bundle, row)) };
}
