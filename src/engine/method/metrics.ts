/**
 * Per-model numbers that need no alignment (METHOD.md "Per-model numbers", plus the issue-2 extensions), computed in
 * the model's own space on the raw embeddings, and the map comparison used by the robustness check.
 *
 * For each non-Base task t of a model (B = Base matrix, E = task matrix, rows = queries):
 * - c_i = 1 - <B_i, E_i> / (|B_i| |E_i|); mean, median and 90th percentile (numpy's default linear interpolation).
 * - shiftFraction = N |mean_i delta_i|^2 / sum_i |delta_i|^2 with delta_i = E_i - B_i (0 when every delta is 0):
 *   the share of the squared displacement that is one common shift vector.
 * - Neighbours: NN(i) = the min(10, N-1) other queries of largest cosine similarity within one task's matrix (ties:
 *   lower index). neighbourOverlap = mean_i Jaccard(NN_Base(i), NN_t(i)).
 * - Top movers: u_i = E_i/|E_i| - B_i/|B_i|; relativeMovement_i = |u_i - mean_{j in NN_Base(i)} u_j|, how much
 *   query i moved differently from its Base neighbours. Up to 10 queries with the largest value (ties: lower index).
 * The neighbour searches cost N^2 d per task (minutes at N = 10,000): with `neighbours` off they are skipped, the
 * overlaps and relative movements are null, and the top movers are the queries of largest cosine distance.
 */
import { performance } from 'node:perf_hooks';
import { UserError } from '../errors';
import { sortedPercentile } from '../evaluation/bootstrap';
import { rowNorms } from '../evaluation/vectors';
import { gemm } from '../kernels/gemm';
import { centroid2d } from './mds';
import { acquire, release } from '../kernels/scratch';
import type { EmbeddingMatrix } from '../types';

export const NEIGHBOURS = 10;
export const TOP_MOVERS = 10;

export interface TaskDisplacement {
  meanCosineDistance: number;
  medianCosineDistance: number;
  p90CosineDistance: number;
  shiftFraction: number;
  /** null when the neighbour searches were turned off. */
  neighbourOverlap: number | null;
  /** Per query (row order): c_i, the cosine distance between its Base and task embeddings (for the bootstrap). */
  cosineDistances: Float64Array;
  movers: { index: number; cosineDistance: number; relativeMovement: number | null; neighbourOverlap: number | null }[];
}

/** Displacement numbers of every non-Base task (tasks[1..]) of one model; mats[0] is Base. */
export async function modelDisplacement(
  mats: EmbeddingMatrix[],
  n: number,
  d: number,
  modelName: string,
  taskNames: readonly string[],
  neighbours = true,
  time?: NeighbourTime,
): Promise<TaskDisplacement[]> {
  // Two unit-row buffers (Base and the current task) rather than one per task: this runs in a worker per model at
  // once, and at d = 4096 each buffer is 6.5 MB per 200 queries (peak memory, issue 5). Only the neighbour numbers
  // use them: without those, none (656 MB fewer at N = 10,000, d = 4096).
  let units: { base: Float64Array; task: Float64Array; baseNeighbours: Int32Array } | null = null;
  if (neighbours) {
    const started = performance.now();
    const unitBase = unitRows(mats[0], n, d, modelName, taskNames[0], acquire(n * d));
    units = { base: unitBase, task: acquire(n * d), baseNeighbours: await nearestNeighbours(unitBase, n, d) };
    if (time) time.seconds += (performance.now() - started) / 1000;
  }
  const out: TaskDisplacement[] = [];
  const base = mats[0];
  const baseNorms = rowNorms(base, n, d, `${modelName}/${taskNames[0]}`);
  for (let i = 0; i < n; i++) if (!(baseNorms[i] > 0)) throw zeroRow(i, modelName, taskNames[0]);
  const meanDelta = new Float64Array(d);
  for (let t = 1; t < mats.length; t++) {
    const task = mats[t];
    if (units) unitRows(task, n, d, modelName, taskNames[t], units.task);
    // One pass over the rows for the cosine distances and the shift fraction's sums (the same additions in the same
    // order as separate passes: the same bits).
    const cos = new Float64Array(n);
    meanDelta.fill(0);
    let total = 0;
    for (let i = 0; i < n; i++) {
      let dot = 0;
      let nt = 0;
      const o = i * d;
      for (let j = 0; j < d; j++) {
        const b = base[o + j];
        const e = task[o + j];
        dot += b * e;
        nt += e * e;
        const delta = e - b;
        meanDelta[j] += delta;
        total += delta * delta;
      }
      if (!(nt > 0)) throw zeroRow(i, modelName, taskNames[t]);
      cos[i] = 1 - dot / (baseNorms[i] * Math.sqrt(nt));
    }
    let shift = 0;
    for (let j = 0; j < d; j++) {
      meanDelta[j] /= n;
      shift += meanDelta[j] * meanDelta[j];
    }
    const taskStarted = performance.now();
    const moved = units
      ? await neighbourMovement(units.baseNeighbours, units.base, units.task, n, d)
      : { overlap: null, jaccard: null, relative: null };
    if (time) time.seconds += (performance.now() - taskStarted) / 1000;
    const key = moved.relative ?? cos;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => key[b] - key[a] || a - b);
    const sorted = Float64Array.from(cos).sort();
    out.push({
      meanCosineDistance: cos.reduce((s, v) => s + v, 0) / n,
      medianCosineDistance: sortedPercentile(sorted, 50),
      p90CosineDistance: sortedPercentile(sorted, 90),
      shiftFraction: total > 0 ? (n * shift) / total : 0,
      neighbourOverlap: moved.overlap,
      cosineDistances: cos,
      movers: order.slice(0, TOP_MOVERS).map((i) => ({
        index: i,
        cosineDistance: cos[i],
        relativeMovement: moved.relative ? moved.relative[i] : null,
        neighbourOverlap: moved.jaccard ? moved.jaccard[i] : null,
      })),
    });
  }
  if (units) release(units.base, units.task);
  return out;
}

