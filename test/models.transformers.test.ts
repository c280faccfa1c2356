import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { CancelledError, UserError } from '../src/engine/errors';
import { packageRoot } from '../src/engine/io/paths';
import type { EmbedProgress } from '../src/models/embedder';
import { createTransformersEmbedder, type TransformersEmbedder } from '../src/models/transformersEmbedder';
import { cosine } from './helpers/vectors';

// Real models from the shared folder, loaded offline. Reference similarities are the figures in
// ../shared/models/README.md (measured independently of this project).
const MODELS = path.resolve(packageRoot(), '../shared/models');
const GLOVE = path.join(MODELS, 'glove-6B-100d-sif-50k');
const USE = path.join(MODELS, 'use-lite-onnx');
const CAT = 'a cat sits on the mat';
const KITTEN = 'a kitten is sitting on a rug';
const STOCKS = 'stock market crash';
const INSTRUCTION = 'Classify the given query into the appropriate category.';

let scratch: string;
let glove: TransformersEmbedder;
let use: TransformersEmbedder;

before(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'il-models-'));
  const common = { offline: true, cacheDir: path.join(scratch, 'hub') };
  glove = await createTransformersEmbedder({ model: GLOVE, dtype: 'fp32', batchSize: 4, ...common });
  use = await createTransformersEmbedder({ model: USE, dtype: 'fp32', batchSize: 4, ...common });
});

after(async () => {
  await glove.dispose();
  await use.dispose();
  fs.rmSync(scratch, { recursive: true, force: true });
});

test('sanity: cat/kitten is similar, cat/stock market is not (values of the shared README)', async () => {
  for (const [embedder, kitten, stocks] of [
    [glove, 0.728, 0.022],
    [use, 0.778, 0.114],
  ] as const) {
    const [cat, kit, stock] = await embedder.embed([CAT, KITTEN, STOCKS]);
    assert.ok(Math.abs(cosine(cat, kit) - kitten) < 0.0015, `${embedder.name} cat/kitten ${cosine(cat, kit)}`);
    assert.ok(Math.abs(cosine(cat, stock) - stocks) < 0.0015, `${embedder.name} cat/stocks ${cosine(cat, stock)}`);
  }
  assert.equal(glove.name, 'glove-6B-100d-sif-50k');
  assert.equal(glove.family.id, 'generic');
});

test('an embedding does not depend on the batch it is in (lengths differ; sorted batches; both models)', async () => {
  const batch = [
    'stock market crash',
    'the',
    'a kitten is sitting on a rug while the rain falls on the old city and the market closes early today',
    CAT,
    'cats',
    'interest rates and inflation expectations in the euro area',
  ];
  for (const embedder of [glove, use]) {
    const [aloneCat] = await embedder.embed([CAT]);
    const inBatch = await embedder.embed(batch);
    assert.ok(cosine(aloneCat, inBatch[3]) > 0.99999, `${embedder.name}: ${cosine(aloneCat, inBatch[3])}`);
    // Order restored after sorting by length: every row is its own text's vector.
    for (const [i, text] of batch.entries()) {
      const [alone] = await embedder.embed([text]);
      assert.ok(cosine(alone, inBatch[i]) > 0.99999, `${embedder.name} row ${i}`);
    }
  }
});

test('an instruction changes the vector; Base is the bare query (generic family)', async () => {
  const query = 'the history of the roman empire';
  for (const embedder of [glove, use]) {
    assert.equal(embedder.render(null, query), query);
    assert.equal(embedder.render(INSTRUCTION, query), `${INSTRUCTION} ${query}`);
    const [base, task] = await embedder.embed([embedder.render(null, query), embedder.render(INSTRUCTION, query)]);
    const similarity = cosine(base, task);
    assert.ok(similarity < 0.99 && similarity > 0.2, `${embedder.name}: ${similarity}`);
  }
});

test('q8 weights: another identity, vectors close to fp32', async () => {
  const q8 = await createTransformersEmbedder({ model: GLOVE, dtype: 'q8', offline: true, cacheDir: path.join(scratch, 'hub') });
  try {
    assert.notEqual(await q8.identity(), await glove.identity());
    assert.match(await q8.identity(), /dtype=q8/);
    const [cat8, kitten8, stock8] = await q8.embed([CAT, KITTEN, STOCKS]);
    const [cat32] = await glove.embed([CAT]);
    assert.ok(cosine(cat8, cat32) > 0.99 && cosine(cat8, cat32) < 1, `fp32 vs q8 ${cosine(cat8, cat32)}`);
    assert.ok(Math.abs(cosine(cat8, kitten8) - 0.728) < 0.03);
    assert.ok(Math.abs(cosine(cat8, stock8) - 0.022) < 0.03);
  } finally {
    await q8.dispose();
  }
});

