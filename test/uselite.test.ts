import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CancelledError, UserError } from '../src/engine/errors';
import { packageRoot } from '../src/engine/io/paths';
import { PRESETS } from '../src/inputs/presets';
import type { EmbedProgress, Embedder } from '../src/models/embedder';
import { createUseLiteEmbedder, USE_LITE_DIMENSION } from '../src/models/useLite';
import { prepareUseLiteOnnx, verifyUseLiteFolder } from '../src/models/useLiteOnnx';
import { cosine } from './helpers/vectors';

// Run `npm run build` (or `node esbuild.mjs`) first: the model runs in dist/embedWorker.js.
const sharedOnnx = path.resolve(packageRoot(), '../shared/models/use-lite-onnx');
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'il-uselite-'));
let embedder: Embedder;
let folder: string;

before(async () => {
  embedder = createUseLiteEmbedder({ cacheDir });
  await embedder.identity(); // converts into cacheDir
  folder = (await prepareUseLiteOnnx(cacheDir)).folder;
});
after(async () => {
  await embedder.dispose();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

const englishQueries = fs
  .readFileSync(path.join(packageRoot(), 'examples', 'queries-en.txt'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

/** The shared ONNX conversion through transformers.js (AutoTokenizer + AutoModel): token ids and rows. */
async function sharedReference(texts: string[]): Promise<{ ids: number[][]; vectors: Float32Array[] }> {
  const { AutoModel, AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(sharedOnnx);
  const name = path.basename(sharedOnnx);
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModel.from_pretrained(name, { dtype: 'fp32' });
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += 16) {
    const output = await model(tokenizer(texts.slice(start, start + 16), { padding: true, truncation: true }));
    const embedding = output.sentence_embedding;
    const [rows, dims] = embedding.dims as number[];
    const data = embedding.data as Float32Array;
    for (let r = 0; r < rows; r++) vectors.push(data.slice(r * dims, (r + 1) * dims));
  }
  await model.dispose();
  return { ids: texts.map((text) => tokenizer.encode(text, { add_special_tokens: false })), vectors };
}

function siblings(dir: string): string[] {
  return fs.readdirSync(path.dirname(dir)).filter((entry) => entry.startsWith(`${path.basename(dir)}.`));
}

test('use-lite: converted on first use into the cache folder, with the ONNX interface', async () => {
  assert.match(path.basename(folder), /^use-lite-onnx-0\.2\.0-[0-9a-f]{12}$/);
  assert.equal(path.dirname(folder), cacheDir);
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'manifest.json']) {
    assert.ok(fs.existsSync(path.join(folder, file)), file);
  }
  assert.deepEqual(siblings(folder), [], 'no temporary folder left behind');
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(path.join(folder, 'onnx', 'model.onnx'));
  try {
    assert.deepEqual(session.inputNames, ['input_ids', 'attention_mask']);
    assert.deepEqual(session.outputNames, ['sentence_embedding']);
    // Right padding: the padded row equals the same text alone.
    const run = async (ids: number[][], mask: number[][]): Promise<Float32Array> => {
      const dims = [ids.length, ids[0].length];
      const result = await session.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.flat(), BigInt), dims),
        attention_mask: new ort.Tensor('int64', BigInt64Array.from(mask.flat(), BigInt), dims),
      });
      assert.deepEqual(result.sentence_embedding.dims, [ids.length, USE_LITE_DIMENSION]);
      return result.sentence_embedding.data as Float32Array;
    };
    const padded = await run([[11, 500, 33, 7], [11, 500, 0, 0]], [[1, 1, 1, 1], [1, 1, 0, 0]]);
    const alone = await run([[11, 500]], [[1, 1]]);
    assert.ok(cosine(padded.slice(USE_LITE_DIMENSION), alone) > 0.99999);
    assert.ok(Math.abs(Math.hypot(...alone) - 1) < 1e-5, 'L2-normalised');
  } finally {
    await session.release();
  }
});

