/**
 * Placing one more point on a finished 2-D map without moving the map's P points (METHOD.md "Live preview"):
 * `delta` holds the new point's distances to the P points (the same kind of distance the map was made from).
 *
 * Classical maps: Gower's add-a-point formula (Gower 1968), the Nystrom extension of classical MDS. With
 * B = -1/2 J D2 J = V Lambda V^T and Y = V Lambda^(1/2) (mds.ts), the new point's double-centred inner products with
 * the P points are b_i = -1/2 (delta_i^2 - rowMean_i(D2) - mean_j(delta_j^2) + mean(D2)), and
 * y_c = (1 / lambda_c) sum_i Y_ic b_i. The terms constant in i drop out because the columns of Y sum to zero, so
 * y = 1/2 Lambda^-1 Y^T (rowMean(D2) - delta^2) (rowMean(D2) and diag(B) differ by a constant: the same y). For a
 * point of the map itself (delta = its row of D) this is Lambda^-1 Y^T B e_i = Y_i exactly, since V^T B = Lambda V^T.
 * An axis with lambda_c <= 0 is 0 on the map and 0 here.
 *
 * SMACOF maps: the new point alone is moved by Guttman transforms with the P points held fixed,
 * y <- (1/P) sum_i [x_i + delta_i (y - x_i) / |y - x_i|] (the term's second part is 0 when y = x_i), which never
 * increases its stress sum_i (|y - x_i| - delta_i)^2. Start: the map point with the smallest delta (ties: lowest
 * index). Stop when a step moves y by at most 1e-12 of the map's extent, or after 10000 transforms.
 */
import { mapExtent } from './anchor';
import type { ClassicalFit } from './mds';

export const OUT_OF_SAMPLE_MAX_ITERATIONS = 10000;
export const OUT_OF_SAMPLE_TOLERANCE = 1e-12;

export function gowerPoint(fit: ClassicalFit, p: number, delta: Float64Array): [number, number] {
  const out: [number, number] = [0, 0];
  for (let c = 0; c < 2; c++) {
    const lambda = fit.values[c];
    if (!(lambda > 0)) continue;
    let s = 0;
    for (let i = 0; i < p; i++) s += fit.coords[2 * i + c] * (fit.rowMeanSquared[i] - delta[i] * delta[i]);
    out[c] = s / (2 * lambda);
  }
  return out;
}

export function smacofPoint(coords: Float64Array, p: number, delta: Float64Array): [number, number] {
  let start = 0;
  for (let i = 1; i < p; i++) if (delta[i] < delta[start]) start = i;
  let x = coords[2 * start];
  let y = coords[2 * start + 1];
  const tolerance = OUT_OF_SAMPLE_TOLERANCE * Math.max(mapExtent(coords, p), Number.MIN_VALUE);
  for (let iter = 0; iter < OUT_OF_SAMPLE_MAX_ITERATIONS; iter++) {
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < p; i++) {
      const dx = x - coords[2 * i];
      const dy = y - coords[2 * i + 1];
      const d = Math.sqrt(dx * dx + dy * dy);
      sx += coords[2 * i];
      sy += coords[2 * i + 1];
      if (d > 0) {
        sx += (delta[i] * dx) / d;
        sy += (delta[i] * dy) / d;
      }
    }
    const nx = sx / p;
    const ny = sy / p;
    const step = Math.hypot(nx - x, ny - y);
    x = nx;
    y = ny;
    if (step <= tolerance) break;
  }
  return [x, y];
}