test('identity: weights hash for a folder, stable and different per model', async () => {
  const again = await createTransformersEmbedder({ model: GLOVE, offline: true, cacheDir: path.join(scratch, 'hub') });
  assert.equal(await again.identity(), await glove.identity());
  assert.match(await glove.identity(), /^transformers\.js\|files-sha256:[0-9a-f]{64}\|dtype=fp32\|/);
  assert.notEqual(await use.identity(), await glove.identity());
  await again.dispose();
  // The per-file hashes are remembered in the cache folder (keyed by path, size, mtime) and are the files' SHA-256.
  const memo = JSON.parse(fs.readFileSync(path.join(scratch, 'hub', 'file-hashes.json'), 'utf8'));
  const onnx = path.join(GLOVE, 'onnx', 'model.onnx');
  const { createHash } = await import('node:crypto');
  assert.equal(memo[onnx].sha256, createHash('sha256').update(fs.readFileSync(onnx)).digest('hex'));
  assert.ok(memo[path.join(GLOVE, 'tokenizer.json')]);
});

test('progress: a local folder\'s files are loading (never downloading) events, then texts done/total', async () => {
  const fresh = await createTransformersEmbedder({ model: GLOVE, offline: true, cacheDir: path.join(scratch, 'hub'), batchSize: 2 });
  const events: EmbedProgress[] = [];
  try {
    await fresh.embed(['one', 'two', 'three'], { onProgress: (p) => events.push(p) });
  } finally {
    await fresh.dispose();
  }
  assert.ok(events.some((e) => e.kind === 'load' && e.file === 'onnx/model.onnx' && e.done === e.total));
  assert.ok(events.some((e) => e.kind === 'load' && e.file === 'tokenizer.json'));
  assert.ok(!events.some((e) => e.kind === 'download'));
  assert.deepEqual(
    events.filter((e) => e.kind === 'embed').map((e) => [e.done, e.total]),
    [[0, 3], [2, 3], [3, 3]],
  );
});

test('cancellation stops within one batch and the embedder stays usable', async () => {
  const texts = Array.from({ length: 40 }, (_, i) => `query number ${i} about markets and cats`);
  const controller = new AbortController();
  let batchesAtAbort = -1;
  let batchesDone = 0;
  const run = use.embed(texts, {
    signal: controller.signal,
    onProgress: (p) => {
      if (p.kind !== 'embed' || p.done === 0) return;
      batchesDone++;
      if (batchesDone === 2) {
        controller.abort();
        batchesAtAbort = batchesDone;
      }
    },
  });
  await assert.rejects(run, CancelledError);
  assert.equal(batchesAtAbort, 2);
  assert.ok(batchesDone - batchesAtAbort <= 1, `batches after abort: ${batchesDone - batchesAtAbort}`);
  assert.ok(batchesDone < texts.length / 4);
  // An already aborted signal: nothing runs.
  await assert.rejects(use.embed(texts, { signal: AbortSignal.abort() }), CancelledError);
  const [vector] = await use.embed([CAT]);
  assert.equal(vector.length, 512);
});

test('offline and a Hub id not on disk: a UserError naming the model and how to use a local folder', async () => {
  await assert.rejects(
    createTransformersEmbedder({ model: 'Qwen/Qwen3-Embedding-0.6B', offline: true, cacheDir: path.join(scratch, 'hub') }),
    (error: unknown) =>
      error instanceof UserError &&
      error.message.includes('"Qwen/Qwen3-Embedding-0.6B" is not available offline') &&
      error.message.includes('local folder'),
  );
});

test('bad folder choices give clear UserErrors', async () => {
  await assert.rejects(
    createTransformersEmbedder({ model: USE, dtype: 'q8', offline: true }),
    /use-lite-onnx: no onnx\/model_quantized\.onnx for dtype q8 \(this folder has dtype fp32\)/,
  );
  await assert.rejects(createTransformersEmbedder({ model: path.join(scratch, 'missing') }), /model folder not found/);
  await assert.rejects(createTransformersEmbedder({ model: GLOVE, dtype: 'int3' as never }), /unknown dtype "int3"/);
  const wrongPooling = await createTransformersEmbedder({
    model: GLOVE,
    offline: true,
    cacheDir: path.join(scratch, 'hub'),
    overrides: { pooling: 'output' },
  });
  await assert.rejects(wrongPooling.embed(['x']), (e: unknown) => e instanceof UserError && /no 'sentence_embedding' output/.test(e.message));
  await wrongPooling.dispose();
});

