/**
 * The clustering kind of EVAL.md: V-measure (main) and adjusted Rand index (clusterAgreement.ts) of k-means with
 * K = the number of labels, Euclidean on the L2-normalised vectors, the best of 10 k-means++ runs. The bootstrap
 * re-scores the fixed assignments.
 *
 * Every distance comes from the Gram matrix G of the vectors (one product on the Gemm kernel): a centre is the mean
 * of a set S of rows, so x_i . c = sum_{j in S} G_ij / |S| and ||c||^2 = sum_{j,l in S} G_jl / |S|^2, and
 * ||x_i - c||^2 = G_ii - 2 x_i . c + ||c||^2 (clamped at 0). A Lloyd iteration costs O(n^2), whatever d is.
 *
 * Choices EVAL.md leaves open (docs/EVALUATION.md "Clustering"):
 * - A run: k-means++ seeding; assignment to the seeds; then up to 300 Lloyd iterations, each recomputing the centres
 *   (an emptied cluster keeps its previous centre) and re-assigning, stopping at the first iteration that changes no
 *   assignment. Assignment ties go to the lower centre index.
 * - Inertia (to pick the run): sum over rows of the squared distance to the mean of its cluster; the first of equal
 *   inertias wins.
 * - k-means++ with a zero total (every row on a chosen centre): target 0, so index 0 (the first running sum >= 0).
 */
import { gramOf } from '../kernels/gemm';
import { SplitMix64 } from './bootstrap';
import { adjustedRandIndex, vMeasure } from './clusterAgreement';
import type { KindScore } from './scorer';

export const KMEANS_RUNS = 10;
export const KMEANS_MAX_ITERATIONS = 300;

export interface KMeansRun {
  /** Cluster of each row, 0..K-1. */
  assignments: Int32Array;
  inertia: number;
  /** Row indices of the k-means++ seeds, in the order drawn. */
  seeds: Int32Array;
  /** Lloyd iterations run (centre updates). */
  iterations: number;
}

/** The 10 runs, in order, from one SplitMix64 stream seeded with `seed`. */
export function kMeansRuns(gram: Float64Array, n: number, clusters: number, seed: number): KMeansRun[] {
  const stream = new SplitMix64(seed);
  const runs: KMeansRun[] = [];
  for (let run = 0; run < KMEANS_RUNS; run++) runs.push(kMeansRun(gram, n, clusters, stream));
  return runs;
}

/** The run with the lowest inertia (the first on ties). */
export function bestRun(runs: KMeansRun[]): KMeansRun {
  return runs.reduce((best, run) => (run.inertia < best.inertia ? run : best));
}

function kMeansRun(gram: Float64Array, n: number, clusters: number, stream: SplitMix64): KMeansRun {
  const seeds = kMeansPlusPlus(gram, n, clusters, stream);
  // Centre k = mean of the rows members[k]; kept as is when its cluster empties.
  let members: Int32Array[] = Array.from(seeds, (s) => Int32Array.of(s));
  let assignments = assign(gram, n, members);
  let iterations = 0;
  while (iterations < KMEANS_MAX_ITERATIONS) {
    iterations++;
    members = membersOf(assignments, clusters, members);
    const next = assign(gram, n, members);
    const changed = next.some((c, i) => c !== assignments[i]);
    assignments = next;
    if (!changed) break;
  }
  const inertia = inertiaOf(gram, n, membersOf(assignments, clusters, members), assignments);
  return { assignments, inertia, seeds, iterations };
}

/** EVAL.md's k-means++: first index floor(u n); each next: the first index whose running sum of D^2 reaches u * total. */
function kMeansPlusPlus(gram: Float64Array, n: number, clusters: number, stream: SplitMix64): Int32Array {
  const seeds = new Int32Array(clusters);
  seeds[0] = stream.nextIndex(n);
  const nearest = new Float64Array(n).fill(Infinity);
  for (let k = 1; k < clusters; k++) {
    const c = seeds[k - 1];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d2 = Math.max(0, gram[i * n + i] + gram[c * n + c] - 2 * gram[i * n + c]);
      if (d2 < nearest[i]) nearest[i] = d2;
      total += nearest[i];
    }
    const target = stream.nextUniform() * total;
    let running = 0;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      running += nearest[i];
      if (running >= target) {
        pick = i;
        break;
      }
    }
    seeds[k] = pick;
  }
  return seeds;
}

/** Rows of each cluster; an empty cluster keeps its previous members (its previous centre). */
function membersOf(assignments: Int32Array, clusters: number, previous: Int32Array[]): Int32Array[] {
  const lists: number[][] = Array.from({ length: clusters }, () => []);
  assignments.forEach((c, i) => lists[c].push(i));
  return lists.map((list, k) => (list.length === 0 ? previous[k] : Int32Array.from(list)));
}

/** x_i . c_k for every row and centre (n x K), and ||c_k||^2. */
function centreProducts(gram: Float64Array, n: number, members: Int32Array[]): { dots: Float64Array; norms: Float64Array } {
  const clusters = members.length;
  const dots = new Float64Array(n * clusters);
  const norms = new Float64Array(clusters);
  members.forEach((rows, k) => {
    const size = rows.length;
    for (let i = 0; i < n; i++) {
      const g = i * n;
      let s = 0;
      for (const j of rows) s += gram[g + j];
      dots[i * clusters + k] = s / size;
    }
    let s = 0;
    for (const j of rows) s += dots[j * clusters + k];
    norms[k] = s / size;
  });
  return { dots, norms };
}

/** Nearest centre of each row; a tie goes to the lower centre index. */
function assign(gram: Float64Array, n: number, members: Int32Array[]): Int32Array {
  const clusters = members.length;
  const { dots, norms } = centreProducts(gram, n, members);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestDistance = Infinity;
    for (let k = 0; k < clusters; k++) {
      const distance = gram[i * n + i] - 2 * dots[i * clusters + k] + norms[k];
      if (distance < bestDistance) {
        best = k;
        bestDistance = distance;
      }
    }
    out[i] = best;
  }
  return out;
}

function inertiaOf(gram: Float64Array, n: number, members: Int32Array[], assignments: Int32Array): number {
  const clusters = members.length;
  const { dots, norms } = centreProducts(gram, n, members);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const k = assignments[i];
    sum += Math.max(0, gram[i * n + i] - 2 * dots[i * clusters + k] + norms[k]);
  }
  return sum;
}

/**
 * The clustering score of one (model, task): values [vMeasure, ARI]; mainOn = V-measure of the fixed assignments on
 * a resample of the queries. `vectors`: n x d row-major, L2-normalised; `labels`: 0..labelCount-1 per row; `seed`:
 * the analysis seed (a fresh SplitMix64 stream per call).
 */
export async function scoreClustering(
  vectors: Float64Array,
  n: number,
  d: number,
  labels: Int32Array,
  labelCount: number,
  seed: number,
): Promise<KindScore> {
  // k-means' ties go to the lower index: identical rows must get identical distances.
  const gram = await gramOf(vectors, n, d, undefined, false, true);
  const { assignments } = bestRun(kMeansRuns(gram, n, labelCount, seed));
  return {
    n,
    values: [
      vMeasure(labels, labelCount, assignments, labelCount),
      adjustedRandIndex(labels, labelCount, assignments, labelCount),
    ],
    mainOn: (sample: Int32Array) => vMeasure(labels, labelCount, assignments, labelCount, sample),
  };
}
