/**
 * Rank and correlation helpers of the evaluation: the sts metrics (sts.ts) and the displacement-vs-performance
 * correlation (evaluate.ts) use these, so there is one Spearman in the engine. They match scipy.stats.rankdata
 * (method 'average'), scipy.stats.pearsonr and scipy.stats.spearmanr; an undefined correlation (fewer than 2 values,
 * or a constant side) is NaN, as scipy's.
 */

/** Ranks 1..n of `values`, tied values sharing the mean of their ranks (scipy.stats.rankdata, method 'average'). */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
  const ranks = new Float64Array(n);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    const rank = (start + 1 + end) / 2; // mean of ranks start+1..end
    for (let x = start; x < end; x++) ranks[order[x]] = rank;
    start = end;
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