test('use-lite: identity names the model, package version and content hash; generic render', async () => {
  const identity = await embedder.identity();
  assert.match(identity, /^use-lite\|@energetic-ai\/model-embeddings-en@0\.2\.0\|converter=\d+\|onnx-folder-sha256:[0-9a-f]{64}\|dtype=fp32\|/);
  assert.ok(identity.includes(`|onnx-folder-sha256:${await verifyUseLiteFolder(folder)}|`), 'the hash of the verified folder');
  assert.equal(embedder.name, 'use-lite');
  assert.equal(embedder.render(null, 'a query'), 'a query');
  assert.equal(embedder.render('Identify the topic.', 'a query'), 'Identify the topic. a query');
  const notAFolder = path.join(cacheDir, 'a-file');
  fs.writeFileSync(notAFolder, '');
  await assert.rejects(createUseLiteEmbedder({ cacheDir: path.join(notAFolder, 'models') }).embed(['x']), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, /a-file\/models\/use-lite-onnx-[^:]+: cannot write the converted use-lite model \(ENOTDIR\): choose another cache folder$/);
    return true;
  });
  fs.rmSync(notAFolder);
  const other = createUseLiteEmbedder({ cacheDir, batchSize: 3 });
  assert.equal(await other.identity(), identity);
  await other.dispose();
  assert.deepEqual(await embedder.embed([]), []);
});

test('use-lite: agrees with the shared ONNX conversion (cosine > 0.9999) on the examples, batched and padded', async () => {
  const instruction = PRESETS['paper-en'][3].instruction;
  const long = englishQueries.join(' and ');
  const texts = [...englishQueries, ...englishQueries.slice(0, 10).map((q) => embedder.render(instruction, q)), long, 'x'];
  const progress: EmbedProgress[] = [];
  const ours = await embedder.embed(texts, { onProgress: (p) => p.kind === 'embed' && progress.push(p) });
  const reference = await sharedReference(texts);
  const { AutoTokenizer } = await import('@huggingface/transformers');
  const tokenizer = await AutoTokenizer.from_pretrained(folder);
  texts.forEach((text, i) => {
    assert.deepEqual(tokenizer.encode(text, { add_special_tokens: false }), reference.ids[i], `token ids of "${text}"`);
    assert.equal(ours[i].length, USE_LITE_DIMENSION);
    assert.ok(Math.abs(Math.hypot(...ours[i]) - 1) < 1e-5, 'L2-normalised');
    const c = cosine(ours[i], reference.vectors[i]);
    assert.ok(c > 0.9999, `cosine ${c} for "${text}"`);
  });
  assert.ok(reference.ids.at(-2)!.length > 128, 'the long text is cut at 128 tokens by both');
  assert.deepEqual(progress[0], { kind: 'embed', model: 'use-lite', done: 0, total: texts.length });
  assert.deepEqual(progress.at(-1), { kind: 'embed', model: 'use-lite', done: texts.length, total: texts.length });
  // One batch holding texts of very different lengths gives each text its own vector.
  const mixed = [englishQueries[0], long, 'x', englishQueries[5]];
  const batched = await embedder.embed(mixed);
  for (const [i, text] of mixed.entries()) {
    const [alone] = await embedder.embed([text]);
    assert.ok(cosine(batched[i], alone) > 0.99999, text);
  }
});

test('use-lite: similarity sanity (shared README: 0.778 and 0.114); an instruction moves the vector', async () => {
  const [cat, kitten, market] = await embedder.embed(['a cat sits on the mat', 'a kitten is sitting on a rug', 'stock market crash']);
  assert.ok(Math.abs(cosine(cat, kitten) - 0.778) < 0.005, `cat/kitten ${cosine(cat, kitten)}`);
  assert.ok(Math.abs(cosine(cat, market) - 0.114) < 0.005, `cat/market ${cosine(cat, market)}`);
  const [withInstruction] = await embedder.embed([embedder.render(PRESETS['paper-en'][4].instruction, 'a kitten is sitting on a rug')]);
  assert.ok(cosine(withInstruction, kitten) < 0.99, 'an instruction moves the vector');
});

