/**
 * The first non-finite value (NaN or an infinity) of a matrix's values, or -1: the check every .npy file gets when it
 * is read and every model gets again in the analysis workers.
 *
 * One loop per storage type, each seeing a single array type, so that V8 compiles it for that type alone: one loop
 * over `Float32Array | Float64Array` took 6 ns a value in the CLI (200 ms of reading a paper-scale bundle), these
 * about 1.2 ns. A float32 is non-finite exactly when its 8 exponent bits are all ones, tested on its bits.
 */
import type { EmbeddingMatrix } from '../types';

const FLOAT32_EXPONENT = 0x7f800000;

export function firstNonFinite(values: EmbeddingMatrix): number {
  return values instanceof Float32Array ? firstNonFinite32(values) : firstNonFinite64(values);
}

function firstNonFinite32(values: Float32Array): number {
  const bits = new Int32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) if ((bits[i] & FLOAT32_EXPONENT) === FLOAT32_EXPONENT) return i;
  return -1;
}

function firstNonFinite64(values: Float64Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}
