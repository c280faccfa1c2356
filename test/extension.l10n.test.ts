/**
 * Localisation stays complete: every string the extension passes to vscode.l10n.t (and every webview text) has a
 * Japanese entry, every %key% in package.json is in package.nls.json and package.nls.ja.json.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../src/engine/io/paths';
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

test('every l10n string of the extension and the webview has a Japanese translation', () => {
  const bundle = JSON.parse(read('l10n/bundle.l10n.ja.json')) as Record<string, string>;
  const dir = path.join(ROOT, 'src', 'extension');
  const keys = new Set(Object.values(UI_STRINGS) as string[]);
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
