/**
 * The random numbers and the paired bootstrap of EVAL.md ("Uncertainty"), shared by the task evaluation and the
 * intervals of the mean cosine displacement (METHOD.md, issue 12).
 *
 * SplitMix64 (Steele, Lea and Flood 2014; the reference constants of Vigna's splitmix64.c), seeded with the analysis
 * seed: state += 0x9E3779B97F4A7C15, then the output mix. A uniform u = (next() >>> 11) * 2^-53 in [0, 1), and an index
 * floor(u * n). The 64-bit arithmetic runs on two 32-bit halves (BigInt costs about 20x), so the stream equals the
 * reference bit for bit (test/fixtures/make_bootstrap_fixtures.py checks it against numpy's uint64).
 */

/**
 * SplitMix64 over unsigned 32-bit halves: `hi`:`lo` is the 64-bit state. Each draw works on local numbers only (no
 * tuples): the bootstrap draws B x n of them per matrix, and per-draw arrays were most of the workers' garbage.
 */
export class SplitMix64 {
  private hi: number;
  private lo: number;
  /** The last output, as unsigned 32-bit halves. */
  private outHi = 0;
  private outLo = 0;

  /** `seed`: a non-negative safe integer (the analysis seed). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
    this.hi = Math.floor(seed / 2 ** 32) >>> 0;
    this.lo = seed >>> 0;
  }

  /** The next 64-bit output as [hi, lo] unsigned 32-bit halves. */
  nextHalves(): [number, number] {
    this.advance();
    return [this.outHi, this.outLo];
  }

  /** u = (next() >>> 11) * 2^-53: uniform on [0, 1) with 53 random bits. */
  nextUniform(): number {
    this.advance();
    return (this.outHi * 2 ** 21 + (this.outLo >>> 11)) * 2 ** -53;
  }

  /** floor(u * n): an index in 0..n-1. */
  nextIndex(n: number): number {
    return Math.floor(this.nextUniform() * n);
  }

  /** One step: state += 0x9E3779B97F4A7C15, then the output mix into outHi:outLo. */
  private advance(): void {
    const sum = this.lo + 0x7f4a7c15;
    this.lo = sum >>> 0;
    this.hi = (this.hi + 0x9e3779b9 + (sum > 0xffffffff ? 1 : 0)) >>> 0;
    let h = this.hi;
    let l = this.lo;
    // z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9 (the low half's shift takes bits from the old high half)
    l = (l ^ ((l >>> 30) | (h << 2))) >>> 0;
    h = (h ^ (h >>> 30)) >>> 0;
    let a0 = l & 0xffff;
    let a1 = l >>> 16;
    let p00 = a0 * 0xe5b9;
    let mid = a1 * 0xe5b9 + a0 * 0x1ce4 + Math.floor(p00 / 0x10000); // < 2^34: exact in doubles
    let nl = ((mid & 0xffff) * 0x10000 + (p00 & 0xffff)) >>> 0;
    h = (Math.floor(mid / 0x10000) + a1 * 0x1ce4 + Math.imul(h, 0x1ce4e5b9) + Math.imul(l, 0xbf58476d)) >>> 0;
    l = nl;
    // z = (z ^ (z >>> 27)) * 0x94D049BB133111EB
    l = (l ^ ((l >>> 27) | (h << 5))) >>> 0;
    h = (h ^ (h >>> 27)) >>> 0;
    a0 = l & 0xffff;
    a1 = l >>> 16;
    p00 = a0 * 0x11eb;
    mid = a1 * 0x11eb + a0 * 0x1331 + Math.floor(p00 / 0x10000);
    nl = ((mid & 0xffff) * 0x10000 + (p00 & 0xffff)) >>> 0;
    h = (Math.floor(mid / 0x10000) + a1 * 0x1331 + Math.imul(h, 0x133111eb) + Math.imul(l, 0x94d049bb)) >>> 0;
    l = nl;
    // z ^ (z >>> 31)
    this.outLo = (l ^ ((l >>> 31) | (h << 1))) >>> 0;
    this.outHi = (h ^ (h >>> 31)) >>> 0;
  }
}

/** Number of bootstrap resamples (EVAL.md). */
export const BOOTSTRAP_RESAMPLES = 1000;

/**
 * Index matrices kept per thread (the same seed and n recur for every model, task and kind of a run), up to this many
 * entries in all (16 MiB): a matrix at N = 10,000 (40 MB) is drawn again rather than kept.
 */
const KEPT_ENTRIES = 4 * 2 ** 20;
const keptMatrices = new Map<string, Int32Array>();

/**
 * The B x n index matrix of EVAL.md: a fresh SplitMix64 stream seeded with `seed`, resample b = 0..B-1 in order, each
 * n indices floor(u * n). Row b is `indices.subarray(b * n, (b + 1) * n)`. The last few matrices are kept and shared
 * between callers: read them, never write.
 */
export function resampleIndices(seed: number, n: number, resamples = BOOTSTRAP_RESAMPLES): Int32Array {
  const key = `${seed}:${n}:${resamples}`;
  const kept = keptMatrices.get(key);
  if (kept) return kept;
  const stream = new SplitMix64(seed);
  const indices = new Int32Array(resamples * n);
  for (let x = 0; x < indices.length; x++) indices[x] = stream.nextIndex(n);
  if (indices.length > KEPT_ENTRIES) return indices;
  let entries = indices.length;
  for (const matrix of keptMatrices.values()) entries += matrix.length;
  for (const [oldest, matrix] of keptMatrices) {
    if (entries <= KEPT_ENTRIES) break;
    keptMatrices.delete(oldest);
    entries -= matrix.length;
  }
  keptMatrices.set(key, indices);
  return indices;
}

/**
 * numpy.percentile of ascending-sorted values ('linear' method), with numpy's own two-sided lerp so that the result
 * is numpy's to the last bit (the mean displacement's median and p90 use it too).
 */
export function sortedPercentile(sorted: Float64Array, q: number): number {
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const t = pos - lo;
  const a = sorted[lo];
  const b = sorted[hi];
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

export interface Interval {
  low: number;
  high: number;
}

/** The 95% percentile interval (2.5, 97.5) of a statistic's bootstrap replicates. */
export function interval95(replicates: ArrayLike<number>): Interval {
  if (replicates.length === 0) return { low: NaN, high: NaN };
  const sorted = Float64Array.from(replicates).sort();
  return { low: sortedPercentile(sorted, 2.5), high: sortedPercentile(sorted, 97.5) };
}

/**
 * The replicates of a statistic of the units: `statistic(sample)` gets one resample's n unit indices (with repeats) and
 * returns the statistic on those units (re-scoring fixed outputs; nothing is retrained).
 */
export function replicates(indices: Int32Array, n: number, statistic: (sample: Int32Array) => number): Float64Array {
  const resamples = n === 0 ? 0 : indices.length / n;
  const out = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) out[b] = statistic(indices.subarray(b * n, (b + 1) * n));
  return out;
}

/** Replicates of the mean of per-unit values. */
export function meanReplicates(indices: Int32Array, values: ArrayLike<number>): Float64Array {
  // replicates() with the mean written out: no subarray and no call per resample (the displacement intervals take
  // 1000 x (models x tasks) of them).
  const n = values.length;
  const resamples = n === 0 ? 0 : indices.length / n;
  const out = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    const at = b * n;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[indices[at + i]];
    out[b] = sum / n;
  }
  return out;
}

/** Paired difference of two statistics' replicates (same resamples): a[b] - b[b]. */
export function pairedDifference(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}
