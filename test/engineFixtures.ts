import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../src/engine/io/paths';
import { AnalysisOptions, EmbeddingBundle } from '../src/engine/types';

/** A bundle and numpy/scipy's expected results, written by test/fixtures/make_engine_fixtures.py. */
export interface EngineFixture {
  name: string;
  bundle: EmbeddingBundle;
  options: AnalysisOptions;
  /** False when k > N: the alignment (and so the map) is not unique; only alignment-free numbers are compared. */
  alignmentUnique: boolean;
  expected: {
    k: number;
    reference: string;
    procrustesDistance: number[][];
    explainedVarianceRatio: Record<string, number[]>;
    cosineDistance: number[][];
    mapDistances: number[][];
    mdsStress: number;
    displacement: Record<string, number | string>[];
    topMovers: Record<string, number | string>[];
    robustness: { reference: string; disparity: number; taskOrderPreserved: Record<string, boolean> }[];
  };
}

export const FIXTURE_NAMES = ['cov', 'gram', 'gram-flatten', 'deficient'];

export function loadFixture(name: string): EngineFixture {
  const file = path.join(packageRoot(), 'test', 'fixtures', `engine-${name}.json`);
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  const bundle: EmbeddingBundle = {
    models: raw.models,
    tasks: raw.tasks,
    n: raw.n,
    dims: raw.dims,
    embeddings: raw.embeddings.map((per: number[][]) => per.map((ints) => Float64Array.from(ints, (v) => v / raw.scale))),
    ...(raw.queries ? { queries: raw.queries } : {}),
  };
  return { name, bundle, options: raw.options, alignmentUnique: raw.alignmentUnique, expected: raw.expected };
}
