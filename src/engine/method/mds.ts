/**
 * Step 6 of METHOD.md: multidimensional scaling of a distance matrix (P x P, row-major) to 2-D coordinates
 * (P x 2 row-major).
 *
 * - Classical (Torgerson): B = -1/2 J D2 J with D2 the squared distances; coordinates = v * sqrt(max(lambda, 0)) for
 *   the two largest eigenpairs.
 * - SMACOF (metric, unit weights): start from uniform [0,1) coordinates drawn from mulberry32(seed) in row order
 *   (x0, y0, x1, y1, ...); repeat the Guttman transform X <- B(X) X / P, where B_ij = -delta_ij / d_ij(X) (0 when
 *   d_ij(X) = 0) and B_ii = -sum_{j != i} B_ij, at most 300 times; stop after the first transform whose raw stress
 *   sum_{i<j} (d_ij - delta_ij)^2 decreased by less than 1e-6 of the previous raw stress (or when it is 0). The result
 *   is centred.
 * Both: each axis is flipped so that its coordinate of largest absolute value (ties: lowest point) is positive.
 */
import { mulberry32, symmetricEigenTop } from '../kernels/linalg';

export const SMACOF_MAX_ITERATIONS = 300;
export const SMACOF_RELATIVE_TOLERANCE = 1e-6;

/**
 * What out-of-sample placement (outOfSample.ts) needs from a classical map: the coordinates Y (P x 2, signs as
 * returned), the two eigenvalues behind them and the row means of the squared distances.
 */
export interface ClassicalFit {
  coords: Float64Array;
  values: [number, number];
  rowMeanSquared: Float64Array;
}

export function classicalMds(dist: Float64Array, p: number): Float64Array {
  return classicalMdsFit(dist, p).coords;
}

export function classicalMdsFit(dist: Float64Array, p: number): ClassicalFit {
  const b = new Float64Array(p * p);
  const rowMean = new Float64Array(p);
  let grand = 0;
  for (let i = 0; i < p; i++) {
    let s = 0;
    for (let j = 0; j < p; j++) {
      const v = dist[i * p + j] * dist[i * p + j];
      b[i * p + j] = v;
      s += v;
    }
    rowMean[i] = s / p;
    grand += s;
  }
  grand /= p * p;
  // D2 is symmetric, so column means equal row means.
  for (let i = 0; i < p; i++)
    for (let j = 0; j < p; j++) b[i * p + j] = -0.5 * (b[i * p + j] - rowMean[i] - rowMean[j] + grand);
  const eig = symmetricEigenTop(b, p, 2);
  const kk = eig.values.length;
  const coords = new Float64Array(p * 2);
  const values: [number, number] = [0, 0];
  for (let c = 0; c < kk; c++) {
    values[c] = eig.values[c];
    const root = Math.sqrt(Math.max(eig.values[c], 0));
    for (let i = 0; i < p; i++) coords[i * 2 + c] = eig.vectors[i * kk + c] * root;
  }
  fixAxisSigns(coords, p);
  return { coords, values, rowMeanSquared: rowMean };
}

export function smacofMds(dist: Float64Array, p: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  let x = new Float64Array(p * 2);
  for (let i = 0; i < p * 2; i++) x[i] = rng();
  let next = new Float64Array(p * 2);
  let stress = rawStress(x, dist, p);
  for (let iter = 0; iter < SMACOF_MAX_ITERATIONS && stress > 0; iter++) {
    next.fill(0);
    for (let i = 0; i < p; i++) {
      let diag = 0;
      let sx = 0;
      let sy = 0;
      const xi = x[2 * i];
      const yi = x[2 * i + 1];
      for (let j = 0; j < p; j++) {
        if (j === i) continue;
        const dx = xi - x[2 * j];
        const dy = yi - x[2 * j + 1];
        const dij = Math.sqrt(dx * dx + dy * dy);
        const bij = dij > 0 ? -dist[i * p + j] / dij : 0;
        diag -= bij;
        sx += bij * x[2 * j];
        sy += bij * x[2 * j + 1];
      }
      next[2 * i] = (sx + diag * xi) / p;
      next[2 * i + 1] = (sy + diag * yi) / p;
    }
    [x, next] = [next, x];
    const updated = rawStress(x, dist, p);
    const converged = stress - updated < SMACOF_RELATIVE_TOLERANCE * stress;
    stress = updated;
    if (converged) break;
  }
  const [mx, my] = centroid2d(x, p);
  for (let i = 0; i < p; i++) {
    x[2 * i] -= mx;
    x[2 * i + 1] -= my;
  }
  fixAxisSigns(x, p);
  return x;
}

/** Mean of p points stored as (x, y) pairs. */
export function centroid2d(x: Float64Array, p: number): [number, number] {
  let mx = 0;
  let my = 0;
  for (let i = 0; i < p; i++) {
    mx += x[2 * i];
    my += x[2 * i + 1];
  }
  return [mx / p, my / p];
}

function rawStress(x: Float64Array, dist: Float64Array, p: number): number {
  let s = 0;
  for (let i = 0; i < p; i++)
    for (let j = i + 1; j < p; j++) {
      const dx = x[2 * i] - x[2 * j];
      const dy = x[2 * i + 1] - x[2 * j + 1];
      const r = Math.sqrt(dx * dx + dy * dy) - dist[i * p + j];
      s += r * r;
    }
  return s;
}

/** Kruskal stress-1: sqrt(sum_{i<j} (map distance - delta)^2 / sum_{i<j} delta^2); 0 when all delta are 0. */
export function kruskalStress(coords: Float64Array, dist: Float64Array, p: number): number {
  let den = 0;
  for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) den += dist[i * p + j] * dist[i * p + j];
  return den > 0 ? Math.sqrt(rawStress(coords, dist, p) / den) : 0;
}

export function fixAxisSigns(coords: Float64Array, p: number): void {
  for (let c = 0; c < 2; c++) {
    let best = 0;
    let at = 0;
    for (let i = 0; i < p; i++) {
      const v = Math.abs(coords[2 * i + c]);
      if (v > best) {
        best = v;
        at = i;
      }
    }
    if (coords[2 * at + c] < 0) for (let i = 0; i < p; i++) coords[2 * i + c] = -coords[2 * i + c];
  }
}
