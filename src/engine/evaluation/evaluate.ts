/**
 * The task evaluation of EVAL.md, assembled: every task (Base included) scored on every kind that has data (the cross
 * matrix), Delta against Base, 95% paired-bootstrap intervals, the leaderboard of an instruction's wordings and the
 * displacement-vs-performance correlation.
 *
 * Pairing: for each kind one resample matrix resampleIndices(seed, units) is shared by every model and task, so the
 * replicates of two cells are paired and a difference's interval is the percentile interval of the replicate
 * differences. Base rows: delta 0 and a delta interval of (0, 0). Intervals only on the main metric's rows.
 * Row order: models order, tasks order, EVAL_KINDS order, KIND_METRICS order. A correlation or interval that is
 * undefined (e.g. sts on constant similarities) is NaN, written as null in results.json.
 *
 * The cells are scored per model (cells.ts); `runJobs` lets runAnalysis spread the models over its workers, and a
 * memo (memo.ts) lets live mode score again only the tasks whose embeddings changed.
 */
import type { EmbeddingMatrix } from '../types';
import { UserError } from '../errors';
import { interval95, pairedDifference } from './bootstrap';
import { CellScore, EVALUATION_SCORERS, EvaluationJob, EvaluationScorers, prepareData, PreparedData, scoreModelCells } from './cells';
import { spearman } from './correlation';
import { cellKey, EvaluationMemo, kindDataHash, matrixHash } from './memo';
import {
  DisplacementVsPerformanceRow,
  EvalKind,
  EvaluationData,
  EvaluationRow,
  KIND_METRICS,
  LeaderboardRow,
} from './types';

export interface EvaluationInput {
  models: string[];
  /** Base first. */
  tasks: string[];
  n: number;
  dims: number[];
  /** [model][task], n x dims[model], row-major (normalised here). */
  embeddings: EmbeddingMatrix[][];
  /** Per model, the documents' embeddings, corpusIds.length x dims[model]. */
  corpus?: Float64Array[];
  data: EvaluationData;
  seed: number;
  /** Mean cosine displacement of each (model, non-Base task), for the correlation. */
  displacement: readonly { model: string; task: string; meanCosineDistance: number }[];
}

export interface EvaluationResult {
  evaluation: EvaluationRow[];
  displacementVsPerformance: DisplacementVsPerformanceRow[];
  leaderboard: LeaderboardRow[];
  warnings: string[];
}

export interface EvaluateOptions {
  /** Defaults to EVALUATION_SCORERS (only used when `runJobs` is absent). */
  scorers?: EvaluationScorers;
  /** Keep one across runs (live mode): unchanged cells are not scored again. */
  memo?: EvaluationMemo;
  /** Runs the jobs (one per model with cells to score) and gives their cells in job order; default: one after another here. */
  runJobs?: (jobs: EvaluationJob[]) => Promise<CellScore[][]>;
}

export async function evaluate(input: EvaluationInput, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const { models, tasks, n, data } = input;
  const scorers = options.scorers ?? EVALUATION_SCORERS;
  const prepared = prepareData(data, n, input.corpus !== undefined);
  const warnings = dataWarnings(prepared, n);
  const kinds = prepared.kinds.filter((kind) => prepared.units.get(kind)! > 0);
  if (kinds.length > 0 && !(Number.isSafeInteger(input.seed) && input.seed >= 0))
    throw new UserError(`the seed must be a non-negative integer for the evaluation's bootstrap, got ${input.seed}`, 'seed');
  const usesCorpus = kinds.includes('retrieval') || kinds.includes('reranking');
  const cells: (CellScore | undefined)[][][] = models.map(() => tasks.map(() => kinds.map(() => undefined)));
  const keys = cellKeys(input, kinds, options.memo);

  // Look the cells up in the memo; one job per model for the rest.
  const jobs: EvaluationJob[] = [];
  const slots: [number, number, number][][] = [];
  models.forEach((model, m) => {
    const job: EvaluationJob = { model, n, d: input.dims[m], tasks: [], data, seed: input.seed };
    const jobSlots: [number, number, number][] = [];
    tasks.forEach((_, t) => {
      const wanted: EvalKind[] = [];
      kinds.forEach((kind, k) => {
        const hit = keys && options.memo!.get(keys[m][t][k]);
        if (hit) cells[m][t][k] = hit;
        else {
          wanted.push(kind);
          jobSlots.push([m, t, k]);
        }
      });
      if (wanted.length > 0) job.tasks.push({ task: t, matrix: input.embeddings[m][t], kinds: wanted });
    });
    if (job.tasks.length === 0) return;
    if (usesCorpus) job.corpus = input.corpus![m];
    jobs.push(job);
    slots.push(jobSlots);
  });
  const run = options.runJobs ?? (async (list: EvaluationJob[]) => {
    const out: CellScore[][] = [];
    for (const job of list) out.push(await scoreModelCells(job, scorers));
    return out;
  });
  const scored = jobs.length > 0 ? await run(jobs) : [];
  scored.forEach((jobCells, j) =>
    jobCells.forEach((cell, x) => {
      const [m, t, k] = slots[j][x];
      cells[m][t][k] = cell;
      if (keys) options.memo!.set(keys[m][t][k], cell);
    }),
  );
  options.memo?.endRun();
  const full = cells as CellScore[][][];
  return {
    evaluation: evaluationRows(input, kinds, full),
    displacementVsPerformance: displacementVsPerformance(input, kinds, full),
    leaderboard: leaderboard(input, kinds, full),
    warnings,
  };
}

