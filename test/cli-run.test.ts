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
import { parsePairs } from '../src/inputs/evaluationFiles';
import { assertNoStack, cli, cliInterrupted, tempDir } from './helpers/cli';
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
    // A local model folder is read, not downloaded.
    assert.match(run.stderr, /glove-6B-100d-sif-50k: loading onnx\/model\.onnx 100%/);
    assert.doesNotMatch(run.stderr, /download/);
    // GloVe is 100-d and N < 100: the default k is N (the alignment stays determined), and there is nothing to warn about.
    assert.ok(queryCount < 100);
    assert.equal(result.k, queryCount);
    assert.doesNotMatch(run.stderr, /warning/);
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(result.failedModels, []);
  });

  test('analyze on the written bundle gives byte-identical results.json', async () => {
    const again = path.join(work, 'again');
    const run = await cli('analyze', path.join(out, 'embeddings'), '--out', again);
    assert.equal(run.status, 0, run.stderr);
    // The same bytes but the provenance: `run` knows the query file, instruction set and models it used; `analyze`
    // names the bundle's own files, the same tasks' texts and each model by the hash of its values.
    const ran = fs.readFileSync(path.join(out, 'results.json'), 'utf8');
    const analysed = (JSON.parse(fs.readFileSync(path.join(again, 'results.json'), 'utf8')) as { provenance: Provenance }).provenance;
    const bundleDir = path.join(out, 'embeddings');
    assert.equal(analysed.queryFile, path.join(bundleDir, 'queries.txt'));
    assert.equal(analysed.instructions.source, bundleDir);
    assert.deepEqual(analysed.instructions.tasks, (JSON.parse(ran) as { provenance: Provenance }).provenance.instructions.tasks);
    assert.deepEqual(analysed.models.map((model) => [model.id, model.name]), [[`bundle:${bundleDir}#glove-6B-100d-sif-50k`, 'glove-6B-100d-sif-50k']]);
    assert.match(analysed.models[0].identity, /^bundle\|glove-6B-100d-sif-50k\|sha256:[0-9a-f]{64}$/);
    assert.equal(analysed.tool.name, 'instruction-lens');
    assert.equal(analysed.options.seed, 0);
    assert.equal(withoutProvenance(fs.readFileSync(path.join(again, 'results.json'), 'utf8')), withoutProvenance(ran));
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
    assert.deepEqual(fs.readdirSync(bundle).sort(), ['diagnostics.json', 'glove-6B-100d-sif-50k', 'instructions.json', 'models.txt', 'queries.txt', 'tasks.txt']);
    assert.ok(!fs.existsSync(path.join(bundle, 'results.json')));
  });
});

