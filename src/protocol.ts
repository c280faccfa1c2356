/**
 * Every message between the extension host and the results webviews (the panel beside the editor and the view in
 * the bottom panel). Both sides import this module; every message received is checked with `parseHostMessage` /
 * `parseWebviewMessage` before use. Pure: no Node, VS Code or DOM APIs.
 */
import { EVAL_KINDS } from './engine/evaluation/types';
import type { AnalysisResult } from './engine/types';

export const FIGURES = ['map', 'heatmap', 'displacement'] as const;
export type FigureId = (typeof FIGURES)[number];

export const IMAGE_FORMATS = ['png', 'svg'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** An exported PNG's background: the theme's, as on screen, or transparent (for slides and documents). */
export const IMAGE_BACKGROUNDS = ['theme', 'transparent'] as const;
export type ImageBackground = (typeof IMAGE_BACKGROUNDS)[number];

/** What the user can export: an image of one figure, or one of the analysis output files. */
export const EXPORT_KINDS = [
  'map.png',
  'map.svg',
  'heatmap.png',
  'heatmap.svg',
  'displacement.png',
  'displacement.svg',
  'results.json',
  'displacement.csv',
  'procrustes.csv',
  'report.html',
] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** A caveat shown above a result, in the display language; `setting`: the setting it asks to change (a button opens it). */
export interface ResultNote {
  text: string;
  setting?: string;
}

/** Where a result came from, for the header and for revealing a query in its file. */
export interface ResultContext {
  /** Increases with every analysis run in this window (the host only ever sends the latest run). */
  runId: number;
  title: string;
  queryFile?: string;
  instructionSource?: string;
  /** Folder holding results.json and the other output files of this run. */
  outputDir?: string;
  /** The result's warnings as the host words them (localised, naming settings); absent: the result's own warnings. */
  notes?: ResultNote[];
  /** A live preview (result.mapMode 'preview'): the time (HH:MM:SS) of the full analysis whose frame it is shown in. */
  frameTime?: string;
  /** Each query's id, or its line in the query file; parallel to the result's queries (the movers table). */
  queryLabels?: string[];
}

export type HostMessage =
  | { type: 'show'; result: AnalysisResult; context: ResultContext }
  | { type: 'status'; state: 'computing' | 'idle' | 'error'; message?: string }
  | { type: 'renderImage'; requestId: number; figure: FigureId; format: ImageFormat; background: ImageBackground }
  /** The view's remembered options (sent when it loads). */
  | { type: 'options'; labels: boolean };

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'revealQuery'; index: number }
  /** The map of run `runId` is drawn (the host measures the time from the analysis finishing to this). */
  | { type: 'drawn'; runId: number }
  /** The user turned the map's point labels on or off (the host remembers it across reloads). */
  | { type: 'labels'; on: boolean }
  | { type: 'export'; kind: ExportKind }
  /** Open the Settings editor on one of the extension's settings (`instructionLens.*`). */
  | { type: 'openSetting'; setting: string }
  | { type: 'image'; requestId: number; dataUrl: string }
  | { type: 'imageError'; requestId: number; message: string }
  /** A Content-Security-Policy violation seen in the webview (logged by the host: it means a bug). */
  | { type: 'cspViolation'; directive: string; blocked: string }
  | { type: 'error'; message: string };

/**
 * Texts the webview script shows, in English. The host passes them translated (vscode.l10n) in the page's
 * `data-strings` attribute.
 */