/** Receives the seconds modelDisplacement spent on the neighbour searches and the numbers that need them. */
export interface NeighbourTime {
  seconds: number;
}

/**
 * The neighbour numbers of one task: its neighbours NN_t from the unit task rows, per-query Jaccard overlap with the
 * Base neighbours and its mean, and the relative movements. `unitTask` is overwritten (with unitTask - unitBase).
 */
async function neighbourMovement(
  baseNeighbours: Int32Array,
  unitBase: Float64Array,
  unitTask: Float64Array,
  n: number,
  d: number,
): Promise<{ overlap: number; jaccard: Float64Array; relative: Float64Array }> {
  const m = Math.min(NEIGHBOURS, n - 1);
  const taskNeighbours = await nearestNeighbours(unitTask, n, d);
  const jaccard = new Float64Array(n);
  let overlap = 0;
  for (let i = 0; i < n; i++) {
    let inter = 0;
    const a = baseNeighbours.subarray(i * m, (i + 1) * m);
    const b = taskNeighbours.subarray(i * m, (i + 1) * m);
    for (let x = 0; x < m; x++) if (b.includes(a[x])) inter++;
    jaccard[i] = inter / (2 * m - inter);
    overlap += jaccard[i];
  }
  // u = unitTask - unitBase, in unitTask's own buffer (its neighbours are found; the next task refills it): no n x d
  // copy (328 MB at N = 10,000, d = 4096).
  const u = unitTask;
  for (let x = 0; x < n * d; x++) u[x] -= unitBase[x];
  const relative = new Float64Array(n);
  const avg = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    sumOfRows(u, baseNeighbours.subarray(i * m, (i + 1) * m), d, avg);
    let s = 0;
    for (let j = 0; j < d; j++) {
      const r = u[i * d + j] - avg[j] / m;
      s += r * r;
    }
    relative[i] = Math.sqrt(s);
  }
  return { overlap: overlap / n, jaccard, relative };
}

/**
 * avg (d) = the sum of the rows `rows` of u (n x d), added in the order given as one running sum per column would add
 * them (the same bits), five rows per pass over avg: 2.5x as fast as a pass per row, which loads and stores avg for
 * every row (paper scale: about 0.3 s of the neighbour stage).
 */
function sumOfRows(u: Float64Array, rows: Int32Array, d: number, avg: Float64Array): void {
  let x = 0;
  for (; x + 5 <= rows.length; x += 5) {
    const a = rows[x] * d, b = rows[x + 1] * d, c = rows[x + 2] * d, e = rows[x + 3] * d, f = rows[x + 4] * d;
    if (x === 0) for (let j = 0; j < d; j++) avg[j] = u[a + j] + u[b + j] + u[c + j] + u[e + j] + u[f + j];
    else for (let j = 0; j < d; j++) avg[j] = avg[j] + u[a + j] + u[b + j] + u[c + j] + u[e + j] + u[f + j];
  }
  if (x === 0) avg.fill(0);
  for (; x < rows.length; x++) {
    const a = rows[x] * d;
    for (let j = 0; j < d; j++) avg[j] += u[a + j];
  }
}

/** A zero embedding: screen.ts leaves models with zero vectors out before the analysis; this guards direct calls. */
function zeroRow(i: number, model: string, task: string): UserError {
  return new UserError(`the embedding of query ${i + 1} (row ${i + 1}) is a zero vector`, `${model}/${task}`);
}

/** Rows of `m` scaled to unit length, into `u` (n x d). */
function unitRows(m: EmbeddingMatrix, n: number, d: number, model: string, task: string, u: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += m[o + j] * m[o + j];
    if (!(s > 0)) throw zeroRow(i, model, task);
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) u[o + j] = m[o + j] * inv;
  }
  return u;
}

