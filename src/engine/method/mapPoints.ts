/**
 * Steps 6-7 of METHOD.md: the points aligned onto a reference and the cosine distances between them, from their Gram.
 *
 * A point is Q queries of W numbers ('flatten': Q = N, W = k; 'centroid': Q = 1, W = k), so the inner product of two
 * points is a sum over queries and the Gram is the sum of the Grams of blocks of queries. Where all the points are
 * large (6 models x 6 tasks at N = 10,000: 576 MB of aligned points) they are aligned and multiplied a block of
 * queries at a time: a map then took 0.6x the worker time of aligning every point whole (two workers making maps at
 * once, N = 10,000; 0.8x at N = 2,000), and the aligned points are never all held. A block has at least 256 queries
 * (smaller products lose more to each Gemm call than the cache gains: 50 models x 6 tasks in blocks of 69 queries
 * took 1.05x one block, in blocks of 17 2.2x), so paper-scale and 50-model maps stay one block, as before.
 * The blocks depend on the points' shape only: the map (which aligns a block at a time) and the preview (which copies
 * blocks out of the frame's points) get the same bits.
 */
import { UserError } from '../errors';
import { gemm, gramOf } from '../kernels/gemm';
import { acquire, release } from '../kernels/scratch';
import { sharedFloat64 } from '../kernels/shared';
import { rotationOnto } from './procrustes';
import type { PointsMode } from '../types';

/** Bytes of one block of all the points' aligned rows, above the least block. */
const BLOCK_BYTES = 16 * 1024 * 1024;
/** The least queries per block (while there are that many). */
const MIN_BLOCK_QUERIES = 256;

export interface PointShape {
  /** Number of points P. */
  points: number;
  /** Queries per point (N for 'flatten', 1 for 'centroid'). */
  queries: number;
  /** Numbers per query (k). */
  width: number;
}

/** Writes queries first..first+count-1 of every point into `into` (P x count*width, point-major). */
export type BlockFill = (into: Float64Array, first: number, count: number) => Promise<void>;

export function queriesPerBlock({ points, queries, width }: PointShape): number {
  const fitting = Math.floor(BLOCK_BYTES / (points * width * Float64Array.BYTES_PER_ELEMENT));
  return Math.min(queries, Math.max(MIN_BLOCK_QUERIES, fitting));
}

/**
 * Lower triangle and diagonal of the points' Gram (P x P row-major; the upper triangle is not set), summed over the
 * blocks of queriesPerBlock in order. `source` is either the points whole (P x queries*width), of which each block is
 * copied out (none when one block covers them), or a BlockFill that writes each block.
 */
export async function pointGram(shape: PointShape, source: Float64Array | BlockFill): Promise<Float64Array> {
  const { points: p, queries, width } = shape;
  const per = queriesPerBlock(shape);
  const g = new Float64Array(p * p);
  if (per === queries && typeof source !== 'function') return gramOf(source, p, queries * width, g, true);
  const block = acquire(p * per * width);
  const part = per < queries ? acquire(p * p) : g;
  try {
    for (let first = 0; first < queries; first += per) {
      const count = Math.min(per, queries - first);
      const rows = block.subarray(0, p * count * width);
      if (typeof source === 'function') await source(rows, first, count);
      else
        for (let a = 0; a < p; a++) {
          const from = (a * queries + first) * width;
          rows.set(source.subarray(from, from + count * width), a * count * width);
        }
      await gramOf(rows, p, count * width, first === 0 ? g : part, true);
      if (first > 0) for (let a = 0; a < p; a++) for (let b = 0; b <= a; b++) g[a * p + b] += part[a * p + b];
    }
  } finally {
    release(block);
    if (part !== g) release(part);
  }
  return g;
}

/**
 * Cosine distances (P x P) from the points' Gram (lower triangle read), model-major with `tasks` points per model:
 * exactly 0 on the diagonal and exactly symmetric. A zero point is a UserError.
 */
