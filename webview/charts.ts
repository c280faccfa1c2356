/**
 * Chart code shared by report.html and the extension's webview: pure functions from an AnalysisResult and a theme
 * to Plotly figures, plus renderFigure, which draws (or updates in place) with the global Plotly.
 * No DOM or Node API is used outside renderFigure, so the figure builders can be tested anywhere.
 */
import { mapExtent } from '../src/engine/method/anchor';
import { ownValue } from '../src/engine/records';
import type { AnalysisCore, AnalysisResult, MapPoint } from '../src/engine/types';
import { UI_STRINGS, type UiStrings } from '../src/protocol';

export interface ChartTheme {
  foreground: string;
  background: string;
  gridColor: string;
  /** CSS font-family list. */
  font: string;
  /** One colour per model, cycled when there are more models than colours. */
  colorway: string[];
}

/** What a trace shows; lets callers and tests find traces without relying on their order. */
export type TraceMeta =
  | { kind: 'points'; model: string }
  | { kind: 'trajectory'; model: string; task: string }
  | { kind: 'taskLegend'; task: string }
  | { kind: 'heatmap' }
  | { kind: 'bars'; model: string }
  | { kind: 'scores'; model: string; evalKind: string }
  | { kind: 'baseLine'; model: string; evalKind: string }
  | { kind: 'deltaMatrix'; model: string }
  | { kind: 'displacementVsPerformance'; model: string; evalKind: string };

export interface Trace {
  type: 'scatter' | 'heatmap' | 'bar';
  meta: TraceMeta;
  [property: string]: unknown;
}

export interface Figure {
  data: Trace[];
  layout: Record<string, unknown>;
}

/** Tableau 20: distinct enough for the paper's 18 models. */
export const DEFAULT_COLORWAY = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
  '#aec7e8', '#ffbb78', '#98df8a', '#ff9896', '#c5b0d5', '#c49c94', '#f7b6d2', '#c7c7c7', '#dbdb8d', '#9edae5',
];

export const LIGHT_THEME: ChartTheme = {
  foreground: '#1f2328',
  background: '#ffffff',
  gridColor: '#d8dee4',
  font: 'system-ui, -apple-system, "Segoe UI", sans-serif',
  colorway: DEFAULT_COLORWAY,
};

/** Marker per task, in task order (Base gets the circle). */
const TASK_SYMBOLS = [
  'circle', 'square', 'diamond', 'triangle-up', 'x', 'cross', 'star', 'pentagon', 'hexagon', 'triangle-down',
  'star-triangle-up', 'hourglass', 'bowtie', 'asterisk', 'triangle-left', 'triangle-right',
];

export function taskSymbol(taskIndex: number): string {
  return TASK_SYMBOLS[taskIndex % TASK_SYMBOLS.length];
}

export function modelColor(theme: ChartTheme, modelIndex: number): string {
  return theme.colorway[modelIndex % theme.colorway.length];
}

/**
 * Numbers as shown in tables and heatmap cells: 4 decimals, or 3 significant digits when tiny; an en dash for a
 * number that was not computed (null, e.g. neighbour overlap turned off).
 */
export function formatNumber(value: number | null): string {
  if (value === null) return '\u2013';
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 1e-4) return value.toExponential(2);
  return value.toFixed(4);
}

/**
 * Plotly renders a small HTML subset in labels and hover text: user text must be escaped. Plotly decodes only
 * &amp; &lt; &gt; (and numeric entities), so quotes are left as they are (without a `<` they start no tag).
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A point that moved between two maps shown one after the other. */
export interface MovedPoint {
  model: string;
  task: string;
  from: { x: number; y: number };
  to: { x: number; y: number };
}

/** Share of the map's extent a point must move to be drawn as moved. */
export const MOVED_SHARE = 0.02;

/**
 * The points of `current` that `previous` also has (same model and task) and that moved more than `share` of the
 * current map's extent (the larger side of its bounding box).
 */
