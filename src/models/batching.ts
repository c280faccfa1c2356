/**
 * Batches of text indices, sorted by length so that each batch pads little. Callers write results back by index,
 * which restores the original order.
 */
export function planBatches(texts: readonly string[], batchSize: number): number[][] {
  return planBatchesByLength(texts.map((text) => text.length), batchSize);
}

/**
 * Batches of indices by a length per item (token counts: embedWorker runs a batch as one model run per token count,
 * so batches sorted by token count need few runs), shortest first; ties in index order.
 */
export function planBatchesByLength(lengths: readonly number[], batchSize: number): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize));
  return batches;
}
