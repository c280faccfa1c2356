/**
 * Script of the results webviews (the panel beside the editor and the view in the bottom panel). Draws the shared
 * charts (webview/charts.ts) with the VS Code theme's colours, the top-movers and robustness tables, and talks to
 * the host only through the messages of src/protocol.ts. Every message received is validated.
 */
import type { AnalysisCore, AnalysisResult } from '../src/engine/types';
import {
  type ExportKind,
  type FigureId,
  type HostMessage,
  type ImageBackground,
  type ImageFormat,
  parseHostMessage,
  parseWebviewState,
  type ResultContext,
  type ResultNote,
  type UiStrings,
  type WebviewMessage,
  type WebviewState,
} from '../src/protocol';
import {
  type ChartTheme,
  DEFAULT_COLORWAY,
  displacementFigure,
  type Figure,
  formatNumber,
  heatmapFigure,
  mapFigure,
  type MovedPoint,
  movedPoints,
  renderFigure,
} from './charts';
import { renderEvaluation } from './evaluationPanel';
import { fitFigure, NARROW_WIDTH, pointLabels, shortModelNames, shortNameLength } from './fit';
import { type PlotlyImageApi, renderFigureImage } from './imageExport';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: WebviewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

declare const Plotly: PlotlyImageApi;

const vscode = acquireVsCodeApi();
const strings = JSON.parse(document.body.dataset.strings ?? '{}') as UiStrings;
const post = (message: WebviewMessage): void => vscode.postMessage(message);

const figureElements: Record<FigureId, HTMLElement> = {
  map: byId('map'),
  heatmap: byId('heatmap'),
  displacement: byId('displacement'),
};
let current: WebviewState | undefined;
/** Points that moved in the last update, drawn with their previous position until the next update. */
let moved: MovedPoint[] = [];

function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`webview: element #${id} missing`);
  return el;
}

