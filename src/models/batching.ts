/**
 * Batches of text indices, sorted by length so that each batch pads little. Callers write results back by index,
 * which restores the original order.
 */
export function planBatches(texts: readonly string[], batchSize: number): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length || a - b);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize));
  return batches;
}
