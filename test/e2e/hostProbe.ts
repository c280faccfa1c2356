/**
 * Loaded with NODE_OPTIONS=--require into every Node process code-server starts (soak test only). In the process that
 * loads the extension (the extension host) it measures the event-loop delay and memory, and
 * writes them every 500 ms to $IL_HOST_PROBE_DIR/<pid>.json. Creating $IL_HOST_PROBE_DIR/reset restarts the
 * histogram (the test marks the start of the soak with it). Nothing in the product depends on it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

const dir = process.env.IL_HOST_PROBE_DIR;
if (dir && isMainThread) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const reset = path.join(dir, 'reset');
  const timer = setInterval(() => {
    // The extension's bundle, as installed from the .vsix (the code-server install folder is named instruction-lens too).
    const extension = Object.keys(require.cache).some((file) => /[/\\]instruction-lens\.instruction-lens-[^/\\]*[/\\]dist[/\\]extension\.js$/.test(file));
    if (!extension) return;
    if (fs.existsSync(reset)) {
      fs.rmSync(reset, { force: true });
      histogram.reset();
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
      argv: process.argv.slice(1).join(' '),
    };
    fs.writeFileSync(path.join(dir, `${process.pid}.json.tmp`), JSON.stringify(stats));
    fs.renameSync(path.join(dir, `${process.pid}.json.tmp`), path.join(dir, `${process.pid}.json`));
  }, 500);
  timer.unref();
}