function cssVariable(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** Chart colours from the VS Code theme: read again on every draw, so a theme switch re-colours the plots. */
function themeFromVsCode(): ChartTheme {
  return {
    foreground: cssVariable('--vscode-editor-foreground', '#333333'),
    background: cssVariable('--vscode-editor-background', '#ffffff'),
    gridColor: cssVariable('--vscode-editorWidget-border', cssVariable('--vscode-panel-border', '#8884')),
    font: cssVariable('--vscode-font-family', 'system-ui, sans-serif'),
    colorway: DEFAULT_COLORWAY,
  };
}

const FIGURE_BUILDERS: Record<FigureId, (result: AnalysisResult, theme: ChartTheme, strings: UiStrings) => Figure> = {
  // The points that moved in the last update are drawn with their previous position.
  map: (result, theme, uiStrings) => mapFigure(result, theme, uiStrings, moved),
  heatmap: heatmapFigure,
  displacement: displacementFigure,
};
const FIGURE_ORDER: FigureId[] = ['map', 'heatmap', 'displacement'];

/**
 * Where the view is decides its layout: `column` (narrow or tall, e.g. a side bar: one column, the map first) or
 * `tabs` (wide and short, e.g. the bottom panel: one figure at a time beside the tables).
 */
type LayoutMode = 'column' | 'tabs';
function layoutMode(): LayoutMode {
  return window.innerWidth >= 700 && window.innerHeight < 560 ? 'tabs' : 'column';
}

let activeTab: FigureId = 'map';
let drawnSize = '';

function applyLayout(): void {
  const mode = layoutMode();
  document.body.dataset.layout = mode;
  const narrow = window.innerWidth < NARROW_WIDTH;
  document.body.dataset.width = narrow ? 'narrow' : 'wide';
  document.body.dataset.tables = narrow || mode === 'tabs' ? 'stacked' : 'full';
  for (const section of document.querySelectorAll<HTMLElement>('.figure')) section.classList.toggle('active', section.dataset.figure === activeTab);
  for (const button of document.querySelectorAll<HTMLButtonElement>('#tabs button')) button.setAttribute('aria-selected', String(button.dataset.tab === activeTab));
  // Tabs: the shown figure's tools (Labels, PNG, SVG) sit at the end of the tab row, so the figure starts right under it.
  for (const tools of document.querySelectorAll<HTMLElement>('[data-figure-tools]')) {
    const home = byId(`figure-${tools.dataset.figureTools}`).querySelector('header') as HTMLElement;
    const place = mode === 'tabs' && tools.dataset.figureTools === activeTab ? byId('tab-tools') : home;
    if (tools.parentElement !== place) place.append(tools);
  }
}

/** Room for one figure: its column's width; in tabs mode also the height left under the header. */
function figureRoom(id: FigureId): { width: number; height?: number } {
  const section = figureElements[id].closest('.figure') as HTMLElement;
  const width = section.clientWidth || (document.querySelector('.figures') as HTMLElement).clientWidth || window.innerWidth - 24;
  if (document.body.dataset.layout !== 'tabs') return { width, height: width < NARROW_WIDTH ? undefined : Math.min(460, Math.max(320, Math.round(width * 0.75))) };
  // Where the shown figure's plot starts (every tab's plot starts there; hidden ones have no box to measure).
  const top = figureElements[activeTab].getBoundingClientRect().top + window.scrollY;
  return { width, height: Math.max(240, window.innerHeight - top - 12) };
}

/** Draws the map first (the figure a user waits for), then the others; `animate`: the map moves to its new points. */
async function drawFigures(result: AnalysisResult, onMapDrawn?: () => void, animate = false): Promise<void> {
  applyLayout();
  drawnSize = `${window.innerWidth}x${window.innerHeight}`;
  const theme = themeFromVsCode();
  for (const id of FIGURE_ORDER) {
    // A newer result arrived: stop here, requestDraw draws the newer one (its map first) at once.
    if (current?.result !== result) return;
    // One model: no 1 x 1 heatmap (the view says what needs two or more models).
    if (id === 'heatmap' && result.models.length < 2) continue;
    const el = figureElements[id];
    const fitted = fitFigure(FIGURE_BUILDERS[id](result, theme, strings), { ...figureRoom(id), title: 'html' });
    if (id === 'map' && labelsOn()) fitted.layout.annotations = pointLabels(fitted, result.tasks, theme.foreground);
    el.style.height = `${fitted.height}px`;
    await renderFigure(el, fitted, id === 'map' ? { animate } : undefined);
    if (id === 'map') onMapDrawn?.();
  }
  if (current?.result === result) await renderEvaluation(result, theme, strings, drawFitted);
  document.body.dataset.theme = theme.background;
}

/**
 * A figure of the evaluation section: fitted to its element's width, its title in the heading before it (where it
 * wraps; never under Plotly's toolbar).
 */
function drawFitted(el: HTMLElement, figure: Figure): Promise<unknown> {
  const heading = el.previousElementSibling;
  const title = (figure.layout.title as { text?: string } | undefined)?.text ?? '';
  if (heading?.classList.contains('plot-title')) heading.textContent = title.replace(/<[^>]*>/g, '');
  const width = el.clientWidth || (document.querySelector('.figures') as HTMLElement).clientWidth || window.innerWidth - 24;
  const fitted = fitFigure(figure, { width, height: width < NARROW_WIDTH ? undefined : Math.min(460, Math.max(320, Math.round(width * 0.7))), title: 'html' });
  el.style.height = `${fitted.height}px`;
  return renderFigure(el, fitted);
}

function text(tag: string, content: string, className?: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = content;
  if (className) el.className = className;
  return el;
}

function renderSummary(result: AnalysisResult, context: ResultContext): void {
  byId('title').textContent = context.title;
  const reference = `${result.reference} (${result.referenceChosenBy === 'auto' ? strings.referenceAuto : strings.referenceUser})`;
  const parts = [
    `${strings.models}: ${result.models.length}`,
    `${strings.tasks}: ${result.tasks.length}`,
    `${strings.queries}: ${result.n}`,
    `k = ${result.k}`,
    `${strings.reference}: ${reference}`,
    `MDS: ${result.mdsMethod} (stress ${formatNumber(result.mdsStress)})`,
  ];
  byId('summary').textContent = parts.join(' · ');
  // Cut to one line in the tabs layout: the whole text on hover.
  byId('summary').title = byId('summary').textContent ?? '';
  const failed = result.failedModels ?? [];
  const partial = failed.length > 0 ? [text('p', `${strings.partialResult}: ${failed.map((f) => f.model).join(', ')}`, 'partial')] : [];
  const notes: ResultNote[] = context.notes ?? result.warnings.map((warning) => ({ text: warning }));
  byId('warnings').replaceChildren(
    ...partial,
    ...notes.map(({ text: warning, setting }) => {
      const note = document.createElement('p');
      note.className = 'warning';
      note.setAttribute('role', 'note');
      note.textContent = warning;
      // The tabs layout shows each warning on one line: the whole text on hover, and a click opens it.
      note.title = warning;
      if (setting) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'open-setting';
        button.dataset.setting = setting;
        button.textContent = `${strings.openSetting}: ${setting}`;
        note.append(' ', button);
      }
      return note;
    }),
  );
}

