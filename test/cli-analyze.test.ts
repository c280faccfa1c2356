/**
 * `instruction-lens analyze` through the real CLI (node bin/instruction-lens.js, built dist/cli.js): outputs, refusal
 * to overwrite, determinism, usage errors, and every bad bundle from test/fixtures/bundles (exit 2, a message naming
 * file, line or array and the problem, no stack trace).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseCsv } from 'csv-parse/sync';
import { displacementCsv, procrustesCsv } from '../src/engine/io/outputs';
import { packageRoot } from '../src/engine/io/paths';
import type { AnalysisResult } from '../src/engine/types';
import { assertNoStack, cli, type CliRun, cliWith, tempDir } from './helpers/cli';

const root = packageRoot();
const bundles = path.join(root, 'test', 'fixtures', 'bundles');
const goodBundle = path.join(bundles, 'good-ordered');
const OUTPUTS = ['displacement.csv', 'procrustes.csv', 'report.html', 'results.json'];


function snapshot(dir: string): Record<string, { bytes: string; mtimeMs: number }> {
  const out: Record<string, { bytes: string; mtimeMs: number }> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    out[name] = { bytes: fs.readFileSync(file).toString('base64'), mtimeMs: fs.statSync(file).mtimeMs };
  }
  return out;
}

describe('analyze: outputs', () => {
  const out = path.join(tempDir(), 'results');
  let first: CliRun;

  test('writes results.json, displacement.csv, procrustes.csv and report.html', async () => {
    first = await cli('analyze', goodBundle, '--out', out, '--k', '3');
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), OUTPUTS);
    for (const name of OUTPUTS) assert.match(first.stdout, new RegExp(`wrote ${escapeRegExp(path.join(out, name))}`));
  });

  test('results.json has the required keys and the bundle’s models, tasks and instructions', async () => {
    const result = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as AnalysisResult;
    for (const key of [
      'models', 'tasks', 'k', 'reference', 'procrustesDistance', 'cosineDistance', 'points', 'displacement',
      'explainedVarianceRatio', 'robustness', 'topMovers',
    ]) {
      assert.ok(key in result, `results.json lacks ${key}`);
    }
    assert.deepEqual(result.models, ['m-B', 'm-a']);
    assert.deepEqual(result.tasks, ['Base', 'STS', 'Retrieval', 'Clustering']);
    assert.equal(result.k, 3);
    assert.equal(result.points.length, 2 * 4);
    assert.equal(result.displacement.length, 2 * 3);
    assert.equal(result.instructions?.Retrieval, 'Given a query, retrieve passages that can answer the query.');
    assert.equal(result.queries?.[3], 'a "quoted" query');
  });

  test('the CSV files hold the numbers of results.json (read back with csv-parse)', async () => {
    const result = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as AnalysisResult;
    const displacement = parseCsv(fs.readFileSync(path.join(out, 'displacement.csv'), 'utf8'), { columns: true, comment: '#' }) as Record<string, string>[];
    assert.equal(displacement.length, result.displacement.length);
    displacement.forEach((row, i) => {
      const want = result.displacement[i];
      assert.equal(row.model, want.model);
      assert.equal(row.task, want.task);
      assert.equal(Number(row.meanCosineDistance), want.meanCosineDistance);
      assert.equal(Number(row.neighbourOverlap), want.neighbourOverlap);
    });
    const procrustes = parseCsv(fs.readFileSync(path.join(out, 'procrustes.csv'), 'utf8'), { comment: '#' }) as string[][];
    assert.deepEqual(procrustes[0], ['model', ...result.models]);
    assert.deepEqual(
      procrustes.slice(1).map((row) => row.slice(1).map(Number)),
      result.procrustesDistance,
    );
    assert.deepEqual(procrustes.slice(1).map((row) => row[0]), result.models);
  });

  test('a second run without --force refuses and leaves every file untouched', async () => {
    fs.writeFileSync(path.join(out, 'my-notes.txt'), 'keep me');
    const before = snapshot(out);
    const again = await cli('analyze', goodBundle, '--out', out, '--k', '3');
    assert.equal(again.status, 2);
    assert.equal(
      again.stderr,
      `instruction-lens: ${out}: output folder already contains results.json, displacement.csv, procrustes.csv, report.html; not overwriting (use --force to replace these files; --force never replaces the run's input files)\n`,
    );
    assertNoStack(again.stderr);
    assert.deepEqual(snapshot(out), before);
  });

  test('--force replaces our files and leaves other files alone; same input gives byte-identical results', async () => {
    const before = snapshot(out);
    const forced = await cli('analyze', goodBundle, '--out', out, '--k', '3', '--force');
    assert.equal(forced.status, 0, forced.stderr);
    const after = snapshot(out);
    assert.deepEqual(after['my-notes.txt'], before['my-notes.txt']);
    assert.equal(after['results.json'].bytes, before['results.json'].bytes, 'results.json is byte-identical');
    assert.equal(after['report.html'].bytes, before['report.html'].bytes, 'report.html is byte-identical');
    assert.equal(after['displacement.csv'].bytes, before['displacement.csv'].bytes);
    assert.notEqual(after['results.json'].mtimeMs, before['results.json'].mtimeMs, 'results.json was rewritten');
    assert.deepEqual(fs.readdirSync(out).sort(), [...OUTPUTS, 'my-notes.txt'].sort(), 'no temporary files left');
  });

  test('a refused run still refuses when only one of our files is present', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'report.html'), 'not ours');
    const run = await cli('analyze', goodBundle, '--out', dir);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /already contains report\.html; not overwriting/);
    assert.equal(fs.readFileSync(path.join(dir, 'report.html'), 'utf8'), 'not ours');
    assert.deepEqual(fs.readdirSync(dir), ['report.html']);
  });

  test('JSON Lines and folder forms of the same data give the same analysis', async () => {
    const a = path.join(tempDir(), 'a');
    const b = path.join(tempDir(), 'b');
    assert.equal((await cli('analyze', path.join(bundles, 'good'), '--out', a, '--k', '4')).status, 0);
    const jsonl = await cli('analyze', path.join(bundles, 'good.jsonl'), '--out', b, '--k', '4');
    assert.equal(jsonl.status, 0, jsonl.stderr);
    const read = (file: string): AnalysisResult => JSON.parse(fs.readFileSync(file, 'utf8')) as AnalysisResult;
    const strip = (result: AnalysisResult) => {
      delete result.queries;
      delete result.provenance; // names the bundle's path and files
      for (const mover of result.topMovers) delete mover.query;
      return result;
    };
    const [fromJsonl, fromFolder] = [read(path.join(b, 'results.json')), read(path.join(a, 'results.json'))];
    // The same values give each model the same identity.
    assert.deepEqual(fromJsonl.provenance!.models.map((model) => model.identity), fromFolder.provenance!.models.map((model) => model.identity));
    assert.deepStrictEqual(strip(fromJsonl), strip(fromFolder));
  });

  test('options reach the analysis: --points, --mds, --seed, --reference', async () => {
    const dir = path.join(tempDir(), 'o');
    const run = await cli('analyze', goodBundle, '--out', dir, '--points', 'centroid', '--mds', 'smacof', '--seed', '3', '--reference', 'm-a');
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as AnalysisResult;
    assert.equal(result.pointsMode, 'centroid');
    assert.equal(result.mdsMethod, 'smacof');
    assert.equal(result.reference, 'm-a');
    assert.equal(result.referenceChosenBy, 'user');
  });
});

describe('analyze: arguments', { concurrency: 4 }, () => {
  const usageCases: [string, string[], RegExp][] = [
    ['unknown option', ['analyze', goodBundle, '--out', 'x', '--bogus'], /^instruction-lens analyze: unknown option "--bogus"\n/],
    ['missing --out', ['analyze', goodBundle], /^instruction-lens analyze: missing --out <dir>\n/],
    ['missing bundle', ['analyze', '--out', 'x'], /^instruction-lens analyze: missing the bundle/],
    ['two bundles', ['analyze', 'a', 'b', '--out', 'x'], /^instruction-lens analyze: expected one bundle, got 2: a b\n/],
    ['bad --k', ['analyze', goodBundle, '--out', 'x', '--k', '0'], /^instruction-lens analyze: --k must be a whole number of at least 1 \(got "0"\)\n/],
    ['non-numeric --k', ['analyze', goodBundle, '--out', 'x', '--k', '2.5'], /^instruction-lens analyze: --k must be a whole number of at least 1 \(got "2\.5"\)\n/],
    ['bad --points', ['analyze', goodBundle, '--out', 'x', '--points', 'mean'], /^instruction-lens analyze: --points must be one of flatten, centroid \(got "mean"\)\n/],
    ['bad --mds', ['analyze', goodBundle, '--out', 'x', '--mds', 'tsne'], /^instruction-lens analyze: --mds must be one of classical, smacof \(got "tsne"\)\n/],
    ['bad --seed', ['analyze', goodBundle, '--out', 'x', '--seed=-1'], /^instruction-lens analyze: --seed must be a whole number from 0 to 4294967295/],
    ['--out without value', ['analyze', goodBundle, '--out'], /^instruction-lens analyze: --out needs a value\n/],
  ];
  for (const [name, args, message] of usageCases) {
    test(`${name}: one line, the --help hint, exit 2`, async () => {
      const run = await cli(...args);
      assert.equal(run.status, 2);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.split('\n')[1], 'Run `instruction-lens analyze --help` for the options.');
      assert.doesNotMatch(run.stderr, /Usage:/);
      assertNoStack(run.stderr);
      assert.ok(!fs.existsSync(path.join(root, 'x')), 'nothing written');
    });
  }

  test('unknown subcommand: message with the closest command, the --help hint, exit 2', async () => {
    const run = await cli('analyse', goodBundle);
    assert.equal(run.status, 2);
    assert.equal(run.stderr, 'instruction-lens: unknown command "analyse" (did you mean analyze?)\nRun `instruction-lens --help` for the commands.\n');
  });

  test('no arguments: usage on stderr, exit 2', async () => {
    const run = await cli();
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^Usage: instruction-lens <command>/);
  });

  test('--help, help, help analyze, analyze --help, --version', async () => {
    for (const args of [['--help'], ['help']]) {
      const run = await cli(...args);
      assert.equal(run.status, 0);
      assert.match(run.stdout, /^Usage: instruction-lens <command>/);
    }
    for (const args of [['help', 'analyze'], ['analyze', '--help'], ['analyze', goodBundle, '-h']]) {
      const run = await cli(...args);
      assert.equal(run.status, 0);
      assert.match(run.stdout, /^Usage: instruction-lens analyze <bundle> --out <dir> \[options\]/);
      assert.match(run.stdout, /--reference <MODEL>/);
    }
    const version = await cli('--version');
    assert.equal(version.status, 0);
    assert.equal(version.stdout, `${JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version}\n`);
  });

  test('--reference naming a model not in the bundle is a UserError naming the bundle', async () => {
    const run = await cli('analyze', goodBundle, '--out', path.join(tempDir(), 'r'), '--reference', 'nope');
    assert.equal(run.status, 2);
    assert.equal(run.stderr.split('\n').pop(), '');
    assert.match(run.stderr, new RegExp(`instruction-lens: ${escapeRegExp(goodBundle)}: --reference: model 'nope' is not in the bundle \\(models: m-B, m-a\\)\\n$`));
  });

  test('--out naming a file is refused', async () => {
    const file = path.join(tempDir(), 'file.txt');
    fs.writeFileSync(file, 'x');
    const run = await cli('analyze', goodBundle, '--out', file);
    assert.equal(run.status, 2);
    assert.equal(run.stderr, `instruction-lens: ${file}: output path exists and is not a folder\n`);
    assert.equal(fs.readFileSync(file, 'utf8'), 'x');
  });
});

describe('analyze: unexpected errors', () => {
  // A real failure of the file system while writing, injected by patching fs.promises.rename before the CLI loads.
  const preload = path.join(tempDir(), 'failing-rename.js');
  fs.writeFileSync(
    preload,
    "require('node:fs').promises.rename = async () => { throw new Error('simulated rename failure'); };\n",
  );

  test('exit 1 with the message and no stack trace; temporary files are removed', async () => {
    const out = path.join(tempDir(), 'out');
    const run = await cliWith({}, ['--require', preload], 'analyze', goodBundle, '--out', out);
    assert.equal(run.status, 1);
    assert.equal(run.stderr.split('\n').slice(1).join('\n'), 'instruction-lens: unexpected error: simulated rename failure\nSet INSTRUCTION_LENS_DEBUG=1 for details.\n');
    assert.deepEqual(fs.readdirSync(out), [], 'no partial or temporary file left');
  });

  test('INSTRUCTION_LENS_DEBUG=1 adds the stack trace', async () => {
    const out = path.join(tempDir(), 'out');
    const run = await cliWith({ INSTRUCTION_LENS_DEBUG: '1' }, ['--require', preload], 'analyze', goodBundle, '--out', out);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /instruction-lens: unexpected error: Error: simulated rename failure\n\s+at /);
  });
});

describe('analyze: bad bundles (exit 2, file + line/array + problem, no stack trace)', { concurrency: 4 }, () => {
  const cases = JSON.parse(fs.readFileSync(path.join(bundles, 'bad-cases.json'), 'utf8')) as Record<
    string,
    { bundle: string; file: string; line: number | null }
  >;
  const problems: Record<string, RegExp> = {
    'folder/missing-base': /Base\.npy is missing/,
    'folder/tasks-differ': /model 'B' lacks task 'STS' \(STS\.npy exists for model 'A'/,
    'folder/n-differs': /array has 3 rows but .*A[/\\]Base\.npy has 4/,
    'folder/d-differs': /array has 5 columns but .*B[/\\]Base\.npy has 3 \(all tasks of one model need the same dimension\)/,
    'folder/too-few-queries': /array has 2 rows \(queries\); at least 3 are needed/,
    'folder/queries-count': /has 3 lines but the embeddings have 4 rows/,
    'folder/tasks-txt-unknown': /task 'Summarisation' has no \.npy file/,
    'folder/empty': /bundle folder has no model sub-folders/,
    'folder/npy-big_endian': /unsupported byte order: dtype '>f4' is big-endian/,
    'folder/npy-fortran': /Fortran \(column-major\) order/,
    'folder/npy-int32': /unsupported dtype '<i4'/,
    'folder/npy-float16': /unsupported dtype '<f2'/,
    'folder/npy-complex64': /unsupported dtype '<c8'/,
    'folder/npy-one_d': /array is 1-D/,
    'folder/npy-three_d': /array is 3-D/,
    'folder/npy-empty_rows': /array has empty rows/,
    'folder/npy-nan': /non-finite value \(NaN\) at row 2, column 1/,
    'folder/npy-inf': /non-finite value \(-Infinity\) at row 0, column 2/,
    'folder/npy-truncated': /truncated \.npy file: shape \(4, 3\) needs 48 data bytes, file has 43/,
    'folder/npy-bad_magic': /not a \.npy file \(bad magic bytes/,
    'jsonl/missing-base': /model 'B' has no 'Base' vectors/,
    'jsonl/tasks-differ': /model 'B' lacks task 'STS' \(model 'A' has it, first on line 5/,
    'jsonl/n-differs': /model 'B', task 'STS' has 5 vectors \(highest index 4 on line 17\) but model 'A', task 'Base' has 4/,
    'jsonl/gap': /model 'A', task 'STS' \(first on line 5\): index 1 is missing/,
    'jsonl/duplicate': /duplicate \(model 'A', task 'STS', index 0\): already on line 5/,
    'jsonl/ragged': /vector has 4 values but line 5 \(model 'A'\) has 3 \(ragged rows\)/,
    'jsonl/d-differs': /vector has 5 values but line 9 \(model 'B'\) has 3 \(all tasks of one model need the same dimension/,
    'jsonl/empty-vector': /"vector" is empty/,
    'jsonl/nan': /vector\[1\] is NaN, which is neither valid JSON nor a valid embedding/,
    'jsonl/overflow': /vector\[0\] is Infinity; expected a finite number/,
    'jsonl/invalid-json': /invalid JSON \(/,
    'jsonl/not-object': /expected a JSON object/,
    'jsonl/bad-index': /"index" must be a non-negative integer \(got 2\.5\)/,
    'jsonl/string-value': /vector\[0\] is "0\.5"; expected a finite number/,
    'jsonl/too-few-queries': /has 2 vectors \(queries\); at least 3 are needed/,
    'jsonl/no-records': /no embedding records/,
  };

  test('every generated bad case has an expected problem here', async () => {
    assert.deepEqual(Object.keys(cases).sort(), Object.keys(problems).sort());
  });

  for (const [name, problem] of Object.entries(problems)) {
    test(name, async () => {
      const c = cases[name];
      const out = path.join(tempDir(), 'out');
      const run = await cli('analyze', path.join(bundles, c.bundle), '--out', out);
      assert.equal(run.status, 2, run.stderr);
      const where = path.join(bundles, c.file) + (c.line === null ? '' : `:${c.line}`);
      assert.ok(
        run.stderr.startsWith(`instruction-lens: ${where}: `),
        `expected the message to start with the file${c.line === null ? '' : ' and line'}:\n${run.stderr}`,
      );
      assert.match(run.stderr, problem);
      assert.equal(run.stderr.trimEnd().split('\n').length, 1, 'one line, no usage or stack');
      assertNoStack(run.stderr);
      assert.ok(!fs.existsSync(out), 'no output folder created');
    });
  }

  test('a bundle path that does not exist', async () => {
    const missing = path.join(tempDir(), 'nothing-here');
    const run = await cli('analyze', missing, '--out', path.join(tempDir(), 'out'));
    assert.equal(run.status, 2);
    assert.equal(run.stderr, `instruction-lens: ${missing}: no such file or folder\n`);
  });
});

describe('CSV writing (RFC 4180)', () => {
  test('names with commas, quotes, line breaks and # survive a round trip through csv-parse (comments skipped)', async () => {
    const models = ['a,b', 'say "hi" #1'];
    const result = {
      models,
      procrustesDistance: [[0, 0.25], [0.5, 0]],
      displacement: [
        {
          model: 'a,b', task: 'multi\nline', meanCosineDistance: 0.1, medianCosineDistance: 0.2, p90CosineDistance: 0.3,
          trajectoryLength: 1e-7, shiftFraction: 0.5, neighbourOverlap: 1,
        },
      ],
      warningDetails: [],
    } as unknown as AnalysisResult;
    const text = displacementCsv(result);
    assert.ok(text.endsWith('\r\n'));
    const rows = parseCsv(text, { comment: '#' }) as string[][];
    assert.deepEqual(rows[1], ['a,b', 'multi\nline', '0.1', '0.2', '0.3', '1e-7', '0.5', '1']);
    assert.deepEqual(parseCsv(procrustesCsv(result), { comment: '#' }), [
      ['model', 'a,b', 'say "hi" #1'],
      ['a,b', '0', '0.25'],
      ['say "hi" #1', '0.5', '0'],
    ]);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('analyze --no-neighbours', () => {
  test('prints the stage times with the neighbour share; --no-neighbours leaves the neighbour numbers null', async () => {
    const dir = tempDir();
    const on = await cli('analyze', goodBundle, '--out', path.join(dir, 'on'), '--k', '3');
    assert.equal(on.status, 0, on.stderr);
    assert.match(on.stderr, /analysis stages \(worker seconds\): PCA [\d.]+ s, displacement [\d.]+ s \(neighbour overlap [\d.]+ s, \d+% of the analysis\)/);
    const off = await cli('analyze', goodBundle, '--out', path.join(dir, 'off'), '--k', '3', '--no-neighbours');
    assert.equal(off.status, 0, off.stderr);
    assert.match(off.stderr, /warning: neighbour overlap was not computed/);
    const read = (name: string): AnalysisResult => JSON.parse(fs.readFileSync(path.join(dir, name, 'results.json'), 'utf8'));
    const a = read('on');
    const b = read('off');
    assert.deepEqual(b.displacement, a.displacement.map((row) => ({ ...row, neighbourOverlap: null })));
    assert.ok(b.topMovers.every((row) => row.relativeMovement === null && row.neighbourOverlap === null));
    const csvRows = parseCsv(fs.readFileSync(path.join(dir, 'off', 'displacement.csv'), 'utf8'), { columns: true, comment: '#' }) as Record<string, string>[];
    assert.ok(csvRows.every((row) => row.neighbourOverlap === ''));
    assert.match(fs.readFileSync(path.join(dir, 'off', 'displacement.csv'), 'utf8'), /^# neighbour_overlap: false\r$/m);
  });
});

/** A JSON Lines bundle of `n` queries under Base and one task, one model per dimension; values distinct and non-zero. */
function jsonlBundle(dir: string, n: number, dims: number[]): string {
  const file = path.join(dir, 'bundle.jsonl');
  const lines: string[] = [];
  dims.forEach((d, m) => {
    for (const [t, task] of ['Base', 'Task'].entries()) {
      for (let i = 0; i < n; i++) {
        const vector = Array.from({ length: d }, (_, j) => Math.sin(1 + 7 * m + 3 * t + 11 * i + 13 * j * (i + 1)));
        lines.push(JSON.stringify({ model: `m${d}`, task, index: i, vector }));
      }
    }
  });
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

describe('analyze: --k above what METHOD.md step 2 allows is capped, and stderr says so once', { concurrency: 2 }, () => {
  const work = tempDir();
  const kNotes = (stderr: string): string[] => stderr.split('\n').filter((line) => line.startsWith('note: --k'));
  const cases: [name: string, bundle: () => string, k: string, note: string | undefined, used: number][] = [
    ['by the smallest model dimension', () => goodBundle, '500', 'note: --k 500 capped: k = 4 used, since k is at most the smallest model dimension, 4 (model m-a)', 4],
    ['by N*T - 1', () => jsonlBundle(fs.mkdtempSync(path.join(work, 'rows-')), 3, [8, 7]), '7', 'note: --k 7 capped: k = 5 used, since k is at most N*T - 1 = 3 queries x 2 tasks - 1 = 5', 5],
    [
      'by both at once',
      () => jsonlBundle(fs.mkdtempSync(path.join(work, 'both-')), 3, [5, 9]),
      '6',
      'note: --k 6 capped: k = 5 used, since k is at most N*T - 1 = 3 queries x 2 tasks - 1 = 5 and at most the smallest model dimension, 5 (model m5)',
      5,
    ],
    ['not capped', () => goodBundle, '3', undefined, 3],
  ];
  for (const [name, bundle, k, note, used] of cases) {
    test(`${name}: --k ${k}`, async () => {
      const out = fs.mkdtempSync(path.join(work, 'out-'));
      const run = await cli('analyze', bundle(), '--out', out, '--k', k, '--force');
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(kNotes(run.stderr), note === undefined ? [] : [note]);
      assert.equal((JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as AnalysisResult).k, used);
    });
  }

  test('no --k: the default is capped silently (it is documented as a minimum)', async () => {
    const run = await cli('analyze', goodBundle, '--out', fs.mkdtempSync(path.join(work, 'default-')));
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(kNotes(run.stderr), []);
  });
});
