import { UserError } from '../engine/errors';
import { lineAt } from '../engine/io/textFile';

class JsonSyntaxProblem {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {}
}

/**
 * Where and why JSON.parse rejects `text` (Node's messages do not always give a position): a small validating
 * scan of the JSON grammar that stops at the first error.
 */
export function jsonSyntaxError(text: string): { offset: number; problem: string } {
  let i = 0;
  const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const fail = (problem: string): never => {
    throw new JsonSyntaxProblem(i >= text.length ? text.trimEnd().length : i, `invalid JSON: ${problem}`);
  };
  const found = (): string => (i >= text.length ? 'end of text' : `'${text[i]}'`);
  const space = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const string = (): void => {
    i++;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c < ' ') fail('control character (a raw line break or tab?) inside a string');
      if (c === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('bad \\u escape');
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail(`bad escape '\\${text[i] ?? ''}'`);
      }
      i++;
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        if (text[i] !== '"') fail(`expected a property name in double quotes, found ${found()}`);
        string();
        space();
        if (text[i] !== ':') fail(`expected ':' after the property name, found ${found()}`);
        i++;
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail(`expected ',' or '}', found ${found()}`);
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail(`expected ',' or ']', found ${found()}`);
      }
    }
    if (c === '"') return string();
    number.lastIndex = i;
    const match = number.exec(text);
    if (match) return void (i += match[0].length);
    for (const word of ['true', 'false', 'null']) if (text.startsWith(word, i)) return void (i += word.length);
    fail(`unexpected ${found()}`);
  };
  try {
    value();
    space();
    if (i < text.length) fail(`unexpected ${found()} after the end of the JSON value`);
  } catch (error) {
    if (error instanceof JsonSyntaxProblem) return { offset: error.offset, problem: error.problem };
    throw error;
  }
  return { offset: 0, problem: 'invalid JSON' };
}

/** JSON.parse with a UserError naming the line of a syntax error. */
export function parseJsonOrThrow(content: string, file: string): unknown {
  try {
    return JSON.parse(content);
  } catch {
    const { problem, offset } = jsonSyntaxError(content);
    throw new UserError(problem, file, lineAt(content, offset));
  }
}