/** Per model: its tasks by mean displacement with how often each step and the whole order hold across resamples. */
function renderStability(result: AnalysisResult): void {
  const rows = result.taskOrderStability ?? [];
  byId('stability-body').replaceChildren(
    ...rows.map((row) => {
      const steps = row.order.map((task, i) => (i === 0 ? task : `> (${percent(row.adjacentShares[i - 1])}) ${task}`)).join(' ');
      const tr = document.createElement('tr');
      tr.append(text('td', row.model), text('td', steps), text('td', `${strings.orderHolds} ${percent(row.share)} ${strings.ofResamples}`, 'number'));
      return tr;
    }),
  );
  byId('stability').hidden = rows.length === 0;
}

function percent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}

/** The filter selects of the top-movers table: keep the user's choice when the new result still has it. */
function fillSelect(select: HTMLSelectElement, values: string[]): void {
  const previous = select.value;
  select.replaceChildren(new Option(strings.all, ''), ...values.map((value) => new Option(value, value)));
  select.value = values.includes(previous) ? previous : '';
}

/** A table cell holding a model's name: shortened when the view is narrow, the full name on hover. */
function modelCell(result: AnalysisResult, model: string): HTMLElement {
  const short = window.innerWidth < NARROW_WIDTH ? (shortModelNames(result.models, shortNameLength(window.innerWidth))[result.models.indexOf(model)] ?? model) : model;
  const cell = text('td', short, 'model');
  cell.title = model;
  return cell;
}

function renderMovers(result: AnalysisResult): void {
  const modelSelect = byId('movers-model') as HTMLSelectElement;
  const taskSelect = byId('movers-task') as HTMLSelectElement;
  fillSelect(modelSelect, result.models);
  fillSelect(taskSelect, result.tasks.slice(1));
  const body = byId('movers-body');
  const rows = result.topMovers.filter(
    (mover) => (modelSelect.value === '' || mover.model === modelSelect.value) && (taskSelect.value === '' || mover.task === taskSelect.value),
  );
  body.replaceChildren(
    ...rows.map((mover) => {
      const row = document.createElement('tr');
      row.dataset.index = String(mover.index);
      row.tabIndex = 0;
      row.title = strings.revealQuery;
      row.append(
        modelCell(result, mover.model),
        text('td', mover.task, 'task'),
        text('td', current?.context.queryLabels?.[mover.index] ?? `#${mover.index + 1}`, 'query-id'),
        text('td', mover.query ?? result.queries?.[mover.index] ?? `#${mover.index + 1}`, 'query'),
        text('td', formatNumber(mover.cosineDistance), 'number'),
        text('td', formatNumber(mover.relativeMovement), 'number secondary'),
        text('td', formatNumber(mover.neighbourOverlap), 'number secondary'),
      );
      return row;
    }),
  );
}

function renderRobustness(result: AnalysisResult): void {
  const body = byId('robustness-body');
  body.replaceChildren(
    ...result.robustness.map((row) => {
      const changed = Object.entries(row.taskOrderPreserved)
        .filter(([, preserved]) => !preserved)
        .map(([model]) => model);
      const tr = document.createElement('tr');
      tr.append(
        modelCell(result, row.reference),
        text('td', formatNumber(row.disparity), 'number'),
        text('td', changed.length === 0 ? strings.orderKept : `${strings.orderChanged}: ${changed.join(', ')}`),
      );
      return tr;
    }),
  );
  byId('robustness').hidden = result.robustness.length === 0;
}

/** Which map is shown: an exact analysis (anchored or not) or a live preview in an earlier analysis's frame. */
function renderMapMode(result: AnalysisResult, context: ResultContext): void {
  const mode = result.mapMode ?? 'exact';
  document.body.dataset.mapMode = mode;
  byId('map-mode').textContent =
    mode === 'preview' ? strings.mapPreview.replace('{0}', context.frameTime ?? '') : mode === 'anchored' ? strings.mapAnchored : strings.mapExact;
}

