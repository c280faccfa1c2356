import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SplitMix64 } from '../src/engine/evaluation/bootstrap';
import { EVALUATION_SCORERS, EvaluationScorers } from '../src/engine/evaluation/cells';
import { scoreClassification } from '../src/engine/evaluation/classification';
import { scoreClustering } from '../src/engine/evaluation/clustering';
import { documentsOf, normaliseRows } from '../src/engine/evaluation/vectors';
import { averageRanks, pearson, ResampleRanker, spearman } from '../src/engine/evaluation/correlation';
import { evaluate } from '../src/engine/evaluation/evaluate';
import { EvaluationMemo } from '../src/engine/evaluation/memo';
import { indexQrels, scoreRetrieval, topK } from '../src/engine/evaluation/ranking';
import type { KindScore } from '../src/engine/evaluation/scorer';
import { mulberry32 } from '../src/engine/kernels/linalg';
import { close, fixture, fixtureData, fixtureInput } from './evalRankingFixture';

const NUMBER_FIELDS = ['value', 'base', 'delta', 'ciLow', 'ciHigh', 'deltaCiLow', 'deltaCiHigh'] as const;

describe('evaluation: SplitMix64 stream against numpy uint64', () => {
  it('the first outputs of three seeds equal the fixture script\'s numpy stream', () => {
    for (const [seed, outputs] of Object.entries(fixture.splitmix64)) {
      const stream = new SplitMix64(Number(seed));
      for (const expected of outputs) {
        const [hi, lo] = stream.nextHalves();
        assert.equal(((BigInt(hi) << 32n) | BigInt(lo)).toString(), expected, `seed ${seed}`);
      }
    }
  });
});

describe('evaluation: correlation helpers', () => {
  it('averageRanks gives tied values the mean of their ranks (scipy rankdata "average")', () => {
    assert.deepEqual(Array.from(averageRanks([3, 1, 3, 2, 3])), [4, 1, 4, 2, 4]);
  });
  it('averageRanks = (number below) + (number equal + 1) / 2 for any values, ties and -0 / 0 included', () => {
    // The definition, counted pair by pair: independent of the sort and binary searches of the implementation.
    const definition = (values: number[]): number[] =>
      values.map((v) => values.filter((w) => w < v).length + (values.filter((w) => w === v).length + 1) / 2);
    const value = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(-0, 0, 0.5), fc.double({ noNaN: true }));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 40 }), (values) => {
        assert.deepEqual(Array.from(averageRanks(values)), definition(values));
      }),
      { numRuns: 300 },
    );
  });
  it('ResampleRanker ranks a resample exactly as averageRanks ranks the drawn values', () => {
    const value = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(-0, 0), fc.double({ noNaN: true }));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 40 }), (values, draws) => {
        const sample = Int32Array.from(draws, (x) => x % values.length);
        const drawn = Array.from(sample, (i) => values[i]);
        const ranks = new ResampleRanker(values).ranksOf(sample, new Float64Array(sample.length));
        assert.deepEqual(Array.from(ranks), Array.from(averageRanks(drawn)));
      }),
      { numRuns: 300 },
    );
  });
  it('an undefined correlation (constant side, fewer than 2 values) is NaN', () => {
    assert.ok(Number.isNaN(spearman([1, 2, 3], [5, 5, 5])));
    assert.ok(Number.isNaN(pearson([1], [2])));
  });
});

