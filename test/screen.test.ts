/**
 * The degenerate-embedding screen (src/engine/method/screen.ts) and partial results in the engine: zero vectors leave a
 * model out, identical vectors and unknown tokens are reported with their share and example queries (1-based lines and
 * text), models that failed to embed are listed, the analysis goes on with what is left (one model is enough), two
 * names for one model are reported. The real-model cases (use-lite and GloVe on Japanese) are in
 * test/degenerate-models.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserError } from '../src/engine/errors';
import { analyze } from '../src/engine/method/analyze';
import { runAnalysis } from '../src/engine/method/runAnalysis';
import { identicalRows, screenBundle, zeroRows } from '../src/engine/method/screen';
import type { AnalysisResult, EmbeddingBundle } from '../src/engine/types';
import { loadFixture } from './engineFixtures';

/** The cov fixture (models alpha, beta, gamma, delta; 30 queries; 5 tasks) with query texts and file lines. */
function fixtureBundle(): EmbeddingBundle {
  const { bundle } = loadFixture('cov');
  return {
    ...bundle,
    embeddings: bundle.embeddings.map((per) => per.map((mat) => mat.slice())),
    queries: Array.from({ length: bundle.n }, (_, i) => `query text ${i + 1}`),
    queryLines: Array.from({ length: bundle.n }, (_, i) => 2 * i + 3), // a header and a blank line between queries
  };
}

function setRow(bundle: EmbeddingBundle, m: number, t: number, row: number, values: ArrayLike<number>): void {
  bundle.embeddings[m][t].set(values, row * bundle.dims[m]);
}

function rowOf(bundle: EmbeddingBundle, m: number, t: number, row: number): Float64Array {
  const d = bundle.dims[m];
  return Float64Array.from(bundle.embeddings[m][t].subarray(row * d, (row + 1) * d));
}

/** The result's numbers without its caveats, for comparing a partial analysis with one of the models left. */
function numbers(result: AnalysisResult): Partial<AnalysisResult> {
  const { warnings, warningDetails, failedModels, ...rest } = result;
  return rest;
}

describe('row detectors', () => {
  it('zeroRows finds exactly the rows whose every value is 0', () => {
    const mat = Float64Array.from([0, 0, 1, 0, 0, 0, -0, 0, 1e-300, 0]);
    assert.deepEqual(zeroRows(mat, 5, 2), [0, 2, 3]);
  });

  it('identicalRows finds every row equal to another one, and no row that merely collides in its hash', () => {
    const mat = Float64Array.from([1, 2, 3, 4, 1, 2, 5, 6, 3, 4, 1, 2.0000000000000004]);
    assert.deepEqual(identicalRows(mat, 6, 2), [0, 1, 2, 4]);
    assert.deepEqual(identicalRows(Float64Array.from([1, 2, 3, 4]), 2, 2), []);
    // Long rows equal in their hashed prefix but not after it are not identical.
    const d = 100;
    const long = new Float64Array(3 * d).fill(0.5);
    long[d + 99] = 0.25;
    assert.deepEqual(identicalRows(long, 3, d), [0, 2]);
  });
});

