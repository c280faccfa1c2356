/**
 * The same results after repair: an embedding does not depend on the batch it was computed in (bit for bit), so a
 * corrupted cache entry, recomputed alone, gives a byte-identical results.json; vectors are cached as batches
 * complete, so a run killed with SIGKILL mid-embedding resumes with fewer misses. Real models, real CLI processes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { UserError } from '../src/engine/errors';
import { packageRoot } from '../src/engine/io/paths';
import { createTransformersEmbedder, type TransformersEmbedder } from '../src/models/transformersEmbedder';
import { createUseLiteEmbedder } from '../src/models/useLite';
import type { Embedder } from '../src/models/embedder';
import { assertNoStack, cli, tempDir } from './helpers/cli';

const root = packageRoot();
const GLOVE = path.resolve(root, '../shared/models/glove-6B-100d-sif-50k');
const QUERIES = path.join(root, 'examples', 'queries-en.txt');
const WORDS = 'the a cat dog market stock weather paris rain sun moon fast slow blue green query answer passage retrieve similar'.split(' ');

const sentence = fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 30 }).map((words) => words.join(' '));

describe('an embedding does not depend on its batch (bit-identical)', () => {
  const work = tempDir();
  const models: Embedder[] = [];
  after(async () => {
    await Promise.all(models.map((model) => model.dispose()));
  });

  /** The GloVe graph as an INSTRUCTOR model (mean over the text tokens only, then a Dense layer), as in models.transformers.test. */
  async function instructor(): Promise<TransformersEmbedder> {
    const folder = path.join(work, 'instructor-glove');
    fs.mkdirSync(path.join(folder, 'onnx'), { recursive: true });
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) fs.symlinkSync(path.join(GLOVE, file), path.join(folder, file));
    fs.cpSync(path.join(root, 'test/fixtures/instructor-glove-dense/2_Dense'), path.join(folder, '2_Dense'), { recursive: true });
    return createTransformersEmbedder({ model: folder, offline: true, batchSize: 16, overrides: { family: 'instructor' } });
  }

  for (const name of ['use-lite', 'glove', 'instructor'] as const) {
    test(`${name}: a text embedded alone equals the same text inside any batch, at any position`, async () => {
      const model: Embedder | TransformersEmbedder =
        name === 'use-lite'
          ? createUseLiteEmbedder({ cacheDir: path.join(work, 'models'), batchSize: 16 })
          : name === 'glove'
            ? await createTransformersEmbedder({ model: GLOVE, offline: true, batchSize: 16 })
            : await instructor();
      models.push(model);
      // INSTRUCTOR texts carry an instruction, masked out of the pooling: half of them get one (ending with a colon,
      // as INSTRUCTOR's do, so that the query keeps tokens of its own).
      const rendered = fc.tuple(sentence, fc.option(sentence)).map(([query, instruction]) => model.render(instruction === null ? null : `${instruction}:`, query));
      const text = name === 'instructor' ? rendered : sentence;
      let batches = 0;
      await fc.assert(
        fc.asyncProperty(text, fc.array(text, { maxLength: 40 }), fc.nat(), async (target, others, at) => {
          const position = at % (others.length + 1);
          const batch = [...others.slice(0, position), target, ...others.slice(position)];
          const [alone] = await model.embed([target]);
          const inBatch = (await model.embed(batch))[position];
          batches++;
          assert.deepEqual(Buffer.from(inBatch.buffer), Buffer.from(alone.buffer), `"${target}" at ${position} of ${batch.length}`);
        }),
        { numRuns: 40, seed: 20261201 },
      );
      assert.equal(batches, 40);
    });
  }
});

test('INSTRUCTOR: a query with no token of its own after the instruction is a UserError, not a crash', async () => {
  const folder = path.join(tempDir(), 'instructor-glove');
  fs.mkdirSync(path.join(folder, 'onnx'), { recursive: true });
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) fs.symlinkSync(path.join(GLOVE, file), path.join(folder, file));
  fs.cpSync(path.join(root, 'test/fixtures/instructor-glove-dense/2_Dense'), path.join(folder, '2_Dense'), { recursive: true });
  const model = await createTransformersEmbedder({ model: folder, offline: true, overrides: { family: 'instructor' } });
  try {
    // GloVe's tokenizer reads "the" + "the" as one unknown word: the instruction takes the query's only token.
    await assert.rejects(model.embed(['cat', model.render('the', 'the')]), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /the query "the" has no token of its own after the instruction "the"/);
      return true;
    });
  } finally {
    await model.dispose();
  }
});