describe('evaluation: retrieval, reranking and sts against numpy/scipy (eval-ranking.json)', () => {
  it('every row (metrics, Delta, bootstrap bounds) matches; row order is models, tasks, kinds, metrics', async () => {
    const result = await evaluate(fixtureInput());
    const expected = fixture.expected.evaluation;
    assert.equal(result.evaluation.length, expected.length);
    result.evaluation.forEach((row, x) => {
      const ex = expected[x];
      const what = `${row.model}/${row.task}/${row.kind}/${row.metric}`;
      for (const key of ['model', 'task', 'kind', 'metric', 'home', 'n'] as const) assert.equal(row[key], ex[key], `${what} ${key}`);
      for (const key of NUMBER_FIELDS) close(row[key], ex[key], 1e-9, `${what} ${key}`);
    });
  });

  it('leaderboard: wordings ranked, paired differences to the best and their intervals match', async () => {
    const { leaderboard } = await evaluate(fixtureInput());
    const expected = fixture.expected.leaderboard;
    assert.equal(leaderboard.length, expected.length);
    assert.ok(leaderboard.some((r) => r.significant), 'the fixture has a significant difference');
    leaderboard.forEach((row, x) => {
      const ex = expected[x];
      for (const key of ['model', 'kind', 'metric', 'task', 'rank', 'best', 'significant'] as const) assert.equal(row[key], ex[key], `${x} ${key}`);
      for (const key of ['value', 'ciLow', 'ciHigh', 'difference', 'differenceCiLow', 'differenceCiHigh'] as const)
        close(row[key], ex[key] as number, 1e-9, `${row.model}/${row.task} ${key}`);
    });
  });

  it('displacement vs performance: Spearman per kind over the (model, non-Base task) cells', async () => {
    const { displacementVsPerformance } = await evaluate(fixtureInput());
    assert.equal(displacementVsPerformance.length, fixture.expected.displacementVsPerformance.length);
    displacementVsPerformance.forEach((row, x) => {
      const ex = fixture.expected.displacementVsPerformance[x];
      assert.equal(row.kind, ex.kind);
      assert.equal(row.metric, ex.metric);
      assert.equal(row.n, ex.n);
      close(row.spearman, ex.spearman, 1e-9, `${row.kind} rho`);
    });
  });

  it('queries left out of retrieval (no document of score > 0) and reranking are counted in warnings', async () => {
    const { warnings } = await evaluate(fixtureInput());
    const { retrievalLeftOut, rerankingLeftOut } = fixture.expected;
    assert.ok(warnings.some((w) => w.startsWith(`retrieval: ${retrievalLeftOut} of ${fixture.n} queries`)), warnings.join('\n'));
    assert.ok(warnings.some((w) => w.startsWith(`reranking: ${rerankingLeftOut} of ${fixture.n} queries`)), warnings.join('\n'));
  });

  for (const blocks of [{}, { blockDocs: 1, blockQueries: 1 }, { blockDocs: 7, blockQueries: 5 }, { blockDocs: 64, blockQueries: 1000 }]) {
    it(`top-100 of Base equals numpy's full ranking (ties to the lower index) with blocks ${JSON.stringify(blocks)}`, async () => {
      const qrels = indexQrels(fixtureData().qrels!, fixture.n);
      const units = qrels.retrievalQueries;
      for (const [m, model] of fixture.models.entries()) {
        const d = fixture.dims[m];
        const base = normaliseRows(Float64Array.from(fixture.embeddings[m][0]), fixture.n, d);
        const documents = documentsOf(Float64Array.from(fixture.corpus[m]), fixture.nDocs, d);
        const q = new Float64Array(units.length * d);
        units.forEach((row, u) => q.set(base.subarray(row * d, (row + 1) * d), u * d));
        const top = await topK(q, units.length, documents, 100, blocks);
        const expected = fixture.expected.baseTop100[model];
        units.forEach((_, u) => assert.deepEqual(Array.from(top.docs.subarray(u * 100, (u + 1) * 100)), expected[u], `${model} unit ${u}`));
      }
    });
  }
});

describe('evaluation: properties', () => {
  it('documents equal to their queries (each query relevant to itself): nDCG@10 = MRR@10 = Recall@100 = 1', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 2, max: 12 }), fc.integer({ min: 0, max: 2 ** 31 }), async (n, d, seed) => {
        const rng = mulberry32(seed);
        const queries = normaliseRows(Float64Array.from({ length: n * d }, () => rng() - 0.5), n, d);
        const qrels = indexQrels(
          { query: Int32Array.from({ length: n }, (_, i) => i), doc: Int32Array.from({ length: n }, (_, i) => i), score: new Float64Array(n).fill(1) },
          n,
        );
        const score = await scoreRetrieval(queries, documentsOf(queries, n, d), qrels, { blockDocs: 1 + (seed % 7), blockQueries: 1 + (seed % 3) });
        assert.equal(score.n, n);
        for (const v of score.values) assert.ok(Math.abs(v - 1) < 1e-12, `got ${score.values}`);
      }),
      { numRuns: 40 },
    );
  });

  it('documents normalised block by block score exactly as a normalised copy of the corpus', async () => {
    const qrels = indexQrels(fixtureData().qrels!, fixture.n);
    const m = fixture.models.indexOf('gauss');
    const d = fixture.dims[m];
    const raw = Float64Array.from(fixture.corpus[m]);
    const copy = normaliseRows(raw, fixture.nDocs, d);
    assert.notEqual(copy, raw, 'the fixture corpus is not normalised');
    const queries = normaliseRows(Float64Array.from(fixture.embeddings[m][1]), fixture.n, d);
    const a = await scoreRetrieval(queries, documentsOf(raw, fixture.nDocs, d), qrels);
    const b = await scoreRetrieval(queries, documentsOf(copy, fixture.nDocs, d), qrels);
    assert.deepEqual(a.values, b.values);
    assert.deepEqual(EVALUATION_SCORERS.reranking(queries, documentsOf(raw, fixture.nDocs, d), qrels).values,
      EVALUATION_SCORERS.reranking(queries, documentsOf(copy, fixture.nDocs, d), qrels).values);
  });

  it('Base rows have Delta 0 and a delta interval of exactly (0, 0)', async () => {
    const { evaluation } = await evaluate(fixtureInput());
    for (const row of evaluation.filter((r) => r.task === 'Base')) {
      assert.equal(row.delta, 0);
      if (row.ciLow !== null) assert.deepEqual([row.deltaCiLow, row.deltaCiHigh], [0, 0]);
      else assert.deepEqual([row.deltaCiLow, row.deltaCiHigh], [null, null]);
    }
  });

  it('the same input gives an identical result, byte for byte once serialised', async () => {
    const a = await evaluate(fixtureInput());
    const b = await evaluate(fixtureInput());
    assert.deepEqual(a, b);
    assert.equal(JSON.stringify(a), JSON.stringify(b));
  });

  it('the block sizes of the similarity products do not change any result', async () => {
    const reference = await evaluate(fixtureInput());
    for (const blocks of [{ blockDocs: 1, blockQueries: 1 }, { blockDocs: 13, blockQueries: 4 }, { blockDocs: 299, blockQueries: 58 }]) {
      const scorers: EvaluationScorers = {
        ...EVALUATION_SCORERS,
        retrieval: (q, documents, qrels) => scoreRetrieval(q, documents, qrels, blocks),
      };
      assert.deepEqual(await evaluate(fixtureInput(), { scorers }), reference, JSON.stringify(blocks));
    }
  });
});

