/**
 * Leave-one-out k-nearest-neighbour labels of EVAL.md ("classification": kNN accuracy): k = 5 (fewer when there are
 * fewer other queries), cosine similarity (the Gram matrix of the L2-normalised vectors), neighbours ordered by
 * similarity descending then lower index first, majority vote; a vote tie goes to the label of the nearest of the
 * tied neighbours.
 */

export const KNN_NEIGHBOURS = 5;

/** The kNN label of each of the n queries from their n x n similarity matrix (row-major; the diagonal is skipped). */
export function knnPredictions(similarity: Float64Array, n: number, labels: Int32Array, labelCount: number): Int32Array {
  const k = Math.min(KNN_NEIGHBOURS, n - 1);
  const out = new Int32Array(n);
  const nearest = new Int32Array(k);
  const votes = new Int32Array(labelCount);
  for (let q = 0; q < n; q++) {
    const row = q * n;
    // Insertion into the k best so far; a later index never displaces an equal similarity (lower index first).
    let found = 0;
    for (let j = 0; j < n; j++) {
      if (j === q) continue;
      const s = similarity[row + j];
      if (found === k && !(s > similarity[row + nearest[k - 1]])) continue;
      let at = found < k ? found++ : k - 1;
      while (at > 0 && s > similarity[row + nearest[at - 1]]) {
        nearest[at] = nearest[at - 1];
        at--;
      }
      nearest[at] = j;
    }
    votes.fill(0);
    let most = 0;
    for (let x = 0; x < k; x++) most = Math.max(most, ++votes[labels[nearest[x]]]);
    let label = -1;
    for (let x = 0; x < k && label < 0; x++) if (votes[labels[nearest[x]]] === most) label = labels[nearest[x]];
    out[q] = label;
  }
  return out;
}
