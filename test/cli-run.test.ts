/**
 * `instruction-lens run` and `embed` through the real CLI with a real model (the shared GloVe model, local folder,
 * offline): the bundle, the analysis outputs, agreement with `analyze` on the written bundle, the embedding cache
 * across runs, refusal to overwrite, and bad inputs.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { packageRoot } from '../src/engine/io/paths';
import type { AnalysisResult } from '../src/engine/types';
import { assertNoStack, cli, tempDir } from './helpers/cli';
import type { Provenance } from '../src/engine/io/provenance';
import { resultsJson } from '../src/engine/io/outputs';

/** results.json text with its provenance left out, written as results.json is. */
function withoutProvenance(text: string): string {
  const { provenance: _left, ...rest } = JSON.parse(text) as Record<string, unknown>;
  return resultsJson(rest as never);
}

const root = packageRoot();
const glove = path.resolve(root, '../shared/models/glove-6B-100d-sif-50k');
const queries = path.join(root, 'examples', 'queries-en.txt');

function readResults(dir: string): AnalysisResult {
  return JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as AnalysisResult;
}

describe('instruction-lens run', () => {
  const work = tempDir();
  const cache = path.join(work, 'cache');
  const out = path.join(work, 'out');

  test('embeds, writes the bundle and the analysis, reports cache misses', async () => {
    const run = await cli('run', '--queries', queries, '--instructions', 'paper-en', '--models', glove, '--out', out, '--cache', cache, '--offline');
    assert.equal(run.status, 0, run.stderr);
    for (const name of ['results.json', 'displacement.csv', 'procrustes.csv', 'report.html']) {
      assert.ok(fs.existsSync(path.join(out, name)), name);
    }
    const result = readResults(out);
    assert.deepEqual(result.models, ['glove-6B-100d-sif-50k']);
    assert.deepEqual(result.tasks, ['Base', 'Retrieval', 'Reranking', 'STS', 'Classification', 'Clustering']);
    const queryCount = fs.readFileSync(queries, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).length;
    assert.equal(result.n, queryCount);
    assert.equal(result.displacement.length, 5);
    assert.ok(result.displacement.every((row) => row.meanCosineDistance > 0 && row.meanCosineDistance < 1));
    assert.equal(result.instructions?.Retrieval, 'Given a query, retrieve passages that can answer the query.');
    assert.deepEqual(fs.readdirSync(path.join(out, 'embeddings', 'glove-6B-100d-sif-50k')).sort(), [
      'Base.npy', 'Classification.npy', 'Clustering.npy', 'Reranking.npy', 'Retrieval.npy', 'STS.npy',
    ]);
    assert.match(run.stderr, new RegExp(`embedding cache: 0 hits, ${queryCount * 6} misses`));
    // GloVe is 100-d, so k = 100 > N: the alignment is not unique and the user is told.
    assert.equal(result.k, 100);
    assert.match(run.stderr, new RegExp(`warning: k = 100 exceeds the number of queries \\(${queryCount}\\)`));
    assert.deepEqual(result.warnings.length, 1);
  });

  test('analyze on the written bundle gives byte-identical results.json', async () => {
    const again = path.join(work, 'again');
    const run = await cli('analyze', path.join(out, 'embeddings'), '--out', again);
    assert.equal(run.status, 0, run.stderr);
    // The same bytes but the provenance, which only `run` knows (the query file, instruction set and models it used).
    const ran = fs.readFileSync(path.join(out, 'results.json'), 'utf8');
    assert.equal(fs.readFileSync(path.join(again, 'results.json'), 'utf8'), withoutProvenance(ran));
    const { provenance } = JSON.parse(ran) as { provenance: Provenance };
    assert.equal(provenance.queryFile, queries);
    assert.equal(provenance.instructions.source, 'paper-en');
    assert.deepEqual(provenance.instructions.tasks.map((task) => task.name), ['Base', 'Retrieval', 'Reranking', 'STS', 'Classification', 'Clustering']);
    assert.deepEqual(provenance.models.map((model) => [model.id, model.name]), [[glove, 'glove-6B-100d-sif-50k']]);
    assert.match(provenance.models[0].identity, /fp32/);
    assert.equal(provenance.options.seed, 0);
  });

  test('refuses to overwrite an earlier run, leaving it untouched', async () => {
    const before = fs.readFileSync(path.join(out, 'results.json'));
    const run = await cli('run', '--queries', queries, '--instructions', 'paper-en', '--models', glove, '--out', out, '--cache', cache);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /not overwriting/);
    assert.deepEqual(fs.readFileSync(path.join(out, 'results.json')), before);
  });

  test('a second run with --force embeds nothing: every text comes from the cache', async () => {
    const run = await cli('run', '--queries', queries, '--instructions', 'paper-en', '--models', glove, '--out', out, '--cache', cache, '--force');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /embedding cache: \d+ hits, 0 misses/);
    assert.doesNotMatch(run.stderr, /embedding \d+\/\d+/);
  });

  test('a bundle is a model source: the same queries and instructions give the same analysis', async () => {
    const fromBundle = path.join(work, 'from-bundle');
    const run = await cli('run', '--queries', queries, '--instructions', 'paper-en', '--models', `bundle:${path.join(out, 'embeddings')}`, '--out', fromBundle, '--cache', path.join(work, 'cache-bundle'));
    assert.equal(run.status, 0, run.stderr);
    assert.equal(withoutProvenance(fs.readFileSync(path.join(fromBundle, 'results.json'), 'utf8')), withoutProvenance(fs.readFileSync(path.join(out, 'results.json'), 'utf8')));
  });

  test('a bundle that lacks an instruction or a query is refused with a clear message', async () => {
    const other = path.join(work, 'other.instructions.json');
    fs.writeFileSync(other, JSON.stringify({ tasks: [{ name: 'Summary', instruction: 'Summarise the query.' }] }));
    const bundleSpec = `bundle:${path.join(out, 'embeddings')}`;
    const run = await cli('run', '--queries', queries, '--instructions', other, '--models', bundleSpec, '--out', path.join(work, 'o-other'));
    assert.equal(run.status, 2);
    assert.match(run.stderr, /has no embeddings for the instruction "Summarise the query\."/);
    assertNoStack(run.stderr);
    const extra = path.join(work, 'extra.txt');
    fs.writeFileSync(extra, `${fs.readFileSync(queries, 'utf8')}\na query the bundle never saw\n`);
    const missing = await cli('run', '--queries', extra, '--instructions', 'paper-en', '--models', bundleSpec, '--out', path.join(work, 'o-extra'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /has no embedding of the query "a query the bundle never saw"/);
    const unknown = await cli('run', '--queries', queries, '--instructions', 'paper-en', '--models', `${bundleSpec}#nobody`, '--out', path.join(work, 'o-unknown'));
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /no model "nobody" in this bundle \(models: glove-6B-100d-sif-50k\)/);
  });

  test('embed writes a bundle only', async () => {
    const bundle = path.join(work, 'bundle');
    const instructions = path.join(root, 'examples', 'paper-en.instructions.json');
    const run = await cli('embed', '--queries', queries, '--instructions', instructions, '--models', glove, '--out', bundle, '--cache', cache);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(fs.readdirSync(bundle).sort(), ['glove-6B-100d-sif-50k', 'instructions.json', 'models.txt', 'queries.txt', 'tasks.txt']);
    assert.ok(!fs.existsSync(path.join(bundle, 'results.json')));
  });
});

