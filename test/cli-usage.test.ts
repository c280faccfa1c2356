/**
 * Usage errors of every command (unknown option, missing or empty value, bad number or choice), through the real
 * CLI: one line `instruction-lens <command>: <problem>`, one line pointing at `--help`, exit 2, no usage text and no
 * stack trace. The argument parser itself, property-based (fast-check): what a command line says comes back. And the
 * refusals to replace earlier output, which hint at --force.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type OptionsConfig, parseCommandArgs, UsageError } from '../src/cli/args';
import { assertNoStack, cli, tempDir } from './helpers/cli';

/** The required options of embed and run, so that the option under test is what fails (before any file is read). */
const EMBED_REQUIRED = ['-q', 'q.txt', '-i', 'paper-en', '-o', 'out-never-written'];

const CASES: [command: string, args: string[], problem: string][] = [
  ['analyze', ['b', '--out', 'o', '--k', '0'], '--k must be a whole number of at least 1 (got "0")'],
  ['analyze', ['b', '--out', 'o', '--k', '-3'], '--k must be a whole number of at least 1 (got "-3")'],
  ['analyze', ['b', '--out', 'o', '--k=-3'], '--k must be a whole number of at least 1 (got "-3")'],
  ['analyze', ['b', '--out', 'o', '--k', 'ten'], '--k must be a whole number of at least 1 (got "ten")'],
  ['analyze', ['b', '--out', 'o', '--k', ''], '--k needs a value (got "")'],
  ['analyze', ['b', '--out', 'o', '--k'], '--k needs a value'],
  ['analyze', ['b', '--out', 'o', '--seed', '4294967296'], '--seed must be a whole number from 0 to 4294967295 (got "4294967296")'],
  ['analyze', ['b', '--out', 'o', '--points', 'Flatten'], '--points must be one of flatten, centroid (got "Flatten")'],
  ['analyze', ['b', '--out', 'o', '--mds', ' classical'], '--mds must be one of classical, smacof (got " classical")'],
  ['analyze', ['b', '--out', '--force'], '--out needs a value (got the option "--force" instead)'],
  ['analyze', ['b', '--out', 'o', '--neighbours'], 'unknown option "--neighbours" (did you mean --no-neighbours?)'],
  ['analyze', ['b', '--out', 'o', '--force=yes'], '--force is a switch and takes no value (got "--force=yes")'],
  ['analyze', ['b', '--out', 'o', '--k', '3', '--k', '0'], '--k must be a whole number of at least 1 (got "0")'],
  ['analyze', ['b', '-x'], 'unknown option "-x"'],
  ['embed', [...EMBED_REQUIRED, '--batch-size', '0'], '--batch-size must be a whole number from 1 to 4096 (got "0")'],
  ['embed', [...EMBED_REQUIRED, '--batch-size', '4097'], '--batch-size must be a whole number from 1 to 4096 (got "4097")'],
  ['embed', [...EMBED_REQUIRED, '--timeout', '0'], '--timeout must be a number of seconds above 0 and at most 3600 (got "0")'],
  ['embed', [...EMBED_REQUIRED, '--timeout', '-5'], '--timeout must be a number of seconds above 0 and at most 3600 (got "-5")'],
  ['embed', [...EMBED_REQUIRED, '--retries', '21'], '--retries must be a whole number from 0 to 20 (got "21")'],
  ['embed', [...EMBED_REQUIRED, '--models', 'use-lite,'], '--models has an empty entry (got "use-lite,")'],
  ['embed', [...EMBED_REQUIRED, '--dtyp', 'q8'], 'unknown option "--dtyp" (did you mean --dtype?)'],
  ['embed', [...EMBED_REQUIRED, '--k', '3'], 'unknown option "--k"'],
  ['embed', [...EMBED_REQUIRED, 'extra'], 'unexpected argument "extra" (this command takes options only)'],
  ['embed', ['-q'], '--queries needs a value'],
  ['run', [...EMBED_REQUIRED, '--k', '-1'], '--k must be a whole number of at least 1 (got "-1")'],
  ['run', [...EMBED_REQUIRED, '--seed', '1.5'], '--seed must be a whole number from 0 to 4294967295 (got "1.5")'],
  ['run', [...EMBED_REQUIRED, '--points', 'mean'], '--points must be one of flatten, centroid (got "mean")'],
  ['run', [...EMBED_REQUIRED, '--mds', 'tsne'], '--mds must be one of classical, smacof (got "tsne")'],
  ['run', [...EMBED_REQUIRED, '--retries', 'many'], '--retries must be a whole number from 0 to 20 (got "many")'],
  ['run', [...EMBED_REQUIRED, '--timeout', '3601'], '--timeout must be a number of seconds above 0 and at most 3600 (got "3601")'],
  ['run', ['-q', 'q.txt', '-i', 'paper-en'], 'missing --out <dir>'],
  // Options of some kinds of model only, given when no chosen model uses them.
  ['embed', [...EMBED_REQUIRED, '--dtype', 'q9', '-m', 'Xenova/bge-small-en-v1.5'], '--dtype must be one of fp32, fp16, q8, q4 (got "q9")'],
  ['embed', [...EMBED_REQUIRED, '--dtype', 'q8'], '--dtype q8 is for Hugging Face Hub and local ONNX models (transformers.js); use-lite does not use it: drop --dtype'],
  ['run', [...EMBED_REQUIRED, '--dtype', 'fp16', '-m', 'use-lite,bundle:b,openai:e5@http://127.0.0.1:9'], '--dtype fp16 is for Hugging Face Hub and local ONNX models (transformers.js); use-lite, bundle:b, openai:e5@http://127.0.0.1:9 do not use it: drop --dtype'],
  ['embed', [...EMBED_REQUIRED, '--timeout', '5'], '--timeout 5 is for openai: endpoints; use-lite does not use it: drop --timeout'],
  ['run', [...EMBED_REQUIRED, '--retries', '2', '-m', 'use-lite,bundle:b'], '--retries 2 is for openai: endpoints; use-lite, bundle:b do not use it: drop --retries'],
  ['embed', [...EMBED_REQUIRED, '--batch-size', '8', '-m', 'bundle:b'], '--batch-size 8 is for models that embed (not bundle: models); bundle:b does not use it: drop --batch-size'],
];

