import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../src/engine/paths';
import { PRESETS } from '../src/inputs/presets';
import { useLitePackageDir } from '../src/models/useLite';
import { UNKNOWN_ID, UseLiteTokenizer, UseLiteVocabulary } from '../src/models/useLiteTokenizer';

const vocabulary = JSON.parse(
  fs.readFileSync(path.join(useLitePackageDir(), 'dist', 'vocab.json'), 'utf8'),
) as UseLiteVocabulary;
const tokenizer = new UseLiteTokenizer(vocabulary);
const onnxDir = path.resolve(packageRoot(), '../shared/models/use-lite-onnx');

function exampleLines(name: string): string[] {
  return fs
    .readFileSync(path.join(packageRoot(), 'examples', name), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

test('tokenizer: behaviour of the original USE tokenizer', () => {
  assert.equal(vocabulary[UNKNOWN_ID][0], '\uFFFD');
  assert.deepEqual(tokenizer.encode(''), []);
  // NFKC: a precomposed and a combining-sequence ç give the same ids; full-width letters fold to ASCII.
  assert.deepEqual(tokenizer.encode('ça va'), tokenizer.encode('c\u0327a va'));
  assert.deepEqual(tokenizer.encode('ＡＢＣ'), tokenizer.encode('ABC'));
  // Every space becomes '▁' and one '▁' is prepended: the pieces spell the normalised text back.
  const ids = tokenizer.encode('a cat sits on the mat');
  assert.equal(ids.map((id) => tokenizer.piece(id)).join(''), '▁a▁cat▁sits▁on▁the▁mat');
  // Unknown characters become id 0, consecutive unknowns merge into one.
  const spell = (text: string): string =>
    tokenizer.encode(text).map((id) => (id === UNKNOWN_ID ? '?' : tokenizer.piece(id))).join('');
  assert.equal(spell('a😹😹 b'), '▁a?▁b');
  assert.equal(spell('日本語'), '▁?');
});

test('tokenizer: the segmentation has the best score (brute force on short texts)', () => {
  // Exhaustive check of the Viterbi search: the best achievable score over all segmentations into vocabulary
  // pieces equals the score of what encode() returns.
  const scoreOf = new Map(vocabulary.slice(6).map(([piece, score]) => [piece, score]));
  for (const text of ['unbelievable', 'tokenization', 'the 2024 olympics', 'anatomical drawings']) {
    const symbols = Array.from('▁' + text.replace(/ /g, '▁'));
    const best: number[] = [0];
    for (let end = 1; end <= symbols.length; end++) {
      best[end] = -Infinity;
      for (let start = 0; start < end; start++) {
        const score = scoreOf.get(symbols.slice(start, end).join(''));
        if (score !== undefined) best[end] = Math.max(best[end], best[start] + score);
      }
    }
    assert.ok(Math.abs(tokenizer.score(tokenizer.encode(text)) - best[symbols.length]) < 1e-9, text);
  }
});

test('tokenizer: same ids as the shared ONNX conversion\'s tokenizer.json, except equal-score ties', async () => {
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(onnxDir);
  const reference = await AutoTokenizer.from_pretrained(path.basename(onnxDir));
  const queries = [...exampleLines('queries-en.txt'), ...exampleLines('queries-ja.txt')];
  // The two digit strings have two equally good segmentations, which the two implementations break differently.
  const digits = ['62583222', '394914111', 'in 1999 and 2000', '31415926535'];
  const texts = [
    ...queries,
    ...digits,
    ...PRESETS['paper-en'].flatMap((task) => queries.slice(0, 20).map((q) => `${task.instruction} ${q}`)),
  ];
  let same = 0;
  for (const text of texts) {
    const ours = tokenizer.encode(text);
    const theirs = reference.encode(text, { add_special_tokens: false });
    if (JSON.stringify(ours) === JSON.stringify(theirs)) {
      same++;
      continue;
    }
    // A difference must be another segmentation of the same text with the same total score.
    const spell = (ids: number[]): string => ids.map((id) => tokenizer.piece(id)).join('');
    assert.ok(!ours.includes(UNKNOWN_ID) && !theirs.includes(UNKNOWN_ID), `unknown tokens differ: ${text}`);
    assert.equal(spell(ours), spell(theirs), text);
    assert.ok(Math.abs(tokenizer.score(ours) - tokenizer.score(theirs)) < 1e-6, `not a tie: ${text}`);
  }
  assert.ok(same >= texts.length * 0.95, `${same} of ${texts.length} identical`);
});