/** The engine's scorers wrapped to count their calls per kind. */
function countingScorers(counts: Map<string, number>): EvaluationScorers {
  const bump = (kind: string): void => void counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return {
    retrieval: (...args) => (bump('retrieval'), EVALUATION_SCORERS.retrieval(...args)),
    reranking: (...args) => (bump('reranking'), EVALUATION_SCORERS.reranking(...args)),
    sts: (...args) => (bump('sts'), EVALUATION_SCORERS.sts(...args)),
    classification: (...args) => (bump('classification'), EVALUATION_SCORERS.classification(...args)),
    clustering: (...args) => (bump('clustering'), EVALUATION_SCORERS.clustering(...args)),
  };
}

describe('evaluation: live-mode memo', () => {
  it('when one task changes, only that task is scored again (per model and kind), and the result equals a fresh run', async () => {
    const memo = new EvaluationMemo();
    const counts = new Map<string, number>();
    const scorers = countingScorers(counts);
    const first = await evaluate(fixtureInput(), { scorers, memo });
    const cellsPerKind = fixture.models.length * fixture.tasks.length;
    assert.deepEqual([...counts.entries()], [['retrieval', cellsPerKind], ['reranking', cellsPerKind], ['sts', cellsPerKind]]);
    assert.deepEqual(first, await evaluate(fixtureInput()));

    // Nothing changed: nothing is scored.
    counts.clear();
    assert.deepEqual(await evaluate(fixtureInput(), { scorers, memo }), first);
    assert.equal(counts.size, 0);

    // Task 2 of every model changes (a new array with other numbers; the others are new arrays with the same numbers).
    const changed = fixtureInput();
    changed.embeddings.forEach((perTask) => (perTask[2] = perTask[2].map((v, x) => (x % 5 === 0 ? -v : v))));
    counts.clear();
    const second = await evaluate(changed, { scorers, memo });
    assert.deepEqual([...counts.entries()], [['retrieval', 2], ['reranking', 2], ['sts', 2]]);
    assert.deepEqual(second, await evaluate(changed));
    assert.notDeepEqual(second.evaluation, first.evaluation);
    assert.equal(memo.size, cellsPerKind * 3, 'the memo keeps only the cells of the last run');
  });

  it('a changed seed, qrels or corpus is not served from the memo', async () => {
    const memo = new EvaluationMemo();
    const counts = new Map<string, number>();
    const scorers = countingScorers(counts);
    await evaluate(fixtureInput(), { scorers, memo });
    counts.clear();
    await evaluate({ ...fixtureInput(), seed: fixture.seed + 1 }, { scorers, memo });
    assert.equal(counts.get('sts'), fixture.models.length * fixture.tasks.length);
    counts.clear();
    const input = fixtureInput();
    input.seed = fixture.seed + 1;
    input.corpus![0][0] = -input.corpus![0][0];
    await evaluate(input, { scorers, memo });
    assert.deepEqual([...counts.entries()], [['retrieval', fixture.tasks.length], ['reranking', fixture.tasks.length]]);
  });
});

