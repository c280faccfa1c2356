/**
 * Fits a chart (built by charts.ts) to the room it gets: where its title goes, where the legends go, how long model
 * names may be, and how tall the figure is. Only the layout, legend entry names and tick labels change; the data
 * series and their hover texts (full names) stay as built. Pure: shared by the webview and report.html.
 */
import { escapeHtml, type Figure } from './charts';

/** Below this width (CSS px) legends go under the plot and model names are shortened. */
export const NARROW_WIDTH = 430;
/** Longest model name shown in a narrow view (characters). */
export const SHORT_NAME_LENGTH = 14;

export interface FitOptions {
  /** Width and height the figure may take, in CSS px. Height undefined: the figure chooses (narrow layouts). */
  width: number;
  height?: number;
  /**
   * `html`: the page shows the title in its own heading (it wraps there), the plot keeps only room for Plotly's
   * toolbar. `inline`: the title is drawn in the figure, wrapped to its width, left of the toolbar's corner.
   */
  title: 'html' | 'inline';
}

export interface FittedFigure extends Figure {
  /** The figure's title text (for a page heading when the title is not drawn inline). */
  titleText: string;
  height: number;
  narrow: boolean;
}

/** Room Plotly's toolbar (modebar) takes at the top right, so nothing is drawn under it. */
const MODEBAR_HEIGHT = 30;
const MODEBAR_WIDTH = 230;
const TITLE_FONT_PX = 15;
const LEGEND_ROW_PX = 22;
/** Narrower heatmaps show no tick labels. */
const TICKED_HEATMAP_WIDTH = 220;

/**
 * Short display names for models: the last path or Hub segment, without an endpoint's provider and address,
 * cut to `max` characters with an ellipsis. Falls back to the full name when two models would look alike.
 */
export function shortModelNames(models: readonly string[], max: number): string[] {
  const short = models.map((model) => {
    const bare = model.replace(/^openai:/, '').replace(/@https?:\/\/.*$/, '');
    const last = bare.split(/[\\/]/).filter((part) => part !== '').pop() ?? bare;
    return [...last].length > max ? `${[...last].slice(0, Math.max(1, max - 1)).join('')}…` : last;
  });
  return short.map((name, i) => (short.indexOf(name) !== short.lastIndexOf(name) ? models[i] : name));
}

/** Breaks a title into lines that fit `widthPx` (about 0.55 em per character; CJK characters count double). */
export function wrapTitle(text: string, widthPx: number, fontPx = TITLE_FONT_PX): string[] {
  const maxUnits = Math.max(8, Math.floor(widthPx / (fontPx * 0.55)));
  const units = (word: string): number => [...word].reduce((sum, ch) => sum + (ch.codePointAt(0)! > 0x2e7f ? 2 : 1), 0);
  const lines: string[] = [];
  let current = '';
  const tokens = text.split(/(\s+)/).filter((token) => token.trim() !== '');
  for (const token of tokens.flatMap((word) => splitLong(word, maxUnits, units))) {
    const candidate = current === '' ? token : `${current} ${token}`;
    if (current !== '' && units(candidate) > maxUnits) {
      lines.push(current);
      current = token;
    } else {
      current = candidate;
    }
  }
  if (current !== '') lines.push(current);
  return lines;
}

/** A word longer than a line (text without spaces, e.g. Japanese) is cut into line-sized pieces. */
function splitLong(word: string, maxUnits: number, units: (text: string) => number): string[] {
  if (units(word) <= maxUnits) return [word];
  const pieces: string[] = [];
  let piece = '';
  for (const ch of word) {
    if (units(piece + ch) > maxUnits) {
      pieces.push(piece);
      piece = ch;
    } else {
      piece += ch;
    }
  }
  if (piece !== '') pieces.push(piece);
  return pieces;
}

function titleOf(layout: Record<string, unknown>): string {
  const title = layout.title as { text?: unknown } | string | undefined;
  if (typeof title === 'string') return title;
  return typeof title?.text === 'string' ? title.text : '';
}

