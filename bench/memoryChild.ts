/**
 * Child process of the memory benchmark: reads a bundle folder and runs runAnalysis on it, then prints the peak
 * resident set size before reading ("baseline"), after reading, and at the end, in KiB, for the whole process
 * (worker threads share it).
 *
 * The peak is VmHWM from /proc/self/status where there is one (Linux): process.resourceUsage().maxRSS there
 * is inherited across fork and exec, so a child of a parent holding gigabytes reports the parent's size.
 * Elsewhere maxRSS is used.
 */
import * as fs from 'node:fs';
import { readBundle } from '../src/engine/io/bundle';
import { runAnalysis } from '../src/engine/method/runAnalysis';

function peakKiB(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}

async function main(): Promise<void> {
  const baselineKiB = peakKiB();
  const bundle = await readBundle(process.argv[2]);
  const loadedKiB = peakKiB();
  await runAnalysis(bundle);
  console.log(JSON.stringify({ baselineKiB, loadedKiB, peakKiB: peakKiB(), maxRssKiB: process.resourceUsage().maxRSS }));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