describe('instruction-lens run: degenerate and failing models', () => {
  const work = tempDir();

  test('Japanese queries with use-lite: a warning before the run naming the script, then the degenerate-embedding warning', async () => {
    const out = path.join(work, 'ja');
    const ja = path.join(root, 'examples', 'queries-ja.txt');
    const run = await cli('run', '--queries', ja, '--instructions', 'paper-ja', '--models', 'use-lite', '--out', out, '--cache', path.join(work, 'cache'));
    assert.equal(run.status, 0, run.stderr);
    const before = run.stderr.indexOf('warning: none of the chosen models (use-lite) covers the script (Japanese) of 63 of 63 queries (100.0%), e.g. line 3 "');
    assert.ok(before >= 0, run.stderr);
    assert.ok(before < run.stderr.indexOf('embedding 63 queries'), 'the coverage warning comes before the run');
    assert.match(run.stderr, /warning: model use-lite gave distinct queries the same vector: \d+ of 63 queries/);
    assert.match(run.stderr, /warning: model use-lite's tokenizer does not know/);
    const result = readResults(out);
    assert.ok(result.warningDetails.some((w) => w.code === 'identicalVectors'));
    assert.equal(result.warnings.length, result.warningDetails.length);
    // Lines and unknown-token counts are kept in the bundle: `analyze` on it says the same.
    const analysed = await cli('analyze', path.join(out, 'embeddings'), '--out', path.join(work, 'ja-again'));
    assert.equal(analysed.status, 0, analysed.stderr);
    assert.equal(withoutProvenance(fs.readFileSync(path.join(work, 'ja-again', 'results.json'), 'utf8')), withoutProvenance(fs.readFileSync(path.join(out, 'results.json'), 'utf8')));
  });

  test('a model whose server fails is left out: the other is analysed and the result says partial (exit 0)', async () => {
    const { startEmbeddingsServer } = await import('./helpers/embeddingsServer');
    const { createEmbedder } = await import('../src/models/registry');
    const inner = await createEmbedder(glove, { offline: true, cacheDir: path.join(work, 'hub') });
    const server = await startEmbeddingsServer(inner);
    for (let i = 0; i < 20; i++) server.faults.push({ kind: 'status', status: 400 });
    try {
      const out = path.join(work, 'partial');
      const endpoint = `openai:remote-model@${server.baseUrl}`;
      const run = await cli('run', '--queries', queries, '--instructions', 'paper-en', '--models', `${glove},${endpoint}`, '--out', out, '--cache', path.join(work, 'cache'));
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stderr, /warning: model remote-model failed and is left out of the analysis: .*HTTP 400/);
      assert.match(run.stderr, /note: partial result: remote-model left out; 1 of 2 models analysed/);
      assertNoStack(run.stderr);
      const result = readResults(out);
      assert.deepEqual(result.models, ['glove-6B-100d-sif-50k']);
      assert.equal(result.failedModels.length, 1);
      assert.equal(result.failedModels[0].model, 'remote-model');
      assert.match(result.warnings[0], /^model remote-model failed/);
      // The bundle keeps the failure (diagnostics.json): `analyze` on it reports the same partial result.
      const again = path.join(work, 'partial-again');
      const analysed = await cli('analyze', path.join(out, 'embeddings'), '--out', again);
      assert.equal(analysed.status, 0, analysed.stderr);
      assert.equal(withoutProvenance(fs.readFileSync(path.join(again, 'results.json'), 'utf8')), withoutProvenance(fs.readFileSync(path.join(out, 'results.json'), 'utf8')));
    } finally {
      await server.close();
      await inner.dispose();
    }
  });

  test('an explicit --k above N warns naming --k; the default does not warn', async () => {
    const { writeBundle } = await import('../src/engine/io/bundle');
    const { loadFixture } = await import('./engineFixtures');
    const bundleDir = path.join(work, 'deficient'); // N = 12, d = 24, 30, 20
    await writeBundle(bundleDir, loadFixture('deficient').bundle);
    const run = await cli('analyze', bundleDir, '--out', path.join(work, 'k1'), '--k', '20');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /warning: k = 20 exceeds the number of queries \(12\): .* may change with --k; set --k to 12 or less/);
    const quiet = await cli('analyze', bundleDir, '--out', path.join(work, 'k2'));
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /warning/);
    assert.equal(readResults(path.join(work, 'k2')).k, 12);
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

  test('missing required options: one line and the --help hint, exit 2', async () => {
    const run = await cli('run', '--instructions', 'paper-en', '--out', path.join(work, 'o4'));
    assert.equal(run.status, 2);
    assert.equal(run.stderr, 'instruction-lens run: missing --queries <file>\nRun `instruction-lens run --help` for the options.\n');
  });

  test('--force never replaces an input: a query file or instruction set inside the bundle folder, a bundle named as an output', async () => {
    const out = path.join(work, 'o6');
    fs.mkdirSync(path.join(out, 'embeddings'), { recursive: true });
    const mine = path.join(out, 'embeddings', 'queries.txt');
    fs.copyFileSync(queries, mine);
    const before = fs.readFileSync(mine);
    const run = await cli('run', '--queries', mine, '--instructions', 'paper-en', '--models', glove, '--out', out, '--force', '--cache', path.join(work, 'cache'));
    assert.equal(run.status, 2);
    assert.equal(run.stderr, `instruction-lens: ${mine}: this input is inside ${path.join(out, 'embeddings')}, which --force would replace: move it out of that folder or choose another --out\n`);
    assert.deepEqual(fs.readFileSync(mine), before);
    assert.deepEqual(fs.readdirSync(path.join(out, 'embeddings')), ['queries.txt'], 'nothing else written');

    // embed: the instruction set inside the bundle folder it would replace (reached through a link to the folder).
    const bundle = path.join(work, 'b6');
    fs.mkdirSync(bundle);
    const set = path.join(bundle, 'instructions.json');
    fs.writeFileSync(set, JSON.stringify({ tasks: [{ name: 'Retrieval', instruction: 'Find passages.' }] }));
    fs.symlinkSync(bundle, path.join(work, 'b6-link'));
    const embed = await cli('embed', '--queries', queries, '--instructions', path.join(work, 'b6-link', 'instructions.json'), '--models', glove, '--out', bundle, '--force', '--cache', path.join(work, 'cache'));
    assert.equal(embed.status, 2);
    assert.match(embed.stderr, /this input is inside .*b6, which --force would replace/);
    assert.equal(fs.readFileSync(set, 'utf8'), JSON.stringify({ tasks: [{ name: 'Retrieval', instruction: 'Find passages.' }] }));

    // analyze: a JSON Lines bundle named as one of the outputs it would replace.
    const analyzeOut = path.join(work, 'a6');
    fs.mkdirSync(analyzeOut);
    const jsonl = path.join(analyzeOut, 'results.json');
    fs.writeFileSync(jsonl, '{"model": "m", "task": "Base", "index": 0, "vector": [1, 0]}\n');
    const analyze = await cli('analyze', jsonl, '--out', analyzeOut, '--force');
    assert.equal(analyze.status, 2);
    assert.match(analyze.stderr, /this input is .*results\.json, which --force would replace: choose another --out/);
    assertNoStack(analyze.stderr);
  });

  test('Ctrl-C while a model embeds or loads cancels (exit 130), never aborts the process', async () => {
    // 600 queries: the embedding lasts a few seconds, so that every interrupt below lands inside it. Before the fix, a
    // worker terminated inside onnxruntime aborted the process (exit 134, "terminate called after throwing an
    // instance of 'Napi::Error'") in 4 of 20 such tries.
    const many = path.join(work, 'many.txt');
    fs.writeFileSync(many, Array.from({ length: 600 }, (_, i) => `query number ${i} about topic ${i % 17}`).join('\n') + '\n');
    for (const [when, delayMs] of [[/loading/, 0], [/loading/, 40], [/embedding \d+\//, 0], [/embedding \d+\//, 150], [/embedding \d+\//, 400], [/embedding \d+\//, 700]] as const) {
      const run = await cliInterrupted(when, delayMs, 'run', '--queries', many, '--instructions', 'paper-en', '--models', 'use-lite', '--out', path.join(work, `o7-${delayMs}`), '--cache', fs.mkdtempSync(path.join(work, 'cache-')));
      assert.equal(run.signal, null, `${when} + ${delayMs} ms: died of ${run.signal}`);
      assert.equal(run.status, 130, `${when} + ${delayMs} ms: exit ${run.status}\n${run.stderr}`);
      assert.match(run.stderr, /instruction-lens: cancelled\n$/);
      assertNoStack(run.stderr);
    }
  });

  test('two models with the same name are refused', async () => {
    const run = await cli('run', '--queries', queries, '--instructions', 'paper-en', '--models', `${glove},${glove}`, '--out', path.join(work, 'o5'), '--cache', path.join(work, 'cache'));
    assert.equal(run.status, 2);
    assert.match(run.stderr, /two models are both named 'glove-6B-100d-sif-50k'/);
  });
});

describe('instruction-lens run with evaluation data (examples/eval)', () => {
  const work = tempDir();
  const cache = path.join(work, 'cache');
  const out = path.join(work, 'out');
  const evalDir = path.join(root, 'examples', 'eval');
  const evalQueries = path.join(evalDir, 'queries.csv');
  const evalTasks = path.join(evalDir, 'tasks.instructions.yaml');
  const model = 'glove-6B-100d-sif-50k';
  const evaluationFiles = ['corpus_ids.txt', 'kinds.json', 'pairs.tsv', 'qrels.tsv', 'queries.jsonl', path.join(model, 'Corpus.npy')];

  test('the instruction set\'s evaluation block: the bundle carries ids, labels, pairs, qrels and the corpus', async () => {
    const run = await cli('run', '--queries', evalQueries, '--instructions', evalTasks, '--models', glove, '--out', out, '--cache', cache, '--offline');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /embedding 50 queries x 7 tasks and 302 documents with glove-6B-100d-sif-50k/);
    assert.match(run.stderr, new RegExp(`embedding cache: 0 hits, ${50 * 7 + 302} misses`));
    const bundle = path.join(out, 'embeddings');
    assert.deepEqual(fs.readdirSync(bundle).sort(), ['corpus_ids.txt', 'diagnostics.json', 'glove-6B-100d-sif-50k', 'instructions.json', 'kinds.json', 'models.txt', 'pairs.tsv', 'qrels.tsv', 'queries.jsonl', 'tasks.txt']);
    assert.equal(fs.readFileSync(path.join(bundle, 'tasks.txt'), 'utf8').split('\n')[2], 'Retrieval (short)');
    const firstQuery = JSON.parse(fs.readFileSync(path.join(bundle, 'queries.jsonl'), 'utf8').split('\n')[0]) as unknown;
    assert.deepEqual(firstQuery, { id: 'c01', label: 'cooking', text: 'How long should I boil an egg for a soft yolk?' });
    const pairsOf = (file: string) => parsePairs(fs.readFileSync(file, 'utf8'), file).map(({ id1, id2, score }) => [id1, id2, score]);
    assert.deepEqual(pairsOf(path.join(bundle, 'pairs.tsv')), pairsOf(path.join(evalDir, 'pairs.tsv')));
    assert.equal(fs.readFileSync(path.join(bundle, 'qrels.tsv'), 'utf8').split('\n').length, fs.readFileSync(path.join(evalDir, 'qrels', 'test.tsv'), 'utf8').split('\n').length);
    assert.equal(fs.readFileSync(path.join(bundle, 'corpus_ids.txt'), 'utf8').split('\n').length - 1, 302);
  });

  test('embed with --pairs/--corpus/--qrels, then analyze: the same bundle files and byte-identical results.json', async () => {
    // Copies elsewhere, so that the flags (not the instruction set's block) are what is read.
    const copies = path.join(work, 'copies');
    fs.mkdirSync(copies);
    for (const name of ['pairs.tsv', 'corpus.jsonl']) fs.copyFileSync(path.join(evalDir, name), path.join(copies, name));
    fs.copyFileSync(path.join(evalDir, 'qrels', 'test.tsv'), path.join(copies, 'test.tsv'));
    const bundle = path.join(work, 'bundle');
    const embed = await cli('embed', '--queries', evalQueries, '--instructions', evalTasks, '--models', glove, '--out', bundle, '--cache', cache,
      '--pairs', path.join(copies, 'pairs.tsv'), '--corpus', path.join(copies, 'corpus.jsonl'), '--qrels', path.join(copies, 'test.tsv'));
    assert.equal(embed.status, 0, embed.stderr);
    assert.match(embed.stderr, /embedding cache: 652 hits, 0 misses/);
    for (const name of evaluationFiles) {
      assert.deepEqual(fs.readFileSync(path.join(bundle, name)), fs.readFileSync(path.join(out, 'embeddings', name)), name);
    }
    const again = path.join(work, 'again');
    const analyze = await cli('analyze', bundle, '--out', again);
    assert.equal(analyze.status, 0, analyze.stderr);
    assert.equal(withoutProvenance(fs.readFileSync(path.join(again, 'results.json'), 'utf8')), withoutProvenance(fs.readFileSync(path.join(out, 'results.json'), 'utf8')));
  });

  test('a CLI flag overrides the instruction set\'s file of the same kind only', async () => {
    const pairs = path.join(work, 'three-pairs.tsv');
    fs.writeFileSync(pairs, 'id1\tid2\tscore\nc01\tc02\t5\na01\ta02\t4\nc01\tp01\t0\n');
    const bundle = path.join(work, 'bundle-override');
    const embed = await cli('embed', '--queries', evalQueries, '--instructions', evalTasks, '--models', glove, '--out', bundle, '--cache', cache, '--pairs', pairs);
    assert.equal(embed.status, 0, embed.stderr);
    assert.equal(fs.readFileSync(path.join(bundle, 'pairs.tsv'), 'utf8'), fs.readFileSync(pairs, 'utf8'));
    assert.deepEqual(fs.readFileSync(path.join(bundle, 'qrels.tsv')), fs.readFileSync(path.join(out, 'embeddings', 'qrels.tsv')));
  });
});