// INSTRUCTOR path on a real model: the GloVe graph with a 2_Dense layer (fixture written by pooling_fixture.py).
// GloVe is a bag of words, so masking the instruction tokens must give exactly the Dense image of the query's own
// mean vector.
test('INSTRUCTOR: mean over the text tokens only, then the Dense layer, then L2', async () => {
  const folder = path.join(scratch, 'instructor-glove');
  fs.mkdirSync(path.join(folder, 'onnx'), { recursive: true });
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) {
    fs.symlinkSync(path.join(GLOVE, file), path.join(folder, file));
  }
  fs.cpSync(path.join(packageRoot(), 'test/fixtures/instructor-glove-dense/2_Dense'), path.join(folder, '2_Dense'), { recursive: true });
  const instructor = await createTransformersEmbedder({ model: folder, offline: true, overrides: { family: 'instructor' } });
  const plain = await createTransformersEmbedder({ model: GLOVE, offline: true, overrides: { pooling: 'mean', normalize: false } });
  try {
    const query = 'the cat sits on the mat';
    const instruction = 'Represent the sentence for classifying its topic: ';
    const [withInstruction, base] = await instructor.embed([instructor.render(instruction, query), instructor.render(null, query)]);
    assert.equal(withInstruction.length, 8);
    assert.ok(cosine(withInstruction, base) > 0.99999, 'instruction tokens are masked out of the mean');
    const [mean] = await plain.embed([query]);
    const { loadDenseLayer } = await import('../src/models/dense');
    const { applyDense, normalizeL2 } = await import('../src/models/pooling');
    const expected = normalizeL2(applyDense(loadDenseLayer(folder)!, mean));
    assert.ok(cosine(withInstruction, expected) > 0.99999);
    // The same model from the Hub (a mirror on 127.0.0.1): the Dense layer is fetched into our cache folder.
    const { startHubMirror } = await import('./helpers/hubMirror');
    const mirror = await startHubMirror({ 'test-owner/instructor-glove': folder });
    const fromHub = await createTransformersEmbedder({ model: 'test-owner/instructor-glove', hubUrl: mirror.url, cacheDir: path.join(scratch, 'hub-instructor') });
    try {
      assert.equal(fromHub.family.id, 'instructor');
      const [hubVector] = await fromHub.embed([fromHub.render(instruction, query)]);
      assert.ok(cosine(hubVector, expected) > 0.99999);
      assert.ok(mirror.served.includes('2_Dense/model.safetensors'));
    } finally {
      await fromHub.dispose();
      await mirror.close();
    }
    // Without the Dense layer the model cannot be used as INSTRUCTOR: a clear error.
    fs.rmSync(path.join(folder, '2_Dense'), { recursive: true });
    const noDense = await createTransformersEmbedder({ model: folder, offline: true, overrides: { family: 'instructor' } });
    await assert.rejects(noDense.embed(['x']), /its Dense layer was not found/);
    await noDense.dispose();
  } finally {
    await instructor.dispose();
    await plain.dispose();
  }
});

test('Hub download through a mirror: progress, files in our cache folder, then offline from that cache', async () => {
  const { startHubMirror } = await import('./helpers/hubMirror');
  const mirror = await startHubMirror({ 'test-owner/glove-mirror': GLOVE });
  const cacheDir = path.join(scratch, 'hub-mirror');
  const events: EmbedProgress[] = [];
  try {
    const online = await createTransformersEmbedder({ model: 'test-owner/glove-mirror', hubUrl: mirror.url, cacheDir });
    assert.equal(online.name, 'test-owner/glove-mirror');
    const [downloaded] = await online.embed([CAT], { onProgress: (p) => events.push(p) });
    await online.dispose();
    assert.ok(mirror.served.includes('onnx/model.onnx'));
    assert.ok(fs.statSync(path.join(cacheDir, 'test-owner/glove-mirror/onnx/model.onnx')).size === fs.statSync(path.join(GLOVE, 'onnx/model.onnx')).size);
    const download = events.filter((e) => e.kind === 'download' && e.file === 'onnx/model.onnx');
    assert.ok(download.length > 1 && download.at(-1)!.done === download.at(-1)!.total);
    assert.ok(!events.some((e) => e.kind === 'load'), 'nothing was on disk before: every file is downloaded');
    const [local] = await glove.embed([CAT]);
    assert.ok(cosine(downloaded, local) > 0.99999);
    // Offline, with the mirror gone: loads from our cache folder.
    const servedBefore = mirror.served.length;
    const offline = await createTransformersEmbedder({ model: 'test-owner/glove-mirror', offline: true, cacheDir });
    const cachedEvents: EmbedProgress[] = [];
    const [again] = await offline.embed([CAT], { onProgress: (p) => cachedEvents.push(p) });
    // From the cache folder the files are read, not downloaded.
    assert.ok(cachedEvents.some((e) => e.kind === 'load' && e.file === 'onnx/model.onnx'));
    assert.ok(!cachedEvents.some((e) => e.kind === 'download'));
    await offline.dispose();
    assert.ok(cosine(again, local) > 0.99999);
    assert.equal(mirror.served.length, servedBefore);
  } finally {
    await mirror.close();
  }
  // Hub unreachable (the mirror's port is closed now) and the model not cached: a clear UserError.
  const unreachable = await createTransformersEmbedder({ model: 'test-owner/other-model', hubUrl: mirror.url, cacheDir });
  await assert.rejects(unreachable.embed(['x']), (e: unknown) => e instanceof UserError && /cannot be reached/.test(e.message) && e.message.includes('test-owner/other-model'));
  await unreachable.dispose();
});
