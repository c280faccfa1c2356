import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../src/engine/io/paths';
import { loadDenseLayer } from '../src/models/dense';
import { applyDense, maskLeadingTokens, normalizeL2, poolTokens, splitRows, type TokenPooling } from '../src/models/pooling';

// Expected values come from test/fixtures/pooling_fixture.py (numpy).
interface PoolingCase {
  padding: 'left' | 'right';
  dims: [number, number, number];
  data: number[];
  mask: number[];
  instructionTokens: number[];
  expected: Record<TokenPooling | 'instructorMean', number[][]>;
}
const fixture = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'test/fixtures/pooling.json'), 'utf8')) as {
  cases: PoolingCase[];
  dense: { weight: number[]; bias: number[]; inputs: number[][]; identity: number[][]; tanh: number[][] };
};
const GLOVE = path.resolve(packageRoot(), '../shared/models/glove-6B-100d-sif-50k');

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${label}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

for (const c of fixture.cases) {
  for (const pooling of ['cls', 'mean', 'last'] as const) {
    test(`pooling ${pooling} on a hand-made tensor with ${c.padding} padding matches numpy`, () => {
      // float32 input: as onnxruntime hands it over; bigint mask: as the tokenizer builds it.
      const rows = poolTokens({ data: Float32Array.from(c.data), dims: c.dims, mask: c.mask.map(BigInt) }, pooling);
      rows.forEach((row, b) => assertClose(row, c.expected[pooling][b], 1e-6, `${pooling} row ${b}`));
    });
  }
  test(`INSTRUCTOR masking (first k real tokens out of the mean) with ${c.padding} padding matches numpy`, () => {
    const mask = maskLeadingTokens(c.mask, c.dims, c.instructionTokens);
    const rows = poolTokens({ data: Float32Array.from(c.data), dims: c.dims, mask }, 'mean');
    rows.forEach((row, b) => assertClose(row, c.expected.instructorMean[b], 1e-6, `row ${b}`));
  });
}

test('pooling rejects a row with no unmasked token and a mask of the wrong size', () => {
  assert.throws(() => poolTokens({ data: new Float32Array(4), dims: [1, 2, 2], mask: [0, 0] }, 'mean'), /no unmasked token/);
  assert.throws(() => poolTokens({ data: new Float32Array(4), dims: [1, 2, 2], mask: [1] }, 'mean'), /attention mask/);
});

test('splitRows and normalizeL2', () => {
  const rows = splitRows([3, 4, 0, 0], [2, 2]);
  assertClose(normalizeL2(rows[0]), [0.6, 0.8], 1e-7, 'normalised');
  assert.deepEqual(Array.from(normalizeL2(rows[1])), [0, 0]);
});

test('Dense layer read from a hand-written safetensors file matches numpy (tanh, with bias)', () => {
  const layer = loadDenseLayer(path.join(packageRoot(), 'test/fixtures/dense-model'));
  assert.ok(layer);
  assert.equal(layer.activation, 'tanh');
  assertClose(layer.weight, fixture.dense.weight, 0, 'weight');
  fixture.dense.inputs.forEach((x, i) => {
    assertClose(applyDense(layer, Float32Array.from(x)), fixture.dense.tanh[i], 1e-5, `tanh row ${i}`);
    assertClose(applyDense({ ...layer, activation: 'identity' }, Float32Array.from(x)), fixture.dense.identity[i], 1e-5, `row ${i}`);
  });
  assert.equal(loadDenseLayer(path.join(packageRoot(), 'test/fixtures')), undefined);
});

// Real tensors: the GloVe model is a static lookup, so the state of a word at any position equals that word's
// state when embedded alone. That gives an independent expected value for cls and last with either padding.
test('pooling on real GloVe tensors: cls/last with left and right padding, mean as transformers.js pools', async () => {
  const { AutoModel, AutoTokenizer, env, pipeline } = require('@huggingface/transformers') as typeof import('@huggingface/transformers');
  env.allowRemoteModels = false;
  const tokenizer = await AutoTokenizer.from_pretrained(GLOVE);
  const model = await AutoModel.from_pretrained(GLOVE, { dtype: 'fp32' });
  const texts = ['stock market crash today', 'kitten', 'the cat sits on the mat'];
  const alone = async (word: string): Promise<number[]> => {
    const out = await model(tokenizer([word]));
    return Array.from(out.last_hidden_state.data as Float32Array);
  };
  for (const side of ['right', 'left'] as const) {
    tokenizer.padding_side = side;
    const inputs = tokenizer(texts, { padding: true });
    const mask = Array.from(inputs.attention_mask.data as BigInt64Array, Number);
    const seq = inputs.attention_mask.dims[1];
    assert.equal(side === 'right' ? mask[seq * 1 + seq - 1] : mask[seq * 1], 0, 'the short text is padded on this side');
    const out = await model(inputs);
    const states = { data: out.last_hidden_state.data as Float32Array, dims: out.last_hidden_state.dims, mask: inputs.attention_mask.data };
    const cls = poolTokens(states, 'cls');
    const last = poolTokens(states, 'last');
    const words = texts.map((t) => t.split(' '));
    for (let b = 0; b < texts.length; b++) {
      assertClose(cls[b], await alone(words[b][0]), 0, `${side} cls ${b}`);
      assertClose(last[b], await alone(words[b][words[b].length - 1]), 0, `${side} last ${b}`);
    }
    const mean = poolTokens(states, 'mean');
    const extractor = await pipeline('feature-extraction', GLOVE, { dtype: 'fp32' });
    for (let b = 0; b < texts.length; b++) {
      const reference = await extractor(texts[b], { pooling: 'mean', normalize: false });
      assertClose(mean[b], reference.data as Float32Array, 1e-6, `${side} mean ${b}`);
    }
    await extractor.dispose();
  }
  await model.dispose();
});
