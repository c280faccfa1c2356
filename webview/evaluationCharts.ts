/**
 * Charts of the task evaluation (../shared/docs/EVAL.md), shared by report.html and the extension's webview like
 * charts.ts: pure functions from the evaluation rows of an AnalysisResult to Plotly figures.
 * - performanceFigure: each task's main score on one kind, per model, with its 95% interval; Base as a reference line.
 * - deltaMatrixFigure: one model's cross matrix (task x kind) of Deltas against Base; home cells and significant
 *   Deltas marked.
 * - displacementVsPerformanceFigure: mean displacement (x) against Delta (y) on one kind, with the correlation.
 */
import type { AnalysisResult, DisplacementRow } from '../src/engine/types';
import {
  type DisplacementVsPerformanceRow,
  EVAL_KINDS,
  type EvalKind,
  type EvaluationRow,
  KIND_METRICS,
} from '../src/engine/evaluation/types';
import { UI_STRINGS, type UiStrings } from '../src/protocol';
import { axis, baseLayout, type ChartTheme, escapeHtml, type Figure, formatNumber, modelColor, taskSymbol, type Trace } from './charts';

/** The evaluation part of a result, as the charts read it. */
export interface EvaluationView {
  models: string[];
  /** Base first. */
  tasks: string[];
  evaluation: EvaluationRow[];
  displacement: DisplacementRow[];
  displacementVsPerformance: DisplacementVsPerformanceRow[];
}

/** The evaluation rows of a result; results.json files written before the evaluation have none. */
export function evaluationView(result: AnalysisResult): EvaluationView {
  return {
    models: result.models,
    tasks: result.tasks,
    evaluation: result.evaluation ?? [],
    displacement: result.displacement,
    displacementVsPerformance: result.displacementVsPerformance ?? [],
  };
}

/** The main-metric rows of one kind, looked up by (model, task). */
function mainRows(view: EvaluationView, kind: EvalKind): Map<string, EvaluationRow> {
  const metric = KIND_METRICS[kind][0];
  const rows = new Map<string, EvaluationRow>();
  for (const row of view.evaluation) if (row.kind === kind && row.metric === metric) rows.set(cellKey(row.model, row.task), row);
  return rows;
}

const cellKey = (model: string, task: string): string => `${model}\u0000${task}`;

/** Kinds that have evaluation rows, in EVAL_KINDS order. */
export function evaluatedKinds(view: Pick<EvaluationView, 'evaluation'>): EvalKind[] {
  return EVAL_KINDS.filter((kind) => view.evaluation.some((row) => row.kind === kind));
}

/** A Delta is significant when its interval excludes 0. */
export function isSignificant(row: EvaluationRow): boolean {
  return row.deltaCiLow !== null && row.deltaCiHigh !== null && (row.deltaCiLow > 0 || row.deltaCiHigh < 0);
}

/**
 * +0.0210 / -0.0034: Deltas always carry their sign, at `digits` decimals (a difference that rounds to zero, such as
 * the -2e-16 of floating-point noise, reads +0.0000).
 */
export function formatSigned(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return String(value);
  const rounded = Number(value.toFixed(digits));
  return rounded > 0 || rounded === 0 ? `+${Math.abs(rounded).toFixed(digits)}` : rounded.toFixed(digits);
}

/** A task's main-metric rows on its home kind, one per model (models order): what its CodeLens shows. */
export function homeScores(rows: readonly EvaluationRow[], task: string): EvaluationRow[] {
  return rows.filter((row) => row.task === task && row.home && row.metric === KIND_METRICS[row.kind][0]);
}

/** `nDCG@10 0.6120 (+0.0210, 95% +0.0080..+0.0340)`: a task's home score as CodeLenses and tables show it. */
export function scoreSummary(row: EvaluationRow): string {
  const interval =
    row.deltaCiLow !== null && row.deltaCiHigh !== null
      ? `, 95% ${formatSigned(row.deltaCiLow)}..${formatSigned(row.deltaCiHigh)}`
      : '';
  return `${row.metric} ${formatNumber(row.value)} (${formatSigned(row.delta)}${interval})`;
}

