/**
 * What scoring one (model, task) on one kind gives (EVAL.md "Metrics" and "Uncertainty"): every metric of the kind on
 * all units, and the main metric re-scored on a bootstrap resample of the units. Each kind's scorer (ranking.ts,
 * sts.ts, classification.ts, clustering.ts) returns one; evaluate.ts pairs them with Base's through shared resamples.
 */
export interface KindScore {
  /** Units scored: queries (retrieval: those with a relevant document), or pairs for sts. */
  n: number;
  /** Every metric of the kind, in KIND_METRICS order (types.ts), main metric first. */
  values: number[];
  /**
   * The main metric on one resample: `sample` holds n unit indices in 0..n-1, with repeats. It re-scores the fixed
   * outputs (rankings, cross-validated predictions, cluster assignments, similarities): nothing is retrained.
   */
  mainOn(sample: Int32Array): number;
}
