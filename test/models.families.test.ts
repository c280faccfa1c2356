import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../src/engine/errors';
import { detectFamily, type FamilyId, INSTRUCTION_SEPARATOR, renderText, resolveFamily } from '../src/models/families';

const I = 'Given a query, retrieve passages that can answer the query.';
const Q = 'a cat on a mat';

test('family detection from Hub ids and folder names', () => {
  const cases: [string, FamilyId][] = [
    ['Qwen/Qwen3-Embedding-0.6B', 'qwen3-embedding'],
    ['onnx-community/Qwen3-Embedding-4B-ONNX', 'qwen3-embedding'],
    ['intfloat/multilingual-e5-large-instruct', 'e5-instruct'],
    ['intfloat/e5-mistral-7b-instruct', 'e5-mistral'],
    ['hkunlp/instructor-large', 'instructor'],
    ['Xenova/instructor-base', 'instructor'],
    ['BAAI/bge-small-en-v1.5', 'bge-v1.5'],
    ['Xenova/bge-base-en-v1.5', 'bge-v1.5'],
    ['intfloat/multilingual-e5-base', 'multilingual-e5'],
    ['cl-nagoya/ruri-v3-310m', 'ruri-v3'],
    ['/models/glove-6B-100d-sif-50k', 'generic'],
    ['BAAI/bge-m3', 'generic'],
  ];
  for (const [id, family] of cases) assert.equal(detectFamily(id), family, id);
  // A folder with an uninformative name: config.json decides.
  assert.equal(detectFamily('/tmp/my-model', { _name_or_path: 'Qwen/Qwen3-Embedding-8B' }), 'qwen3-embedding');
  assert.equal(detectFamily('/tmp/my-model', { architectures: ['INSTRUCTOR'] }), 'instructor');
  assert.equal(detectFamily('/tmp/my-model', { model_type: 'bert' }), 'generic');
});

test('templates and pooling per family are those of METHOD.md', () => {
  const expected: [FamilyId, string, string, string][] = [
    ['qwen3-embedding', `Instruct: ${I}\nQuery:${Q}`, Q, 'last'],
    ['e5-instruct', `Instruct: ${I}\nQuery: ${Q}`, Q, 'mean'],
    ['e5-mistral', `Instruct: ${I}\nQuery: ${Q}`, Q, 'last'],
    ['instructor', `${I}${INSTRUCTION_SEPARATOR}${Q}`, Q, 'mean'],
    ['bge-v1.5', `${I}${Q}`, Q, 'cls'],
    ['multilingual-e5', `query: ${Q}`, `query: ${Q}`, 'mean'],
    ['ruri-v3', `検索クエリ: ${Q}`, Q, 'mean'],
    ['generic', `${I} ${Q}`, Q, 'auto'],
  ];
  for (const [id, withInstruction, base, pooling] of expected) {
    const family = resolveFamily('x', undefined, { family: id });
    const instruction = id === 'ruri-v3' ? '検索クエリ: ' : I;
    assert.equal(renderText(family, instruction, Q), withInstruction, id);
    assert.equal(renderText(family, null, Q), base, `${id} Base`);
    assert.equal(family.pooling, pooling, `${id} pooling`);
    assert.equal(family.normalize, true, `${id} normalize`);
  }
  assert.equal(resolveFamily('hkunlp/instructor-large').instructionMasked, true);
});

test('overrides: template, base template, pooling, normalize, max length', () => {
  const family = resolveFamily('BAAI/bge-small-en-v1.5', undefined, {
    template: '<{instruction}> {query}',
    baseTemplate: 'plain: {query}',
    pooling: 'mean',
    normalize: false,
    maxLength: 128,
  });
  assert.equal(renderText(family, 'do it', 'q'), '<do it> q');
  assert.equal(renderText(family, null, 'q'), 'plain: q');
  assert.deepEqual([family.pooling, family.normalize, family.maxLength], ['mean', false, 128]);
  assert.throws(() => resolveFamily('x', undefined, { template: 'no query here' }), UserError);
  assert.throws(() => resolveFamily('x', undefined, { baseTemplate: '{instruction} {query}' }), UserError);
  assert.throws(() => resolveFamily('x', undefined, { pooling: 'max' as never }), /unknown pooling "max"/);
  assert.throws(() => resolveFamily('x', undefined, { maxLength: 0 }), /positive integer/);
  assert.throws(() => resolveFamily('x', undefined, { family: 'nope' as never }), /unknown model family "nope"/);
});

test('braces inside instructions and queries are kept literally', () => {
  const family = resolveFamily('x');
  assert.equal(renderText(family, 'use {query} here', 'q {instruction}'), 'use {query} here q {instruction}');
});
