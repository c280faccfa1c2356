/** Which script queries are written in, and the check before a run that some chosen model covers it. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { packageRoot } from '../src/engine/io/paths';
import { messageText } from '../src/engine/messages';
import { readQueries } from '../src/inputs/queries';
import { modelLanguages, queryScript, scriptCoverage } from '../src/models/languages';

test('queryScript: the script most letters are in; kana make kanji Japanese', () => {
  assert.equal(queryScript('a cat sits on the mat'), 'Latin');
  assert.equal(queryScript('日本で最も高く、古くから信仰の対象とされてきた山'), 'Japanese');
  assert.equal(queryScript('東京都'), 'Han');
  assert.equal(queryScript('Москва — столица России'), 'Cyrillic');
  assert.equal(queryScript('GPU の性能'), 'Latin'); // a tie, 3 Latin and 3 Japanese (1 kana, 2 kanji): the first seen
  assert.equal(queryScript('2024 — 42!'), undefined);
});

test('scriptCoverage: use-lite (English) on the Japanese examples is flagged with lines and texts; English is not', async () => {
  const ja = await readQueries(path.join(packageRoot(), 'examples', 'queries-ja.txt'));
  const gap = scriptCoverage(ja.queries, ja.lines, ['use-lite']);
  assert.ok(gap && gap.code === 'scriptNotCovered');
  assert.deepEqual(gap.params.scripts, ['Japanese']);
  assert.equal(gap.params.count, ja.queries.length);
  assert.deepEqual(gap.params.examples[0], { line: ja.lines[0], query: ja.queries[0] });
  assert.match(messageText(gap), /^none of the chosen models \(use-lite\) covers the script \(Japanese\) of 63 of 63 queries \(100\.0%\), e\.g\. line 3 "/);
  const en = await readQueries(path.join(packageRoot(), 'examples', 'queries-en.txt'));
  assert.equal(scriptCoverage(en.queries, en.lines, ['use-lite']), undefined);
  // A model of unknown languages may cover them: nothing is said.
  assert.equal(scriptCoverage(ja.queries, ja.lines, ['use-lite', '/models/some-folder']), undefined);
  assert.deepEqual(modelLanguages('use-lite'), ['en']);
  assert.equal(modelLanguages('intfloat/multilingual-e5-large-instruct'), undefined);
});

test('property: any query text gives a known script or none, and the warning counts and quotes only real queries', () => {
  const scripts = new Set(['Latin', 'Japanese', 'Han', 'Hangul', 'Cyrillic', 'Greek', 'Arabic', 'Hebrew', 'Devanagari', 'Thai', undefined]);
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 30 }), { maxLength: 20 }), (queries) => {
      for (const query of queries) assert.ok(scripts.has(queryScript(query)));
      const lines = queries.map((_, i) => 10 + 2 * i);
      const gap = scriptCoverage(queries, lines, ['use-lite']);
      if (!gap || gap.code !== 'scriptNotCovered') return;
      assert.ok(gap.params.count >= 1 && gap.params.count <= queries.length);
      assert.ok(gap.params.examples.length <= 3);
      for (const example of gap.params.examples) assert.equal(queries[lines.indexOf(example.line)], example.query);
    }),
  );
});