describe('usage errors: one line naming the problem, the --help hint, exit 2', { concurrency: 2 }, () => {
  for (const [command, args, problem] of CASES) {
    test(`${command} ${args.join(' ')}`, async () => {
      const run = await cli(command, ...args);
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stderr, `instruction-lens ${command}: ${problem}\nRun \`instruction-lens ${command} --help\` for the options.\n`);
      assert.equal(run.stdout, '');
      assertNoStack(run.stderr);
    });
  }

  test('an option some of the models ignore: a warning naming them, before any work', async () => {
    const run = await cli('embed', '-q', 'no-such-queries.txt', '-i', 'paper-en', '-o', 'out-never-written', '-m', 'use-lite,openai:e5@http://127.0.0.1:9', '--timeout', '5');
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /^warning: --timeout 5 is for openai: endpoints; use-lite ignores it \(going on\)\n/);
    assert.match(run.stderr, /no-such-queries\.txt: file not found/);
  });

  test('an unknown command names the closest one; help of an unknown command too', async () => {
    for (const args of [['emebd'], ['help', 'emebd']]) {
      const run = await cli(...args);
      assert.equal(run.status, 2);
      assert.equal(run.stderr, 'instruction-lens: unknown command "emebd" (did you mean embed?)\nRun `instruction-lens --help` for the commands.\n');
    }
    const option = await cli('--k', '3');
    assert.equal(option.status, 2);
    assert.equal(option.stderr, 'instruction-lens: unknown option "--k" here: a command comes first (instruction-lens <command> [options])\nRun `instruction-lens --help` for the commands.\n');
  });
});