test('use-lite: a second embedder reuses the folder; a truncated, altered or incomplete one is rebuilt', async () => {
  const onnx = path.join(folder, 'onnx', 'model.onnx');
  const { size, mtimeMs } = fs.statSync(onnx);
  const second = createUseLiteEmbedder({ cacheDir });
  const [before] = await second.embed(['a cat sits on the mat']);
  await second.dispose();
  assert.equal(fs.statSync(onnx).mtimeMs, mtimeMs, 'reused, not rebuilt');

  const damages: Array<[string, () => void]> = [
    ['truncated model.onnx', () => fs.truncateSync(onnx, size - 1000)],
    ['flipped bytes in model.onnx', () => {
      const fd = fs.openSync(onnx, 'r+');
      fs.writeSync(fd, Buffer.from([0x55, 0xaa]), 0, 2, Math.floor(size / 2));
      fs.closeSync(fd);
    }],
    ['missing tokenizer.json', () => fs.rmSync(path.join(folder, 'tokenizer.json'))],
    ['missing manifest', () => fs.rmSync(path.join(folder, 'manifest.json'))],
  ];
  for (const [damage, apply] of damages) {
    apply();
    assert.equal(await verifyUseLiteFolder(folder), undefined, damage);
    const rebuilt = await prepareUseLiteOnnx(cacheDir);
    assert.ok(rebuilt.converted, `rebuilt after ${damage}`);
    assert.equal(await verifyUseLiteFolder(folder), rebuilt.contentHash, `valid again after ${damage}`);
    assert.equal(fs.statSync(onnx).size, size, damage);
    assert.deepEqual(siblings(folder), [], `nothing left behind after ${damage}`);
  }
  // Through the embedder: a truncated model is rebuilt before it is loaded.
  fs.truncateSync(onnx, size - 1000);
  const third = createUseLiteEmbedder({ cacheDir });
  const [after] = await third.embed(['a cat sits on the mat']);
  await third.dispose();
  assert.equal(fs.statSync(onnx).size, size);
  assert.ok(cosine(after, before) > 0.999999);
});

test('use-lite: two processes converting at once both end with the same valid folder', async () => {
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'il-uselite-race-'));
  try {
    const startAt = Date.now() + 1500; // both processes loaded before either starts converting
    const script = `const { prepareUseLiteOnnx } = require(${JSON.stringify(path.join(packageRoot(), 'out/src/models/useLiteOnnx.js'))});
      while (Date.now() < ${startAt}) {}
      prepareUseLiteOnnx(${JSON.stringify(shared)}).then((r) => console.log(JSON.stringify({ folder: r.folder, hash: r.contentHash, converted: r.converted })),
        (err) => { console.error(err); process.exit(1); });`;
    const runOne = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        child.stderr.on('data', (chunk) => (err += chunk));
        child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}: ${err}`))));
      });
    const results = (await Promise.all([runOne(), runOne()])).map((line) => JSON.parse(line) as { folder: string; hash: string; converted: boolean });
    // Usually both convert and one of them finds the other's folder in place when it renames.
    assert.ok(results.some((r) => r.converted));
    assert.equal(results[0].folder, results[1].folder);
    assert.equal(results[0].hash, results[1].hash);
    assert.equal(await verifyUseLiteFolder(results[0].folder), results[0].hash);
    assert.deepEqual(fs.readdirSync(shared), [path.basename(results[0].folder)], 'no temporary folders left');
    assert.equal(results[0].hash, await verifyUseLiteFolder(folder), 'the conversion is deterministic');
  } finally {
    fs.rmSync(shared, { recursive: true, force: true });
  }
});

test('use-lite: cancellation stops within one batch', async () => {
  const small = createUseLiteEmbedder({ cacheDir, batchSize: 2 });
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
          if (p.kind !== 'embed') return;
          lastDone = p.done;
          if (p.done > 0) controller.abort();
        },
      }),
      CancelledError,
    );
    assert.equal(lastDone, 2, 'no batch completes after the abort');
  } finally {
    await small.dispose();
  }
});

test('use-lite: converts and embeds with the network blocked (process and worker thread)', () => {
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
      (async () => { const e = createUseLiteEmbedder({ cacheDir: ${JSON.stringify(path.join(dir, 'cache'))} });
      const v = await e.embed(['one', 'two', 'three']); await e.dispose();
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
