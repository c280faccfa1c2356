/**
 * Task names with whitespace at their ends: trimmed (names become file names and lines of tasks.txt) with a warning
 * naming the file, the line and the name before and after; two names equal once trimmed are an error naming both
 * lines. JSON and YAML, property-based (fast-check), and through the real CLI.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { UserError } from '../src/engine/errors';
import { parseInstructionDocument, readInstructionFile } from '../src/inputs/instructions';
import { assertNoStack, cli, tempDir } from './helpers/cli';

describe('task names with whitespace at their ends', () => {
  const dir = tempDir();

  test('YAML: trimmed, with a warning naming file, line, and the name before and after', async () => {
    const file = path.join(dir, 'spaces.instructions.yaml');
    fs.writeFileSync(file, 'tasks:\n  - name: Retrieval\n    instruction: find\n  - name: "  STS\\t"\n    instruction: similar\n');
    const set = await readInstructionFile(file);
    assert.deepEqual(set.tasks.map((task) => task.name), ['Base', 'Retrieval', 'STS']);
    assert.deepEqual(set.warnings, [`${file}:4: task 2: the task name "  STS\\t" has whitespace at its start or end; it is used as "STS"`]);
  });

  test('JSON: the same, on the line of the name', async () => {
    const file = path.join(dir, 'spaces.instructions.json');
    fs.writeFileSync(file, JSON.stringify({ tasks: [{ name: 'Clustering\u3000', instruction: 'group' }] }, null, 2) + '\n');
    const set = await readInstructionFile(file);
    assert.deepEqual(set.tasks.map((task) => task.name), ['Base', 'Clustering']);
    assert.deepEqual(set.warnings, [`${file}:4: task 1: the task name "Clustering\u3000" has whitespace at its start or end; it is used as "Clustering"`]);
  });

  test('names without such whitespace: no warning; presets: none', async () => {
    const file = path.join(dir, 'clean.instructions.yaml');
    fs.writeFileSync(file, 'tasks:\n  - name: "Retrieval"\n    instruction: "  find  "\n');
    assert.deepEqual((await readInstructionFile(file)).warnings, []);
    assert.deepEqual((await readInstructionFile('paper-en')).warnings, []);
  });

  test('two names equal once trimmed: an error naming both lines and both names as written', async () => {
    const file = path.join(dir, 'twins.instructions.yaml');
    fs.writeFileSync(file, 'tasks:\n  - name: " STS"\n    instruction: a\n  - name: Retrieval\n    instruction: b\n  - name: "STS "\n    instruction: c\n');
    await assert.rejects(readInstructionFile(file), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(
        error.message,
        `${file}:6: task 3: duplicate task name "STS" (first on line 2); written " STS" there and "STS " here, equal once the whitespace at their ends is removed`,
      );
      return true;
    });
  });

  test('through the real CLI: the warning on stderr before the work', async () => {
    const file = path.join(dir, 'cli.instructions.yaml');
    fs.writeFileSync(file, 'tasks:\n  - name: " Retrieval "\n    instruction: find\n');
    // A bundle: model that is not there stops the run right after the inputs are read.
    const run = await cli('embed', '-q', 'examples/queries-en.txt', '-i', file, '-o', path.join(dir, 'never'), '-m', `bundle:${path.join(dir, 'missing')}`);
    assert.equal(run.status, 2);
    assert.match(run.stderr, new RegExp(`^warning: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: task 1: the task name " Retrieval " has whitespace at its start or end; it is used as "Retrieval"\n`));
    assertNoStack(run.stderr);
  });

  test('property: a warning exactly for each name changed by trimming; names equal once trimmed are an error naming both lines', () => {
    const edge = fc.constantFrom('', ' ', '\t', '  ', '\u3000', '\u00a0');
    const core = fc.constantFrom('Retrieval', 'STS', 'Sts2', '分類', '__proto__', 'a b');
    const name = fc.tuple(edge, core, edge).map(([before, text, after]) => before + text + after);
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 5 }), fc.constantFrom('json', 'yaml'), (names, format) => {
        const text =
          format === 'json'
            ? JSON.stringify({ tasks: names.map((written) => ({ name: written, instruction: 'x' })) }, null, 2)
            : `tasks:\n${names.map((written) => `  - name: ${JSON.stringify(written)}\n    instruction: x\n`).join('')}`;
        // The 1-based line of task i's name in the text written above.
        const nameLine = (i: number): number => (format === 'json' ? 4 + 4 * i : 2 + 2 * i);
        const parsed = parseInstructionDocument(text, format);
        const trimmed = names.map((written) => written.trim());
        const firstIndex = (i: number): number => trimmed.findIndex((other) => other.toLowerCase() === trimmed[i].toLowerCase());
        const duplicates = names.map((_, i) => i).filter((i) => firstIndex(i) !== i);
        assert.deepEqual(
          parsed.problems.map((problem) => problem.line),
          duplicates.map(nameLine),
        );
        duplicates.forEach((i, d) => assert.match(parsed.problems[d].message, new RegExp(`\\(line ${nameLine(firstIndex(i))}\\)|first on line ${nameLine(firstIndex(i))}`)));
        // Every task is located (for the editor), each under its trimmed name; the duplicates are the problems above.
        assert.deepEqual(parsed.tasks.map((task) => task.name), trimmed);
        const kept = names.map((_, i) => i).filter((i) => firstIndex(i) === i);
        assert.deepEqual(
          (parsed.warnings ?? []).map((warning) => [warning.line, warning.severity]),
          kept.filter((i) => names[i] !== trimmed[i]).map((i) => [nameLine(i), 'warning']),
        );
      }),
      { numRuns: 300, seed: 20261201 },
    );
  });
});
