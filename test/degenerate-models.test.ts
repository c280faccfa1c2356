/**
 * Degenerate embeddings with real models (issue 12, section 2): the built-in use-lite (English only) on the Japanese
 * example queries gives every query the same vector and does not know most of their tokens; the shared GloVe model
 * gives them zero vectors (left out). Partial results: one model of three failing (an OpenAI-compatible server on
 * 127.0.0.1 answering 500), the two others analysed, the failure in the result.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../src/engine/io/paths';
import { runAnalysis } from '../src/engine/method/runAnalysis';
import type { AnalysisResult } from '../src/engine/types';
import { readInstructionSet } from '../src/inputs/instructions';
import { readQueries } from '../src/inputs/queries';
import { EmbeddingCache } from '../src/models/cache';
import type { Embedder } from '../src/models/embedder';
import { HttpEmbedder } from '../src/models/httpEmbedder';
import { embedAll } from '../src/models/pipeline';
import { createEmbedder } from '../src/models/registry';
import { startEmbeddingsServer, type EmbeddingsServer } from './helpers/embeddingsServer';

const ROOT = packageRoot();
const GLOVE = path.resolve(ROOT, '../shared/models/glove-6B-100d-sif-50k');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'il-degenerate-'));
let useLite: Embedder;
let glove: Embedder;

before(async () => {
  const options = { offline: true, cacheDir: path.join(scratch, 'models') };
  useLite = await createEmbedder('use-lite', options);
  glove = await createEmbedder(GLOVE, options);
});
after(async () => {
  await Promise.all([useLite.dispose(), glove.dispose()]);
  fs.rmSync(scratch, { recursive: true, force: true });
});

async function analyseFile(queryFile: string, instructions: string, embedders: Embedder[], cacheDir?: string): Promise<AnalysisResult> {
  const file = await readQueries(path.join(ROOT, 'examples', queryFile));
  const tasks = await readInstructionSet(instructions);
  const cache = cacheDir ? new EmbeddingCache(cacheDir) : undefined;
  const { bundle } = await embedAll({ queries: file.queries, queryLines: file.lines, tasks, embedders, cache });
  return runAnalysis(bundle);
}

describe('degenerate embeddings of real models', () => {
  it('use-lite on Japanese: the same vector for every query and mostly unknown tokens, with lines and texts', async () => {
    const file = await readQueries(path.join(ROOT, 'examples', 'queries-ja.txt'));
    const result = await analyseFile('queries-ja.txt', 'paper-ja', [useLite], path.join(scratch, 'cache-ja'));
    assert.deepEqual(result.models, ['use-lite']);
    assert.deepEqual(result.failedModels, []);
    const identical = result.warningDetails.find((w) => w.code === 'identicalVectors');
    assert.ok(identical && identical.code === 'identicalVectors', JSON.stringify(result.warningDetails));
    assert.equal(identical.params.model, 'use-lite');
    assert.ok(identical.params.share > 0.5, `share ${identical.params.share}`);
    assert.deepEqual(identical.params.examples[0], { line: file.lines[0], query: file.queries[0] });
    assert.ok(file.lines[0] > 1, 'the first query is not on line 1 (comments above it)');
    const unknown = result.warningDetails.find((w) => w.code === 'unknownTokens');
    assert.ok(unknown && unknown.code === 'unknownTokens');
    assert.ok(unknown.params.share > 0.3, `unknown share ${unknown.params.share}`);
    const text = result.warnings.find((w) => w.startsWith("model use-lite's tokenizer"));
    assert.match(text ?? '', new RegExp(`does not know \\d+\\.\\d% of the queries' tokens, e\\.g\\. line \\d+ ".+"\\. Likely cause: this model does not cover the language of these queries`));
    // Served from the cache (no model call), the same result.
    const again = await analyseFile('queries-ja.txt', 'paper-ja', [useLite], path.join(scratch, 'cache-ja'));
    assert.equal(JSON.stringify(again), JSON.stringify(result));
  });

  it('use-lite on English: no degenerate-embedding warning', async () => {
    const result = await analyseFile('queries-en.txt', 'paper-en', [useLite]);
    assert.deepEqual(result.warnings, []);
  });

  it('use-lite and the shared use-lite-onnx folder are one model under two names, and are reported so', async () => {
    const folder = await createEmbedder(path.resolve(ROOT, '../shared/models/use-lite-onnx'), { offline: true, cacheDir: path.join(scratch, 'models') });
    try {
      const result = await analyseFile('queries-en.txt', 'paper-en', [useLite, folder, glove]);
      assert.deepEqual(result.warningDetails, [{ code: 'sameModel', params: { first: 'use-lite', second: 'use-lite-onnx' } }]);
      assert.ok(result.procrustesDistance[0][1] < 1e-9 && result.procrustesDistance[1][0] < 1e-9);
      assert.ok(result.procrustesDistance[0][2] > 0.01, 'GloVe is another model');
    } finally {
      await folder.dispose();
    }
  });

  it('GloVe on Japanese: zero vectors, so GloVe is left out and use-lite is still analysed', async () => {
    const result = await analyseFile('queries-ja.txt', 'paper-ja', [glove, useLite]);
    assert.deepEqual(result.models, ['use-lite']);
    assert.equal(result.failedModels.length, 1);
    assert.equal(result.failedModels[0].model, 'glove-6B-100d-sif-50k');
    assert.match(result.failedModels[0].error, /^model glove-6B-100d-sif-50k gave zero vectors for \d+ of \d+ queries \(\d+\.\d%\) under Base/);
    const zero = result.warningDetails.find((w) => w.code === 'zeroVectors');
    assert.ok(zero && zero.code === 'zeroVectors');
    assert.ok(zero.params.share > 0.9);
    const glovesUnknown = result.warningDetails.find((w) => w.code === 'unknownTokens' && w.params.model === 'glove-6B-100d-sif-50k');
    assert.equal(glovesUnknown, undefined, 'a model left out gets one message, not more');
    assert.equal(result.displacement.length, 5);
  });
});

describe('partial results', () => {
  let server: EmbeddingsServer;
  before(async () => {
    server = await startEmbeddingsServer(glove);
  });
  after(() => server.close());

  it('one model of three failing (HTTP 500): the two others are analysed, the failure is in the result', async () => {
    for (let i = 0; i < 50; i++) server.faults.push({ kind: 'status', status: 500 });
    const remote = new HttpEmbedder({ baseUrl: server.baseUrl, model: 'remote-model', retries: 0 });
    const result = await analyseFile('queries-en.txt', 'paper-en', [useLite, remote, glove]);
    assert.deepEqual(result.models, ['use-lite', 'glove-6B-100d-sif-50k']);
    assert.equal(result.failedModels.length, 1);
    assert.equal(result.failedModels[0].model, 'remote-model');
    assert.match(result.failedModels[0].error, /HTTP 500/);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0], /^model remote-model failed and is left out of the analysis: .*HTTP 500/);
    assert.deepEqual(result.warningDetails[0].code, 'modelFailed');
    assert.equal(result.displacement.length, 10);
    assert.equal(result.procrustesDistance.length, 2);
  });
});