export const UI_STRINGS = {
  models: 'Models',
  tasks: 'Tasks',
  queries: 'Queries',
  reference: 'Reference',
  referenceAuto: 'chosen automatically',
  referenceUser: 'chosen by you',
  all: 'All',
  revealQuery: 'Click to show this query in its file',
  orderKept: 'task order kept for every model',
  orderChanged: 'task order changed for',
  computing: 'Computing…',
  partialResult: 'Partial result: models left out',
  openSetting: 'Open setting',
  orderHolds: 'holds in',
  ofResamples: 'of bootstrap resamples',
  hoverInterval: '95% interval',
  // Which map is shown (webview/main.ts, mapModeText).
  mapExact: 'Exact analysis',
  mapAnchored: 'Exact analysis, anchored to the previous map',
  mapPreview: 'Live preview in the frame of {0}',
  // Chart labels (webview/charts.ts); report.html uses the English ones.
  chartMapTitle: 'Figure 1. Models and tasks on one map',
  chartMdsAxis1: 'MDS dimension 1',
  chartMdsAxis2: 'MDS dimension 2',
  chartModel: 'Model',
  chartTask: 'Task',
  chartHeatmapTitle: 'Figure 2. Normalised Procrustes distance D (row mapped onto column)',
  chartHeatmapHover: 'source %{y} mapped onto %{x}',
  chartSourceAxis: 'source model i',
  chartTargetAxis: 'target model j',
  chartBarsTitle: 'How far each instruction moves queries (mean cosine distance to Base)',
  chartBarsAxis: 'mean cosine distance to Base',
  chartTaskAxis: 'task',
  hoverTask: 'task',
  hoverNoInstruction: 'no instruction',
  hoverInstruction: 'instruction',
  hoverMeanDisplacement: 'mean displacement',
  hoverTrajectoryLength: 'trajectory length',
  hoverMean: 'mean',
  hoverMedian: 'median',
  // Evaluation charts (webview/evaluationCharts.ts).
  chartPerformanceTitle: 'Task performance',
  chartDeltaMatrixTitle: 'Change against Base on every kind',
  chartDisplacementVsPerformanceTitle: 'Does moving more mean helping more?',
  chartDeltaVsBase: 'change against Base',
  chartBaseLine: 'Base',
  chartScore: 'score',
  chartKindAxis: 'kind (main metric)',
  correlationMore: 'On {kind}, instructions that move queries more help more: ρ = {rho}, n = {n}',
  correlationLess: 'On {kind}, instructions that move queries more help less: ρ = {rho}, n = {n}',
  correlationUndefined: 'On {kind}, the correlation is undefined (n = {n})',
} as const;
export type UiStrings = Record<keyof typeof UI_STRINGS, string>;

const MAP_MODES = ['exact', 'anchored', 'preview'] as const;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
const isString = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number';
const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isIndex = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;
function isArrayOf<T>(value: unknown, item: (x: unknown) => x is T): value is T[] {
  return Array.isArray(value) && value.every(item);
}
function isOneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (values as readonly string[]).includes(value);
}
function isOptional<T>(value: unknown, check: (x: unknown) => x is T): boolean {
  return value === undefined || check(value);
}
function isMatrix(value: unknown, rows: number, cols: number): boolean {
  return Array.isArray(value) && value.length === rows && value.every((row) => Array.isArray(row) && row.length === cols && row.every(isNumber));
}

/**
 * Checks the parts of an AnalysisResult the webview reads: names, the map, the matrices' shapes and the tables.
 * Returns a description of the first problem, or undefined when the value is usable.
 */
