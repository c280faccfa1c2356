import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { CancelledError, UserError } from '../src/engine/errors';
import { packageRoot } from '../src/engine/io/paths';
import { EmbeddingCache } from '../src/models/cache';
import type { EmbedOptions, Embedder, TaskSpec } from '../src/models/embedder';
import { embedAll } from '../src/models/pipeline';
import { createEmbedder } from '../src/models/registry';
import { cosine } from './helpers/vectors';

const MODELS = path.resolve(packageRoot(), '../shared/models');
const QUERIES = ['a cat sits on the mat', 'stock market crash', 'the capital of france', 'how to bake bread at home'];
const TASKS: TaskSpec[] = [
  { name: 'Base', instruction: null },
  { name: 'Retrieval', instruction: 'Given a query, retrieve passages that can answer the query.' },
  { name: 'Classification', instruction: 'Classify the given query into the appropriate category.' },
];

/** Wraps a real embedder and records what it was asked to embed. */
class Recording implements Embedder {
  calls: string[][] = [];
  constructor(private readonly inner: Embedder) {}
  get name(): string {
    return this.inner.name;
  }
  identity(): Promise<string> {
    return this.inner.identity();
  }
  render(instruction: string | null, query: string): string {
    return this.inner.render(instruction, query);
  }
  renderDocument(text: string): string {
    return this.inner.renderDocument(text);
  }
  embed(texts: string[], options?: EmbedOptions): Promise<Float32Array[]> {
    this.calls.push(texts);
    return this.inner.embed(texts, options);
  }
  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

let scratch: string;
let glove: Recording;
let use: Recording;

before(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'il-pipeline-'));
  const options = { offline: true, cacheDir: path.join(scratch, 'hub') };
  glove = new Recording(await createEmbedder(path.join(MODELS, 'glove-6B-100d-sif-50k'), options));
  use = new Recording(await createEmbedder(path.join(MODELS, 'use-lite-onnx'), options));
});
after(async () => {
  await glove.dispose();
  await use.dispose();
  fs.rmSync(scratch, { recursive: true, force: true });
});

function row(matrix: Float64Array | Float32Array, dim: number, i: number): Float64Array | Float32Array {
  return matrix.subarray(i * dim, (i + 1) * dim);
}

test('bundle: rows are the embeddings of the rendered texts; one embed call per model; second run is all hits', async () => {
  const cache = new EmbeddingCache(path.join(scratch, 'cache-1'));
  glove.calls = [];
  use.calls = [];
  const first = await embedAll({ queries: QUERIES, tasks: TASKS, embedders: [glove, use], cache });
  const { bundle } = first;
  assert.deepEqual(bundle.models, ['glove-6B-100d-sif-50k', 'use-lite-onnx']);
  assert.deepEqual(bundle.tasks, ['Base', 'Retrieval', 'Classification']);
  assert.deepEqual(bundle.dims, [100, 512]);
  assert.equal(bundle.n, QUERIES.length);
  assert.deepEqual(bundle.queries, QUERIES);
  assert.deepEqual(bundle.instructions, new Map([['Retrieval', TASKS[1].instruction!], ['Classification', TASKS[2].instruction!]]));
  assert.deepEqual(first.stats, { hits: 0, misses: 2 * QUERIES.length * TASKS.length });
  assert.equal(glove.calls.length, 1);
  assert.equal(glove.calls[0].length, QUERIES.length * TASKS.length);
  for (const [m, embedder] of [glove, use].entries()) {
    for (const [t, task] of TASKS.entries()) {
      const expected = await embedder.embed(QUERIES.map((q) => embedder.render(task.instruction, q)));
      assert.equal(bundle.embeddings[m][t].length, QUERIES.length * bundle.dims[m]);
      expected.forEach((v, i) => assert.ok(cosine(row(bundle.embeddings[m][t], bundle.dims[m], i), v) > 0.99999));
    }
  }
  glove.calls = [];
  use.calls = [];
  const second = await embedAll({ queries: QUERIES, tasks: TASKS, embedders: [glove, use], cache: new EmbeddingCache(cache.dir) });
  assert.deepEqual(second.stats, { hits: 2 * QUERIES.length * TASKS.length, misses: 0 });
  assert.deepEqual([glove.calls.length, use.calls.length], [0, 0]);
  for (let m = 0; m < 2; m++) {
    for (let t = 0; t < TASKS.length; t++) assert.deepEqual(second.bundle.embeddings[m][t], first.bundle.embeddings[m][t]);
  }
});

test('a corrupted cache entry is recomputed, correct, and rewritten', async () => {
  const cache = new EmbeddingCache(path.join(scratch, 'cache-2'));
  const first = await embedAll({ queries: QUERIES, tasks: TASKS, embedders: [glove], cache });
  const text = glove.render(TASKS[2].instruction, QUERIES[1]);
  const file = cache.fileFor(await glove.identity(), text);
  const bytes = fs.readFileSync(file);
  bytes[20] ^= 0xff;
  fs.writeFileSync(file, bytes);
  glove.calls = [];
  const second = await embedAll({ queries: QUERIES, tasks: TASKS, embedders: [glove], cache: new EmbeddingCache(cache.dir) });
  assert.deepEqual(second.stats, { hits: QUERIES.length * TASKS.length - 1, misses: 1 });
  assert.deepEqual(glove.calls, [[text]]);
  assert.ok(cosine(row(second.bundle.embeddings[0][2], 100, 1), row(first.bundle.embeddings[0][2], 100, 1)) > 0.99999);
  const third = await embedAll({ queries: QUERIES, tasks: TASKS, embedders: [glove], cache: new EmbeddingCache(cache.dir) });
  assert.equal(third.stats.misses, 0);
});

test('texts rendered the same for several tasks are embedded once (no cache)', async () => {
  const e5 = new Recording(
    await createEmbedder(path.join(MODELS, 'glove-6B-100d-sif-50k'), { offline: true, overrides: { family: 'multilingual-e5' } }),
  );
  try {
    const { bundle, stats } = await embedAll({ queries: QUERIES, tasks: TASKS, embedders: [e5] });
    assert.deepEqual(e5.calls, [QUERIES.map((q) => `query: ${q}`)]);
    assert.deepEqual(stats, { hits: 0, misses: QUERIES.length });
    assert.deepEqual(bundle.embeddings[0][1], bundle.embeddings[0][0]);
  } finally {
    await e5.dispose();
  }
});

test('progress and cancellation pass through', async () => {
  const controller = new AbortController();
  const seen: string[] = [];
  await assert.rejects(
    embedAll({
      queries: QUERIES,
      tasks: TASKS,
      embedders: [glove, use],
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(`${p.model}:${p.done}/${p.total}`);
        if (p.done > 0) controller.abort();
      },
    }),
    CancelledError,
  );
  assert.ok(seen[0] === 'glove-6B-100d-sif-50k:0/12', seen.join(' '));
  assert.ok(!seen.some((s) => s.startsWith('use-lite-onnx')));
});

test('input checks', async () => {
  await assert.rejects(embedAll({ queries: [], tasks: TASKS, embedders: [glove] }), UserError);
  await assert.rejects(embedAll({ queries: QUERIES, tasks: TASKS.slice(1), embedders: [glove] }), /tasks\[0\] must be Base/);
  await assert.rejects(embedAll({ queries: QUERIES, tasks: [...TASKS, TASKS[1]], embedders: [glove] }), /task "Retrieval" appears twice/);
  await assert.rejects(embedAll({ queries: QUERIES, tasks: TASKS, embedders: [glove, glove] }), /listed twice/);
});
