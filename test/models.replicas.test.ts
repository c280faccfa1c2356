import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { packageRoot } from '../src/engine/io/paths';
import type { FamilyId, ModelOverrides } from '../src/models/families';
import { createTransformersEmbedder, type TransformersEmbedder } from '../src/models/transformersEmbedder';
import { startHubMirror } from './helpers/hubMirror';

// Tiny replicas of the public ONNX exports (test/fixtures/make_replicas.py, layouts in
// test/fixtures/replicas/README.md) and the vectors a numpy forward pass of the same weights gives
// (test/fixtures/replica_numpy.py: its own tokenizers, templates, padding and pooling).
const REPLICAS = path.join(packageRoot(), 'test/fixtures/replicas');
const TOLERANCE = 1e-5;

interface ReferenceCase {
  label: string;
  family: FamilyId;
  instruction: string | null;
  texts: string[];
  inputIds: number[][];
  vectors: number[][];
}
interface Replica {
  folder: string;
  overrides: ModelOverrides;
  queries: string[];
  paddingSide: 'left' | 'right';
  padId: number;
  cases: ReferenceCase[];
}
const { replicas } = JSON.parse(fs.readFileSync(path.join(REPLICAS, 'expected.json'), 'utf8')) as { replicas: Replica[] };
const folderOf = (replica: Replica): string => path.join(REPLICAS, replica.folder);

let scratch: string;
const opened: TransformersEmbedder[] = [];

before(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'il-replicas-'));
});

after(async () => {
  await Promise.all(opened.map((e) => e.dispose()));
  fs.rmSync(scratch, { recursive: true, force: true });
});

async function embedderFor(replica: Replica, family: FamilyId, batchSize: number, model = folderOf(replica)): Promise<TransformersEmbedder> {
  const embedder = await createTransformersEmbedder({
    model,
    offline: true,
    cacheDir: path.join(scratch, 'hub'),
    batchSize,
    overrides: { ...replica.overrides, family },
  });
  opened.push(embedder);
  return embedder;
}

function maxAbsDifference(actual: ArrayLike<number>[], expected: number[][]): number {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  actual.forEach((row, i) => {
    assert.equal(row.length, expected[i].length, `row ${i}: dimension`);
    for (let j = 0; j < row.length; j++) worst = Math.max(worst, Math.abs(row[j] - expected[i][j]));
  });
  return worst;
}

for (const replica of replicas) {
  const families = [...new Set(replica.cases.map((c) => c.family))];
  for (const family of families) {
    const cases = replica.cases.filter((c) => c.family === family);
    test(`${replica.folder} replica, ${family}: ${cases.map((c) => c.label).join(' and ')} vectors equal numpy to ${TOLERANCE} in any batch`, async (t) => {
      const embedder = await embedderFor(replica, family, 3);
      // Templates: the texts the model sees are those the reference rendered from METHOD.md.
      for (const c of cases) {
        assert.deepEqual(replica.queries.map((q) => embedder.render(c.instruction, q)), c.texts, `${c.label} templates`);
      }
      const texts = cases.flatMap((c) => c.texts);
      const expected = cases.flatMap((c) => c.vectors);
      // One call with Base and the instruction mixed: length-sorted batches of 3 texts of different lengths.
      const together = await embedder.embed(texts);
      const worst = maxAbsDifference(together, expected);
      t.diagnostic(`max |difference| ${worst.toExponential(2)} over ${texts.length} texts of dimension ${expected[0].length}`);
      assert.ok(worst <= TOLERANCE, `max |difference| ${worst}`);
      // Other batch compositions: reversed order in batches of 2, and every text alone.
      const pairs = await embedderFor(replica, family, 2);
      const reversed = (await pairs.embed([...texts].reverse())).reverse();
      assert.ok(maxAbsDifference(reversed, expected) <= TOLERANCE, 'reversed, batches of 2');
      const alone = [];
      for (const text of texts) alone.push(...(await embedder.embed([text])));
      assert.ok(maxAbsDifference(alone, expected) <= TOLERANCE, 'each text alone');
    });
  }
}

test('replicas: the family is detected from config.json (_name_or_path) as for the public exports', async () => {
  const detected = new Map<string, FamilyId>();
  for (const replica of replicas) {
    const embedder = await createTransformersEmbedder({ model: folderOf(replica), offline: true, cacheDir: path.join(scratch, 'hub') });
    detected.set(replica.folder, embedder.family.id);
    await embedder.dispose();
  }
  assert.deepEqual(Object.fromEntries(detected), {
    bert: 'bge-v1.5',
    'xlm-roberta': 'multilingual-e5',
    t5: 'instructor',
    qwen3: 'qwen3-embedding',
    // the paper's own ModernBERT-ja and Sarashina2.2 embedders have no family of their own
    modernbert: 'generic',
    llama: 'generic',
  });
});