export function cosineOfGram(g: Float64Array, p: number, tasks: number): Float64Array {
  const norms = new Float64Array(p);
  for (let a = 0; a < p; a++) {
    norms[a] = Math.sqrt(g[a * p + a]);
    if (!(norms[a] > 0)) {
      throw new UserError(
        `the aligned point of model #${Math.floor(a / tasks) + 1}, task #${(a % tasks) + 1} is zero: ` +
          'its embeddings do not vary',
        'bundle',
      );
    }
  }
  const cosine = new Float64Array(p * p);
  for (let a = 0; a < p; a++)
    for (let b = 0; b < a; b++) {
      const v = 1 - g[a * p + b] / (norms[a] * norms[b]);
      cosine[a * p + b] = v;
      cosine[b * p + a] = v;
    }
  return cosine;
}

/** Cosine distances between the points given whole (P x queries*width), as the map computes them. */
export async function cosineOfPoints(pts: Float64Array, shape: PointShape, tasks: number): Promise<Float64Array> {
  return cosineOfGram(await pointGram(shape, pts), shape.points, tasks);
}

export function pointShape(mode: PointsMode, models: number, tasks: number, n: number, k: number): PointShape {
  return { points: models * tasks, queries: mode === 'flatten' ? n : 1, width: k };
}

export interface AlignedInputs {
  /** Per model, its N*T x k scores. */
  scores: readonly Float64Array[];
  /** Q for every unordered pair i < j (pairIndex order), k x k. */
  pairRotations: readonly Float64Array[];
  n: number;
  tasks: number;
  k: number;
  points: PointsMode;
}

/**
 * The cosine distances of the points aligned onto `ref` (A[m][t] = S[m][t] Q_{m,ref}, on Gemm), and with `withFrame`
 * the aligned points themselves (P x len, in shared memory: previews on another worker read them in place).
 */
export async function alignedCosine(
  input: AlignedInputs,
  ref: number,
  withFrame: boolean,
): Promise<{ cosine: Float64Array; points?: Float64Array }> {
  const { scores, pairRotations, n, tasks, k } = input;
  const models = scores.length;
  const shape = pointShape(input.points, models, tasks, n, k);
  const len = shape.queries * k;
  const kept = withFrame ? sharedFloat64(shape.points * len) : undefined;
  const rotations = scores.map((_, m) => rotationOnto(pairRotations, m, ref, models));
  const align = async (m: number, x: Float64Array, rows: number, out: Float64Array): Promise<void> => {
    const rotation = rotations[m];
    if (rotation) await gemm(x, rotation.q, rows, k, k, { transB: rotation.transposed, out });
    else out.set(x);
  };
  const centroids = input.points === 'centroid' ? scores.map((s) => taskMeans(s, n, tasks, k)) : [];
  const fill: BlockFill = async (into, first, count) => {
    const rowsPerPoint = count * k;
    for (let m = 0; m < models; m++) {
      const out = into.subarray(m * tasks * rowsPerPoint, (m + 1) * tasks * rowsPerPoint);
      // A whole block is the model's scores as they lie (tasks one after another): one product for all its tasks.
      if (input.points === 'centroid') await align(m, centroids[m], tasks, out);
      else if (count === n) await align(m, scores[m], n * tasks, out);
      else
        for (let t = 0; t < tasks; t++) {
          const from = (t * n + first) * k;
          await align(m, scores[m].subarray(from, from + rowsPerPoint), count, out.subarray(t * rowsPerPoint, (t + 1) * rowsPerPoint));
        }
    }
    if (kept)
      for (let a = 0; a < shape.points; a++)
        kept.set(into.subarray(a * rowsPerPoint, (a + 1) * rowsPerPoint), a * len + first * k);
  };
  const cosine = cosineOfGram(await pointGram(shape, fill), shape.points, tasks);
  return kept ? { cosine, points: kept } : { cosine };
}

/** Column means of each task's N x k block of a model's scores (T x k). */
function taskMeans(s: Float64Array, n: number, tasks: number, k: number): Float64Array {
  const means = new Float64Array(tasks * k);
  for (let t = 0; t < tasks; t++) {
    for (let i = 0; i < n; i++) {
      const o = (t * n + i) * k;
      for (let c = 0; c < k; c++) means[t * k + c] += s[o + c];
    }
    for (let c = 0; c < k; c++) means[t * k + c] /= n;
  }
  return means;
}
