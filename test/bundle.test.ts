/**
 * Embedding bundles: the .npy reader against files written by numpy itself (test/fixtures/make_bundle_fixtures.py),
 * the writer against numpy's bytes, JSON Lines against the folder form, and writeBundle -> readBundle round trips.
 * Bad inputs through the real CLI are in cli-analyze.test.ts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compareCodePoints, readBundle, bundleAsStored, writeBundle } from '../src/engine/io/bundle';
import { UserError } from '../src/engine/errors';
import { encodeNpyFloat32, parseNpy } from '../src/engine/io/npy';
import { MAX_ARRAY_FILE_BYTES, readRegularFile } from '../src/engine/io/regularFile';
import { packageRoot } from '../src/engine/io/paths';
import type { EmbeddingBundle } from '../src/engine/types';

const fixtures = path.join(packageRoot(), 'test', 'fixtures');
const npyDir = path.join(fixtures, 'npy');
const bundles = path.join(fixtures, 'bundles');

interface ExpectedArray {
  shape: [number, number];
  dtype: '<f4' | '<f8';
  values: number[];
}
const expected = JSON.parse(fs.readFileSync(path.join(npyDir, 'expected.json'), 'utf8')) as Record<string, ExpectedArray>;

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'il-bundle-'));
}

function readNpy(name: string) {
  const file = path.join(npyDir, `${name}.npy`);
  return parseNpy(fs.readFileSync(file), file);
}

describe('npy reader (files written by numpy)', () => {
  for (const [name, want] of Object.entries(expected)) {
    test(`${name}: shape, dtype and every value exactly as numpy wrote them`, () => {
      const matrix = readNpy(name);
      assert.deepEqual([matrix.rows, matrix.cols], want.shape);
      assert.equal(matrix.dtype, want.dtype);
      // deepStrictEqual uses Object.is: -0 and 0 differ, so the sign of zero is checked too.
      assert.deepStrictEqual(Array.from(matrix.data), want.values);
    });
  }

  test('every numpy-written array read into shared memory gives the same values, viewed in place without a copy', async () => {
    for (const [name, want] of Object.entries(expected)) {
      const file = path.join(npyDir, `${name}.npy`);
      const bytes = await readRegularFile(file, MAX_ARRAY_FILE_BYTES, { shared: true });
      assert.ok(bytes.buffer instanceof SharedArrayBuffer, name);
      const matrix = parseNpy(bytes, file);
      assert.deepStrictEqual(Array.from(matrix.data), want.values, name);
      // The header is padded to a multiple of 16 bytes, so the values are aligned and viewed where they were read.
      assert.equal(matrix.data.buffer, bytes.buffer, name);
    }
    // At an offset that is not a multiple of the item size, the values are copied (still into shared memory).
    const raw = fs.readFileSync(path.join(npyDir, 'f8_v1.npy'));
    const shifted = Buffer.from(new SharedArrayBuffer(raw.length + 1)).subarray(1);
    raw.copy(shifted);
    const copied = parseNpy(shifted, 'shifted.npy');
    assert.notEqual(copied.data.buffer, shifted.buffer);
    assert.ok(copied.data.buffer instanceof SharedArrayBuffer);
    assert.deepStrictEqual(Array.from(copied.data), expected.f8_v1.values);
  });

  test('reads header versions 1.0, 2.0 and 3.0', () => {
    const versions = ['f4_v1', 'f4_v2', 'f8_v3'].map((name) => fs.readFileSync(path.join(npyDir, `${name}.npy`))[6]);
    assert.deepEqual(versions, [1, 2, 3]);
  });

  const bad: [string, RegExp][] = [
    ['big_endian', /unsupported byte order: dtype '>f4' is big-endian/],
    ['fortran', /Fortran \(column-major\) order/],
    ['int32', /unsupported dtype '<i4'/],
    ['float16', /unsupported dtype '<f2'/],
    ['complex64', /unsupported dtype '<c8'/],
    ['one_d', /array is 1-D with shape \(3\); expected 2-D/],
    ['three_d', /array is 3-D with shape \(2, 2, 3\); expected 2-D/],
    ['empty_rows', /empty rows \(shape \(4, 0\)\)/],
    ['nan', /non-finite value \(NaN\) at row 2, column 1/],
    ['inf', /non-finite value \(-Infinity\) at row 0, column 2/],
    ['truncated', /truncated \.npy file: shape \(4, 3\) needs 48 data bytes, file has 43/],
    ['bad_magic', /not a \.npy file \(bad magic bytes/],
  ];
  for (const [name, problem] of bad) {
    test(`rejects ${name}.npy with a message naming the file and the problem`, () => {
      const file = path.join(npyDir, `${name}.npy`);
      assert.throws(
        () => readNpy(name),
        (error: unknown) => error instanceof UserError && error.message.startsWith(`${file}: `) && problem.test(error.message),
      );
    });
  }

  test('rejects bytes after the data', () => {
    const bytes = Buffer.concat([fs.readFileSync(path.join(npyDir, 'f4_v1.npy')), Buffer.alloc(4)]);
    assert.throws(() => parseNpy(bytes, 'x.npy'), /^UserError: x\.npy: \.npy file has 4 unexpected bytes after the data/);
  });
});

describe('npy writer', () => {
  test('float32 output is byte-identical to numpy.save of the same array', () => {
    for (const name of ['f4_v1', 'f4_extremes']) {
      const matrix = readNpy(name);
      const ours = encodeNpyFloat32(matrix.rows, matrix.cols, matrix.data);
      assert.ok(ours.equals(fs.readFileSync(path.join(npyDir, `${name}.npy`))), name);
    }
  });
});

describe('readBundle', () => {
  test('folder form: models in code-point order, Base first then tasks in code-point order, queries', async () => {
    const bundle = await readBundle(path.join(bundles, 'good'));
    assert.deepEqual(bundle.models, ['m-B', 'm-a']);
    assert.deepEqual(bundle.tasks, ['Base', 'Clustering', 'Retrieval', 'STS']);
    assert.equal(bundle.n, 8);
    assert.deepEqual(bundle.dims, [6, 4]);
    assert.equal(bundle.queries?.length, 8);
    assert.equal(bundle.queries?.[3], 'a "quoted" query');
    assert.equal(bundle.instructions, undefined);
  });

  test('folder form: tasks.txt sets the task order and instructions.json the instruction texts', async () => {
    const bundle = await readBundle(path.join(bundles, 'good-ordered'));
    assert.deepEqual(bundle.tasks, ['Base', 'STS', 'Retrieval', 'Clustering']);
    assert.equal(bundle.instructions?.get('STS'), 'Given a query, find the passage most similar in meaning to the query.');
    const plain = await readBundle(path.join(bundles, 'good'));
    const sts = plain.tasks.indexOf('STS');
    assert.deepStrictEqual(bundle.embeddings[1][1], plain.embeddings[1][sts]);
  });

  test('JSON Lines and folder forms of the same data (float32 and float64 arrays) give the same bundle', async () => {
    const folder = await readBundle(path.join(bundles, 'good'));
    const jsonl = await readBundle(path.join(bundles, 'good.jsonl'));
    delete folder.queries;
    // The folder keeps each file's stored precision (float32 files as Float32Array): the same values.
    assert.deepStrictEqual(folder.embeddings.map((per) => per.map((e) => e.constructor.name)), [
      ['Float32Array', 'Float32Array', 'Float32Array', 'Float32Array'],
      ['Float64Array', 'Float64Array', 'Float64Array', 'Float64Array'],
    ]);
    const widened = { ...folder, embeddings: folder.embeddings.map((per) => per.map((e) => Float64Array.from(e))) };
    assert.deepStrictEqual({ ...jsonl, embeddings: jsonl.embeddings.map((per) => per.map((e) => Float64Array.from(e))) }, widened);
  });

  test('models.txt sets the model order; a name it lists without a folder is an error naming the line', async () => {
    const dir = tempDir();
    fs.cpSync(path.join(bundles, 'good'), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'models.txt'), 'm-a\nm-B\n');
    const bundle = await readBundle(dir);
    const plain = await readBundle(path.join(bundles, 'good'));
    assert.deepEqual(bundle.models, ['m-a', 'm-B']);
    assert.deepEqual(bundle.dims, [4, 6]);
    assert.deepStrictEqual(bundle.embeddings[0], plain.embeddings[1]);
    fs.writeFileSync(path.join(dir, 'models.txt'), 'm-a\nm-B\nm-c\n');
    await assert.rejects(readBundle(dir), {
      name: 'UserError',
      message: `${path.join(dir, 'models.txt')}:3: model 'm-c' has no folder (known models: m-B, m-a)`,
    });
  });

  test('queries.txt with CRLF line ends and no final line break', async () => {
    const dir = tempDir();
    fs.cpSync(path.join(bundles, 'good'), dir, { recursive: true });
    const queries = Array.from({ length: 8 }, (_, i) => `query ${i}`);
    fs.writeFileSync(path.join(dir, 'queries.txt'), queries.join('\r\n'));
    assert.deepEqual((await readBundle(dir)).queries, queries);
  });

  test('a model folder passed instead of the bundle folder gets a hint', async () => {
    const modelDir = path.join(bundles, 'good', 'm-B');
    await assert.rejects(readBundle(modelDir), {
      name: 'UserError',
      message: `${modelDir}: bundle folder has no model sub-folders (expected <bundle>/<model>/<task>.npy); it holds .npy files itself: is it one model's folder? Pass the folder above it`,
    });
  });

  test('a missing path and a file that is not a bundle are UserErrors', async () => {
    const missing = path.join(os.tmpdir(), 'il-no-such-bundle');
    await assert.rejects(readBundle(missing), { name: 'UserError', message: `${missing}: no such file or folder` });
    const npy = path.join(npyDir, 'f4_v1.npy');
    await assert.rejects(readBundle(npy), { name: 'UserError', message: new RegExp(`^${escapeRegExp(npy)}: not an embedding bundle`) });
  });
});

describe('writeBundle', () => {
  function syntheticBundle(): EmbeddingBundle {
    // Names that cannot be file names as they are; values that float32 cannot hold exactly.
    const models = ['Qwen/Qwen3-Embedding-0.6B', '.hidden: model?'];
    const tasks = ['Base', 'Q&A <short>', 'STS'];
    const n = 4;
    const dims = [3, 5];
    let seed = 1;
    const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const embeddings = dims.map((d) => tasks.map(() => Float64Array.from({ length: n * d }, next)));
    return {
      models,
      tasks,
      n,
      dims,
      embeddings,
      queries: ['one', 'two\nlines', 'three', 'four'],
      instructions: new Map([['Q&A <short>', 'Answer the question.'], ['STS', 'Find similar text.']]),
    };
  }

  test('round trip: readBundle gives bundleAsStored (float32 values, one-line queries) with names, order and instructions', async () => {
    const dir = path.join(tempDir(), 'out', 'bundle');
    const bundle = syntheticBundle();
    await writeBundle(dir, bundle);
    const back = await readBundle(dir);
    const stored = bundleAsStored(bundle);
    assert.deepEqual(stored.queries, ['one', 'two lines', 'three', 'four']);
    assert.deepStrictEqual(back, stored);
    assert.notDeepStrictEqual(back.embeddings, bundle.embeddings, 'values are stored as float32');
    assert.ok(fs.existsSync(path.join(dir, 'Qwen%2FQwen3-Embedding-0.6B', 'Q&A %3Cshort%3E.npy')));
    assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['bundle'], 'no temporary folder is left behind');
  });

  test('round trip of a bundle read from disk is exact', async () => {
    const original = await readBundle(path.join(bundles, 'good-ordered'));
    const dir = path.join(tempDir(), 'copy');
    await writeBundle(dir, bundleAsStored(original));
    const back = await readBundle(dir);
    // m-B is float32 on disk: identical; m-a is float64 on disk: identical to its float32 rounding.
    assert.deepStrictEqual(back, bundleAsStored(original));
    assert.deepStrictEqual(back.embeddings[0], original.embeddings[0]);
  });

  test('writes into an existing empty folder', async () => {
    const dir = tempDir();
    await writeBundle(dir, syntheticBundle());
    assert.equal((await readBundle(dir)).models.length, 2);
  });

  test('refuses a non-empty folder unless overwrite; overwrite replaces only a folder of bundle files', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    await assert.rejects(writeBundle(dir, syntheticBundle()), { name: 'UserError', message: `${dir}: folder exists and is not empty; not overwriting it (use --force to replace an earlier bundle here; --force never replaces the run's input files)` });
    await assert.rejects(writeBundle(dir, syntheticBundle(), { overwrite: true }), {
      name: 'UserError',
      message: `${dir}: not replacing the bundle folder: ${path.join(dir, 'notes.txt')} is not a bundle file`,
    });
    assert.deepEqual(fs.readdirSync(dir), ['notes.txt']);
    assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'mine');

    const bundleDir = path.join(tempDir(), 'b');
    await writeBundle(bundleDir, syntheticBundle());
    const replacement = await readBundle(path.join(bundles, 'good'));
    await writeBundle(bundleDir, replacement, { overwrite: true });
    const back = await readBundle(bundleDir);
    assert.deepEqual(back.models, ['m-B', 'm-a']);
    assert.deepEqual(fs.readdirSync(path.dirname(bundleDir)), ['b']);
  });

  test('diagnostics (query lines, failed models, unknown-token counts) round-trip through diagnostics.json', async () => {
    const bundle: EmbeddingBundle = {
      ...syntheticBundle(),
      queryLines: [3, 5, 6, 9],
      failedModels: [{ model: 'remote', error: 'HTTP 500' }],
      unknownTokens: [null, { unknown: [0, 2, 1, 0], tokens: [3, 4, 1, 2] }],
    };
    const dir = path.join(tempDir(), 'diag');
    await writeBundle(dir, bundle);
    const back = await readBundle(dir);
    assert.deepEqual([back.queryLines, back.failedModels, back.unknownTokens], [bundle.queryLines, bundle.failedModels, bundle.unknownTokens]);
    await writeBundle(dir, back, { overwrite: true }); // a folder holding diagnostics.json is a bundle folder
    const plain = path.join(tempDir(), 'plain');
    await writeBundle(plain, syntheticBundle());
    assert.ok(!fs.existsSync(path.join(plain, 'diagnostics.json')), 'written only when there is something to keep');
  });

  test('a bad diagnostics.json is a UserError naming the file and the field', async () => {
    const dir = path.join(tempDir(), 'bad-diag');
    await writeBundle(dir, syntheticBundle());
    const file = path.join(dir, 'diagnostics.json');
    const cases: [unknown, RegExp][] = [
      [[1, 2], /expected a JSON object/],
      [{ queryLines: [1, 2, 3] }, /queryLines must be 4 non-negative integers/],
      [{ queryLines: [0, 1, 2, 3] }, /queryLines must be 1-based/],
      [{ failedModels: [{ model: 'x' }] }, /failedModels\[0\] must be/],
      [{ failedModels: [{ model: '.hidden: model?', error: 'e' }] }, /is in the bundle/],
      [{ unknownTokens: [{ model: 'nobody', unknown: [0, 0, 0, 0], tokens: [1, 1, 1, 1] }] }, /model 'nobody' is not in the bundle/],
      [{ unknownTokens: [{ model: '.hidden: model?', unknown: [2, 0, 0, 0], tokens: [1, 1, 1, 1] }] }, /more unknown tokens than tokens/],
      [{ unknownTokens: [{ model: '.hidden: model?', unknown: [0, 0, 0, -1], tokens: [1, 1, 1, 1] }] }, /unknownTokens\[0\]\.unknown must be 4 non-negative/],
    ];
    for (const [content, message] of cases) {
      fs.writeFileSync(file, JSON.stringify(content));
      await assert.rejects(readBundle(dir), (error: unknown) => error instanceof UserError && error.message.startsWith(file) && message.test(error.message));
    }
    fs.writeFileSync(file, '{"queryLines": [1,');
    await assert.rejects(readBundle(dir), (error: unknown) => error instanceof UserError && /invalid JSON/.test(error.message));
  });

  test('property: any JSON in diagnostics.json is read or refused with a UserError, never a crash', async () => {
    const dir = path.join(tempDir(), 'prop-diag');
    await writeBundle(dir, syntheticBundle());
    const file = path.join(dir, 'diagnostics.json');
    const models = ['Qwen/Qwen3-Embedding-0.6B', '.hidden: model?', 'other'];
    const counts = fc.oneof(fc.array(fc.nat(5), { minLength: 4, maxLength: 4 }), fc.jsonValue());
    const value = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          queryLines: fc.oneof(fc.array(fc.integer({ min: -1, max: 9 }), { maxLength: 5 }), fc.jsonValue()),
          failedModels: fc.array(fc.record({ model: fc.constantFrom(...models), error: fc.string() }, { requiredKeys: [] }), { maxLength: 3 }),
          unknownTokens: fc.array(fc.record({ model: fc.constantFrom(...models), unknown: counts, tokens: counts }, { requiredKeys: [] }), { maxLength: 3 }),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(value, async (content) => {
        fs.writeFileSync(file, JSON.stringify(content));
        try {
          const bundle = await readBundle(dir);
          if (bundle.queryLines) assert.ok(bundle.queryLines.length === 4 && bundle.queryLines.every((line) => line >= 1));
          for (const entry of bundle.unknownTokens ?? []) if (entry) assert.ok(entry.unknown.every((u, i) => u <= entry.tokens[i]));
        } catch (error) {
          assert.ok(error instanceof UserError, String(error));
        }
      }),
      { numRuns: 150 },
    );
  });

  test('a value too large for float32 is a UserError naming model, task, the query (1-based) and the dimension', async () => {
    const bundle = syntheticBundle();
    bundle.embeddings[1][2][7] = 1e39;
    await assert.rejects(writeBundle(path.join(tempDir(), 'x'), bundle), {
      name: 'UserError',
      message: "model '.hidden: model?', task 'STS': value 1e+39 in the embedding of query 2 \"two\nlines\" (dimension 3) does not fit in float32",
    });
    const named = { ...syntheticBundle(), queries: ['q one', 'q two', 'q three', 'q four'], queryLines: [4, 7, 9, 12] };
    named.embeddings[1][2][7] = 1e39;
    await assert.rejects(writeBundle(path.join(tempDir(), 'y'), named), {
      message: "model '.hidden: model?', task 'STS': value 1e+39 in the embedding of query 7 \"q two\" (dimension 3) does not fit in float32",
    });
  });
});

test('compareCodePoints orders by code point, not UTF-16 code unit', () => {
  // U+FF5E is one code unit 0xFF5E; U+1F600 is the surrogate pair 0xD83D 0xDE00: code units would put it first.
  assert.deepEqual(['\u{1F600}', '\uFF5E', 'a', 'B'].sort(compareCodePoints), ['B', 'a', '\uFF5E', '\u{1F600}']);
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
