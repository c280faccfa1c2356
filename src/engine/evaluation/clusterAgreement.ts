/**
 * Agreement of a clustering with the labels, as scikit-learn 1.2's sklearn.metrics computes it: v_measure_score
 * (beta = 1; homogeneity and completeness from natural-log entropies and mutual information, with sklearn's
 * conventions: no units -> 1, a zero entropy -> that term 1, h + c = 0 -> 0, MI terms under machine epsilon -> 0,
 * MI clipped at 0) and adjusted_rand_score (from the pair confusion matrix; no disagreeing pairs -> 1).
 * Units may be a multiset: `sample` lists unit indices with repeats (a bootstrap resample); all units when absent.
 */

/** Contingency counts (labelCount x clusterCount, row-major) over the sampled units. */
function contingency(
  labels: Int32Array,
  labelCount: number,
  clusters: Int32Array,
  clusterCount: number,
  sample?: Int32Array,
): { table: Float64Array; total: number } {
  const table = new Float64Array(labelCount * clusterCount);
  const total = sample ? sample.length : labels.length;
  for (let x = 0; x < total; x++) {
    const i = sample ? sample[x] : x;
    table[labels[i] * clusterCount + clusters[i]]++;
  }
  return { table, total };
}

function marginals(table: Float64Array, rows: number, cols: number): { rowSums: Float64Array; colSums: Float64Array } {
  const rowSums = new Float64Array(rows);
  const colSums = new Float64Array(cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      rowSums[r] += table[r * cols + c];
      colSums[c] += table[r * cols + c];
    }
  return { rowSums, colSums };
}

/** sklearn.metrics.cluster.entropy of a labelling given its class counts. */
function entropy(counts: Float64Array, total: number): number {
  let present = 0;
  for (const c of counts) if (c > 0) present++;
  if (present <= 1) return 0;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / total) * (Math.log(c) - Math.log(total));
  return h;
}

/** V-measure (beta = 1) of `clusters` against `labels`. */
export function vMeasure(
  labels: Int32Array,
  labelCount: number,
  clusters: Int32Array,
  clusterCount: number,
  sample?: Int32Array,
): number {
  const { table, total } = contingency(labels, labelCount, clusters, clusterCount, sample);
  if (total === 0) return 1;
  const { rowSums, colSums } = marginals(table, labelCount, clusterCount);
  const entropyLabels = entropy(rowSums, total);
  const entropyClusters = entropy(colSums, total);
  let mutual = 0;
  if (entropyLabels > 0 && entropyClusters > 0) {
    const logTotal = Math.log(total);
    for (let r = 0; r < labelCount; r++)
      for (let c = 0; c < clusterCount; c++) {
        const count = table[r * clusterCount + c];
        if (count === 0) continue;
        const share = count / total;
        const logOuter = -Math.log(rowSums[r] * colSums[c]) + logTotal + logTotal;
        const term = share * (Math.log(count) - logTotal) + share * logOuter;
        if (Math.abs(term) >= Number.EPSILON) mutual += term;
      }
    mutual = Math.max(0, mutual);
  }
  const homogeneity = entropyLabels > 0 ? mutual / entropyLabels : 1;
  const completeness = entropyClusters > 0 ? mutual / entropyClusters : 1;
  return homogeneity + completeness === 0 ? 0 : (2 * homogeneity * completeness) / (homogeneity + completeness);
}

/** Adjusted Rand index of `clusters` against `labels`. */
export function adjustedRandIndex(
  labels: Int32Array,
  labelCount: number,
  clusters: Int32Array,
  clusterCount: number,
  sample?: Int32Array,
): number {
  const { table, total } = contingency(labels, labelCount, clusters, clusterCount, sample);
  const { rowSums, colSums } = marginals(table, labelCount, clusterCount);
  let sumSquares = 0;
  let byClusterSize = 0;
  let byLabelSize = 0;
  for (let r = 0; r < labelCount; r++)
    for (let c = 0; c < clusterCount; c++) {
      const count = table[r * clusterCount + c];
      sumSquares += count * count;
      byClusterSize += count * colSums[c];
      byLabelSize += count * rowSums[r];
    }
  // sklearn's pair_confusion_matrix: ordered pairs of distinct units.
  const tp = sumSquares - total;
  const fp = byClusterSize - sumSquares;
  const fn = byLabelSize - sumSquares;
  const tn = total * total - fp - fn - sumSquares;
  if (fn === 0 && fp === 0) return 1;
  return (2 * (tp * tn - fn * fp)) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}