export function analysisResultProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'result is not an object';
  const { models, tasks } = value;
  if (!isArrayOf(models, isString) || models.length === 0) return 'models must be a non-empty string array';
  if (!isArrayOf(tasks, isString) || tasks.length === 0) return 'tasks must be a non-empty string array';
  if (!isIndex(value.n) || !isIndex(value.k)) return 'n and k must be non-negative integers';
  if (!isString(value.reference) || !models.includes(value.reference)) return 'reference must name one of the models';
  if (!isNumber(value.mdsStress)) return 'mdsStress must be a number';
  const m = models.length;
  const points = value.points;
  if (!Array.isArray(points) || points.length !== m * tasks.length) return `points must have ${m * tasks.length} entries`;
  for (const point of points) {
    if (!isObject(point) || !isString(point.model) || !isString(point.task) || !isFiniteNumber(point.x) || !isFiniteNumber(point.y)) {
      return 'every point needs model, task and finite x, y';
    }
  }
  if (!isMatrix(value.procrustesDistance, m, m)) return `procrustesDistance must be ${m} x ${m}`;
  const rows = value.displacement;
  if (!Array.isArray(rows)) return 'displacement must be an array';
  for (const row of rows) {
    if (!isObject(row) || !isString(row.model) || !isString(row.task) || !isNumber(row.meanCosineDistance) || !isNumber(row.trajectoryLength)) {
      return 'every displacement row needs model, task, meanCosineDistance and trajectoryLength';
    }
  }
  const movers = value.topMovers;
  if (!Array.isArray(movers)) return 'topMovers must be an array';
  for (const mover of movers) {
    if (!isObject(mover) || !isString(mover.model) || !isString(mover.task) || !isIndex(mover.index) || !isNumber(mover.cosineDistance)) {
      return 'every top mover needs model, task, index and cosineDistance';
    }
  }
  const robustness = value.robustness;
  if (!Array.isArray(robustness) || !robustness.every((row) => isObject(row) && isString(row.reference) && isNumber(row.disparity))) {
    return 'robustness must be an array of {reference, disparity}';
  }
  if (!isOptional(value.queries, (x): x is string[] => isArrayOf(x, isString))) return 'queries must be a string array';
  if (!isArrayOf(value.warnings, isString)) return 'warnings must be a string array';
  // Keys added with issue 12: optional, so that results.json files written before still open.
  if (!isOptional(value.warningDetails, (x): x is unknown[] => isArrayOf(x, (w): w is unknown => isObject(w) && isString(w.code)))) {
    return 'warningDetails must be an array of {code, params}';
  }
  if (!isOptional(value.failedModels, (x): x is unknown[] => isArrayOf(x, (f): f is unknown => isObject(f) && isString(f.model) && isString(f.error)))) {
    return 'failedModels must be an array of {model, error}';
  }
  const stable = (row: unknown): row is unknown =>
    isObject(row) && isString(row.model) && isArrayOf(row.order, isString) && isNumber(row.share) && isArrayOf(row.adjacentShares, isNumber);
  if (!isOptional(value.taskOrderStability, (x): x is unknown[] => isArrayOf(x, stable))) {
    return 'taskOrderStability must be an array of {model, order, share, adjacentShares}';
  }
  if (!isOptional(value.mapMode, (x): x is string => isOneOf(MAP_MODES, x))) return `mapMode must be one of ${MAP_MODES.join(', ')}`;
  return evaluationProblem(value);
}

const isNumberOrNull = (value: unknown): value is number | null => value === null || isNumber(value);

/** The task evaluation's keys (EVAL.md): optional, so that results.json files written before issue 13 still open. */
function evaluationProblem(value: Json): string | undefined {
  const row = (x: unknown): x is unknown =>
    isObject(x) &&
    isString(x.model) &&
    isString(x.task) &&
    isOneOf(EVAL_KINDS, x.kind) &&
    isString(x.metric) &&
    isNumberOrNull(x.value) &&
    isNumberOrNull(x.base) &&
    isNumberOrNull(x.delta) &&
    [x.ciLow, x.ciHigh, x.deltaCiLow, x.deltaCiHigh].every(isNumberOrNull) &&
    typeof x.home === 'boolean' &&
    isIndex(x.n);
  if (!isOptional(value.evaluation, (x): x is unknown[] => isArrayOf(x, row))) return 'evaluation must be an array of EVAL.md rows';
  const correlation = (x: unknown): x is unknown => isObject(x) && isOneOf(EVAL_KINDS, x.kind) && isNumberOrNull(x.spearman) && isIndex(x.n);
  if (!isOptional(value.displacementVsPerformance, (x): x is unknown[] => isArrayOf(x, correlation))) {
    return 'displacementVsPerformance must be an array of {kind, metric, spearman, n}';
  }
  const wording = (x: unknown): x is unknown =>
    isObject(x) && isString(x.model) && isString(x.task) && isOneOf(EVAL_KINDS, x.kind) && isIndex(x.rank) && isNumberOrNull(x.difference);
  if (!isOptional(value.leaderboard, (x): x is unknown[] => isArrayOf(x, wording))) return 'leaderboard must be an array of wording rows';
  return undefined;
}

