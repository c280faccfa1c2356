/**
 * Loaded with NODE_OPTIONS=--require into every Node process code-server starts, and into their worker threads (soak
 * test only). In the process that loads the extension (the extension host) it measures the event-loop delay and
 * memory, and writes them every 500 ms to $IL_HOST_PROBE_DIR/<pid>.json. Creating $IL_HOST_PROBE_DIR/reset restarts
 * the histogram (the test marks the start of the soak with it). Nothing in the product depends on it.
 *
 * Memory for the leak check is measured after a full garbage collection: writing a number to
 * $IL_HOST_PROBE_DIR/collect makes every thread (with --expose-gc) collect once for that number; the main thread of
 * the extension host then waits for its worker threads to have done so too and writes the stats with `collected` set
 * to it. Without this, RSS swings by tens of MB with the timing of V8's major collections in each isolate (one soak:
 * 378 MB before the host's collection, 317 MB after it), which a check for growth can neither ignore nor tell from a
 * leak; what survives a full collection is what a leak holds. Each worker thread also writes its own heap and
 * external memory to <pid>-worker-<threadId>.json, so that a failing check can say where the memory is.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

const TICK_MS = 500;
const dir = process.env.IL_HOST_PROBE_DIR;
const collect = (globalThis as { gc?: () => void }).gc;

/** The collection number asked for, once per number: undefined when none is asked or it was handled already. */
function collectionRequest(handled: { last: number }): number | undefined {
  try {
    const asked = Number(fs.readFileSync(path.join(dir!, 'collect'), 'utf8'));
    if (!Number.isInteger(asked) || asked <= handled.last) return undefined;
    handled.last = asked;
    return asked;
  } catch {
    return undefined; // none asked yet
  }
}

/** Written whole or not at all: the test may read the file at any moment. */
function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(value));
  fs.renameSync(`${file}.tmp`, file);
}

if (dir && !isMainThread) {
  const handled = { last: 0 };
  const file = path.join(dir, `${process.pid}-worker-${threadId}.json`);
  setInterval(() => {
    if (collectionRequest(handled) !== undefined) collect?.();
    const heap = getHeapStatistics();
    writeJson(file, { threadId, at: Date.now(), heapTotal: heap.total_heap_size, external: heap.external_memory });
  }, TICK_MS).unref();
}

if (dir && isMainThread) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const reset = path.join(dir, 'reset');
  const handled = { last: 0 };
  let collected = 0;
  // A collection asked for: this thread collects at once, the stats wait two ticks, by which time every worker
  // thread (polling at the same interval) has collected too, and then this thread collects again.
  let pending: { asked: number; ticks: number } | undefined;
  const timer = setInterval(() => {
    // The extension's bundle, as installed from the .vsix (the code-server install folder is named instruction-lens too).
    const extension = Object.keys(require.cache).some((file) => /[/\\]instruction-lens\.instruction-lens-[^/\\]*[/\\]dist[/\\]extension\.js$/.test(file));
    if (!extension) return;
    if (fs.existsSync(reset)) {
      fs.rmSync(reset, { force: true });
      histogram.reset();
    }
    const asked = collectionRequest(handled);
    if (asked !== undefined) {
      collect?.();
      pending = { asked, ticks: 2 };
    } else if (pending && --pending.ticks === 0) {
      collect?.();
      collected = pending.asked;
      pending = undefined;
    }
    const memory = process.memoryUsage();
    const stats = {
      pid: process.pid,
      at: Date.now(),
      p99Ms: histogram.percentile(99) / 1e6,
      maxMs: histogram.max / 1e6,
      count: histogram.count,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      collected: collect ? collected : -1,
      argv: process.argv.slice(1).join(' '),
    };
    writeJson(path.join(dir, `${process.pid}.json`), stats);
  }, TICK_MS);
  timer.unref();
}
