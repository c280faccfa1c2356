import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, it } from 'node:test';
import { analyze } from '../src/engine/method/analyze';
import { CancelledError, UserError } from '../src/engine/errors';
import { earlyPca, hasEarlyPca, prewarmAnalysis, runAnalysis } from '../src/engine/method/runAnalysis';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { readBundle, writeBundle } from '../src/engine/io/bundle';
import { mulberry32 } from '../src/engine/kernels/linalg';
import type { AnalysisOptions } from '../src/engine/types';
import { FIXTURE_NAMES, loadFixture } from './engineFixtures';

// runAnalysis starts dist/analysisWorker.js: build with `node esbuild.mjs` first.
describe('runAnalysis (worker threads)', () => {
  for (const name of FIXTURE_NAMES) {
    it(`${name}: bit-identical to analyze()`, async () => {
      const { bundle, options } = loadFixture(name);
      const expected = await analyze(bundle, options);
      const actual = await runAnalysis(bundle, options);
      assert.deepEqual(actual, expected);
      assert.equal(JSON.stringify(actual), JSON.stringify(expected));
    });
  }

  it('a prewarmed pool (workers that analysed a small bundle) gives results bit-identical to analyze()', async () => {
    const { bundle, options } = loadFixture('gram');
    prewarmAnalysis();
    prewarmAnalysis(); // a pool is waiting: nothing more starts
    assert.deepEqual(await runAnalysis(bundle, options), await analyze(bundle, options));
  });

  it('a prewarmed pool does not keep the process alive', () => {
    const runAnalysisModule = path.join(__dirname, '..', 'src', 'engine', 'method', 'runAnalysis.js');
    const child = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(runAnalysisModule)}).prewarmAnalysis()`], {
      timeout: 60_000,
      encoding: 'utf8',
    });
    assert.equal(child.status, 0, `exit status ${child.status}, signal ${child.signal}: ${child.stderr}`);
  });

  it('does not modify or detach the caller bundle', async () => {
    const { bundle, options } = loadFixture('cov');
    const copy = bundle.embeddings.map((per) => per.map((e) => e.slice()));
    await runAnalysis(bundle, options);
    assert.deepEqual(bundle.embeddings, copy);
  });

  it('rejects a bad option with the same UserError as analyze()', async () => {
    const { bundle } = loadFixture('cov');
    const message = await analyze(bundle, { reference: 'nope' }).then(
      () => '',
      (err: Error) => err.message,
    );
    assert.match(message, /unknown reference model/);
    await assert.rejects(runAnalysis(bundle, { reference: 'nope' }), (err: unknown) => err instanceof UserError && err.message === message);
  });

  it('a UserError raised inside a worker comes back as a UserError with the same message', async () => {
    const { bundle } = loadFixture('gram');
    const bad = bundle.embeddings.map((per) => per.map((e) => e.slice()));
    // Not zero (screen.ts lets it through) but too small for its squared norm (underflow): the worker's displacement
    // stage finds it.
    bad[1][2].fill(1e-170, 3 * bundle.dims[1], 4 * bundle.dims[1]);
    const broken = { ...bundle, embeddings: bad };
    const message = 'm2/STS: the embedding of query 4 (row 4) is a zero vector';
    await assert.rejects(analyze(broken), (err: unknown) => err instanceof UserError && err.message === message);
    await assert.rejects(runAnalysis(broken), (err: unknown) => err instanceof UserError && err.message === message);
    // Without the neighbour numbers (no unit rows), the cosine pass finds it.
    await assert.rejects(runAnalysis(broken, { neighbourOverlap: false }), (err: unknown) => err instanceof UserError && err.message === message);
  });

  it('an aborted signal rejects with CancelledError, before and during the work', async () => {
    const { bundle } = loadFixture('cov');
    const before = new AbortController();
    before.abort();
    await assert.rejects(runAnalysis(bundle, {}, before.signal), CancelledError);
    const during = new AbortController();
    const run = runAnalysis(bundle, {}, during.signal);
    setImmediate(() => during.abort());
    await assert.rejects(run, CancelledError);
  });

  it('a failing or cancelled run, also while a worker is inside onnxruntime, never takes the process down', async () => {
    // Stopping a thread inside onnxruntime's native code aborts the process; the pool lets busy workers finish.
    const { bundle } = loadFixture('gram');
    const bad = bundle.embeddings.map((per) => per.map((e) => e.slice()));
    bad[1][2].fill(1e-170, 0, bundle.dims[1]); // a vector without direction: m2's job fails while the other worker computes
    for (let round = 0; round < 20; round++) {
      await assert.rejects(runAnalysis({ ...bundle, embeddings: bad }), UserError);
    }
    for (let delayMs = 0; delayMs < 40; delayMs += 2) {
      const controller = new AbortController();
      const run = runAnalysis(bundle, {}, controller.signal);
      setTimeout(() => controller.abort(), delayMs);
      await run.then(
        () => undefined, // finished before the abort
        (err: unknown) => assert.ok(err instanceof CancelledError, String(err)),
      );
    }
  });

  it('runs after a cancelled or failed run and while another run is under way (the kept worker pool)', async () => {
    const { bundle, options } = loadFixture('gram');
    const expected = JSON.stringify(await analyze(bundle, options));
    const cancelled = new AbortController();
    const doomed = runAnalysis(bundle, options, cancelled.signal);
    setImmediate(() => cancelled.abort());
    await assert.rejects(doomed, CancelledError);
    await assert.rejects(runAnalysis(bundle, { reference: 'nope' }), UserError);
    // Two at once: one borrows the kept pool, the other starts its own; both must be right.
    const [first, second] = await Promise.all([runAnalysis(bundle, options), runAnalysis(bundle, options)]);
    assert.equal(JSON.stringify(first), expected);
    assert.equal(JSON.stringify(second), expected);
    assert.equal(JSON.stringify(await runAnalysis(bundle, options)), expected);
  });

  it('cancelled and failed runs keep the pool: the runs after them start no worker thread and are right', async () => {
    const { bundle, options } = loadFixture('gram');
    const expected = JSON.stringify(await analyze(bundle, options));
    await runAnalysis(bundle, options); // the kept pool exists and waits
    // Worker thread ids count up: the next one made tells how many were made in between.
    const nextThreadId = async (): Promise<number> => {
      const worker = new Worker('', { eval: true });
      const id = worker.threadId;
      await worker.terminate();
      return id;
    };
    const before = await nextThreadId();
    const bad = bundle.embeddings.map((per) => per.map((e) => e.slice()));
    bad[1][2].fill(1e-170, 0, bundle.dims[1]); // m2's job fails while the other worker computes
    for (let round = 0; round < 10; round++) {
      const controller = new AbortController();
      const run = runAnalysis(bundle, options, controller.signal);
      setTimeout(() => controller.abort(), round * 2); // before, during and after the workers' jobs
      await run.then(
        (result) => assert.equal(JSON.stringify(result), expected, 'finished before the abort'),
        (err: unknown) => assert.ok(err instanceof CancelledError, String(err)),
      );
      await assert.rejects(runAnalysis({ ...bundle, embeddings: bad }, options), UserError);
      // The next run right after: its jobs wait for the ones given up, and its result is its own.
      assert.equal(JSON.stringify(await runAnalysis(bundle, options)), expected);
    }
    assert.equal((await nextThreadId()) - before, 1, 'no analysis worker was started for the runs after a cancelled or failed one');
  });
});

describe('early PCA jobs while the bundle is read (the CLI\'s analyze)', () => {
  /** A seeded folder bundle of models of the given dimensions (tasks Base, a, b). */
  async function folderBundle(dims: number[], n: number): Promise<string> {
    const rng = mulberry32(dims.length * 100 + n);
    const tasks = ['Base', 'a', 'b'];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'il-early-'));
    await writeBundle(path.join(dir, 'bundle'), {
      models: dims.map((_, m) => `model-${m}`),
      tasks,
      n,
      dims,
      embeddings: dims.map((d) => tasks.map(() => Float64Array.from({ length: n * d }, () => rng() - 0.5))),
    });
    return path.join(dir, 'bundle');
  }

  /**
   * runAnalysis on the bundle read with early jobs and on the bundle read without: the same JSON. Returns, per model,
   * whether it had an early job when the read ended and whether that job was left unused. A model gets one when a
   * worker waits idle as its files are read: the first always does (the pool is idle after an analysis), later ones
   * when the earlier jobs have ended.
   */
  async function compare(dir: string, early: AnalysisOptions, options: AnalysisOptions): Promise<{ made: boolean[]; unused: boolean[] }> {
    prewarmAnalysis();
    await runAnalysis(await readBundle(dir), options); // the spare pool, warm and idle
    const withEarly = await readBundle(dir, earlyPca(early, false));
    const made = withEarly.embeddings.map((mats) => hasEarlyPca(mats));
    assert.equal(made[0], true, 'the first model read goes to an idle worker');
    const result = await runAnalysis(withEarly, options);
    assert.equal(JSON.stringify(result), JSON.stringify(await runAnalysis(await readBundle(dir), options)));
    return { made, unused: withEarly.embeddings.map((mats) => hasEarlyPca(mats)) };
  }

  it('early jobs are used, and the results are those of a bundle read without them', async () => {
    const { unused } = await compare(await folderBundle([24, 16, 32], 12), {}, {});
    assert.deepEqual(unused, [false, false, false]);
  });

  it('a later model of smaller dimension lowers k: the jobs made with the larger k are left unused', async () => {
    // Default k = min(200, N = 25) = 25 until model 2 (d = 20) makes it 20.
    const { made, unused } = await compare(await folderBundle([40, 30, 20], 25), {}, {});
    assert.deepEqual(unused, [true, made[1], false]);
  });

  it('jobs made for another k are left unused', async () => {
    const { made, unused } = await compare(await folderBundle([24, 16, 32], 12), { k: 5 }, { k: 6 });
    assert.deepEqual(unused, made);
  });
});
