/**
 * The task-performance part of the results webview (EVAL.md): one kind at a time (a select), its performance chart
 * and the displacement-against-Delta scatter with the correlation sentence, one model's cross matrix of Deltas (a
 * select), and the wording leaderboard. Hidden when the result has no evaluation.
 */
import type { AnalysisResult } from '../src/engine/types';
import type { UiStrings } from '../src/protocol';
import { type ChartTheme, type Figure, formatNumber } from './charts';
import {
  correlationSentence,
  deltaMatrixFigure,
  displacementVsPerformanceFigure,
  evaluatedKinds,
  evaluationView,
  formatSigned,
  performanceFigure,
} from './evaluationCharts';

function element<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`webview: element #${id} missing`);
  return el as T;
}

/** Fills a select with `values`, keeping the user's choice when the new result still has it. */
function keepChoice(select: HTMLSelectElement, values: readonly string[]): void {
  const previous = select.value;
  select.replaceChildren(...values.map((value) => new Option(value, value)));
  select.value = values.includes(previous) ? previous : (values[0] ?? '');
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/**
 * Draws the section for `result` (or hides it); resolves when its charts are drawn. `draw` draws one figure into its
 * element the way the view draws its figures (fitted to the element).
 */
export async function renderEvaluation(
  result: AnalysisResult,
  theme: ChartTheme,
  strings: UiStrings,
  draw: (el: HTMLElement, figure: Figure) => Promise<unknown>,
): Promise<void> {
  const view = evaluationView(result);
  const kinds = evaluatedKinds(view);
  const section = element<HTMLElement>('evaluation');
  section.hidden = kinds.length === 0;
  if (kinds.length === 0) return;
  const kindSelect = element<HTMLSelectElement>('evaluation-kind');
  const modelSelect = element<HTMLSelectElement>('evaluation-model');
  keepChoice(kindSelect, kinds);
  keepChoice(modelSelect, result.models);
  const kind = kinds.find((k) => k === kindSelect.value) ?? kinds[0];
  const correlation = view.displacementVsPerformance.find((row) => row.kind === kind);
  element('evaluation-correlation').textContent = correlation ? correlationSentence(correlation, strings) : '';
  renderLeaderboard(result, kind);
  await Promise.all([
    draw(element('performance'), performanceFigure(view, kind, theme, strings)),
    draw(element('delta-matrix'), deltaMatrixFigure(view, modelSelect.value, theme, strings)),
    draw(element('displacement-vs-performance'), displacementVsPerformanceFigure(view, kind, theme, strings)),
  ]);
}

function renderLeaderboard(result: AnalysisResult, kind: string): void {
  const rows = (result.leaderboard ?? []).filter((row) => row.kind === kind);
  element('leaderboard').hidden = rows.length === 0;
  element('leaderboard-body').replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      tr.append(
        cell(row.model),
        cell(String(row.rank), 'number'),
        cell(row.task),
        cell(formatNumber(row.value), 'number'),
        cell(row.rank === 1 ? '' : `${formatSigned(row.difference)} (${formatSigned(row.differenceCiLow)}..${formatSigned(row.differenceCiHigh)})`, 'number'),
        cell(row.rank === 1 ? '' : row.significant ? '✓' : '—'),
      );
      return tr;
    }),
  );
}
