/**
 * Localisation stays complete: every string the extension passes to vscode.l10n.t (and every webview text) has a
 * Japanese entry, every %key% in package.json is in package.nls.json and package.nls.ja.json.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../src/engine/io/paths';
import { CLI_SURFACE, fillTemplate, MESSAGE_TEMPLATES, messageText, SETTINGS_SURFACE, type Translate } from '../src/engine/messages';
import { UI_STRINGS } from '../src/protocol';

const ROOT = packageRoot();
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** First arguments of l10n.t('...') / t('...') calls (string literals, single or double quoted). */
function l10nKeys(source: string): string[] {
  const keys: string[] = [];
  const call = /(?:l10n\.t|\bt)\(\s*(['"])((?:\\.|(?!\1)[^\\])*)\1/g;
  for (const match of source.matchAll(call)) keys.push(match[2].replace(/\\(['"\\])/g, '$1'));
  return keys;
}

test('every l10n string of the extension, the webview and the engine messages has a Japanese translation', () => {
  const bundle = JSON.parse(read('l10n/bundle.l10n.ja.json')) as Record<string, string>;
  const dir = path.join(ROOT, 'src', 'extension');
  // The engine's message templates reach vscode.l10n.t through src/extension/messages.ts.
  const keys = new Set([...(Object.values(UI_STRINGS) as string[]), ...(Object.values(MESSAGE_TEMPLATES) as string[])]);
  for (const file of fs.readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
    for (const key of l10nKeys(fs.readFileSync(path.join(dir, file), 'utf8'))) keys.add(key);
  }
  assert.ok(keys.size > 50, `found ${keys.size} strings`);
  const missing = [...keys].filter((key) => !(key in bundle));
  assert.deepEqual(missing, []);
  for (const [key, value] of Object.entries(bundle)) {
    const placeholders = (text: string): string[] => (text.match(/\{\d+\}/g) ?? []).sort();
    assert.deepEqual(placeholders(value), placeholders(key), `placeholders of "${key}"`);
  }
});

test('every %key% of package.json is in package.nls.json and package.nls.ja.json', () => {
  const manifest = read('package.json');
  const keys = [...new Set([...manifest.matchAll(/"%([\w.]+)%"/g)].map((match) => match[1]))];
  assert.ok(keys.length > 10);
  for (const file of ['package.nls.json', 'package.nls.ja.json']) {
    const nls = JSON.parse(read(file)) as Record<string, string>;
    assert.deepEqual(keys.filter((key) => !(key in nls)), [], file);
  }
});

test('engine warnings and errors in Japanese, naming the setting (as vscode.l10n.t renders them)', () => {
  const bundle = JSON.parse(read('l10n/bundle.l10n.ja.json')) as Record<string, string>;
  // vscode.l10n.t: the translation of the English template, then the placeholders filled in.
  const ja: Translate = (template, ...args) => fillTemplate(bundle[template] ?? template, ...args);
  const k = messageText({ code: 'kAboveQueries', params: { k: 20, n: 12 } }, SETTINGS_SURFACE, ja);
  assert.equal(
    k,
    'k = 20 がクエリ数 (12) を超えています。Base 埋め込みの張る空間の外では位置合わせがデータから決まらないため、instructionLens.k ' +
      'によって地図が変わることがあります。instructionLens.k を 12 以下にする（または未設定にすると、既定値はクエリ数以下になります）か、20 件以上のクエリを使ってください',
  );
  assert.doesNotMatch(k, /--k/);
  const identical = messageText(
    { code: 'identicalVectors', params: { model: 'use-lite', tasks: ['Base', 'STS'], count: 56, n: 63, share: 56 / 63, examples: [{ line: 3, query: '戦後日本の漫画家' }, { line: 4 }] } },
    SETTINGS_SURFACE,
    ja,
  );
  assert.equal(
    identical,
    'モデル use-lite は異なるクエリに同じベクトルを返しました。63 件中 56 件のクエリ (88.9%) が他のクエリと同じベクトルです（Base, STS、例: ' +
      '3 行目「戦後日本の漫画家」, 4 行目）。これらのクエリについての数値には意味がありません。考えられる原因: このモデルはこれらのクエリの言語に対応していません',
  );
  const error = messageText({ code: 'noModelLeft', params: { errors: ['a: x', 'b: y'] } }, SETTINGS_SURFACE, ja);
  assert.equal(error, '分析できたモデルがありません: a: x、b: y');
  assert.equal(messageText({ code: 'noModelLeft', params: { errors: ['a: x', 'b: y'] } }), 'no model could be analysed: a: x; b: y');
  assert.match(messageText({ code: 'kAboveQueries', params: { k: 20, n: 12 } }, CLI_SURFACE), /set --k to 12 or less/);
});

test('engine errors carry their structured form, worded per surface and language', async () => {
  const { analyze } = await import('../src/engine/method/analyze');
  const { UserError } = await import('../src/engine/errors');
  const bundle = JSON.parse(read('l10n/bundle.l10n.ja.json')) as Record<string, string>;
  const ja: Translate = (template, ...args) => fillTemplate(bundle[template] ?? template, ...args);
  const three = { models: ['a'], tasks: ['Base', 'x'], n: 3, dims: [2], embeddings: [[Float64Array.of(1, 0, 0, 1, 1, 1), Float64Array.of(1, 1, 0, 1, 1, 0)]] };
  const error = await analyze(three, { reference: 'b' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof UserError && error.detail?.code === 'unknownReference');
  assert.equal(error.message, 'reference: unknown reference model "b" (models: a); change reference');
  assert.equal(messageText(error.detail, SETTINGS_SURFACE, ja), '参照モデル「b」がありません（モデル: a）。instructionLens.reference を変更してください');
  assert.equal(messageText(error.detail, CLI_SURFACE), 'unknown reference model "b" (models: a); change --reference');
});
