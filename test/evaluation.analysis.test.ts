import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseCsv } from 'csv-parse/sync';
import { evaluationSummary } from '../src/cli/evaluationSummary';
import { evaluate } from '../src/engine/evaluation/evaluate';
import { EvaluationMemo } from '../src/engine/evaluation/memo';
import { EVALUATION_FILE, evaluationCsv, writeOutputs } from '../src/engine/io/outputs';
import { analyze } from '../src/engine/method/analyze';
import { runAnalysis } from '../src/engine/method/runAnalysis';
import { UserError } from '../src/engine/errors';
import { fixture, fixtureBundle, fixtureInput } from './evalRankingFixture';

// runAnalysis starts dist/analysisWorker.js: build with `node esbuild.mjs` first.
describe('evaluation in the analysis (stage E)', () => {
  it('analyze() adds the evaluation of the bundle\'s data, equal to evaluate() on the analysis\' displacement', async () => {
    const result = await analyze(fixtureBundle(), { k: 8, seed: fixture.seed });
    const direct = await evaluate({ ...fixtureInput(), displacement: result.displacement });
    assert.deepEqual(result.evaluation, direct.evaluation);
    assert.deepEqual(result.leaderboard, direct.leaderboard);
    assert.deepEqual(result.displacementVsPerformance, direct.displacementVsPerformance);
    for (const warning of direct.warnings) assert.ok(result.warnings.includes(warning));
    assert.equal(result.evaluation.length, fixture.expected.evaluation.length);
    // The displacement analysis' own keys come first, unchanged; the evaluation's keys follow.
    assert.deepEqual(Object.keys(result).slice(-3), ['evaluation', 'displacementVsPerformance', 'leaderboard']);
  });

  it('runAnalysis (evaluation spread over the workers by model) is bit-identical to analyze()', async () => {
    const options = { k: 8, seed: fixture.seed };
    const expected = await analyze(fixtureBundle(), options);
    const actual = await runAnalysis(fixtureBundle(), options);
    assert.equal(JSON.stringify(actual), JSON.stringify(expected));
    const memo = new EvaluationMemo();
    assert.equal(JSON.stringify(await runAnalysis(fixtureBundle(), { ...options, evaluationMemo: memo })), JSON.stringify(expected));
    assert.ok(memo.size > 0);
    assert.equal(JSON.stringify(await runAnalysis(fixtureBundle(), { ...options, evaluationMemo: memo })), JSON.stringify(expected), 'from the memo');
  });

  it('without labelled data the evaluation keys are empty arrays and nothing else changes', async () => {
    const { evaluation, corpus, ...plain } = fixtureBundle();
    assert.ok(evaluation && corpus);
    const result = await analyze(plain, { k: 8 });
    assert.deepEqual([result.evaluation, result.displacementVsPerformance, result.leaderboard], [[], [], []]);
    assert.deepEqual(result.warnings, []);
  });

  it('qrels without the documents\' embeddings: sts is evaluated, retrieval and reranking are not, with a warning', async () => {
    const { corpus, ...bundle } = fixtureBundle();
    assert.ok(corpus);
    const result = await analyze(bundle, { k: 8 });
    assert.deepEqual([...new Set(result.evaluation.map((r) => r.kind))], ['sts']);
    assert.ok(result.warnings.some((w) => w.startsWith('retrieval and reranking: the bundle has qrels but no documents')));
  });

  it('evaluation data that does not fit the bundle is a UserError naming what is wrong', async () => {
    const short = fixtureBundle();
    short.corpus![1] = short.corpus![1].subarray(0, 10);
    await assert.rejects(analyze(short, { k: 8 }), (e: unknown) => e instanceof UserError && /gauss\/Corpus.*expected 300 x 12/.test(e.message));
    const homes = fixtureBundle();
    homes.evaluation!.homeKinds = [null];
    await assert.rejects(analyze(homes, { k: 8 }), (e: unknown) => e instanceof UserError && /1 home kinds for 3 tasks/.test(e.message));
    const pairs = fixtureBundle();
    pairs.evaluation!.pairs!.a[4] = fixture.n;
    await assert.rejects(analyze(pairs, { k: 8 }), (e: unknown) => e instanceof UserError && /pair 5 refers to a query row outside/.test(e.message));
    const bad = fixtureBundle();
    bad.corpus![0][7] = Number.NaN;
    await assert.rejects(runAnalysis(bad, { k: 8 }), (e: unknown) => e instanceof UserError && /non-finite value in row 1/.test(e.message));
  });

  it('evaluation.csv: one line per row, same columns as results.json; not written (and an old one removed) without rows', async () => {
    const result = await analyze(fixtureBundle(), { k: 8, seed: fixture.seed });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'il-eval-out-'));
    try {
      await writeOutputs(dir, result, { force: false });
      const text = fs.readFileSync(path.join(dir, EVALUATION_FILE), 'utf8');
      assert.equal(text, evaluationCsv(result));
      const rows: Record<string, string>[] = parseCsv(text, { columns: true, comment: '#' });
      assert.equal(rows.length, result.evaluation.length);
      rows.forEach((row, x) => {
        const r = result.evaluation[x];
        assert.equal(row.task, r.task);
        assert.equal(Number(row.value), r.value);
        assert.equal(row.ciLow, r.ciLow === null ? '' : String(r.ciLow));
        assert.equal(row.home, String(r.home));
      });
      const { evaluation, corpus, ...plain } = fixtureBundle();
      assert.ok(evaluation && corpus);
      await writeOutputs(dir, await analyze(plain, { k: 8 }), { force: true });
      assert.ok(!fs.existsSync(path.join(dir, EVALUATION_FILE)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CLI summary: per kind its main metric, per model Base and the home tasks with Delta and interval', async () => {
    const result = await analyze(fixtureBundle(), { k: 8, seed: fixture.seed });
    const lines = evaluationSummary(result);
    const ndcg = result.evaluation.find((r) => r.model === 'lattice' && r.task === 'Retrieval' && r.metric === 'nDCG@10')!;
    const sign = (x: number): string => (x >= 0 ? '+' : '') + x.toFixed(3);
    assert.ok(lines.includes('  retrieval, nDCG@10 over 58 queries:'), lines.join('\n'));
    const line = lines.find((l) => l.startsWith('    lattice: Base '))!;
    assert.ok(
      line.includes(`Retrieval ${ndcg.value.toFixed(3)} (${sign(ndcg.delta)}, 95% ${sign(ndcg.deltaCiLow!)}..${sign(ndcg.deltaCiHigh!)})*`),
      line,
    );
    const rho = fixture.expected.displacementVsPerformance[0].spearman!;
    assert.ok(lines.includes(`    on retrieval, instructions that move queries more help ${rho >= 0 ? 'more' : 'less'}: rho = ${rho.toFixed(2)}, n = 4`));
    assert.deepEqual(evaluationSummary({ ...result, evaluation: [] }), []);
  });
});
