/**
 * Seeded synthetic embedding bundles that look like real ones to the analysis: each model sees the same latent
 * queries (low rank) through its own mixing matrix with a decaying spectrum, plus a constant offset and isotropic
 * noise. Each task moves the latent queries by a common shift (translation of the cloud) and by query-specific
 * movement, with a per-model sensitivity, so displacement, shift fraction and neighbour overlap all vary.
 */
import type { EvalKind } from '../src/engine/evaluation/types';
import { gemm } from '../src/engine/kernels/gemm';
import { mulberry32 } from '../src/engine/kernels/linalg';
import type { EmbeddingBundle } from '../src/engine/types';

export const PAPER_TASKS = ['Base', 'Retrieval', 'Reranking', 'STS', 'Classification', 'Clustering'];
/** Dimensions mixed from 384 to 4096, as in the paper's model list; cycled when there are more models. */
export const PAPER_DIMS = [384, 384, 512, 768, 768, 768, 1024, 1024, 1024, 1024, 1536, 1536, 2048, 2560, 3584, 4096, 4096, 1024];

const RANK = 48;
/** Task strength (Base = 0): retrieval-like tasks move little, the others more (METHOD.md findings). */
const TASK_STRENGTH = [0, 0.15, 0.2, 0.5, 0.6, 0.7];
/** Scale of the class centres in the latent space (the latent queries are standard normal around them). */
const CLASS_SPREAD = 0.8;

export interface SyntheticSpec {
  models: number;
  n: number;
  dims?: readonly number[];
  tasks?: readonly string[];
  seed?: number;
  /**
   * Labelled queries: each query's latent vector gets the centre of one of this many classes added (centres and labels
   * from a stream of their own, so that the other draws, and bundles without labels, are unchanged).
   */
  classes?: number;
}

/** The bundle and what the evaluation data is made from: query labels, latent queries, each model's view. */
interface Synthesis {
  bundle: EmbeddingBundle;
  labels?: Int32Array;
  centres?: Float64Array[];
  /** n x RANK latent queries (Base). */
  latent: Float64Array;
  /** Per model: the RANK x d mixing matrix and the offset. */
  views: { mix: Float64Array; offset: Float64Array }[];
}

