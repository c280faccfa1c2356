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