// What transformers.js itself does with each export (the embedder relies on or works around it).
test('transformers.js per architecture: model class, padding side, EOS, decoder inputs it creates', async () => {
  const { AutoModel, AutoTokenizer, env, LogLevel } = require('@huggingface/transformers') as typeof import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.logLevel = LogLevel.ERROR;
  const seen: Record<string, unknown> = {};
  for (const replica of replicas) {
    const folder = folderOf(replica);
    const tokenizer = await AutoTokenizer.from_pretrained(folder);
    // The tokenizer gives the reference's token ids (special tokens included: Qwen3's appended <|endoftext|>).
    for (const c of replica.cases) {
      c.texts.forEach((text, i) => {
        const ids = Array.from(tokenizer(text.replace('\u001f', '')).input_ids.data as BigInt64Array, Number);
        assert.deepEqual(ids, c.inputIds[i], `${replica.folder} ${c.label} text ${i}`);
      });
    }
    let model: string;
    let inputs: string[] = [];
    try {
      const loaded = await AutoModel.from_pretrained(folder, { dtype: 'fp32' });
      model = loaded.constructor.name;
      inputs = (loaded as unknown as { sessions: { model: { inputNames: string[] } } }).sessions.model.inputNames;
      await loaded.dispose();
    } catch (error) {
      model = `fails: ${(error as Error).message.match(/onnx\/\w+\.onnx/)?.[0]}`;
    }
    seen[replica.folder] = { tokenizer: tokenizer.constructor.name, padding: tokenizer.padding_side, model, inputs };
  }
  const pkv = ['past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value'];
  assert.deepEqual(seen, {
    bert: { tokenizer: 'BertTokenizer', padding: 'right', model: 'BertModel', inputs: ['input_ids', 'attention_mask', 'token_type_ids'] },
    'xlm-roberta': { tokenizer: 'XLMRobertaTokenizer', padding: 'right', model: 'XLMRobertaModel', inputs: ['input_ids', 'attention_mask'] },
    // T5Model is an encoder-decoder class: it wants the decoder file too (and decoder inputs to run).
    t5: { tokenizer: 'T5Tokenizer', padding: 'right', model: 'fails: onnx/decoder_model_merged.onnx', inputs: [] },
    // padding_side "left" comes from tokenizer_config.json
    qwen3: { tokenizer: 'Qwen2Tokenizer', padding: 'left', model: 'Qwen3Model', inputs: ['input_ids', 'attention_mask', 'position_ids', ...pkv] },
    modernbert: { tokenizer: 'PreTrainedTokenizer', padding: 'right', model: 'ModernBertModel', inputs: ['input_ids', 'attention_mask'] },
    // LlamaTokenizer pads on the left whatever tokenizer_config.json says (its class default wins)
    llama: { tokenizer: 'LlamaTokenizer', padding: 'left', model: 'LlamaModel', inputs: ['input_ids', 'attention_mask', 'position_ids', ...pkv] },
  });
  const llamaConfig = JSON.parse(fs.readFileSync(path.join(REPLICAS, 'llama/tokenizer_config.json'), 'utf8'));
  assert.equal(llamaConfig.padding_side, 'right');

  // Decoders called with input_ids and attention_mask only: transformers.js makes position_ids from the mask
  // (left padding: the real tokens at 0..n-1) and empty past_key_values; the states at the last real token are
  // the reference's (before normalisation, so compare directions).
  for (const folder of ['qwen3', 'llama']) {
    const replica = replicas.find((r) => r.folder === folder)!;
    const tokenizer = await AutoTokenizer.from_pretrained(folderOf(replica));
    const model = await AutoModel.from_pretrained(folderOf(replica), { dtype: 'fp32' });
    const c = replica.cases[0];
    const inputs = tokenizer(c.texts, { padding: true });
    const out = await model(inputs);
    const [batch, seq, hidden] = out.last_hidden_state.dims;
    const states = out.last_hidden_state.data as Float32Array;
    const mask = inputs.attention_mask.data as BigInt64Array;
    assert.equal(Number(mask[0]), c.inputIds[0].length === seq ? 1 : 0, `${folder}: left padding`);
    for (let b = 0; b < batch; b++) {
      const row = states.slice((b * seq + seq - 1) * hidden, (b * seq + seq) * hidden);
      const norm = Math.hypot(...row);
      const worst = Math.max(...Array.from(row, (v, j) => Math.abs(v / norm - c.vectors[b][j])));
      assert.ok(worst <= TOLERANCE, `${folder} row ${b}: ${worst}`);
    }
    await model.dispose();
  }
});

