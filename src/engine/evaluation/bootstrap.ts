/**
 * The random numbers and the paired bootstrap of EVAL.md ("Uncertainty"), shared by the task evaluation and the
 * intervals of the mean cosine displacement (METHOD.md, issue 12).
 *
 * SplitMix64 (Steele, Lea and Flood 2014; the reference constants of Vigna's splitmix64.c), seeded with the analysis
 * seed: state += 0x9E3779B97F4A7C15, then the output mix. A uniform u = (next() >>> 11) * 2^-53 in [0, 1), and an index
 * floor(u * n). The 64-bit arithmetic runs on two 32-bit halves (BigInt costs about 20x), so the stream equals the
 * reference bit for bit (test/fixtures/make_bootstrap_fixtures.py checks it against numpy's uint64).
 */

/** SplitMix64 over unsigned 32-bit halves: `hi`:`lo` is the 64-bit state. */
export class SplitMix64 {
  private hi: number;
  private lo: number;

  /** `seed`: a non-negative safe integer (the analysis seed). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
    this.hi = Math.floor(seed / 2 ** 32) >>> 0;
    this.lo = seed >>> 0;
  }

  /** The next 64-bit output as [hi, lo] unsigned 32-bit halves. */
  nextHalves(): [number, number] {
    // state += 0x9E3779B97F4A7C15
    const lo = this.lo + 0x7f4a7c15;
    this.lo = lo >>> 0;
    this.hi = (this.hi + 0x9e3779b9 + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    let [h, l] = [this.hi, this.lo];
    // z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9
    [h, l] = xorShiftRight(h, l, 30);
    [h, l] = multiply64(h, l, 0xbf58476d, 0x1ce4e5b9);
    // z = (z ^ (z >>> 27)) * 0x94D049BB133111EB
    [h, l] = xorShiftRight(h, l, 27);
    [h, l] = multiply64(h, l, 0x94d049bb, 0x133111eb);
    // z ^ (z >>> 31)
    return xorShiftRight(h, l, 31);
  }

  /** u = (next() >>> 11) * 2^-53: uniform on [0, 1) with 53 random bits. */
  nextUniform(): number {
    const [h, l] = this.nextHalves();
    return (h * 2 ** 21 + (l >>> 11)) * 2 ** -53;
  }

  /** floor(u * n): an index in 0..n-1. */
  nextIndex(n: number): number {
    return Math.floor(this.nextUniform() * n);
  }
}

/** (z ^ (z >>> s)) on halves, for 0 < s < 32. */
function xorShiftRight(h: number, l: number, s: number): [number, number] {
  const shiftedLo = ((l >>> s) | (h << (32 - s))) >>> 0;
  const shiftedHi = h >>> s;
  return [(h ^ shiftedHi) >>> 0, (l ^ shiftedLo) >>> 0];
}

/** The low 64 bits of (ah:al) * (bh:bl). */
function multiply64(ah: number, al: number, bh: number, bl: number): [number, number] {
  // al * bl in full (64 bits) from 16-bit limbs; the cross terms only reach the high half.
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const p00 = a0 * b0;
  const mid = a1 * b0 + a0 * b1 + Math.floor(p00 / 0x10000); // < 2^34: exact in doubles
  const lo = ((mid & 0xffff) * 0x10000 + (p00 & 0xffff)) >>> 0;
  const carry = Math.floor(mid / 0x10000) + a1 * b1; // high 32 bits of al * bl (may exceed 2^32: only its low bits count)
  const hi = (carry + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
  return [hi, lo];
}

/** Number of bootstrap resamples (EVAL.md). */
export const BOOTSTRAP_RESAMPLES = 1000;

/**
 * The B x n index matrix of EVAL.md: a fresh SplitMix64 stream seeded with `seed`, resample b = 0..B-1 in order, each
 * n indices floor(u * n). Row b is `indices.subarray(b * n, (b + 1) * n)`.
 */
export function resampleIndices(seed: number, n: number, resamples = BOOTSTRAP_RESAMPLES): Int32Array {
  const stream = new SplitMix64(seed);
  const indices = new Int32Array(resamples * n);
  for (let x = 0; x < indices.length; x++) indices[x] = stream.nextIndex(n);
  return indices;
}

/** numpy.percentile(values, q) with its default linear interpolation; `values` is not modified. */
export function percentile(values: ArrayLike<number>, q: number): number {
  return values.length === 0 ? NaN : sortedPercentile(Float64Array.from(values).sort(), q);
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
  return { low: percentile(replicates, 2.5), high: percentile(replicates, 97.5) };
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
  const n = values.length;
  return replicates(indices, n, (sample) => {
    let sum = 0;
    for (let i = 0; i < sample.length; i++) sum += values[sample[i]];
    return sum / n;
  });
}

/** Paired difference of two statistics' replicates (same resamples): a[b] - b[b]. */
export function pairedDifference(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}