export function movedPoints(previous: readonly MapPoint[], current: readonly MapPoint[], share = MOVED_SHARE): MovedPoint[] {
  const key = (p: MapPoint): string => JSON.stringify([p.model, p.task]);
  const before = new Map(previous.map((p) => [key(p), p]));
  const threshold = share * mapExtent(current.flatMap((p) => [p.x, p.y]), current.length);
  const moved: MovedPoint[] = [];
  for (const point of current) {
    const old = before.get(key(point));
    if (old && Math.hypot(point.x - old.x, point.y - old.y) > threshold) {
      moved.push({ model: point.model, task: point.task, from: { x: old.x, y: old.y }, to: { x: point.x, y: point.y } });
    }
  }
  return moved;
}

/**
 * Figure 1: one point per (model, task); colour = model, marker = task; a line from each Base to each task point.
 * `moved` points get their previous position drawn faintly (a circle) with an arrow to the new one.
 */
export function mapFigure(result: AnalysisCore, theme: ChartTheme, strings: UiStrings = UI_STRINGS, moved: readonly MovedPoint[] = []): Figure {
  const pointAt = new Map(result.points.map((p) => [`${p.model}\u0000${p.task}`, p]));
  const displacementAt = new Map(result.displacement.map((d) => [`${d.model}\u0000${d.task}`, d]));
  const data: Trace[] = [];

  result.models.forEach((model, m) => {
    const color = modelColor(theme, m);
    const base = pointAt.get(`${model}\u0000${result.tasks[0]}`);
    if (!base) throw new Error(`mapFigure: no Base point for model ${model}`);
    for (const task of result.tasks.slice(1)) {
      const point = pointAt.get(`${model}\u0000${task}`);
      if (!point) throw new Error(`mapFigure: no point for ${model} / ${task}`);
      data.push({
        type: 'scatter',
        mode: 'lines',
        x: [base.x, point.x],
        y: [base.y, point.y],
        line: { color, width: 1.5 },
        opacity: 0.55,
        hoverinfo: 'skip',
        showlegend: false,
        legendgroup: `model:${model}`,
        meta: { kind: 'trajectory', model, task },
      });
    }
  });

  result.models.forEach((model, m) => {
    const color = modelColor(theme, m);
    const x: number[] = [];
    const y: number[] = [];
    const text: string[] = [];
    const symbols: string[] = [];
    result.tasks.forEach((task, t) => {
      const point = pointAt.get(`${model}\u0000${task}`);
      if (!point) throw new Error(`mapFigure: no point for ${model} / ${task}`);
      x.push(point.x);
      y.push(point.y);
      symbols.push(taskSymbol(t));
      text.push(pointHoverText(result, model, task, displacementAt.get(`${model}\u0000${task}`), strings));
    });
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: escapeHtml(model),
      x,
      y,
      text,
      hovertemplate: '%{text}<extra></extra>',
      marker: { color, symbol: symbols, size: 11, line: { width: 1, color: theme.background } },
      legendgroup: `model:${model}`,
      meta: { kind: 'points', model },
    });
  });

  // Legend entries for the task markers (no data: they only explain the symbols).
  result.tasks.forEach((task, t) => {
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: escapeHtml(task),
      x: [null],
      y: [null],
      marker: { color: theme.foreground, symbol: taskSymbol(t), size: 10 },
      hoverinfo: 'skip',
      legend: 'legend2',
      meta: { kind: 'taskLegend', task },
    });
  });

  return {
    data,
    layout: {
      ...baseLayout(theme),
      title: { text: strings.chartMapTitle },
      xaxis: axis(theme, strings.chartMdsAxis1),
      yaxis: { ...axis(theme, strings.chartMdsAxis2), scaleanchor: 'x', scaleratio: 1 },
      hovermode: 'closest',
      legend: { title: { text: strings.chartModel }, x: 1.02, y: 1, yanchor: 'top' },
      legend2: { title: { text: strings.chartTask }, x: 1.02, y: 0, yanchor: 'bottom' },
      margin: { l: 60, r: 20, t: 50, b: 50 },
      ...movedDecorations(result, theme, moved),
    },
  };
}

