/** METHOD.md step 2's common dimension: k = min(k_requested, N*T - 1, min_m d_m), with the bounds that cap it. */
export interface KChoice {
  k: number;
  /** N*T - 1: the rank of the centred stack of a model's T matrices of N rows. */
  rows: number;
  /** The smallest model dimension, and the first model that has it. */
  dimension: number;
  dimensionModel: string;
}

export function chooseK(requested: number, n: number, taskCount: number, models: readonly string[], dims: readonly number[]): KChoice {
  const rows = n * taskCount - 1;
  const dimension = Math.min(...dims);
  return { k: Math.min(requested, rows, dimension), rows, dimension, dimensionModel: models[dims.indexOf(dimension)] };
}
