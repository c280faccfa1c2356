/**
 * A young-generation garbage collection on demand, in the analysis workers only.
 *
 * onnxruntime-node hands every product back as a fresh copy, even when the output was given (gemm.ts writes into
 * the caller's array and drops the copy): garbage as large as the product, held by a few small young objects. V8
 * collects them only once a thread's external memory has grown by tens of MB, and glibc then keeps the freed memory
 * in the thread's arena, so at paper scale the process peaked about 80 MiB higher than the work needs. A scavenge
 * once 16 MiB of copies have been dropped, and when a job ends, frees them while they are young and cheap to collect
 * (measured in BENCHMARKS.md). A scavenge after every product of 1 MiB or more, as before, cost the 50-model maps
 * about a tenth of their time (2,500 scavenges after 1.9 MB products); waiting for 16 MiB costs the paper-scale peak
 * about 40 MiB (483 MiB against 443, the limit being 522).
 *
 * V8's gc function is taken from a fresh context with --expose-gc set for that moment only (the flag is
 * process-wide); where the runtime refuses, collecting is a no-op. Never on the main thread: there a pause could
 * stall the extension host. Not under Electron (VS Code desktop's extension host) either: setting a V8 flag after
 * start-up is fatal, not an exception, where the embedder froze the flags (NW.js: "Check failed: !IsFrozen()"), and
 * taking the extension host down is no price for memory; Node (the CLI, code-server) keeps them writable.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { isMainThread } from 'node:worker_threads';

type Collect = (options: { type: 'minor' }) => void;

let collect: Collect | null | undefined;

function exposedGc(): Collect | null {
  if (isMainThread || process.versions.electron !== undefined) return null;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    return typeof gc === 'function' ? (gc as Collect) : null;
  } catch {
    return null;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/** Bytes of dropped copies after which droppedCopy collects. */
const COLLECT_AFTER_BYTES = 16 << 20;

let droppedSinceCollection = 0;

/** Notes a dropped product copy of `bytes`; collects once the copies since the last collection reach 16 MiB. */
export function droppedCopy(bytes: number): void {
  droppedSinceCollection += bytes;
  if (droppedSinceCollection >= COLLECT_AFTER_BYTES) collectYoungGarbage();
}

/** A minor (scavenge) collection in a worker thread; nothing on the main thread. */
export function collectYoungGarbage(): void {
  droppedSinceCollection = 0;
  if (collect === undefined) collect = exposedGc();
  collect?.({ type: 'minor' });
}