/** The number of legend entries a figure shows in legend `id` ("legend" or "legend2"). */
function legendEntries(figure: Figure, id: string): string[] {
  return figure.data
    .filter((trace) => trace.showlegend !== false && typeof trace.name === 'string' && (trace.legend ?? 'legend') === id)
    .map((trace) => trace.name as string);
}

/**
 * Height of a horizontal legend of these entries in `width` px, its title on top. Plotly lays horizontal legend
 * entries out on a grid as wide as the widest entry (about 7 px per character plus the symbol).
 */
function horizontalLegendHeight(entries: string[], width: number): number {
  if (entries.length === 0) return 0;
  const entryWidth = 44 + 7.5 * Math.max(...entries.map((name) => [...name].length));
  const perRow = Math.max(1, Math.floor(width / entryWidth));
  return (1 + Math.ceil(entries.length / perRow)) * LEGEND_ROW_PX + 6;
}

/** How long a short name may be at this width: the heatmap's two axes of names must leave room for its cells. */
export function shortNameLength(width: number): number {
  return Math.max(6, Math.min(SHORT_NAME_LENGTH, Math.floor((width - 80) / 14)));
}

export function fitFigure(figure: Figure, options: FitOptions): FittedFigure {
  const width = Math.max(120, Math.round(options.width));
  const narrow = width < NARROW_WIDTH;
  const titleText = titleOf(figure.layout);
  const layout: Record<string, unknown> = { ...figure.layout, width, autosize: false };
  const margin: Record<string, number | boolean> = { ...(figure.layout.margin as Record<string, number> | undefined) };

  // Title: never under the toolbar, never cut. Inline titles wrap left of the toolbar's corner.
  let top = MODEBAR_HEIGHT;
  if (options.title === 'inline' && titleText !== '') {
    const lines = wrapTitle(titleText, width - MODEBAR_WIDTH - 16);
    layout.title = {
      text: lines.join('<br>'),
      x: 0,
      xref: 'paper',
      xanchor: 'left',
      y: 1,
      yref: 'container',
      yanchor: 'top',
      pad: { t: 8, l: 4 },
      font: { size: TITLE_FONT_PX },
    };
    top = Math.max(MODEBAR_HEIGHT, 12 + lines.length * Math.round(TITLE_FONT_PX * 1.3)) + 8;
  } else {
    delete layout.title;
  }
  margin.t = top;

  // Model names: shortened on legends and heatmap ticks when narrow (the hover texts keep the full names).
  const models = [...new Set(figure.data.map((trace) => (trace.meta.kind === 'points' || trace.meta.kind === 'bars' ? trace.meta.model : undefined)).filter((m): m is string => m !== undefined))];
  const heatmap = figure.data.find((trace) => trace.meta.kind === 'heatmap');
  const names = heatmap ? ((heatmap.x as string[] | undefined) ?? []) : models;
  const short = narrow ? shortModelNames(names, shortNameLength(width)) : names;
  const shortOf = new Map(names.map((name, i) => [name, short[i]]));
  const data = figure.data.map((trace) => {
    if ((trace.meta.kind === 'points' || trace.meta.kind === 'bars') && typeof trace.name === 'string') {
      return { ...trace, name: shortOf.get(trace.meta.model) ?? trace.name };
    }
    return trace;
  });
  if (heatmap) {
    for (const axisName of ['xaxis', 'yaxis']) {
      layout[axisName] = { ...(layout[axisName] as Record<string, unknown>), tickmode: 'array', tickvals: names, ticktext: short, automargin: true };
    }
    margin.l = 10;
    margin.b = 10;
  }

  let height = options.height ?? 0;
  const fitted: FittedFigure = { data, layout, titleText, height, narrow };
  if (narrow) {
    // Legends under the plot (models first, then the task markers), the plot itself about square.
    margin.l = heatmap ? 10 : 50;
    margin.r = 10;
    const legendRoom = width - 24;
    const entries1 = legendEntries(fitted, 'legend');
    const entries2 = legendEntries(fitted, 'legend2');
    const legend1Height = horizontalLegendHeight(entries1, legendRoom);
    const legend2Height = horizontalLegendHeight(entries2, legendRoom);
    const plotArea = Math.round(Math.min(width, 420) * 0.9);
    // Under the plot: the x axis (the heatmap's names, turned, need more) and the legends.
    const categories = !heatmap && (layout.xaxis as { type?: string } | undefined)?.type === 'category';
    const longestCategory = categories ? Math.max(1, ...figure.data.flatMap((trace) => ((trace.x as unknown[] | undefined) ?? []).map((x) => [...String(x)].length))) : 0;
    // Category names (the bar chart's tasks) are turned 45 degrees; their axis title is left out for room.
    if (categories) layout.xaxis = { ...(layout.xaxis as object), tickangle: -45, title: { text: '' } };
    const axisRoom = heatmap ? (width >= TICKED_HEATMAP_WIDTH ? 20 + 5 * shortNameLength(width) : 30) : categories ? 16 + Math.ceil(5.3 * longestCategory) : 56;
    margin.b = axisRoom + legend1Height + legend2Height;
    height = options.height === undefined ? top + plotArea + margin.b : Math.max(options.height, top + 200 + margin.b);
    // Legends are placed in container coordinates: they never push the plot area's margins (a legend wider than a
    // narrow plot would squeeze it to nothing) and their place does not depend on how Plotly sizes the plot.
    const legendAt = (fromBottom: number): Record<string, unknown> => ({ orientation: 'h', x: 8 / width, xref: 'container', xanchor: 'left', y: fromBottom / height, yref: 'container', yanchor: 'top' });
    const titleOnTop = (legend: unknown): Record<string, unknown> => ({ ...((legend as { title?: object } | undefined)?.title ?? {}), side: 'top' });
    // Legends do not push the margins either (Plotly's push can exceed a narrow figure and fail with "axis scaling").
    if (entries1.length + entries2.length > 0) margin.autoexpand = false;
    if (entries1.length > 0) layout.legend = { ...(layout.legend as object), ...legendAt(legend1Height + legend2Height), title: titleOnTop(layout.legend) };
    if (entries2.length > 0) layout.legend2 = { ...(layout.legend2 as object), ...legendAt(legend2Height), title: titleOnTop(layout.legend2) };
    if (heatmap) {
      // Too narrow for two axes of names beside the cells: the names are in the cells' hover text.
      const ticks = width >= TICKED_HEATMAP_WIDTH;
      layout.xaxis = { ...(layout.xaxis as object), tickangle: -45, showticklabels: ticks };
      layout.yaxis = { ...(layout.yaxis as object), showticklabels: ticks };
      const index = data.indexOf(heatmap);
      data[index] = { ...heatmap, colorbar: { ...(heatmap.colorbar as object), thickness: 12 } };
    }
  } else if (height === 0) {
    height = 460;
  }
  layout.margin = margin;
  layout.height = height;
  fitted.height = height;
  return fitted;
}

/**
 * Labels beside the map's points (the optional toggle): the task name at each point, the model's name at its Base
 * point (the first task). Layout annotations, so the data series stay as built.
 */
export function pointLabels(figure: Figure, tasks: readonly string[], color: string): Record<string, unknown>[] {
  const points = figure.data.filter((trace) => trace.meta.kind === 'points');
  const names = shortModelNames(points.map((trace) => (trace.meta.kind === 'points' ? trace.meta.model : '')), SHORT_NAME_LENGTH);
  return points.flatMap((trace, m) => {
    const xs = (trace.x as number[] | undefined) ?? [];
    const ys = (trace.y as number[] | undefined) ?? [];
    return xs.map((x, t) => ({
      x,
      y: ys[t],
      text: escapeHtml(t === 0 ? `${tasks[0]} · ${names[m]}` : tasks[t]),
      showarrow: false,
      yshift: 11,
      font: { size: 10, color },
      captureevents: false,
    }));
  });
}
