/**
 * The sts kind of EVAL.md: Spearman (main) and Pearson correlation between the pairs' cosine similarities and their
 * gold scores. Both texts of a pair are query rows of the same task matrix (STS is symmetric: both carry the
 * instruction). The bootstrap resamples pairs; a resample's Spearman ranks the drawn pairs afresh (repeated pairs are
 * ties and get average ranks), as scipy.stats.spearmanr on the resampled arrays would.
 */
import { pearson, ResampleRanker, spearman } from './correlation';
import type { KindScore } from './scorer';

export interface StsPairs {
  a: Int32Array;
  b: Int32Array;
  score: Float64Array;
}

/** Cosine similarity of each pair: the dot product of two rows of the L2-normalised n x d matrix `vectors`. */
export function pairSimilarities(vectors: Float64Array, d: number, pairs: StsPairs): Float64Array {
  const out = new Float64Array(pairs.a.length);
  for (let p = 0; p < out.length; p++) {
    const oa = pairs.a[p] * d;
    const ob = pairs.b[p] * d;
    let s = 0;
    for (let c = 0; c < d; c++) s += vectors[oa + c] * vectors[ob + c];
    out[p] = s;
  }
  return out;
}

/** Scores one task's L2-normalised query vectors (n x d, row-major) on the sts pairs. Units: pairs. */
export function scoreSts(vectors: Float64Array, d: number, pairs: StsPairs): KindScore {
  const similarity = pairSimilarities(vectors, d, pairs);
  const gold = pairs.score;
  const n = similarity.length;
  // A resample's Spearman = Pearson of the drawn pairs' average ranks, counted from fixed tie groups (no sort).
  const similarityRanks = new ResampleRanker(similarity);
  const goldRanks = new ResampleRanker(gold);
  const drawnSimilarity = new Float64Array(n);
  const drawnGold = new Float64Array(n);
  return {
    n,
    values: [spearman(similarity, gold), pearson(similarity, gold)],
    mainOn(sample: Int32Array): number {
      return pearson(similarityRanks.ranksOf(sample, drawnSimilarity), goldRanks.ranksOf(sample, drawnGold));
    },
  };
}
