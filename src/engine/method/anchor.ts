/**
 * Anchoring a new 2-D map to the previous one (METHOD.md "Live preview (frozen frame) and anchoring"): the rigid
 * motion (rotation or reflection, plus translation, no scaling) that brings the new map's points closest, in least
 * squares, to the previous map's positions of the same (model, task) points; then the whole new map is moved by it.
 *
 * 2-D orthogonal Procrustes in closed form. With a, b the matched points centred on their centroids, a rotation by
 * theta (row vectors, [x y] R) scores sum b . (a R) = cos(theta) sum(a . b) + sin(theta) sum(a_x b_y - a_y b_x),
 * largest at theta = atan2(cross, dot) with value hypot(dot, cross). A reflection is F R with F = diag(1, -1): the
 * same with a_y negated. The larger value wins (ties: the rotation). Translation t = mean(b) - mean(a) R.
 * Points are matched by model and task name (a Map keyed by the pair, never object keys: names are data).
 */
import type { AnalysisResult, MapAnchor, MapPoint } from '../types';

/** [x y] -> [x y] R + t, R = [[r[0], r[1]], [r[2], r[3]]]. */
export interface PlaneTransform {
  rotation: [number, number, number, number];
  translation: [number, number];
}

export const IDENTITY_PLANE: PlaneTransform = { rotation: [1, 0, 0, 1], translation: [0, 0] };

/** The rigid motion taking `from` (count points as (x, y) pairs) closest to `to`. Identity when count is 0. */
export function fitPlaneProcrustes(from: ArrayLike<number>, to: ArrayLike<number>, count: number): PlaneTransform {
  if (count === 0) return IDENTITY_PLANE;
  let ax = 0;
  let ay = 0;
  let bx = 0;
  let by = 0;
  for (let i = 0; i < count; i++) {
    ax += from[2 * i];
    ay += from[2 * i + 1];
    bx += to[2 * i];
    by += to[2 * i + 1];
  }
  ax /= count;
  ay /= count;
  bx /= count;
  by /= count;
  let dot = 0;
  let cross = 0;
  let dotReflected = 0;
  let crossReflected = 0;
  for (let i = 0; i < count; i++) {
    const x = from[2 * i] - ax;
    const y = from[2 * i + 1] - ay;
    const u = to[2 * i] - bx;
    const v = to[2 * i + 1] - by;
    dot += x * u + y * v;
    cross += x * v - y * u;
    dotReflected += x * u - y * v;
    crossReflected += x * v + y * u;
  }
  const reflect = Math.hypot(dotReflected, crossReflected) > Math.hypot(dot, cross);
  const theta = reflect ? Math.atan2(crossReflected, dotReflected) : Math.atan2(cross, dot);
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  // R(theta) = [[c, s], [-s, c]]; F R(theta) negates its second row.
  const rotation: [number, number, number, number] = reflect ? [c, s, s, -c] : [c, s, -s, c];
  const translation: [number, number] = [bx - (ax * rotation[0] + ay * rotation[2]), by - (ax * rotation[1] + ay * rotation[3])];
  return { rotation, translation };
}

export function applyPlane(transform: PlaneTransform, x: number, y: number): [number, number] {
  const [r0, r1, r2, r3] = transform.rotation;
  return [x * r0 + y * r2 + transform.translation[0], x * r1 + y * r3 + transform.translation[1]];
}

/** Moves count points stored as (x, y) pairs, in place. */
export function applyPlaneInPlace(transform: PlaneTransform, coords: Float64Array, count: number): void {
  for (let i = 0; i < count; i++) {
    const [x, y] = applyPlane(transform, coords[2 * i], coords[2 * i + 1]);
    coords[2 * i] = x;
    coords[2 * i + 1] = y;
  }
}

/** The motion `first`, then `second`. */
export function composePlane(first: PlaneTransform, second: PlaneTransform): PlaneTransform {
  const [a0, a1, a2, a3] = first.rotation;
  const [b0, b1, b2, b3] = second.rotation;
  return {
    rotation: [a0 * b0 + a1 * b2, a0 * b1 + a1 * b3, a2 * b0 + a3 * b2, a2 * b1 + a3 * b3],
    translation: applyPlane(second, first.translation[0], first.translation[1]),
  };
}

/** The larger side of the bounding box of p points stored as (x, y) pairs. */
export function mapExtent(coords: ArrayLike<number>, p: number): number {
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < p; i++) {
    minX = Math.min(minX, coords[2 * i]);
    maxX = Math.max(maxX, coords[2 * i]);
    minY = Math.min(minY, coords[2 * i + 1]);
    maxY = Math.max(maxY, coords[2 * i + 1]);
  }
  return p === 0 ? 0 : Math.max(maxX - minX, maxY - minY);
}

const pairKey = (model: string, task: string): string => JSON.stringify([model, task]);

/** The points of `points` that `previous` also has, as two coordinate lists in the same order. */
export function matchPoints(points: readonly MapPoint[], previous: readonly MapPoint[]): { from: number[]; to: number[] } {
  const before = new Map(previous.map((point) => [pairKey(point.model, point.task), point]));
  const from: number[] = [];
  const to: number[] = [];
  for (const point of points) {
    const old = before.get(pairKey(point.model, point.task));
    if (!old) continue;
    from.push(point.x, point.y);
    to.push(old.x, old.y);
  }
  return { from, to };
}

/**
 * The exact analysis `result` with its map anchored to `previous` (the map shown before): points moved by the fitted
 * rigid motion, `mapMode: 'anchored'` and `mapAnchor` added. Trajectory lengths, distances and stress are unchanged by
 * a rigid motion and are kept as computed. Returns the transform too (the frame of the result follows it).
 */
export function anchorResult(result: AnalysisResult, previous: readonly MapPoint[]): { result: AnalysisResult; transform: PlaneTransform } {
  const { from, to } = matchPoints(result.points, previous);
  const count = from.length / 2;
  const transform = fitPlaneProcrustes(from, to, count);
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const [x, y] = applyPlane(transform, from[2 * i], from[2 * i + 1]);
    sum += (x - to[2 * i]) ** 2 + (y - to[2 * i + 1]) ** 2;
  }
  const [r0, r1, r2, r3] = transform.rotation;
  const mapAnchor: MapAnchor = {
    matchedPoints: count,
    rotation: [
      [r0, r1],
      [r2, r3],
    ],
    translation: [...transform.translation],
    reflected: r0 * r3 - r1 * r2 < 0,
    rmsResidual: count > 0 ? Math.sqrt(sum / count) : 0,
  };
  const points = result.points.map((point) => {
    const [x, y] = applyPlane(transform, point.x, point.y);
    return { ...point, x, y };
  });
  return { result: { ...result, points, mapMode: 'anchored', mapAnchor }, transform };
}
