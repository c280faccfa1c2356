/**
 * Pooling of token states into one vector per text, on plain row-major tensors (as onnxruntime returns them).
 * Padding may be on either side: every rule reads the attention mask, never a fixed position.
 */

export type TokenPooling = 'cls' | 'mean' | 'last';

/** A [batch, seq, hidden] float tensor and its [batch, seq] attention mask (0/1, number or bigint). */
export interface TokenStates {
  data: ArrayLike<number>;
  dims: readonly [number, number, number] | readonly number[];
  mask: ArrayLike<number | bigint>;
}

/** One pooled vector per batch row. */
export function poolTokens(states: TokenStates, pooling: TokenPooling): Float32Array[] {
  const [batch, seq, hidden] = states.dims;
  if (states.dims.length !== 3) throw new Error(`token states must be [batch, seq, hidden], got [${states.dims}]`);
  if (states.mask.length !== batch * seq) {
    throw new Error(`attention mask has ${states.mask.length} values, expected ${batch} x ${seq}`);
  }
  const rows: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const kept: number[] = [];
    for (let t = 0; t < seq; t++) if (Number(states.mask[b * seq + t]) !== 0) kept.push(t);
    if (kept.length === 0) throw new Error(`batch row ${b} has no unmasked token to pool`);
    const out = new Float32Array(hidden);
    if (pooling === 'mean') {
      // Accumulate in float64: the mean of many float32 values should not depend on the padding length.
      const sum = new Float64Array(hidden);
      for (const t of kept) {
        const offset = (b * seq + t) * hidden;
        for (let h = 0; h < hidden; h++) sum[h] += states.data[offset + h];
      }
      for (let h = 0; h < hidden; h++) out[h] = sum[h] / kept.length;
    } else {
      const t = pooling === 'cls' ? kept[0] : kept[kept.length - 1];
      const offset = (b * seq + t) * hidden;
      for (let h = 0; h < hidden; h++) out[h] = states.data[offset + h];
    }
    rows.push(out);
  }
  return rows;
}

/** Splits a [batch, dim] tensor (e.g. `sentence_embedding`) into rows. */
export function splitRows(data: ArrayLike<number>, dims: readonly number[]): Float32Array[] {
  if (dims.length !== 2) throw new Error(`sentence embeddings must be [batch, dim], got [${dims}]`);
  const [batch, dim] = dims;
  const rows: Float32Array[] = [];
  for (let b = 0; b < batch; b++) rows.push(Float32Array.from({ length: dim }, (_, h) => data[b * dim + h]));
  return rows;
}

/** L2-normalises in place (a zero vector stays zero) and returns the vector. */
export function normalizeL2(vector: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i] * vector[i];
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] /= norm;
  return vector;
}

/**
 * A copy of the attention mask with the first `masked[b]` real tokens of each row set to 0 (INSTRUCTOR: the
 * instruction tokens take part in attention but not in the mean). Real tokens are found by the mask, so this
 * works with left padding too.
 */
export function maskLeadingTokens(
  mask: ArrayLike<number | bigint>,
  dims: readonly number[],
  masked: readonly number[],
): number[] {
  const [batch, seq] = dims;
  const out = Array.from(mask, (v) => Number(v));
  for (let b = 0; b < batch; b++) {
    let left = masked[b];
    for (let t = 0; t < seq && left > 0; t++) {
      if (out[b * seq + t] !== 0) {
        out[b * seq + t] = 0;
        left--;
      }
    }
  }
  return out;
}

/** A sentence-transformers Dense layer: y = activation(W x + b), W stored [out, in] row-major. */
export interface DenseLayer {
  inFeatures: number;
  outFeatures: number;
  weight: Float32Array;
  bias?: Float32Array;
  activation: 'identity' | 'tanh';
}

export function applyDense(layer: DenseLayer, x: Float32Array): Float32Array {
  if (x.length !== layer.inFeatures) {
    throw new Error(`Dense layer expects ${layer.inFeatures} inputs, the model gave ${x.length}`);
  }
  const y = new Float32Array(layer.outFeatures);
  for (let o = 0; o < layer.outFeatures; o++) {
    let sum = layer.bias ? layer.bias[o] : 0;
    const row = o * layer.inFeatures;
    for (let i = 0; i < layer.inFeatures; i++) sum += layer.weight[row + i] * x[i];
    y[o] = layer.activation === 'tanh' ? Math.tanh(sum) : sum;
  }
  return y;
}