test('INSTRUCTOR export: only onnx/encoder_model.onnx is read, never downloaded decoder files; a missing dtype names the file', async () => {
  const t5 = replicas.find((r) => r.folder === 't5')!;
  // A Hub repository laid out as Xenova/instructor-base: encoder and decoder files (the decoder is junk here).
  const repo = path.join(scratch, 'instructor-repo');
  fs.cpSync(folderOf(t5), repo, { recursive: true });
  for (const file of ['decoder_model_merged.onnx', 'decoder_model.onnx']) fs.writeFileSync(path.join(repo, 'onnx', file), 'not a model');
  const mirror = await startHubMirror({ 'test-owner/instructor-base': repo });
  try {
    const fromHub = await createTransformersEmbedder({ model: 'test-owner/instructor-base', hubUrl: mirror.url, cacheDir: path.join(scratch, 'hub-t5') });
    opened.push(fromHub);
    const c = t5.cases[1];
    const vectors = await fromHub.embed(c.texts);
    assert.ok(maxAbsDifference(vectors, c.vectors) <= TOLERANCE);
    assert.ok(mirror.served.includes('onnx/encoder_model.onnx'));
    assert.ok(mirror.served.includes('2_Dense/model.safetensors'));
    assert.deepEqual(mirror.served.filter((f) => f.includes('decoder')), []);
  } finally {
    await mirror.close();
  }
  await assert.rejects(
    createTransformersEmbedder({ model: folderOf(t5), dtype: 'q8', offline: true }),
    /no onnx\/encoder_model_quantized\.onnx for dtype q8 \(this folder has dtype fp32\)/,
  );
});

test('Qwen3-Embedding export whose tokenizer.json does not append <|endoftext|>: the embedder appends it', async () => {
  const { AutoTokenizer } = require('@huggingface/transformers') as typeof import('@huggingface/transformers');
  const qwen3 = replicas.find((r) => r.folder === 'qwen3')!;
  // As the tokenizer.json of Qwen/Qwen3-Embedding-* before June 2025: no post-processor.
  const old = path.join(scratch, 'Qwen3-Embedding-old-tokenizer');
  fs.cpSync(folderOf(qwen3), old, { recursive: true });
  const tokenizerFile = path.join(old, 'tokenizer.json');
  fs.writeFileSync(tokenizerFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(tokenizerFile, 'utf8')), post_processor: null }));
  const c = qwen3.cases[1];
  const plain = Array.from((await AutoTokenizer.from_pretrained(old))(c.texts[0]).input_ids.data as BigInt64Array, Number);
  assert.deepEqual(plain, c.inputIds[0].slice(0, -1), 'transformers.js alone appends nothing');
  const embedder = await embedderFor(qwen3, 'qwen3-embedding', 3, old);
  assert.ok(maxAbsDifference(await embedder.embed(c.texts), c.vectors) <= TOLERANCE);
  // The replica's own tokenizer appends it already: nothing is appended twice (the main test), and the identity
  // says which end token the vectors were pooled at.
  assert.match(await embedder.identity(), /\|end=<\|endoftext\|>$/);
});

test('onnx-community/Qwen3-Embedding-0.6B-ONNX from the Hub (a mirror): family from the id, external weights fetched, reference vectors', async () => {
  const qwen3 = replicas.find((r) => r.folder === 'qwen3')!;
  const mirror = await startHubMirror({ 'onnx-community/Qwen3-Embedding-0.6B-ONNX': folderOf(qwen3) });
  try {
    const cacheDir = path.join(scratch, 'hub-qwen3');
    const fromHub = await createTransformersEmbedder({ model: 'onnx-community/Qwen3-Embedding-0.6B-ONNX', hubUrl: mirror.url, cacheDir });
    opened.push(fromHub);
    assert.equal(fromHub.family.id, 'qwen3-embedding');
    const texts = qwen3.cases.flatMap((c) => qwen3.queries.map((q) => fromHub.render(c.instruction, q)));
    assert.deepEqual(texts, qwen3.cases.flatMap((c) => c.texts));
    const vectors = await fromHub.embed(texts);
    assert.ok(maxAbsDifference(vectors, qwen3.cases.flatMap((c) => c.vectors)) <= TOLERANCE);
    assert.ok(mirror.served.includes('onnx/model.onnx') && mirror.served.includes('onnx/model.onnx_data'));
  } finally {
    await mirror.close();
  }
  // A local copy: the external weights are part of the weights hash.
  const local = await embedderFor(qwen3, 'qwen3-embedding', 3);
  await local.identity();
  const memo = JSON.parse(fs.readFileSync(path.join(scratch, 'hub', 'file-hashes.json'), 'utf8')) as Record<string, unknown>;
  assert.ok(memo[path.join(folderOf(qwen3), 'onnx', 'model.onnx_data')]);
});