async function show(state: WebviewState): Promise<void> {
  const previous = current;
  current = state;
  vscode.setState(state);
  // Arrows only between two maps of the same analysis session (same title), shown one after the other.
  moved = previous && previous.context.title === state.context.title ? movedPoints(previous.result.points, state.result.points) : [];
  document.body.classList.add('has-result');
  document.body.dataset.models = state.result.models.length < 2 ? 'one' : 'many';
  renderSummary(state.result, state.context);
  renderStability(state.result);
  // The map first: the tables are filled once it is drawn (at once when the view is hidden and draws later).
  tablesFor = state.result;
  if (!isVisible()) renderTables(state.result);
  animateNext = moved.length > 0;
  await requestDraw();
  renderTables(state.result);
}

/** The result whose tables are still to be filled. */
let tablesFor: AnalysisResult | undefined;
function renderTables(result: AnalysisResult): void {
  if (tablesFor !== result) return;
  tablesFor = undefined;
  renderMovers(result);
  renderRobustness(result);
}

/** A hidden view (display: none) has no size to fit to: it draws when it is shown again. */
function isVisible(): boolean {
  return document.visibilityState === 'visible' && window.innerWidth > 0 && window.innerHeight > 0;
}

let drawing = false;
let drawWanted = false;
/** The next draw animates the map from its previous points (a new result of the same session). */
let animateNext = false;
let lastReportedRun = -1;

/** Draws the current result, one draw at a time; requests made meanwhile are merged into one more draw. */
async function requestDraw(): Promise<void> {
  drawWanted = true;
  if (drawing || !isVisible()) return;
  drawing = true;
  try {
    while (drawWanted && current && isVisible()) {
      drawWanted = false;
      const { result, context } = current;
      const animate = animateNext;
      animateNext = false;
      await drawFigures(
        result,
        () => {
          if (context.runId === lastReportedRun) return;
          lastReportedRun = context.runId;
          post({ type: 'drawn', runId: context.runId });
          renderTables(result);
        },
        animate,
      );
      if (current?.result !== result) continue;
      // Set together once the figures are drawn, so that the map-mode line, data-map-mode, data-moved and
      // data-rendered always agree.
      renderMapMode(result, context);
      document.body.dataset.moved = String(moved.length);
      document.body.dataset.rendered = String(context.runId);
    }
  } finally {
    drawing = false;
  }
}

const emptyText = byId('empty').textContent ?? '';

function setStatus(state: 'computing' | 'idle' | 'error', message?: string): void {
  document.body.dataset.status = state;
  // Before the first result, the run's progress is the view's content.
  byId('empty').textContent = state === 'computing' && message ? message : emptyText;
  const status = byId('status');
  status.textContent = state === 'computing' ? (message ?? strings.computing) : state === 'error' ? (message ?? '') : '';
  status.hidden = state === 'idle';
}

/** An exported image of a figure as on screen (webview/imageExport.ts), at least 800 px wide. */
async function renderImage(requestId: number, figure: FigureId, format: ImageFormat, background: ImageBackground): Promise<void> {
  try {
    if (!current) throw new Error('no result shown');
    const width = Math.max(800, Math.round(figureElements[figure].clientWidth));
    const theme = themeFromVsCode();
    const dataUrl = await renderFigureImage(Plotly, FIGURE_BUILDERS[figure](current.result, theme, strings), { format, background, theme, width });
    post({ type: 'image', requestId, dataUrl });
  } catch (error) {
    post({ type: 'imageError', requestId, message: error instanceof Error ? error.message : String(error) });
  }
}

function handle(message: HostMessage): void {
  switch (message.type) {
    case 'show':
      void show({ result: message.result, context: message.context }).catch(reportError);
      break;
    case 'status':
      setStatus(message.state, message.message);
      break;
    case 'renderImage':
      void renderImage(message.requestId, message.figure, message.format, message.background);
      break;
    case 'options':
      if (labelsToggle.checked !== message.labels) {
        labelsToggle.checked = message.labels;
        void requestDraw().catch(reportError);
      }
      break;
  }
}

