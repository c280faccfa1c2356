/**
 * Stage E of the analysis: the task evaluation (EVAL.md, src/engine/evaluation/) of the bundle's labelled data,
 * after the displacement analysis whose mean cosine displacement it correlates with. analyze() runs the per-model
 * jobs on its thread; runAnalysis() gives them to its workers (`runJobs`): the same scoreModelCells either way, so
 * the results are bit-identical. Without labelled data nothing runs and the evaluation keys are empty arrays.
 */
import { UserError } from '../errors';
import type { CellScore, EvaluationJob } from '../evaluation/cells';
import { evaluate, EvaluationResult } from '../evaluation/evaluate';
import type { EvaluationMemo } from '../evaluation/memo';
import type { AnalysisCore, AnalysisResult, EmbeddingBundle } from '../types';

const NO_EVALUATION: EvaluationResult = { evaluation: [], displacementVsPerformance: [], leaderboard: [], warnings: [] };

export async function evaluateBundle(
  bundle: EmbeddingBundle,
  seed: number,
  displacement: AnalysisCore['displacement'],
  memo?: EvaluationMemo,
  runJobs?: (jobs: EvaluationJob[]) => Promise<CellScore[][]>,
): Promise<EvaluationResult> {
  const data = bundle.evaluation;
  if (!data || !(data.labels || data.pairs || data.qrels)) return NO_EVALUATION;
  checkEvaluationShapes(bundle);
  const result = await evaluate(
    {
      models: bundle.models,
      tasks: bundle.tasks,
      n: bundle.n,
      dims: bundle.dims,
      embeddings: bundle.embeddings,
      corpus: data.qrels ? bundle.corpus : undefined,
      data,
      seed,
      displacement,
    },
    { memo, runJobs },
  );
  if (data.qrels && !bundle.corpus)
    result.warnings.unshift('retrieval and reranking: the bundle has qrels but no documents\' embeddings, so they are not evaluated');
  return result;
}

/** The evaluation data must fit the bundle (the readers check the user's files; this guards the engine). */
function checkEvaluationShapes(bundle: EmbeddingBundle): void {
  const data = bundle.evaluation!;
  if (data.homeKinds.length !== bundle.tasks.length)
    throw new UserError(`${data.homeKinds.length} home kinds for ${bundle.tasks.length} tasks`, 'bundle.evaluation');
  if (data.labels && data.labels.length !== bundle.n)
    throw new UserError(`${data.labels.length} labels for ${bundle.n} queries`, 'bundle.evaluation');
  const n = bundle.n;
  if (data.pairs) {
    const { a, b, score } = data.pairs;
    if (a.length !== b.length || a.length !== score.length) throw new UserError('pairs arrays differ in length', 'bundle.evaluation');
    for (let p = 0; p < a.length; p++)
      if (!(a[p] >= 0 && a[p] < n && b[p] >= 0 && b[p] < n && Number.isFinite(score[p])))
        throw new UserError(`pair ${p + 1} refers to a query row outside 1..${n} or has a non-finite score`, 'bundle.evaluation');
  }
  if (data.qrels && bundle.corpus) {
    const docs = data.corpusIds?.length ?? 0;
    const { query, doc, score } = data.qrels;
    for (let e = 0; e < query.length; e++)
      if (!(query[e] >= 0 && query[e] < n && doc[e] >= 0 && doc[e] < docs && Number.isFinite(score[e])))
        throw new UserError(`qrels entry ${e + 1} refers to a query or document outside the bundle or has a non-finite score`, 'bundle.evaluation');
    bundle.models.forEach((model, m) => {
      const corpus = bundle.corpus![m];
      if (!corpus || corpus.length !== docs * bundle.dims[m])
        throw new UserError(`expected ${docs} x ${bundle.dims[m]} document embeddings, got ${corpus?.length ?? 0} numbers`, `${model}/Corpus`);
    });
  }
}

/** The result with the evaluation's keys (after the displacement analysis' keys) and its warnings. */
export function withEvaluation(core: AnalysisCore, evaluation: EvaluationResult): AnalysisResult {
  return {
    ...core,
    warnings: [...core.warnings, ...evaluation.warnings],
    evaluation: evaluation.evaluation,
    displacementVsPerformance: evaluation.displacementVsPerformance,
    leaderboard: evaluation.leaderboard,
  };
}
