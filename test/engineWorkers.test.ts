import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../src/engine/method/analyze';
import { CancelledError, UserError } from '../src/engine/errors';
import { prewarmAnalysis, runAnalysis } from '../src/engine/method/runAnalysis';
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
});