/** Settings a webview may ask to open: ours only. */
const SETTING_ID = /^instructionLens\.[A-Za-z][\w.]*$/;

function isResultNote(value: unknown): value is ResultNote {
  return isObject(value) && isString(value.text) && isOptional(value.setting, (x): x is string => isString(x) && SETTING_ID.test(x));
}

function isResultContext(value: unknown): value is ResultContext {
  return (
    isObject(value) &&
    isIndex(value.runId) &&
    isString(value.title) &&
    isOptional(value.queryFile, isString) &&
    isOptional(value.instructionSource, isString) &&
    isOptional(value.outputDir, isString) &&
    isOptional(value.notes, (x): x is ResultNote[] => isArrayOf(x, isResultNote)) &&
    isOptional(value.frameTime, isString) &&
    isOptional(value.queryLabels, (x): x is string[] => isArrayOf(x, isString))
  );
}

/** Validates a message received by a webview. Returns undefined for anything that is not a HostMessage. */
export function parseHostMessage(value: unknown): HostMessage | undefined {
  if (!isObject(value)) return undefined;
  switch (value.type) {
    case 'show':
      return analysisResultProblem(value.result) === undefined && isResultContext(value.context)
        ? { type: 'show', result: value.result as unknown as AnalysisResult, context: value.context }
        : undefined;
    case 'status':
      return isOneOf(['computing', 'idle', 'error'] as const, value.state) && isOptional(value.message, isString)
        ? { type: 'status', state: value.state, message: value.message as string | undefined }
        : undefined;
    case 'renderImage':
      return isIndex(value.requestId) && isOneOf(FIGURES, value.figure) && isOneOf(IMAGE_FORMATS, value.format) && isOneOf(IMAGE_BACKGROUNDS, value.background)
        ? { type: 'renderImage', requestId: value.requestId, figure: value.figure, format: value.format, background: value.background }
        : undefined;
    case 'options':
      return typeof value.labels === 'boolean' ? { type: 'options', labels: value.labels } : undefined;
    default:
      return undefined;
  }
}

/** Validates a message received by the host from a webview. Returns undefined for anything else. */
export function parseWebviewMessage(value: unknown): WebviewMessage | undefined {
  if (!isObject(value)) return undefined;
  switch (value.type) {
    case 'ready':
      return { type: 'ready' };
    case 'revealQuery':
      return isIndex(value.index) ? { type: 'revealQuery', index: value.index } : undefined;
    case 'drawn':
      return isIndex(value.runId) ? { type: 'drawn', runId: value.runId } : undefined;
    case 'labels':
      return typeof value.on === 'boolean' ? { type: 'labels', on: value.on } : undefined;
    case 'export':
      return isOneOf(EXPORT_KINDS, value.kind) ? { type: 'export', kind: value.kind } : undefined;
    case 'openSetting':
      return isString(value.setting) && SETTING_ID.test(value.setting) ? { type: 'openSetting', setting: value.setting } : undefined;
    case 'image':
      return isIndex(value.requestId) && isString(value.dataUrl) && value.dataUrl.startsWith('data:')
        ? { type: 'image', requestId: value.requestId, dataUrl: value.dataUrl }
        : undefined;
    case 'imageError':
      return isIndex(value.requestId) && isString(value.message)
        ? { type: 'imageError', requestId: value.requestId, message: value.message }
        : undefined;
    case 'cspViolation':
      return isString(value.directive) && isString(value.blocked)
        ? { type: 'cspViolation', directive: value.directive, blocked: value.blocked }
        : undefined;
    case 'error':
      return isString(value.message) ? { type: 'error', message: value.message } : undefined;
    default:
      return undefined;
  }
}

/** The state a webview keeps with `setState` so it can redraw after being hidden or after a reload. */
export interface WebviewState {
  result: AnalysisResult;
  context: ResultContext;
}

export function parseWebviewState(value: unknown): WebviewState | undefined {
  if (!isObject(value)) return undefined;
  return analysisResultProblem(value.result) === undefined && isResultContext(value.context)
    ? { result: value.result as unknown as AnalysisResult, context: value.context }
    : undefined;
}
