/**
 * Which scripts the queries are written in, and whether the chosen models cover them (issue 12): the offline models
 * shipped with the tool know their languages (`use-lite`: English), so a run whose queries no chosen model can read is
 * flagged before it starts. Models whose languages are not known (Hub ids, folders, endpoints) may cover anything:
 * with one of them chosen, nothing is flagged. Pure.
 */
import type { EngineMessage, QueryExample } from '../engine/messages';
import { USE_LITE_SPEC } from './registry';

/** Scripts told apart; a query's script is the one most of its letters are in. */
const SCRIPTS: readonly [string, RegExp][] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Japanese', /[\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['Han', /\p{Script=Han}/u],
  ['Hangul', /\p{Script=Hangul}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Arabic', /\p{Script=Arabic}/u],
  ['Hebrew', /\p{Script=Hebrew}/u],
  ['Devanagari', /\p{Script=Devanagari}/u],
  ['Thai', /\p{Script=Thai}/u],
];

/** Scripts of each language a model may declare (ISO 639-1). Han is part of written Japanese. */
const LANGUAGE_SCRIPTS: Record<string, readonly string[]> = {
  en: ['Latin'],
  ja: ['Japanese', 'Han', 'Latin'],
};

/** The languages of the models we ship or know, by model spec. */
const MODEL_LANGUAGES = new Map<string, readonly string[]>([[USE_LITE_SPEC, ['en']]]);

export function modelLanguages(spec: string): readonly string[] | undefined {
  return MODEL_LANGUAGES.get(spec.trim());
}

/**
 * The script most of `text`'s letters are in, or undefined when it has no letters. Kana make a text Japanese even when
 * most of its letters are Han (kanji).
 */
export function queryScript(text: string): string | undefined {
  const counts = new Map<string, number>();
  for (const char of text) {
    const script = SCRIPTS.find(([, pattern]) => pattern.test(char))?.[0];
    if (script) counts.set(script, (counts.get(script) ?? 0) + 1);
  }
  if (counts.has('Japanese') && counts.has('Han')) {
    counts.set('Japanese', counts.get('Japanese')! + counts.get('Han')!);
    counts.delete('Han');
  }
  let best: string | undefined;
  for (const [script, count] of counts) if (best === undefined || count > counts.get(best)!) best = script;
  return best;
}

/** Queries quoted in the message. */
const EXAMPLES = 3;

/**
 * The scriptNotCovered warning when every chosen model has known languages and none of them covers the script of some
 * queries; otherwise undefined. `lines`: 1-based line of each query.
 */
export function scriptCoverage(queries: readonly string[], lines: readonly number[], modelSpecs: readonly string[]): EngineMessage | undefined {
  const covered = new Set<string>();
  for (const spec of modelSpecs) {
    const languages = modelLanguages(spec);
    if (!languages) return undefined;
    for (const language of languages) for (const script of LANGUAGE_SCRIPTS[language] ?? []) covered.add(script);
  }
  const scripts: string[] = [];
  const examples: QueryExample[] = [];
  let count = 0;
  queries.forEach((query, i) => {
    const script = queryScript(query);
    if (script === undefined || covered.has(script)) return;
    count++;
    if (!scripts.includes(script)) scripts.push(script);
    if (examples.length < EXAMPLES) examples.push({ line: lines[i] ?? i + 1, query });
  });
  if (count === 0) return undefined;
  return {
    code: 'scriptNotCovered',
    params: { models: [...modelSpecs], scripts, count, n: queries.length, share: count / queries.length, examples },
  };
}
