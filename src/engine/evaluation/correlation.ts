/**
 * Rank and correlation helpers of the evaluation: the sts metrics (sts.ts) and the displacement-vs-performance
 * correlation (evaluate.ts) use these, so there is one Spearman in the engine. They match scipy.stats.rankdata
 * (method 'average'), scipy.stats.pearsonr and scipy.stats.spearmanr; an undefined correlation (fewer than 2 values,
 * or a constant side) is NaN, as scipy's.
 */

/**
 * Ranks 1..n of `values`, tied values sharing the mean of their ranks (scipy.stats.rankdata, method 'average').
 * A value's tie group is the run of equal values in the sorted copy (a native numeric sort of a typed array: the
 * bootstrap of sts ranks 2 x 1000 resamples per cell, and a comparator sort of indices took most of its time), found
 * by two binary searches: the group [start, end) has mean rank (start + 1 + end) / 2. -0 and 0 tie. The values must
 * not be NaN (the callers pass similarities, gold scores and finite Deltas).
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    const start = lo; // first position holding a value >= v
    hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] > v) hi = mid;
      else lo = mid + 1;
    }
    ranks[i] = (start + 1 + lo) / 2; // lo: first position holding a value > v
  }
  return ranks;
}

/**
 * Average ranks of resamples of fixed values (the sts bootstrap ranks 1000 resamples of the same pairs per cell):
 * each value's tie group (0 = smallest) is found once, and a resample is ranked by counting its draws per group,
 * with no sort. The ranks are those of averageRanks on the drawn values: a draw in group g gets (start + 1 + end) / 2,
 * start = draws in lower groups, end = start + draws in g.
 */
export class ResampleRanker {
  private readonly group: Int32Array;
  private readonly counts: Int32Array;

  constructor(values: ArrayLike<number>) {
    const n = values.length;
    const sorted = Float64Array.from(values).sort();
    // Distinct values ascending (=== groups -0 with 0, as averageRanks does).
    const distinct: number[] = [];
    for (let x = 0; x < n; x++) if (x === 0 || sorted[x] !== sorted[x - 1]) distinct.push(sorted[x]);
    this.group = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      let lo = 0;
      let hi = distinct.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (distinct[mid] < v) lo = mid + 1;
        else hi = mid;
      }
      this.group[i] = lo;
    }
    this.counts = new Int32Array(distinct.length);
  }

  /** Average ranks of values[sample[0]], values[sample[1]], ... into `out` (sample.length long). */
  ranksOf(sample: Int32Array, out: Float64Array): Float64Array {
    const { group, counts } = this;
    counts.fill(0);
    for (let x = 0; x < sample.length; x++) counts[group[sample[x]]]++;
    // counts[g] becomes 2 * start + 1 + count of group g, so that the rank is counts[g] / 2.
    let below = 0;
    for (let g = 0; g < counts.length; g++) {
      const count = counts[g];
      counts[g] = below + 1 + below + count;
      below += count;
    }
    for (let x = 0; x < sample.length; x++) out[x] = counts[group[sample[x]]] / 2;
    return out;
  }
}

/** Pearson's r of two equally long series (two passes: means, then centred sums). NaN when undefined. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (y.length !== n) throw new RangeError(`pearson: ${n} and ${y.length} values`);
  if (n < 2) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (!(sxx > 0) || !(syy > 0)) return NaN;
  // Clipped as scipy does: rounding can push |r| a hair above 1.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** Spearman's rho: Pearson's r of the average ranks. NaN when undefined. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(averageRanks(x), averageRanks(y));
}