/**
 * One kind's main score per task (x) and model (bars), interval bars from ciLow to ciHigh, and a dashed line per model
 * at Base's score. A star above a bar marks a Delta whose interval excludes 0; home tasks of the kind are in bold.
 */
export function performanceFigure(view: EvaluationView, kind: EvalKind, theme: ChartTheme, strings: UiStrings = UI_STRINGS): Figure {
  const rows = mainRows(view, kind);
  const metric = KIND_METRICS[kind][0];
  const tasks = view.tasks.slice(1);
  const homeTasks = new Set(tasks.filter((task) => view.models.some((model) => rows.get(cellKey(model, task))?.home)));
  const labels = tasks.map((task) => (homeTasks.has(task) ? `<b>${escapeHtml(task)}</b>` : escapeHtml(task)));
  const data: Trace[] = [];
  view.models.forEach((model, m) => {
    const modelRows = tasks.map((task) => rows.get(cellKey(model, task)));
    if (modelRows.every((row) => row === undefined)) return;
    const color = modelColor(theme, m);
    data.push({
      type: 'bar',
      name: escapeHtml(model),
      x: labels,
      y: modelRows.map((row) => row?.value ?? null),
      error_y: {
        type: 'data',
        symmetric: false,
        array: modelRows.map((row) => (row && row.ciHigh !== null ? row.ciHigh - row.value : null)),
        arrayminus: modelRows.map((row) => (row && row.ciLow !== null ? row.value - row.ciLow : null)),
        color: theme.foreground,
        thickness: 1,
        width: 3,
      },
      text: modelRows.map((row) => (row && isSignificant(row) ? '*' : '')),
      textposition: 'inside',
      insidetextanchor: 'end',
      textfont: { size: 16, color: theme.background },
      customdata: modelRows.map((row) => (row ? [row.delta, row.ciLow, row.ciHigh, row.n] : null)),
      hovertemplate:
        `<b>${escapeHtml(model)}</b><br>%{x}<br>${metric} %{y:.4f} (95% %{customdata[1]:.4f}..%{customdata[2]:.4f})` +
        `<br>${strings.chartDeltaVsBase} %{customdata[0]:+.4f}<br>n = %{customdata[3]}<extra></extra>`,
      marker: { color },
      legendgroup: `model:${model}`,
      meta: { kind: 'scores', model, evalKind: kind },
    });
    const base = rows.get(cellKey(model, view.tasks[0]));
    if (base) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: `${escapeHtml(model)}: ${strings.chartBaseLine}`,
        x: [labels[0], labels[labels.length - 1]],
        y: [base.value, base.value],
        line: { color, dash: 'dash', width: 1.5 },
        hovertemplate: `<b>${escapeHtml(model)}</b><br>${strings.chartBaseLine} ${metric} %{y:.4f}<extra></extra>`,
        legendgroup: `model:${model}`,
        showlegend: false,
        meta: { kind: 'baseLine', model, evalKind: kind },
      });
    }
  });
  return {
    data,
    layout: {
      ...baseLayout(theme),
      title: { text: `${strings.chartPerformanceTitle}: ${kind} (${metric})` },
      barmode: 'group',
      xaxis: { ...axis(theme, strings.chartTaskAxis), type: 'category' },
      yaxis: { ...axis(theme, metric) },
      legend: { title: { text: strings.chartModel } },
      margin: { l: 60, r: 20, t: 50, b: 60 },
    },
  };
}

/**
 * One model's cross matrix: every task (rows, Base first) on every kind with data (columns), cell = Delta of the
 * kind's main metric against Base. The text marks home cells (the task's own kind) with brackets and significant
 * Deltas with a star. Colours diverge around 0.
 */
