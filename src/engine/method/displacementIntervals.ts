/**
 * Uncertainty of the mean cosine displacement (issue 12, section 4), with the shared bootstrap of EVAL.md
 * ("Uncertainty"): one fresh SplitMix64 stream seeded with the analysis seed draws the B x N query-index matrix, used by
 * every model and task, so that tasks and models are compared on the same resamples. For each (model, task): the 95%
 * percentile interval of the resampled means. For each model: its task order by mean displacement (largest first, ties
 * in task order) and the share of resamples that keep the whole order, and each adjacent pair of it.
 */
import { interval95, type Interval, meanReplicates, resampleIndices } from '../evaluation/bootstrap';
import type { TaskOrderStability } from '../types';

export interface DisplacementUncertainty {
  /** [model][task - 1]: the interval of the mean cosine distance. */
  intervals: Interval[][];
  taskOrderStability: TaskOrderStability[];
}

export interface UncertaintyInput {
  models: readonly string[];
  tasks: readonly string[];
  /** [m][x]: the N per-query cosine distances of model m's task x + 1 to Base. */
  cosineDistances: readonly (readonly Float64Array[])[];
  /** [m][x]: their mean (the reported meanCosineDistance, which fixes the main order). */
  means: readonly (readonly number[])[];
  n: number;
  /** The analysis seed. */
  seed: number;
}

/** Runs in a worker thread under runAnalysis (drawing the index matrix takes tens of milliseconds at N = 200). */
export function displacementUncertainty(input: UncertaintyInput): DisplacementUncertainty {
  const { models, tasks, cosineDistances, means, n, seed } = input;
  const indices = resampleIndices(seed, n);
  const intervals: Interval[][] = [];
  const taskOrderStability: TaskOrderStability[] = [];
  models.forEach((model, m) => {
    const replicates = cosineDistances[m].map((values) => meanReplicates(indices, values));
    intervals.push(replicates.map((r) => interval95(r)));
    const order = descendingOrder((x) => means[m][x], replicates.length);
    const resamples = replicates[0]?.length ?? 0;
    let whole = 0;
    const adjacent = new Array<number>(Math.max(0, order.length - 1)).fill(0);
    // Resample b keeps the whole order when every adjacent pair of it is in descendingOrder's order (a sort's order
    // is total, so no resample needs sorting).
    for (let b = 0; b < resamples; b++) {
      let kept = true;
      for (let i = 0; i + 1 < order.length; i++) {
        const upper = replicates[order[i]][b];
        const lower = replicates[order[i + 1]][b];
        if (upper > lower) adjacent[i]++;
        else if (upper < lower || order[i] > order[i + 1]) kept = false;
      }
      if (kept) whole++;
    }
    taskOrderStability.push({
      model,
      order: order.map((x) => tasks[x + 1]),
      share: resamples > 0 ? whole / resamples : 0,
      adjacentShares: adjacent.map((count) => (resamples > 0 ? count / resamples : 0)),
    });
  });
  return { intervals, taskOrderStability };
}

/** Indices 0..count-1 by value, largest first; ties: lower index first. */
function descendingOrder(value: (x: number) => number, count: number): number[] {
  return Array.from({ length: count }, (_, x) => x).sort((a, b) => value(b) - value(a) || a - b);
}