/** Faint circles at the previous positions and arrows to the new ones (layout shapes and annotations, not traces). */
function movedDecorations(result: AnalysisCore, theme: ChartTheme, moved: readonly MovedPoint[]): Record<string, unknown> {
  if (moved.length === 0) return {};
  const colorOf = new Map(result.models.map((model, m) => [model, modelColor(theme, m)]));
  return {
    shapes: moved.map((p) => ({
      type: 'circle',
      xref: 'x',
      yref: 'y',
      xsizemode: 'pixel',
      ysizemode: 'pixel',
      xanchor: p.from.x,
      yanchor: p.from.y,
      x0: -6,
      x1: 6,
      y0: -6,
      y1: 6,
      line: { color: colorOf.get(p.model) ?? theme.foreground, width: 1, dash: 'dot' },
      opacity: 0.45,
      layer: 'below',
    })),
    annotations: moved.map((p) => ({
      x: p.to.x,
      y: p.to.y,
      ax: p.from.x,
      ay: p.from.y,
      xref: 'x',
      yref: 'y',
      axref: 'x',
      ayref: 'y',
      text: '',
      showarrow: true,
      arrowhead: 2,
      arrowsize: 1,
      arrowwidth: 1,
      standoff: 6,
      arrowcolor: colorOf.get(p.model) ?? theme.foreground,
      opacity: 0.45,
    })),
  };
}

/** Figure 2: the normalised Procrustes distance D (row = source model i mapped onto column j), values as text. */
export function heatmapFigure(result: AnalysisResult, theme: ChartTheme, strings: UiStrings = UI_STRINGS): Figure {
  const names = result.models.map(escapeHtml);
  return {
    data: [
      {
        type: 'heatmap',
        z: result.procrustesDistance,
        x: names,
        y: names,
        text: result.procrustesDistance.map((row) => row.map(formatNumber)),
        texttemplate: '%{text}',
        hovertemplate: `${strings.chartHeatmapHover}<br>D = %{text}<extra></extra>`,
        colorscale: 'Viridis',
        colorbar: { title: { text: 'D' } },
        meta: { kind: 'heatmap' },
      },
    ],
    layout: {
      ...baseLayout(theme),
      title: { text: strings.chartHeatmapTitle },
      xaxis: { ...axis(theme, strings.chartTargetAxis), type: 'category', showgrid: false },
      yaxis: { ...axis(theme, strings.chartSourceAxis), type: 'category', autorange: 'reversed', showgrid: false },
      margin: { l: 160, r: 20, t: 50, b: 140 },
    },
  };
}

/**
 * Mean cosine distance to Base per task (x) and model (one bar series per model), with the 95% bootstrap interval as
 * error bars (results written before the intervals existed are drawn without them).
 */
export function displacementFigure(result: AnalysisResult, theme: ChartTheme, strings: UiStrings = UI_STRINGS): Figure {
  const tasks = result.tasks.slice(1);
  const data: Trace[] = result.models.map((model, m) => {
    const rows = tasks.map((task) => result.displacement.find((d) => d.model === model && d.task === task));
    const intervals = rows.every((row) => row && typeof row.meanCosineDistanceCiLow === 'number' && typeof row.meanCosineDistanceCiHigh === 'number');
    const trace: Trace = {
      type: 'bar',
      name: escapeHtml(model),
      x: tasks.map(escapeHtml),
      y: rows.map((row) => row?.meanCosineDistance ?? null),
      customdata: rows.map((row) => [
        row?.medianCosineDistance ?? null,
        row?.p90CosineDistance ?? null,
        row?.meanCosineDistanceCiLow ?? null,
        row?.meanCosineDistanceCiHigh ?? null,
      ]),
      hovertemplate:
        `<b>${escapeHtml(model)}</b><br>%{x}<br>${strings.hoverMean} %{y:.4f}` +
        (intervals ? `<br>${strings.hoverInterval} [%{customdata[2]:.4f}, %{customdata[3]:.4f}]` : '') +
        `<br>${strings.hoverMedian} %{customdata[0]:.4f}<br>p90 %{customdata[1]:.4f}<extra></extra>`,
      marker: { color: modelColor(theme, m) },
      meta: { kind: 'bars', model },
    };
    if (intervals) {
      trace.error_y = {
        type: 'data',
        symmetric: false,
        array: rows.map((row) => row!.meanCosineDistanceCiHigh - row!.meanCosineDistance),
        arrayminus: rows.map((row) => row!.meanCosineDistance - row!.meanCosineDistanceCiLow),
        color: theme.foreground,
        thickness: 1.2,
        width: 3,
      };
    }
    return trace;
  });
  return {
    data,
    layout: {
      ...baseLayout(theme),
      title: { text: strings.chartBarsTitle },
      barmode: 'group',
      xaxis: { ...axis(theme, strings.chartTaskAxis), type: 'category' },
      yaxis: { ...axis(theme, strings.chartBarsAxis), rangemode: 'tozero' },
      legend: { title: { text: strings.chartModel } },
      margin: { l: 60, r: 20, t: 50, b: 60 },
    },
  };
}

