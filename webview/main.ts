/**
 * Script of the results webviews (the panel beside the editor and the view in the bottom panel). Draws the shared
 * charts (webview/charts.ts) with the VS Code theme's colours, the top-movers and robustness tables, and talks to
 * the host only through the messages of src/protocol.ts. Every message received is validated.
 */
import type { AnalysisResult } from '../src/engine/types';
import {
  type ExportKind,
  type FigureId,
  type HostMessage,
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
  formatNumber,
  heatmapFigure,
  mapFigure,
  type MovedPoint,
  movedPoints,
  renderFigure,
} from './charts';
import { renderEvaluation } from './evaluationPanel';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: WebviewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface PlotlyImageApi {
  toImage(el: HTMLElement, options: { format: ImageFormat; width: number; height: number }): Promise<string>;
}
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

async function drawFigures(result: AnalysisResult, animate = false): Promise<void> {
  const theme = themeFromVsCode();
  await Promise.all([
    renderFigure(figureElements.map, mapFigure(result, theme, strings, moved), { animate }),
    renderFigure(figureElements.heatmap, heatmapFigure(result, theme, strings)),
    renderFigure(figureElements.displacement, displacementFigure(result, theme, strings)),
    renderEvaluation(result, theme, strings),
  ]);
  document.body.dataset.theme = theme.background;
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
        text('td', mover.model),
        text('td', mover.task),
        text('td', mover.query ?? result.queries?.[mover.index] ?? `#${mover.index + 1}`, 'query'),
        text('td', formatNumber(mover.cosineDistance), 'number'),
        text('td', formatNumber(mover.relativeMovement), 'number'),
        text('td', formatNumber(mover.neighbourOverlap), 'number'),
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
        text('td', row.reference),
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
  renderSummary(state.result, state.context);
  renderMovers(state.result);
  renderRobustness(state.result);
  renderStability(state.result);
  await drawFigures(state.result, moved.length > 0);
  // Set together once the map is drawn, so that the label, data-map-mode, data-moved and data-rendered always agree.
  renderMapMode(state.result, state.context);
  document.body.dataset.moved = String(moved.length);
  document.body.dataset.rendered = String(state.context.runId);
}

function setStatus(state: 'computing' | 'idle' | 'error', message?: string): void {
  document.body.dataset.status = state;
  const status = byId('status');
  status.textContent = state === 'computing' ? (message ?? strings.computing) : state === 'error' ? (message ?? '') : '';
  status.hidden = state === 'idle';
}

async function renderImage(requestId: number, figure: FigureId, format: ImageFormat): Promise<void> {
  try {
    const el = figureElements[figure];
    const width = Math.max(800, Math.round(el.clientWidth));
    const height = Math.max(500, Math.round(el.clientHeight));
    post({ type: 'image', requestId, dataUrl: await Plotly.toImage(el, { format, width, height }) });
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
      void renderImage(message.requestId, message.figure, message.format);
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
});
for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-export]')) {
  button.addEventListener('click', () => post({ type: 'export', kind: button.dataset.export as ExportKind }));
}

for (const id of ['evaluation-kind', 'evaluation-model']) {
  byId(id).addEventListener('change', () => {
    if (current) void renderEvaluation(current.result, themeFromVsCode(), strings).catch(reportError);
  });
}

// VS Code swaps the body's theme class (vscode-light, vscode-dark, vscode-high-contrast) on a theme change.
new MutationObserver(() => {
  if (current) void drawFigures(current.result).catch(reportError);
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

const saved = parseWebviewState(vscode.getState());
if (saved) void show(saved).catch(reportError);
setStatus('idle');
post({ type: 'ready' });