describe('screen and partial results', () => {
  it('a model with zero vectors is left out, named with its share and example queries; the others are analysed', async () => {
    const bundle = fixtureBundle();
    const zero = new Float64Array(bundle.dims[3]);
    setRow(bundle, 3, 1, 4, zero);
    setRow(bundle, 3, 1, 6, zero);
    setRow(bundle, 3, 2, 6, zero);
    const result = await analyze(bundle);
    assert.deepEqual(result.models, ['alpha', 'beta', 'gamma']);
    const message =
      'model delta gave zero vectors for 2 of 30 queries (6.7%) under Retrieval, STS, e.g. line 11 "query text 5", ' +
      'line 15 "query text 7"; it is left out of the analysis. Likely cause: this model does not cover the language of ' +
      'these queries';
    assert.deepEqual(result.failedModels, [{ model: 'delta', error: message }]);
    assert.deepEqual(result.warnings, [message]);
    assert.deepEqual(result.warningDetails, [
      {
        code: 'zeroVectors',
        params: {
          model: 'delta',
          tasks: ['Retrieval', 'STS'],
          count: 2,
          n: 30,
          share: 2 / 30,
          examples: [{ line: 11, query: 'query text 5' }, { line: 15, query: 'query text 7' }],
        },
      },
    ]);
    const without: EmbeddingBundle = { ...bundle, models: bundle.models.slice(0, 3), dims: bundle.dims.slice(0, 3), embeddings: bundle.embeddings.slice(0, 3) };
    assert.deepEqual(numbers(result), numbers(await analyze(without)));
    assert.equal(JSON.stringify(await runAnalysis(bundle)), JSON.stringify(result));
  });

  it('distinct queries with the same vector are reported with their share, per model, without leaving it out', async () => {
    const bundle = fixtureBundle();
    const first = rowOf(bundle, 1, 3, 0);
    setRow(bundle, 1, 3, 2, first);
    setRow(bundle, 1, 3, 9, first);
    const result = await analyze(bundle);
    assert.deepEqual(result.models, bundle.models);
    assert.deepEqual(result.failedModels, []);
    assert.deepEqual(result.warningDetails, [
      {
        code: 'identicalVectors',
        params: {
          model: 'beta',
          tasks: ['Classification'],
          count: 3,
          n: 30,
          share: 0.1,
          examples: [{ line: 3, query: 'query text 1' }, { line: 7, query: 'query text 3' }, { line: 21, query: 'query text 10' }],
        },
      },
    ]);
    assert.match(result.warnings[0], /^model beta gave distinct queries the same vector: 3 of 30 queries \(10\.0%\) .* under Classification, e\.g\. line 3 "query text 1"/);
  });

  it("a tokenizer's unknown-token share above the threshold is reported with the queries most affected", async () => {
    const bundle = fixtureBundle();
    const tokens = Array.from({ length: bundle.n }, () => 4);
    const unknown = Array.from({ length: bundle.n }, (_, i) => (i === 7 ? 4 : i % 3 === 0 ? 3 : 0));
    const low = { unknown: tokens.map((_, i) => (i === 0 ? 1 : 0)), tokens };
    bundle.unknownTokens = [{ unknown, tokens }, low, null, null];
    const result = await analyze(bundle);
    const share = unknown.reduce((sum: number, v) => sum + v, 0) / (4 * bundle.n);
    assert.ok(share > 0.2);
    assert.deepEqual(result.warningDetails, [
      {
        code: 'unknownTokens',
        params: { model: 'alpha', share, examples: [{ line: 17, query: 'query text 8' }, { line: 3, query: 'query text 1' }, { line: 9, query: 'query text 4' }] },
      },
    ]);
    assert.match(result.warnings[0], /^model alpha's tokenizer does not know 28\.3% of the queries' tokens, e\.g\. line 17 "query text 8"/);
  });

  it('models that failed to embed are listed and warned about; the analysis goes on with one model', async () => {
    const bundle = fixtureBundle();
    const one: EmbeddingBundle = {
      ...bundle,
      models: ['gamma'],
      dims: [bundle.dims[2]],
      embeddings: [bundle.embeddings[2]],
      failedModels: [
        { model: 'remote', error: 'http://127.0.0.1:9/v1/embeddings answered 500' },
        { model: 'folder', error: 'cannot load' },
      ],
    };
    const result = await analyze(one, { reference: 'remote' });
    assert.deepEqual(result.models, ['gamma']);
    assert.equal(result.reference, 'gamma');
    assert.deepEqual(result.procrustesDistance, [[0]]);
    assert.deepEqual(result.robustness, []);
    assert.equal(result.displacement.length, 4);
    assert.equal(result.points.length, 5);
    assert.ok(result.points.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
    assert.deepEqual(result.failedModels, one.failedModels);
    assert.deepEqual(result.warnings, [
      'model remote failed and is left out of the analysis: http://127.0.0.1:9/v1/embeddings answered 500',
      'model folder failed and is left out of the analysis: cannot load',
      'the reference model remote was left out, so the reference is chosen automatically',
    ]);
    assert.equal(JSON.stringify(await runAnalysis(one, { reference: 'remote' })), JSON.stringify(result));
  });

  it('fails, with every model named, only when no model is left', async () => {
    const bundle = fixtureBundle();
    const only: EmbeddingBundle = { ...bundle, models: ['alpha'], dims: [bundle.dims[0]], embeddings: [bundle.embeddings[0]], failedModels: [{ model: 'x', error: 'server error 503' }] };
    setRow(only, 0, 0, 0, new Float64Array(bundle.dims[0]));
    const check = (err: unknown): boolean => {
      assert.ok(err instanceof UserError);
      assert.equal(err.detail?.code, 'noModelLeft');
      assert.match(err.message, /^no model could be analysed: x: server error 503; alpha: model alpha gave zero vectors for 1 of 30 queries/);
      return true;
    };
    await assert.rejects(analyze(only), check);
    await assert.rejects(runAnalysis(only), check);
    await assert.rejects(analyze({ ...only, models: [], dims: [], embeddings: [] }), /no model could be analysed: x: server error 503$/);
  });

  it('two names for one model (embeddings equal up to a rotation) are reported as one model', async () => {
    const bundle = fixtureBundle();
    const d = bundle.dims[0];
    // alpha's vectors with two coordinates swapped: the same geometry.
    const swapped = bundle.embeddings[0].map((mat) => {
      const out = mat.slice();
      for (let i = 0; i < bundle.n; i++) [out[i * d], out[i * d + 1]] = [mat[i * d + 1], mat[i * d]];
      return out;
    });
    const twin: EmbeddingBundle = { ...bundle, models: [...bundle.models, 'alpha-copy'], dims: [...bundle.dims, d], embeddings: [...bundle.embeddings, swapped] };
    const result = await analyze(twin);
    assert.deepEqual(result.warningDetails, [{ code: 'sameModel', params: { first: 'alpha', second: 'alpha-copy' } }]);
    assert.equal(
      result.warnings[0],
      'models alpha and alpha-copy give the same embeddings (Procrustes distance below 1e-9 both ways): they are one model under two names',
    );
    assert.deepEqual((await analyze(bundle)).warnings, []);
  });

  it('screenBundle returns the input itself when nothing is left out', () => {
    const bundle = fixtureBundle();
    assert.equal(screenBundle(bundle).bundle, bundle);
  });
});