/** Similarities held at once by nearestNeighbours: 4 MB, whatever N is (the full N x N matrix is 800 MB at 10,000). */
const NEIGHBOUR_BLOCK_ELEMENTS = 1 << 19;

/**
 * n x m row-major neighbour indices (m = min(10, n-1)), most similar first (ties: lower index), from unit rows.
 *
 * The similarities come a block of rows at a time: block [r0, r1) is one Gemm product of its rows with rows 0..r1-1
 * (the lower triangle of U U^T, about half the work of the full product, memory bounded by the block). Each value
 * <u_i, u_j> (j < i) is offered to both rows, i and j; every row keeps its m best in an insertion-sorted list, and
 * the offers reach each row in increasing column order (its own block's columns first, then each later block's rows
 * in order), where a later j enters only when strictly more similar: the stable order.
 */
export async function nearestNeighbours(
  unit: Float64Array,
  n: number,
  d: number,
  blockElements = NEIGHBOUR_BLOCK_ELEMENTS,
): Promise<Int32Array> {
  const m = Math.min(NEIGHBOURS, n - 1);
  const blockRows = Math.max(1, Math.min(n, Math.floor(blockElements / n)));
  const block = acquire(blockRows * n);
  const out = new Int32Array(n * m);
  const best = new Float64Array(n * m);
  const size = new Int32Array(n);
  const offer = (row: number, j: number, s: number): void => {
    const o = row * m;
    if (size[row] === m && !(s > best[o + m - 1])) return;
    let at = size[row] < m ? size[row]++ : m - 1;
    while (at > 0 && s > best[o + at - 1]) {
      best[o + at] = best[o + at - 1];
      out[o + at] = out[o + at - 1];
      at--;
    }
    best[o + at] = s;
    out[o + at] = j;
  };
  for (let r0 = 0; r0 < n; r0 += blockRows) {
    const r1 = Math.min(n, r0 + blockRows);
    const sim = block.subarray(0, (r1 - r0) * r1);
    // Neighbour ties go to the lower index: identical queries must get identical similarities wherever they are.
    await gemm(unit.subarray(r0 * d, r1 * d), unit.subarray(0, r1 * d), r1 - r0, d, r1, { transB: true, out: sim, sameOrderEveryEntry: true });
    for (let i = r0; i < r1; i++) {
      const row = (i - r0) * r1;
      // Row i: columns 0..r1-1 in order; within the block the lower-triangle value <u_max, u_min> for both rows.
      for (let j = 0; j < r1; j++) if (j !== i) offer(i, j, j < i ? sim[row + j] : sim[(j - r0) * r1 + i]);
      // Rows of earlier blocks: column i, after every column of their own block and of the blocks in between.
      for (let j = 0; j < r0; j++) offer(j, i, sim[row + j]);
    }
  }
  release(block);
  return out;
}

/**
 * scipy.spatial.procrustes(a, b)[2] for two P x 2 maps: both centred and scaled to unit Frobenius norm, b rotated
 * and scaled optimally onto a; the disparity is then 1 - (sigma_1 + sigma_2)^2 with sigma the singular values of
 * a^T b, and (sigma_1 + sigma_2)^2 = ||a^T b||_F^2 + 2 |det(a^T b)|. A map whose points all coincide has no shape:
 * disparity 0 against another such map, 1 otherwise.
 */
export function mapDisparity(a: Float64Array, b: Float64Array, p: number): number {
  const sa = standardise(a, p);
  const sb = standardise(b, p);
  if (!sa || !sb) return sa === sb ? 0 : 1;
  let c00 = 0, c01 = 0, c10 = 0, c11 = 0;
  for (let i = 0; i < p; i++) {
    c00 += sa[2 * i] * sb[2 * i];
    c01 += sa[2 * i] * sb[2 * i + 1];
    c10 += sa[2 * i + 1] * sb[2 * i];
    c11 += sa[2 * i + 1] * sb[2 * i + 1];
  }
  const sum2 = c00 * c00 + c01 * c01 + c10 * c10 + c11 * c11 + 2 * Math.abs(c00 * c11 - c01 * c10);
  return Math.max(0, 1 - sum2);
}

function standardise(x: Float64Array, p: number): Float64Array | null {
  const [mx, my] = centroid2d(x, p);
  const out = new Float64Array(2 * p);
  let ss = 0;
  for (let i = 0; i < p; i++) {
    out[2 * i] = x[2 * i] - mx;
    out[2 * i + 1] = x[2 * i + 1] - my;
    ss += out[2 * i] * out[2 * i] + out[2 * i + 1] * out[2 * i + 1];
  }
  if (!(ss > 0)) return null;
  const inv = 1 / Math.sqrt(ss);
  for (let i = 0; i < 2 * p; i++) out[i] *= inv;
  return out;
}