function normal(rng: () => number): number {
  const u = Math.max(rng(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

export function syntheticBundle(spec: SyntheticSpec): EmbeddingBundle {
  return synthesize(spec).bundle;
}

function synthesize(spec: SyntheticSpec): Synthesis {
  const tasks = [...(spec.tasks ?? PAPER_TASKS)];
  const dimsCycle = spec.dims ?? PAPER_DIMS;
  const dims = Array.from({ length: spec.models }, (_, m) => dimsCycle[m % dimsCycle.length]);
  const n = spec.n;
  const rng = mulberry32(spec.seed ?? 1);
  const base = Float64Array.from({ length: n * RANK }, () => normal(rng));
  let labels: Int32Array | undefined;
  let centres: Float64Array[] | undefined;
  if (spec.classes) {
    const classRng = mulberry32((spec.seed ?? 1) + 1000);
    const classes = spec.classes;
    centres = Array.from({ length: classes }, () => Float64Array.from({ length: RANK }, () => CLASS_SPREAD * normal(classRng)));
    labels = Int32Array.from({ length: n }, () => Math.min(classes - 1, Math.floor(classRng() * classes)));
    for (let i = 0; i < n; i++) for (let r = 0; r < RANK; r++) base[i * RANK + r] += centres[labels[i]][r];
  }
  const views: Synthesis['views'] = [];
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
    views.push({ mix, offset });
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
  const bundle = { models: dims.map((d, m) => `m${String(m).padStart(2, '0')}-d${d}`), tasks, n, dims, embeddings };
  return { bundle, labels, centres, latent: base, views };
}

export interface SyntheticEvaluationSpec extends SyntheticSpec {
  classes: number;
  /** Corpus documents (each model embeds all of them). */
  docs: number;
  /** STS pairs over the queries. */
  pairs: number;
  /** Home kind of each task (null for Base). */
  homeKinds: (EvalKind | null)[];
}

/** Graded relevant documents per query (scores 3, 2, 1, ...) and non-relevant listed candidates (score 0). */
const RELEVANT = 3;
const NEGATIVES = 7;

/**
 * A synthetic bundle with the evaluation data of EVAL.md: labels (the latent classes), STS pairs (gold = latent
 * cosine plus noise, rounded), a corpus and graded qrels. Each query has RELEVANT documents near its latent vector
 * (closer for a higher grade) and NEGATIVES candidates of score 0 from its class (hard negatives for reranking); the
 * rest of the corpus is spread around the class centres. Documents are in shuffled order; every model sees the same
 * latent documents through its own view (mixing matrix, offset, noise), as it sees the queries.
 */
export async function syntheticEvaluationBundle(spec: SyntheticEvaluationSpec): Promise<EmbeddingBundle> {
  const { bundle, labels, centres, latent, views } = synthesize(spec);
  const { n, dims } = bundle;
  const rng = mulberry32((spec.seed ?? 1) + 2000);
  const docs = spec.docs;
  if (docs < n * (RELEVANT + NEGATIVES)) throw new Error('syntheticEvaluationBundle: too few documents for the qrels');
  const order = Int32Array.from({ length: docs }, (_, j) => j);
  for (let j = docs - 1; j > 0; j--) {
    const x = Math.floor(rng() * (j + 1));
    [order[j], order[x]] = [order[x], order[j]];
  }
  const docLatent = new Float64Array(docs * RANK);
  const query: number[] = [];
  const doc: number[] = [];
  const score: number[] = [];
  let next = 0;
  for (let i = 0; i < n; i++)
    for (let c = 0; c < RELEVANT + NEGATIVES; c++) {
      const j = order[next++];
      const relevant = c < RELEVANT;
      for (let r = 0; r < RANK; r++)
        docLatent[j * RANK + r] = relevant ? latent[i * RANK + r] + (0.8 + 0.4 * c) * normal(rng) : centres![labels![i]][r] + normal(rng);
      query.push(i);
      doc.push(j);
      score.push(relevant ? RELEVANT - c : 0);
    }
  for (; next < docs; next++) {
    const centre = centres![Math.floor(rng() * spec.classes) % spec.classes];
    for (let r = 0; r < RANK; r++) docLatent[order[next] * RANK + r] = centre[r] + normal(rng);
  }
  const corpus: Float64Array[] = [];
  for (let m = 0; m < dims.length; m++) {
    const d = dims[m];
    const e = await gemm(docLatent, views[m].mix, docs, RANK, d);
    const offset = views[m].offset;
    // Uniform noise of standard deviation 0.02 (as the queries' normal noise): cheaper to draw for 10^8 values.
    for (let j = 0; j < docs; j++) for (let c = 0; c < d; c++) e[j * d + c] += offset[c] + (rng() - 0.5) * 0.07;
    corpus.push(e);
  }
  const a = new Int32Array(spec.pairs);
  const b = new Int32Array(spec.pairs);
  const gold = new Float64Array(spec.pairs);
  for (let p = 0; p < spec.pairs; p++) {
    a[p] = Math.floor(rng() * n);
    b[p] = (a[p] + 1 + Math.floor(rng() * (n - 1))) % n;
    let dot = 0, na = 0, nb = 0;
    for (let r = 0; r < RANK; r++) {
      const x = latent[a[p] * RANK + r], y = latent[b[p] * RANK + r];
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    gold[p] = Math.round(100 * (dot / Math.sqrt(na * nb) + 0.15 * normal(rng))) / 100;
  }
  bundle.corpus = corpus;
  bundle.evaluation = {
    queryIds: Array.from({ length: n }, (_, i) => `q${i + 1}`),
    labels: Array.from(labels!, (label) => `class-${label}`),
    pairs: { a, b, score: gold },
    corpusIds: Array.from({ length: docs }, (_, j) => `d${j + 1}`),
    qrels: { query: Int32Array.from(query), doc: Int32Array.from(doc), score: Float64Array.from(score) },
    homeKinds: spec.homeKinds,
  };
  return bundle;
}

/** Bytes of the embeddings: float64 in memory and float32 on disk. */
export function embeddingBytes(bundle: Pick<EmbeddingBundle, 'n' | 'dims' | 'tasks'>): { float64: number; float32: number } {
  const values = bundle.dims.reduce((s, d) => s + bundle.n * d * bundle.tasks.length, 0);
  return { float64: values * 8, float32: values * 4 };
}
