/**
 * The short text summary of the task evaluation that `analyze` prints: per kind its main metric, per model Base's
 * score and each task at home on the kind (all tasks when none is) with Delta and its 95% interval, `*` when the
 * interval excludes 0; then the displacement-vs-performance line of EVAL.md. No lines without an evaluation.
 */
import { EVAL_KINDS, type EvaluationRow } from '../engine/evaluation/types';
import type { AnalysisResult } from '../engine/types';
import { formatSigned } from '../../webview/evaluationCharts';

const fixed = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const signed = (x: number): string => (Number.isFinite(x) ? formatSigned(x, 3) : 'n/a');

export function evaluationSummary(result: AnalysisResult): string[] {
  if (result.evaluation.length === 0) return [];
  const lines = ['task evaluation (95% paired-bootstrap intervals of Delta against Base; * = excludes 0):'];
  for (const kind of EVAL_KINDS) {
    const main = result.evaluation.filter((r) => r.kind === kind && r.ciLow !== null);
    if (main.length === 0) continue;
    lines.push(`  ${kind}, ${main[0].metric} over ${main[0].n} ${kind === 'sts' ? 'pairs' : 'queries'}:`);
    for (const model of result.models) {
      const rows = main.filter((r) => r.model === model);
      const home = rows.filter((r) => r.home);
      const shown = (home.length > 0 ? home : rows).filter((r) => r.task !== result.tasks[0]);
      const base = rows.find((r) => r.task === result.tasks[0]);
      const cells = shown.map(cell);
      lines.push(`    ${model}: ${result.tasks[0]} ${base ? fixed(base.value) : 'n/a'}${cells.length ? '; ' + cells.join('; ') : ''}`);
    }
    const dvp = result.displacementVsPerformance.find((r) => r.kind === kind);
    if (dvp) lines.push(`    ${displacementLine(kind, dvp.spearman, dvp.n)}`);
  }
  return lines;
}

function cell(r: EvaluationRow): string {
  const low = r.deltaCiLow ?? NaN;
  const high = r.deltaCiHigh ?? NaN;
  const significant = low > 0 || high < 0 ? '*' : '';
  return `${r.task} ${fixed(r.value)} (${signed(r.delta)}, 95% ${signed(low)}..${signed(high)})${significant}`;
}

/** EVAL.md's sentence: "on retrieval, instructions that move queries more help more / less: rho = ..., n = ...". */
export function displacementLine(kind: string, rho: number | null, n: number): string {
  if (rho === null) return `on ${kind}, displacement and performance: rho undefined, n = ${n}`;
  return `on ${kind}, instructions that move queries more help ${rho >= 0 ? 'more' : 'less'}: rho = ${rho.toFixed(2)}, n = ${n}`;
}
