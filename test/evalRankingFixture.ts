/** The retrieval/reranking/sts fixture of the evaluation tests, as engine inputs. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EvaluationInput } from '../src/engine/evaluation/evaluate';
import type { EvalKind, EvaluationData, EvaluationRow } from '../src/engine/evaluation/types';
import { packageRoot } from '../src/engine/io/paths';
import type { EmbeddingBundle } from '../src/engine/types';

/** test/fixtures/eval-ranking.json, written by test/fixtures/make_eval_ranking_fixtures.py (numpy/scipy). */
export interface Fixture {
  models: string[];
  tasks: string[];
  homeKinds: (EvalKind | null)[];
  n: number;
  nDocs: number;
  seed: number;
  dims: number[];
  embeddings: number[][][];
  corpus: number[][];
  qrels: { query: number[]; doc: number[]; score: number[] };
  pairs: { a: number[]; b: number[]; score: number[] };
  displacement: { model: string; task: string; meanCosineDistance: number }[];
  splitmix64: Record<string, string[]>;
  expected: {
    evaluation: EvaluationRow[];
    leaderboard: Record<string, unknown>[];
    displacementVsPerformance: { kind: string; metric: string; spearman: number | null; n: number }[];
    baseTop100: Record<string, number[][]>;
    retrievalLeftOut: number;
    rerankingLeftOut: number;
  };
}

export const fixture: Fixture = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'test', 'fixtures', 'eval-ranking.json'), 'utf8'));

export function fixtureData(): EvaluationData {
  return {
    queryIds: Array.from({ length: fixture.n }, (_, i) => String(i + 1)),
    corpusIds: Array.from({ length: fixture.nDocs }, (_, j) => `d${j}`),
    qrels: {
      query: Int32Array.from(fixture.qrels.query),
      doc: Int32Array.from(fixture.qrels.doc),
      score: Float64Array.from(fixture.qrels.score),
    },
    pairs: { a: Int32Array.from(fixture.pairs.a), b: Int32Array.from(fixture.pairs.b), score: Float64Array.from(fixture.pairs.score) },
    homeKinds: fixture.homeKinds,
  };
}

export function fixtureInput(): EvaluationInput {
  return {
    models: fixture.models,
    tasks: fixture.tasks,
    n: fixture.n,
    dims: fixture.dims,
    embeddings: fixture.embeddings.map((perTask) => perTask.map((m) => Float64Array.from(m))),
    corpus: fixture.corpus.map((c) => Float64Array.from(c)),
    data: fixtureData(),
    seed: fixture.seed,
    displacement: fixture.displacement,
  };
}

export function close(actual: number | null, expected: number | null, tol: number, what: string): void {
  if (expected === null || actual === null) {
    assert.equal(actual, expected, what);
    return;
  }
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected}`);
}


/** The fixture as an embedding bundle with its evaluation data and documents. */
export function fixtureBundle(): EmbeddingBundle {
  const input = fixtureInput();
  return { models: input.models, tasks: input.tasks, n: input.n, dims: input.dims, embeddings: input.embeddings, evaluation: input.data, corpus: input.corpus };
}