function cacheEntries(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((name) => name.endsWith('.vec')).map((name) => path.join(dir, name));
}

function stats(stderr: string): { hits: number; misses: number } {
  const match = /embedding cache: (\d+) hits, (\d+) misses/.exec(stderr);
  assert.ok(match, stderr);
  return { hits: Number(match[1]), misses: Number(match[2]) };
}

describe('repair and resume', () => {
  test('a corrupted cache entry is a warning and a miss, and the repaired run gives a byte-identical results.json (use-lite)', async () => {
    const work = tempDir();
    const cache = path.join(work, 'cache');
    const args = (out: string) => ['run', '--queries', QUERIES, '--instructions', 'paper-en', '--models', 'use-lite', '--out', out, '--cache', cache];
    const first = await cli(...args(path.join(work, 'first')));
    assert.equal(first.status, 0, first.stderr);
    // Vectors only (512 float32 values), not the unknown-token counts (two values) kept in the same cache.
    const entries = cacheEntries(path.join(cache, 'embeddings')).filter((file) => fs.statSync(file).size > 1024);
    assert.ok(entries.length > 50, `${entries.length} entries`);
    // The cache also keeps each query's unknown-token counts beside the vectors: the embedded texts are the first misses.
    const embedded = stats(first.stderr).misses;
    // One entry's bytes flipped, one replaced by a folder: both must be recomputed, neither may fail the run.
    const flipped = entries[7];
    const bytes = fs.readFileSync(flipped);
    bytes[20] ^= 0xff;
    fs.writeFileSync(flipped, bytes);
    fs.rmSync(entries[11]);
    fs.mkdirSync(entries[11]);

    const second = await cli(...args(path.join(work, 'second')));
    assert.equal(second.status, 0, second.stderr);
    assertNoStack(second.stderr);
    assert.match(second.stderr, /warning: embedding cache: .*\.vec is corrupt; treated as a miss/);
    assert.match(second.stderr, /warning: embedding cache: cannot read .*\.vec \(EISDIR\); treated as a miss/);
    assert.deepEqual(stats(second.stderr), { hits: embedded - 2, misses: 2 });
    const results = (dir: string) => fs.readFileSync(path.join(work, dir, 'results.json'));
    assert.ok(results('first').equals(results('second')), 'results.json changed after the repair');
    // The flipped entry was rewritten with the recomputed vector: a third run hits everything but the folder.
    const third = await cli(...args(path.join(work, 'third')));
    assert.deepEqual(stats(third.stderr), { hits: embedded - 1, misses: 1 });
    assert.ok(results('first').equals(results('third')));
  });

  test('kill -9 during the embedding: the rerun finds the batches done before the kill (GloVe, 3000 queries)', async () => {
    const work = tempDir();
    const queries = path.join(work, 'queries.txt');
    const lines: string[] = [];
    for (let i = 0; lines.length < 3000; i++) lines.push(`${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} number ${i}`);
    fs.writeFileSync(queries, lines.join('\n') + '\n');
    const cache = path.join(work, 'cache');
    const args = ['run', '--queries', queries, '--instructions', 'paper-en', '--models', GLOVE, '--offline', '--batch-size', '64', '--cache', cache];
    const total = 3000 * 6;
    const child = spawn(process.execPath, [path.join(root, 'bin', 'instruction-lens.js'), ...args, '--out', path.join(work, 'killed')], { cwd: root });
    const entries = path.join(cache, 'embeddings');
    // Killed once some batches are cached, long before all of them are.
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        const count = cacheEntries(entries).length;
        if (count >= 200) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 20);
      child.once('exit', () => {
        clearInterval(poll);
        reject(new Error('the run ended before it could be killed'));
      });
    });
    await new Promise((resolve) => child.once('close', resolve));
    const kept = cacheEntries(entries).length;
    assert.ok(kept >= 200 && kept < total, `${kept} entries after the kill`);
    // Every entry left by the kill is whole (temporary files aside): the rerun reads them as hits.
    const rerun = await cli(...args, '--out', path.join(work, 'rerun'));
    assert.equal(rerun.status, 0, rerun.stderr);
    const { hits, misses } = stats(rerun.stderr);
    assert.equal(hits + misses, total);
    assert.ok(hits >= kept, `${hits} hits, ${kept} entries were cached before the kill`);
    assert.doesNotMatch(rerun.stderr, /corrupt/);
  });
});