function reportError(error: unknown): void {
  post({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}

window.addEventListener('message', (event: MessageEvent) => {
  const message = parseHostMessage(event.data);
  if (message) handle(message);
  else post({ type: 'error', message: `webview: ignored an invalid message of type ${String((event.data as { type?: unknown })?.type)}` });
});
window.addEventListener('error', (event) => reportError(event.error ?? event.message));
document.addEventListener('securitypolicyviolation', (event) =>
  post({ type: 'cspViolation', directive: event.effectiveDirective, blocked: event.blockedURI }),
);

byId('movers-body').addEventListener('click', (event) => {
  const row = (event.target as HTMLElement).closest('tr');
  if (row?.dataset.index !== undefined) post({ type: 'revealQuery', index: Number(row.dataset.index) });
});
byId('movers-body').addEventListener('keydown', (event) => {
  const row = (event.target as HTMLElement).closest('tr');
  if (event.key === 'Enter' && row?.dataset.index !== undefined) post({ type: 'revealQuery', index: Number(row.dataset.index) });
});
for (const id of ['movers-model', 'movers-task']) {
  byId(id).addEventListener('change', () => {
    if (current) renderMovers(current.result);
  });
}
byId('warnings').addEventListener('click', (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-setting]');
  if (button?.dataset.setting) post({ type: 'openSetting', setting: button.dataset.setting });
  else (event.target as HTMLElement).closest('.warning, .partial')?.classList.toggle('open');
});
for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-export]')) {
  button.addEventListener('click', () => post({ type: 'export', kind: button.dataset.export as ExportKind }));
}

for (const id of ['evaluation-kind', 'evaluation-model']) {
  byId(id).addEventListener('change', () => {
    if (current) void renderEvaluation(current.result, themeFromVsCode(), strings, drawFitted).catch(reportError);
  });
}

for (const button of document.querySelectorAll<HTMLButtonElement>('#tabs button')) {
  button.addEventListener('click', () => {
    activeTab = button.dataset.tab as FigureId;
    applyLayout();
    void requestDraw().catch(reportError);
  });
}

// A resized view (side bar dragged, view moved to the panel) redraws at the new size; one redraw per frame at most.
let resizeFrame = 0;
window.addEventListener('resize', () => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(() => {
    applyLayout();
    if (current && (drawWanted || drawnSize !== `${window.innerWidth}x${window.innerHeight}`)) {
      renderMovers(current.result);
      renderRobustness(current.result);
      void requestDraw().catch(reportError);
    }
  });
});
document.addEventListener('visibilitychange', () => {
  if (drawWanted) void requestDraw().catch(reportError);
});

// VS Code swaps the body's theme class (vscode-light, vscode-dark, vscode-high-contrast) on a theme change.
new MutationObserver(() => {
  void requestDraw().catch(reportError);
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

const labelsToggle = byId('point-labels') as HTMLInputElement;
function labelsOn(): boolean {
  return labelsToggle.checked;
}
labelsToggle.addEventListener('change', () => {
  post({ type: 'labels', on: labelsOn() });
  void requestDraw().catch(reportError);
});

const saved = parseWebviewState(vscode.getState());
if (saved) void show(saved).catch(reportError);
/**
 * Plotly's first drawing in a page costs several hundred milliseconds (its styles, fonts, text measuring). While the
 * view waits for a run, a throwaway scatter plot off screen pays that, so the first real map appears sooner.
 */
function warmUpPlotly(): void {
  const scratch = document.createElement('div');
  scratch.setAttribute('aria-hidden', 'true');
  scratch.style.cssText = 'position: fixed; left: -10000px; top: 0; width: 300px; height: 300px;';
  document.body.append(scratch);
  const figure = mapFigure(WARM_UP_RESULT, themeFromVsCode(), strings);
  void renderFigure(scratch, fitFigure(figure, { width: 300, title: 'html' }))
    .catch(() => undefined)
    .finally(() => scratch.remove());
}

/** The smallest result mapFigure draws: one model, Base and one task. */
const WARM_UP_RESULT: AnalysisCore = {
  models: ['m'],
  tasks: ['Base', 'T'],
  n: 1,
  dims: [1],
  k: 1,
  reference: 'm',
  referenceChosenBy: 'auto',
  pointsMode: 'flatten',
  mdsMethod: 'classical',
  mdsStress: 0,
  procrustesDistance: [[0]],
  cosineDistance: [],
  points: [
    { model: 'm', task: 'Base', x: 0, y: 0 },
    { model: 'm', task: 'T', x: 1, y: 1 },
  ],
  displacement: [],
  explainedVarianceRatio: {},
  robustness: [],
  topMovers: [],
  warnings: [],
  warningDetails: [],
  failedModels: [],
  taskOrderStability: [],
};

applyLayout();
setStatus('idle');
post({ type: 'ready' });
if (!saved) warmUpPlotly();