describe('evaluation: classification and clustering wiring (test-only scorers)', () => {
  // Not the real scorers (classification.ts, clustering.ts): stand-ins that record what they were given and return
  // the share of queries whose label index is even, so that the assembly around them can be checked.
  it('labels reach the scorers as sorted label indices; rows, home and Delta come out for both kinds', async () => {
    const calls: { kind: string; labels: number[]; labelCount: number; seed?: number; norm: number }[] = [];
    const stand = async (kind: string, vectors: Float64Array, n: number, d: number, labels: Int32Array, labelCount: number, seed?: number): Promise<KindScore> => {
      let norm = 0;
      for (let c = 0; c < d; c++) norm += vectors[c] * vectors[c];
      calls.push({ kind, labels: Array.from(labels), labelCount, seed, norm });
      const even = Float64Array.from(labels, (l, i) => (l % 2 === 0 ? vectors[i * d] : 0));
      const mean = (sample: ArrayLike<number>): number => Array.from(sample, (i) => even[i]).reduce((a, b) => a + b, 0) / n;
      const all = Array.from({ length: n }, (_, i) => i);
      const values = kind === 'classification' ? [mean(all), 0.5, 0.25] : [mean(all), 0.125];
      return { n, values, mainOn: (sample) => mean(sample) };
    };
    const input = fixtureInput();
    const labels = Array.from({ length: fixture.n }, (_, i) => ['zeta', 'alpha', '__proto__'][i % 3]);
    input.data = { queryIds: input.data.queryIds, labels, homeKinds: [null, 'classification', 'clustering'] };
    delete input.corpus;
    const result = await evaluate(input, {
      scorers: {
        ...EVALUATION_SCORERS,
        classification: (v, n, d, l, count) => stand('classification', v, n, d, l, count),
        clustering: (v, n, d, l, count, seed) => stand('clustering', v, n, d, l, count, seed),
      },
    });
    // '__proto__' < 'alpha' < 'zeta'
    assert.deepEqual(calls[0].labels.slice(0, 3), [2, 1, 0]);
    assert.equal(calls[0].labelCount, 3);
    assert.equal(calls.find((c) => c.kind === 'clustering')!.seed, fixture.seed);
    for (const c of calls) assert.ok(Math.abs(c.norm - 1) < 1e-12, 'vectors arrive L2-normalised');
    const kinds = [...new Set(result.evaluation.map((r) => r.kind))];
    assert.deepEqual(kinds, ['classification', 'clustering']);
    const metrics = result.evaluation.filter((r) => r.model === fixture.models[0] && r.task === 'Base').map((r) => r.metric);
    assert.deepEqual(metrics, ['accuracy', 'macroF1', 'kNNAccuracy', 'vMeasure', 'ARI']);
    const home = result.evaluation.filter((r) => r.home).map((r) => `${r.task}/${r.kind}`);
    assert.deepEqual([...new Set(home)], ['Retrieval/classification', 'Retrieval (terse)/clustering']);
    assert.equal(result.leaderboard.length, 0, 'one wording per kind: no leaderboard');
  });

  it('the real scorers: evaluate() gives the values scoreClassification / scoreClustering give on normalised vectors', async () => {
    const input = fixtureInput();
    const labels = Array.from({ length: fixture.n }, (_, i) => ['b', 'a', 'c'][i % 3]);
    input.data = { queryIds: input.data.queryIds, labels, homeKinds: [null, 'classification', 'clustering'] };
    delete input.corpus;
    const result = await evaluate(input);
    const [model] = fixture.models;
    const d = input.dims[0];
    const vectors = normaliseRows(input.embeddings[0][1], fixture.n, d);
    const indices = Int32Array.from(labels, (label) => ['a', 'b', 'c'].indexOf(label));
    const classification = await scoreClassification(vectors, fixture.n, d, indices, 3, ['a', 'b', 'c']);
    const clustering = await scoreClustering(vectors, fixture.n, d, indices, 3, fixture.seed);
    const task = input.tasks[1];
    const value = (kind: string, metric: string): number | undefined =>
      result.evaluation.find((r) => r.model === model && r.task === task && r.kind === kind && r.metric === metric)?.value;
    assert.deepEqual(
      [value('classification', 'accuracy'), value('classification', 'macroF1'), value('classification', 'kNNAccuracy')],
      classification.values,
    );
    assert.deepEqual([value('clustering', 'vMeasure'), value('clustering', 'ARI')], clustering.values);
    assert.deepEqual(result.warnings, []);
  });
});