describe('parseCommandArgs (property-based)', () => {
  const OPTIONS = {
    out: { type: 'string', short: 'o' },
    k: { type: 'string' },
    'batch-size': { type: 'string' },
    force: { type: 'boolean' },
    'no-neighbours': { type: 'boolean' },
  } as const satisfies OptionsConfig;
  const stringNames = ['out', 'k', 'batch-size'] as const;
  const booleanNames = ['force', 'no-neighbours'] as const;
  /** Values a user may write, including ones that start with a dash but are not options (-3, -0.5, -). */
  const value = fc.oneof(
    fc.string({ minLength: 1 }).filter((text) => text.trim() !== '' && !/^-(-|[A-Za-z])/.test(text)),
    fc.integer({ min: -1000, max: 1000 }).map(String),
    fc.constantFrom('-', '-0.5', '=', 'a=b', '__proto__', 'constructor'),
  );
  const positional = fc.string({ minLength: 1 }).filter((text) => !text.startsWith('-'));

  test('every option written in any accepted form, in any order with positionals, comes back as written', () => {
    fc.assert(
      fc.property(
        fc.record(
          { out: value, k: value, 'batch-size': value, force: fc.constant(true), 'no-neighbours': fc.constant(true) },
          { requiredKeys: [] },
        ),
        fc.array(positional, { maxLength: 3 }),
        fc.array(fc.constantFrom('separate', 'equals', 'short'), { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        (given, positionals, forms, dashDash) => {
          const pieces: string[][] = [];
          stringNames.forEach((name, i) => {
            const text = given[name];
            if (text === undefined) return;
            const form = forms[i];
            if (form === 'short' && name === 'out') pieces.push(['-o', text]);
            else if (form === 'equals') pieces.push([`--${name}=${text}`]);
            else pieces.push([`--${name}`, text]);
          });
          for (const name of booleanNames) if (given[name]) pieces.push([`--${name}`]);
          // Positionals interleaved with options; after `--` they may even look like options.
          const argv = pieces.flatMap((piece, i) => (i < positionals.length ? [...piece, positionals[i]] : piece));
          const rest = positionals.slice(pieces.length);
          const tail = dashDash ? ['--', ...rest, '--force'] : rest;
          const parsed = parseCommandArgs([...argv, ...tail], OPTIONS);
          assert.deepEqual(parsed.values, { ...given });
          assert.deepEqual(parsed.positionals, dashDash ? [...positionals, '--force'] : positionals);
        },
      ),
      { numRuns: 500, seed: 20261201 },
    );
  });

  test('any argument list either parses or is a UsageError (never another error)', () => {
    const token = fc.oneof(
      fc.constantFrom('--out', '-o', '--k', '--force', '--force=1', '--', '-', '--bogus', '-x', '--k=', '-o=', '--=', '---'),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 8 }), (argv) => {
        try {
          const { values } = parseCommandArgs(argv, OPTIONS);
          for (const [name, parsed] of Object.entries(values)) {
            assert.ok(Object.hasOwn(OPTIONS, name), name);
            if (typeof parsed === 'string') assert.notEqual(parsed.trim(), '');
          }
        } catch (error) {
          assert.ok(error instanceof UsageError, String(error));
          assert.doesNotMatch(error.message, /\n/);
        }
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});

describe('refusing to replace earlier output: the message hints at --force and what it never replaces', () => {
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

  test('embed into a folder that is not empty', async () => {
    const out = path.join(tempDir(), 'bundle');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine\n');
    const run = await cli('embed', '-q', 'examples/queries-en.txt', '-i', 'paper-en', '-o', out);
    assert.equal(run.status, 2);
    assert.equal(
      run.stderr,
      `instruction-lens: ${out}: folder exists and is not empty; not overwriting it (use --force to replace an earlier bundle here; --force never replaces the run's input files)\n`,
    );
    // With --force, a folder holding anything but a bundle is still refused, and nothing is touched.
    const forced = await cli('embed', '-q', 'examples/queries-en.txt', '-i', 'paper-en', '-o', out, '--force');
    assert.equal(forced.status, 2);
    assert.match(forced.stderr, new RegExp(`not replacing the bundle folder: ${escape(path.join(out, 'notes.txt'))} is not a bundle file`));
    assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'mine\n');
  });

  test('run over an earlier run\'s bundle', async () => {
    const out = tempDir();
    fs.mkdirSync(path.join(out, 'embeddings'));
    fs.writeFileSync(path.join(out, 'embeddings', 'tasks.txt'), 'Base\n');
    const run = await cli('run', '-q', 'examples/queries-en.txt', '-i', 'paper-en', '-o', out);
    assert.equal(run.status, 2);
    assert.equal(
      run.stderr,
      `instruction-lens: ${path.join(out, 'embeddings')}: an earlier run's bundle is here; not overwriting it (use --force to replace it; --force never replaces the run's input files)\n`,
    );
  });
});
