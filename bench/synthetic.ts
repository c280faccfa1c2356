/**
 * Seeded synthetic embedding bundles that look like real ones to the analysis: each model sees the same latent
 * queries (low rank) through its own mixing matrix with a decaying spectrum, plus a constant offset and isotropic
 * noise. Each task moves the latent queries by a common shift (translation of the cloud) and by query-specific
 * movement, with a per-model sensitivity, so displacement, shift fraction and neighbour overlap all vary.
 */
import { mulberry32 } from '../src/engine/kernels/linalg';
import type { EmbeddingBundle } from '../src/engine/types';

export const PAPER_TASKS = ['Base', 'Retrieval', 'Reranking', 'STS', 'Classification', 'Clustering'];
/** Dimensions mixed from 384 to 4096, as in the paper's model list; cycled when there are more models. */
export const PAPER_DIMS = [384, 384, 512, 768, 768, 768, 1024, 1024, 1024, 1024, 1536, 1536, 2048, 2560, 3584, 4096, 4096, 1024];

const RANK = 48;
/** Task strength (Base = 0): retrieval-like tasks move little, the others more (METHOD.md findings). */
const TASK_STRENGTH = [0, 0.15, 0.2, 0.5, 0.6, 0.7];

export interface SyntheticSpec {
  models: number;
  n: number;
  dims?: readonly number[];
  tasks?: readonly string[];
  seed?: number;
}

function normal(rng: () => number): number {
  const u = Math.max(rng(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

export function syntheticBundle(spec: SyntheticSpec): EmbeddingBundle {
  const tasks = [...(spec.tasks ?? PAPER_TASKS)];
  const dimsCycle = spec.dims ?? PAPER_DIMS;
  const dims = Array.from({ length: spec.models }, (_, m) => dimsCycle[m % dimsCycle.length]);
  const n = spec.n;
  const rng = mulberry32(spec.seed ?? 1);
  const base = Float64Array.from({ length: n * RANK }, () => normal(rng));
  // Per task: common shift and query-specific direction (scaled per model below).
  const shifts = tasks.map(() => Float64Array.from({ length: RANK }, () => normal(rng)));
  const moves = tasks.map(() => Float64Array.from({ length: n * RANK }, () => normal(rng)));
  const embeddings = dims.map((d) => {
    const sensitivity = 0.5 + rng();
    const shiftShare = rng();
    const mix = new Float64Array(RANK * d);
    for (let r = 0; r < RANK; r++) {
      const scale = 0.3 / (1 + r);
      for (let j = 0; j < d; j++) mix[r * d + j] = normal(rng) * scale;
    }
    const offset = Float64Array.from({ length: d }, () => normal(rng) * 0.5);
    const z = new Float64Array(n * RANK);
    return tasks.map((_, t) => {
      const strength = sensitivity * (TASK_STRENGTH[t] ?? 0.4);
      for (let i = 0; i < n; i++)
        for (let r = 0; r < RANK; r++) {
          const x = i * RANK + r;
          z[x] = base[x] + strength * (shiftShare * shifts[t][r] + (1 - shiftShare) * moves[t][x]);
        }
      const e = new Float64Array(n * d);
      for (let i = 0; i < n; i++) {
        const o = i * d;
        for (let r = 0; r < RANK; r++) {
          const a = z[i * RANK + r];
          const mo = r * d;
          for (let j = 0; j < d; j++) e[o + j] += a * mix[mo + j];
        }
        for (let j = 0; j < d; j++) e[o + j] += offset[j] + normal(rng) * 0.02;
      }
      return e;
    });
  });
  return { models: dims.map((d, m) => `m${String(m).padStart(2, '0')}-d${d}`), tasks, n, dims, embeddings };
}

/** Bytes of the embeddings: float64 in memory and float32 on disk. */
export function embeddingBytes(bundle: Pick<EmbeddingBundle, 'n' | 'dims' | 'tasks'>): { float64: number; float32: number } {
  const values = bundle.dims.reduce((s, d) => s + bundle.n * d * bundle.tasks.length, 0);
  return { float64: values * 8, float32: values * 4 };
}