/** The global Plotly object, loaded by its own script tag (dist/plotly.js). Only what we call is declared. */
interface PlotlyApi {
  react(target: unknown, data: unknown[], layout: Record<string, unknown>, config?: Record<string, unknown>): Promise<unknown>;
  animate(target: unknown, frame: Record<string, unknown>, options: Record<string, unknown>): Promise<unknown>;
}
declare const Plotly: PlotlyApi;

export const MAP_TRANSITION_MS = 450;

/**
 * Draws `figure` into `el`, or updates it in place when it was drawn before (Plotly.react: no flicker). With
 * `animate`, when `el` shows the same traces (same kinds, same number of points), the points and lines glide to
 * their new positions first (Plotly.animate), then the figure is set.
 */
export async function renderFigure(el: unknown, figure: Figure, options: { animate?: boolean } = {}): Promise<unknown> {
  const shown = (el as { data?: { meta?: TraceMeta; x?: unknown[] }[] }).data;
  const moving = figure.data.flatMap((trace, i) => (trace.meta.kind === 'points' || trace.meta.kind === 'trajectory' ? [i] : []));
  const sameTraces =
    Array.isArray(shown) &&
    shown.length === figure.data.length &&
    figure.data.every((trace, i) => JSON.stringify(shown[i].meta) === JSON.stringify(trace.meta) && shown[i].x?.length === (trace.x as unknown[]).length);
  if (options.animate && sameTraces) {
    await Plotly.animate(
      el,
      { data: moving.map((i) => ({ x: figure.data[i].x, y: figure.data[i].y })), traces: moving },
      { transition: { duration: MAP_TRANSITION_MS, easing: 'cubic-in-out' }, frame: { duration: MAP_TRANSITION_MS, redraw: false }, mode: 'immediate' },
    );
  }
  return Plotly.react(el, figure.data, figure.layout, { responsive: true, displaylogo: false });
}

function pointHoverText(
  result: AnalysisCore,
  model: string,
  task: string,
  displacement: AnalysisResult['displacement'][number] | undefined,
  strings: UiStrings,
): string {
  const lines = [`<b>${escapeHtml(model)}</b>`, `${strings.hoverTask}: ${escapeHtml(task)}`];
  if (task === result.tasks[0]) {
    lines[1] += ` (${strings.hoverNoInstruction})`;
  } else {
    const instruction = ownValue(result.instructions, task);
    if (instruction !== undefined) lines.push(...wrap(`${strings.hoverInstruction}: ${instruction}`, 60).map(escapeHtml));
  }
  if (displacement) {
    lines.push(`${strings.hoverMeanDisplacement}: ${formatNumber(displacement.meanCosineDistance)}`);
    lines.push(`${strings.hoverTrajectoryLength}: ${formatNumber(displacement.trajectoryLength)}`);
  }
  return lines.join('<br>');
}

/** Breaks long text at spaces into lines of about `width` characters (hover boxes do not wrap by themselves). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/)) {
    if (current !== '' && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  if (current !== '') lines.push(current);
  // Text without spaces (e.g. Japanese) is cut at the width instead.
  return lines.flatMap((line) => (line.length <= width ? [line] : line.match(new RegExp(`.{1,${width}}`, 'gsu')) ?? []));
}

export function baseLayout(theme: ChartTheme): Record<string, unknown> {
  return {
    paper_bgcolor: theme.background,
    plot_bgcolor: theme.background,
    font: { family: theme.font, color: theme.foreground },
    colorway: theme.colorway,
    autosize: true,
  };
}

export function axis(theme: ChartTheme, title: string): Record<string, unknown> {
  return {
    title: { text: title },
    gridcolor: theme.gridColor,
    zerolinecolor: theme.gridColor,
    linecolor: theme.gridColor,
  };
}