export function deltaMatrixFigure(view: EvaluationView, model: string, theme: ChartTheme, strings: UiStrings = UI_STRINGS): Figure {
  const kinds = evaluatedKinds(view);
  const byKind = kinds.map((kind) => mainRows(view, kind));
  const z = view.tasks.map((task) => byKind.map((rows) => rows.get(cellKey(model, task))?.delta ?? null));
  const text = view.tasks.map((task) =>
    byKind.map((rows) => {
      const row = rows.get(cellKey(model, task));
      if (!row) return '';
      const value = `${formatSigned(row.delta)}${isSignificant(row) ? '*' : ''}`;
      return row.home ? `[${value}]` : value;
    }),
  );
  const scores = view.tasks.map((task) => byKind.map((rows) => rows.get(cellKey(model, task))?.value ?? null));
  const limit = Math.max(1e-12, ...z.flat().map((value) => Math.abs(value ?? 0)));
  return {
    data: [
      {
        type: 'heatmap',
        z,
        x: kinds.map((kind) => `${kind} (${KIND_METRICS[kind][0]})`),
        y: view.tasks.map(escapeHtml),
        text,
        texttemplate: '%{text}',
        customdata: scores,
        hovertemplate: `%{y} on %{x}<br>${strings.chartScore} %{customdata:.4f}<br>${strings.chartDeltaVsBase} %{z:+.4f}<extra></extra>`,
        // RdBu runs red to blue: reversed, a loss is red and a gain blue.
        colorscale: 'RdBu',
        reversescale: true,
        zmid: 0,
        zmin: -limit,
        zmax: limit,
        colorbar: { title: { text: 'Δ' } },
        meta: { kind: 'deltaMatrix', model },
      },
    ],
    layout: {
      ...baseLayout(theme),
      title: { text: `${strings.chartDeltaMatrixTitle}: ${escapeHtml(model)}` },
      xaxis: { ...axis(theme, strings.chartKindAxis), type: 'category', showgrid: false, automargin: true },
      yaxis: { ...axis(theme, strings.chartTaskAxis), type: 'category', autorange: 'reversed', showgrid: false, automargin: true },
      margin: { l: 120, r: 20, t: 50, b: 90 },
    },
  };
}

/** "On retrieval, instructions that move queries more help more: ρ = 0.4300, n = 12" (EVAL.md). */
export function correlationSentence(row: DisplacementVsPerformanceRow, strings: UiStrings = UI_STRINGS): string {
  const template =
    row.spearman === null ? strings.correlationUndefined : row.spearman >= 0 ? strings.correlationMore : strings.correlationLess;
  return template
    .replace('{kind}', row.kind)
    .replace('{rho}', row.spearman === null ? '' : formatNumber(row.spearman))
    .replace('{n}', String(row.n));
}

/** Mean cosine displacement (x) against Delta on one kind (y), one point per (model, non-Base task). */
export function displacementVsPerformanceFigure(
  view: EvaluationView,
  kind: EvalKind,
  theme: ChartTheme,
  strings: UiStrings = UI_STRINGS,
): Figure {
  const rows = mainRows(view, kind);
  const displacement = new Map(view.displacement.map((row) => [cellKey(row.model, row.task), row.meanCosineDistance]));
  const data: Trace[] = [];
  view.models.forEach((model, m) => {
    const x: number[] = [];
    const y: number[] = [];
    const symbols: string[] = [];
    const text: string[] = [];
    view.tasks.forEach((task, t) => {
      const row = rows.get(cellKey(model, task));
      const moved = displacement.get(cellKey(model, task));
      if (t === 0 || !row || moved === undefined) return;
      x.push(moved);
      y.push(row.delta);
      symbols.push(taskSymbol(t));
      text.push(`<b>${escapeHtml(model)}</b><br>${escapeHtml(task)}`);
    });
    if (x.length === 0) return;
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: escapeHtml(model),
      x,
      y,
      text,
      hovertemplate: `%{text}<br>${strings.hoverMeanDisplacement} %{x:.4f}<br>${strings.chartDeltaVsBase} %{y:+.4f}<extra></extra>`,
      marker: { color: modelColor(theme, m), symbol: symbols, size: 10 },
      meta: { kind: 'displacementVsPerformance', model, evalKind: kind },
    });
  });
  return {
    data,
    layout: {
      ...baseLayout(theme),
      title: { text: `${strings.chartDisplacementVsPerformanceTitle} (${kind})` },
      xaxis: axis(theme, strings.chartBarsAxis),
      yaxis: { ...axis(theme, `${strings.chartDeltaVsBase} (${KIND_METRICS[kind][0]})`), zeroline: true },
      hovermode: 'closest',
      legend: { title: { text: strings.chartModel } },
      margin: { l: 60, r: 20, t: 50, b: 50 },
    },
  };
}
