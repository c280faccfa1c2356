/**
 * The task-performance part of report.html (EVAL.md): chart containers for webview/evaluationCharts.ts, drawn by
 * the report's script, and static tables of the home scores, the wording leaderboards and the correlation sentences.
 * Containers are named by index (data attributes), never by user names.
 */
import { KIND_METRICS, type LeaderboardRow } from '../engine/evaluation/types';
import { correlationSentence, type EvaluationView, evaluatedKinds, formatSigned, isSignificant } from '../../webview/evaluationCharts';
import { formatNumber } from '../../webview/charts';
import { escapeHtml, table } from './html';

export interface EvaluationReportView extends EvaluationView {
  leaderboard: LeaderboardRow[];
}

/** '' when the analysis has no evaluation data. */
export function evaluationSection(view: EvaluationReportView): string {
  const kinds = evaluatedKinds(view);
  if (kinds.length === 0) return '';
  const kindCharts = kinds
    .map(
      (kind, k) => `<div class="chart chart-bars" data-performance="${k}"></div>
<div class="chart chart-scatter" data-scatter="${k}"></div>`,
    )
    .join('\n');
  const sentences = view.displacementVsPerformance
    .map((row) => `<li>${escapeHtml(correlationSentence(row))}</li>`)
    .join('\n');
  const matrices = view.models.map((_, m) => `<div class="chart chart-matrix" data-delta-matrix="${m}"></div>`).join('\n');
  return `<section>
<h2>Task performance</h2>
<p class="caption">Each task's instruction (Base: none) scored on the user's labelled data, per kind of task, with the
kind's main metric and a 95% paired-bootstrap interval (1000 resamples of the queries, or pairs for sts). Bold task
names are the kind's own tasks; a star marks a change against Base whose interval excludes 0.</p>
${kindCharts}
<h3>Does moving more mean helping more?</h3>
<ul class="sentences">
${sentences}
</ul>
${homeScoresTable(view)}
</section>

<section>
<h2>Every instruction on every kind</h2>
<p class="caption">Change of each kind's main metric against Base, per model; the task's own kind in brackets, and a
star where the change's 95% interval excludes 0.</p>
${matrices}
</section>
${leaderboardSection(view)}`;
}

function homeScoresTable(view: EvaluationReportView): string {
  const rows = view.evaluation
    .filter((row) => row.home && row.metric === KIND_METRICS[row.kind][0])
    .map((row) => [
      escapeHtml(row.model),
      escapeHtml(row.task),
      row.kind,
      row.metric,
      formatNumber(row.value),
      row.ciLow === null || row.ciHigh === null ? '' : `${formatNumber(row.ciLow)} .. ${formatNumber(row.ciHigh)}`,
      formatSigned(row.delta),
      row.deltaCiLow === null || row.deltaCiHigh === null ? '' : `${formatSigned(row.deltaCiLow)} .. ${formatSigned(row.deltaCiHigh)}`,
      isSignificant(row) ? 'yes' : 'no',
      String(row.n),
    ]);
  if (rows.length === 0) return '';
  return `<h3>Each instruction on its own kind</h3>
${table(['Model', 'Task', 'Kind', 'Metric', 'Score', '95% interval', 'Change against Base', '95% interval', 'Beyond noise', 'n'], rows, 4)}`;
}

function leaderboardSection(view: EvaluationReportView): string {
  if (view.leaderboard.length === 0) return '';
  const rows = view.leaderboard.map((row) => [
    escapeHtml(row.model),
    row.kind,
    String(row.rank),
    escapeHtml(row.task),
    formatNumber(row.value),
    row.rank === 1 ? 'best' : formatSigned(row.difference),
    row.rank === 1 ? '' : `${formatSigned(row.differenceCiLow)} .. ${formatSigned(row.differenceCiHigh)}`,
    row.rank === 1 ? '' : row.significant ? 'yes' : 'no',
  ]);
  return `<section>
<h2>Wordings of one instruction</h2>
<p class="caption">Tasks of the same kind are wordings of one instruction: ranked per model by the kind's main metric,
with each wording's paired difference to the best and its 95% bootstrap interval (the same resamples for every
wording, so the difference is paired).</p>
${table(['Model', 'Kind', 'Rank', 'Task', 'Score', 'Difference to the best', '95% interval', 'Beyond noise'], rows, 4)}
</section>`;
}