describe('instruction-lens run: bad input', () => {
  const work = tempDir();

  test('a bad query file names the file and line, exit 2, no stack trace', async () => {
    const bad = path.join(work, 'bad.jsonl');
    fs.writeFileSync(bad, '{"text": "first"}\n{"text": "second"}\n{"text": \n');
    const run = await cli('run', '--queries', bad, '--instructions', 'paper-en', '--models', glove, '--out', path.join(work, 'o1'));
    assert.equal(run.status, 2);
    assert.match(run.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: `));
    assertNoStack(run.stderr);
    assert.ok(!fs.existsSync(path.join(work, 'o1')), 'nothing written');
  });

  test('an unknown preset or missing instruction file is a clear error', async () => {
    const run = await cli('run', '--queries', queries, '--instructions', path.join(work, 'missing.json'), '--models', glove, '--out', path.join(work, 'o2'));
    assert.equal(run.status, 2);
    assert.match(run.stderr, /missing\.json/);
    assertNoStack(run.stderr);
  });

  test('a model that is neither a folder nor reachable offline is named in the message', async () => {
    const run = await cli('run', '--queries', queries, '--instructions', 'paper-en', '--models', 'nobody/no-such-model', '--offline', '--out', path.join(work, 'o3'), '--cache', path.join(work, 'cache'));
    assert.equal(run.status, 2);
    assert.match(run.stderr, /nobody\/no-such-model/);
    assertNoStack(run.stderr);
  });

  test('missing required options print usage, exit 2', async () => {
    const run = await cli('run', '--instructions', 'paper-en', '--out', path.join(work, 'o4'));
    assert.equal(run.status, 2);
    assert.match(run.stderr, /missing --queries/);
    assert.match(run.stderr, /Usage: instruction-lens run/);
  });

  test('two models with the same name are refused', async () => {
    const run = await cli('run', '--queries', queries, '--instructions', 'paper-en', '--models', `${glove},${glove}`, '--out', path.join(work, 'o5'), '--cache', path.join(work, 'cache'));
    assert.equal(run.status, 2);
    assert.match(run.stderr, /two models are both named 'glove-6B-100d-sif-50k'/);
  });
});