/** The memo key of every cell, or undefined without a memo (nothing is hashed then). */
function cellKeys(input: EvaluationInput, kinds: EvalKind[], memo: EvaluationMemo | undefined): string[][][] | undefined {
  if (!memo) return undefined;
  const dataHashes = kinds.map((kind) => kindDataHash(kind, input.data, input.n));
  return input.models.map((model, m) => {
    const corpusHash = kinds.some((k) => k === 'retrieval' || k === 'reranking') ? memo.corpusHash(input.corpus![m]) : '';
    return input.tasks.map((_, t) => {
      const taskHash = matrixHash(input.embeddings[m][t]);
      return kinds.map((kind, k) =>
        cellKey(model, kind, input.seed, taskHash, dataHashes[k], kind === 'retrieval' || kind === 'reranking' ? corpusHash : ''),
      );
    });
  });
}

function dataWarnings(prepared: PreparedData, n: number): string[] {
  const warnings: string[] = [];
  const retrieval = prepared.units.get('retrieval');
  if (retrieval !== undefined && retrieval < n)
    warnings.push(`retrieval: ${n - retrieval} of ${n} queries have no document of score > 0 in the qrels and are left out`);
  const reranking = prepared.units.get('reranking');
  if (reranking !== undefined && reranking < n)
    warnings.push(
      `reranking: ${n - reranking} of ${n} queries do not have both a relevant and a non-relevant candidate in the qrels and are left out`,
    );
  for (const kind of prepared.kinds)
    if (prepared.units.get(kind) === 0) warnings.push(`${kind}: nothing to score, so it is not evaluated`);
  return warnings;
}

function evaluationRows(input: EvaluationInput, kinds: EvalKind[], cells: CellScore[][][]): EvaluationRow[] {
  const rows: EvaluationRow[] = [];
  input.models.forEach((model, m) =>
    input.tasks.forEach((task, t) =>
      kinds.forEach((kind, k) => {
        const cell = cells[m][t][k];
        const base = cells[m][0][k];
        const isBase = t === 0;
        const ci = interval95(cell.replicates);
        const deltaCi = isBase ? { low: 0, high: 0 } : interval95(pairedDifference(cell.replicates, base.replicates));
        KIND_METRICS[kind].forEach((metric, x) => {
          const main = x === 0;
          rows.push({
            model,
            task,
            kind,
            metric,
            value: cell.values[x],
            base: base.values[x],
            delta: isBase ? 0 : cell.values[x] - base.values[x],
            ciLow: main ? ci.low : null,
            ciHigh: main ? ci.high : null,
            deltaCiLow: main ? deltaCi.low : null,
            deltaCiHigh: main ? deltaCi.high : null,
            home: input.data.homeKinds[t] === kind,
            n: cell.n,
          });
        });
      }),
    ),
  );
  return rows;
}

/**
 * Per kind: Spearman of (mean cosine displacement, Delta of the main metric) over the (model, non-Base task) cells
 * (a cell whose Delta is undefined is left out of the correlation and of n).
 */
function displacementVsPerformance(input: EvaluationInput, kinds: EvalKind[], cells: CellScore[][][]): DisplacementVsPerformanceRow[] {
  return kinds.map((kind, k) => {
    const x: number[] = [];
    const y: number[] = [];
    input.models.forEach((model, m) =>
      input.tasks.forEach((task, t) => {
        if (t === 0) return;
        const row = input.displacement.find((r) => r.model === model && r.task === task);
        const delta = cells[m][t][k].values[0] - cells[m][0][k].values[0];
        if (!row || !Number.isFinite(row.meanCosineDistance) || !Number.isFinite(delta)) return;
        x.push(row.meanCosineDistance);
        y.push(delta);
      }),
    );
    const rho = x.length >= 3 ? spearman(x, y) : NaN;
    return { kind, metric: KIND_METRICS[kind][0], spearman: Number.isFinite(rho) ? rho : null, n: x.length };
  });
}

/** Per (model, kind) with two or more tasks at home on the kind: those wordings ranked, each against the best. */
function leaderboard(input: EvaluationInput, kinds: EvalKind[], cells: CellScore[][][]): LeaderboardRow[] {
  const rows: LeaderboardRow[] = [];
  input.models.forEach((model, m) =>
    kinds.forEach((kind, k) => {
      const wordings = input.tasks.map((_, t) => t).filter((t) => t > 0 && input.data.homeKinds[t] === kind);
      if (wordings.length < 2) return;
      const main = (t: number): number => cells[m][t][k].values[0];
      const ranked = [...wordings].sort((a, b) => main(b) - main(a) || a - b);
      const best = ranked[0];
      ranked.forEach((t, r) => {
        const cell = cells[m][t][k];
        const ci = interval95(cell.replicates);
        const isBest = t === best;
        const diff = isBest ? { low: 0, high: 0 } : interval95(pairedDifference(cell.replicates, cells[m][best][k].replicates));
        rows.push({
          model,
          kind,
          metric: KIND_METRICS[kind][0],
          task: input.tasks[t],
          rank: r + 1,
          value: main(t),
          ciLow: ci.low,
          ciHigh: ci.high,
          best: input.tasks[best],
          difference: isBest ? 0 : main(t) - main(best),
          differenceCiLow: diff.low,
          differenceCiHigh: diff.high,
          significant: diff.low > 0 || diff.high < 0,
        });
      });
    }),
  );
  return rows;
}
