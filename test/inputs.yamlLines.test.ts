/**
 * The 1-based line of a YAML syntax error in an instruction set is a line the user sees in the editor: never after
 * the last line that is not blank (the parser places errors about something left open at the end of the text), and
 * for a quoted string, [ ] list or { } mapping left open, the line where it starts. Known cases through the real
 * CLI and readInstructionFile; property-based (fast-check) over generated documents cut at random places.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { UserError } from '../src/engine/errors';
import { parseInstructionDocument, readInstructionFile, type TextPosition } from '../src/inputs/instructions';
import { assertNoStack, cli, tempDir } from './helpers/cli';

/** The 1-based line of the last character that is not YAML whitespace (1 for a blank text). */
function lastContentLine(text: string): number {
  const end = text.replace(/[ \t\r\n]+$/, '').length;
  return text.slice(0, Math.max(0, end - 1)).split('\n').length;
}

function offsetOf(text: string, position: TextPosition): number {
  const lines = text.split('\n');
  return lines.slice(0, position.line).reduce((sum, line) => sum + line.length + 1, 0) + position.character;
}

const KNOWN: [name: string, text: string, line: number, problem: RegExp][] = [
  ['a double quote left open at the end', 'tasks:\n  - name: A\n    instruction: "find the\n', 3, /^invalid YAML: the "quoted" string starting on this line is never closed \(missing closing "\)$/],
  ['a quoted string over lines, then blank lines', 'tasks:\n  - name: A\n    instruction: "find\n      the passage\n\n\n', 3, /never closed \(missing closing "\)$/],
  ['a single quote left open, CRLF line ends', "tasks:\r\n  - name: A\r\n    instruction: 'x\r\n", 3, /^invalid YAML: the 'quoted' string starting on this line is never closed/],
  ['an escaped quote does not close the string', 'tasks:\n  - name: "A\\"\n    instruction: x\n', 2, /missing closing "\)$/],
  ['a [ list left open', 'tasks: [\n  {name: A, instruction: x}\n', 1, /^invalid YAML: the \[ \] list starting on this line is never closed \(missing \]\)$/],
  ['a { mapping left open inside a list', 'tasks:\n  - {name: A,\n     instruction: x\n\n', 2, /^invalid YAML: the \{ \} mapping starting on this line is never closed \(missing \}\)$/],
  ['nested: the innermost first', 'tasks: [{name: A, instruction: [x\n', 1, /^invalid YAML: the \[ \] list starting on this line is never closed \(missing \]\) \(and 2 more problems\)$/],
  ['a closed list inside an open one', 'tasks: [\n  [a], [b]\n', 1, /the \[ \] list starting on this line is never closed \(missing \]\)$/],
  ['an open list after a closed one, no final line break', 'evaluation: {pairs: p.tsv}\ntasks: [', 2, /the \[ \] list starting on this line/],
  ['other errors keep their line', 'tasks:\n  - name: A\n    instruction: x: y\n  - name: B\n    instruction: z\n', 3, /^invalid YAML: Nested mappings are not allowed in compact mappings$/],
];

describe('YAML syntax errors: the line a user sees', () => {
  const dir = tempDir();
  for (const [name, text, line, problem] of KNOWN) {
    test(name, async () => {
      const file = path.join(dir, `${name.replace(/\W+/g, '-')}.instructions.yaml`);
      fs.writeFileSync(file, text);
      await assert.rejects(readInstructionFile(file), (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.ok(error.message.startsWith(`${file}:${line}: `), error.message);
        assert.match(error.message.slice(`${file}:${line}: `.length), problem);
        return true;
      });
    });
  }

  test('through the real CLI: file, line and problem; exit 2', async () => {
    const file = path.join(dir, 'cli.instructions.yaml');
    fs.writeFileSync(file, 'tasks:\n  - name: A\n    instruction: "find the\n');
    const run = await cli('embed', '-q', 'examples/queries-en.txt', '-i', file, '-o', path.join(dir, 'never'));
    assert.equal(run.status, 2);
    assert.equal(run.stderr, `instruction-lens: ${file}:3: invalid YAML: the "quoted" string starting on this line is never closed (missing closing ")\n`);
    assertNoStack(run.stderr);
  });

  const word = fc.stringMatching(/^[a-z]{1,6}( [a-z]{1,6}){0,2}$/);
  /** A value in one of YAML's styles: plain, double- or single-quoted, a literal block, a flow list. */
  const value = fc.tuple(word, fc.constantFrom('plain', 'double', 'single', 'block', 'flow')).map(([text, style]) => {
    if (style === 'double') return `"${text}\\" ok"`;
    if (style === 'single') return `'${text}'' ok'`;
    if (style === 'block') return `|\n      ${text}\n      more`;
    if (style === 'flow') return `[${text.split(' ').join(', ')}]`;
    return text;
  });
  const task = fc.record({ name: value, instruction: value });
  /** A value inside a flow mapping: a literal block becomes its plain text. */
  const inFlow = (text: string): string => text.replace(/^\|\n\s*/, '').replace(/\n\s*/g, ' ');
  const document = fc
    .tuple(fc.array(task, { minLength: 1, maxLength: 4 }), fc.constantFrom('block', 'flow'), fc.constantFrom('\n', '\r\n'), fc.nat({ max: 2 }), fc.boolean())
    .map(([tasks, style, eol, blankLines, evaluation]) => {
      const head = evaluation ? 'evaluation: {pairs: "pairs.tsv"}\n' : '';
      const body =
        style === 'block'
          ? `tasks:\n${tasks.map((t) => `  - name: ${t.name}\n    instruction: ${t.instruction}\n`).join('')}`
          : `tasks: [\n${tasks.map((t) => `  {name: ${inFlow(t.name)}, instruction: ${inFlow(t.instruction)}}`).join(',\n')}\n]\n`;
      return (head + body + '\n'.repeat(blankLines)).replace(/\n/g, eol);
    });

  test('property: documents cut anywhere: every problem is on a line from 1 to the last line that is not blank', () => {
    fc.assert(
      fc.property(document, fc.double({ min: 0, max: 1, noNaN: true }), (text, where) => {
        const cut = text.slice(0, Math.floor(where * text.length));
        const last = lastContentLine(cut);
        for (const problem of parseInstructionDocument(cut, 'yaml').problems) {
          assert.ok(problem.line >= 1 && problem.line <= last, `line ${problem.line} of ${last}: ${problem.message}\n${JSON.stringify(cut)}`);
          assert.equal(problem.line, problem.range.start.line + 1);
          const opening = /^invalid YAML: the (".*"|'.*'|\[ \]|\{ \}) /.exec(problem.message);
          if (opening) {
            // An error about something left open points at its opening character.
            const char = cut[offsetOf(cut, problem.range.start)];
            assert.equal(char, opening[1][0], `${problem.message} at ${JSON.stringify(problem.range.start)} in ${JSON.stringify(cut)}`);
          }
        }
      }),
      { numRuns: 1000, seed: 20261201 },
    );
  });

  test('property: whole documents have no syntax problem (the generator writes valid YAML)', () => {
    fc.assert(
      fc.property(document, (text) => {
        const syntax = parseInstructionDocument(text, 'yaml').problems.filter((problem) => problem.message.startsWith('invalid YAML'));
        assert.deepEqual(syntax, [], text);
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});
