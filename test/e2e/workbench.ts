/** Driving the VS Code workbench in chromium as a user would (selectors from ../shared/docs/E2E.md). */
import { type Browser, chromium, type Frame, type Locator, type Page } from 'playwright-core';
import { CHROMIUM } from './codeServer';

// Functions passed to evaluate() run in the browser; this file is compiled without the DOM library.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value other than undefined/false, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await sleep(250);
  }
}

export async function openWorkbench(page: Page, url: string, workspace: string): Promise<void> {
  await page.goto(`${url}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.explorer-folders-view').waitFor({ timeout: 60_000 });
}

/** The explorer row of a file at the workspace root. */
export function explorerRow(page: Page, fileName: string): Locator {
  return page.locator('.explorer-folders-view .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(fileName)}$`) }) });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Brings the Explorer back into the side bar (the results view may have taken its place). */
export async function showExplorer(page: Page, fileName: string): Promise<void> {
  if (await explorerRow(page, fileName).isVisible()) return;
  await runCommand(page, 'View: Show Explorer');
  await explorerRow(page, fileName).waitFor({ timeout: 30_000 });
}

/** Right-click a file in the Explorer and choose a context menu item. */
export async function explorerContextCommand(page: Page, fileName: string, itemTitle: string): Promise<void> {
  await showExplorer(page, fileName);
  await waitFor(`context menu item "${itemTitle}" on ${fileName}`, async () => {
    const row = explorerRow(page, fileName);
    await row.click({ button: 'right', timeout: 10_000 });
    await sleep(300);
    const item = page.locator('.context-view .monaco-menu .action-item').filter({ hasText: new RegExp(`^${escapeRegExp(itemTitle)}`) });
    if ((await item.count()) === 0) {
      await page.keyboard.press('Escape');
      return false;
    }
    await item.first().click();
    return true;
  });
}

const quickInput = (page: Page): Locator => page.locator('.quick-input-widget');

/** The rows of the open quick pick whose label is exactly `label`. */
function quickPickRow(page: Page, label: string): Locator {
  return quickInput(page)
    .locator('.monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(label)}$`) }) });
}

export async function quickPickChoose(page: Page, label: string): Promise<void> {
  const row = quickPickRow(page, label);
  await row.first().waitFor({ timeout: 30_000 });
  await row.first().click();
}

/** Clicks an item button of the quick pick row `label`, by its codicon ('gear', 'trash'); buttons show on hover. */
export async function quickPickItemButton(page: Page, label: string, icon: string): Promise<void> {
  const row = quickPickRow(page, label).first();
  await row.waitFor({ timeout: 30_000 });
  await row.hover();
  await row.locator(`.codicon-${icon}`).first().click();
}

/** Whether the open quick pick has a row labelled `label`. */
export async function quickPickHasRow(page: Page, label: string): Promise<boolean> {
  return (await quickPickRow(page, label).count()) > 0;
}

/** In a multi-select quick pick: make exactly `labels` checked, then accept with Enter. */
export async function quickPickCheckOnly(page: Page, labels: string[]): Promise<void> {
  await quickInput(page).locator('.monaco-list-row').first().waitFor({ timeout: 30_000 });
  const rows = quickInput(page).locator('.monaco-list-row');
  const count = await rows.count();
  for (let i = 0; i < count; i++) {
    const row = rows.nth(i);
    const label = (await row.locator('.label-name').first().textContent())?.trim() ?? '';
    const checkbox = row.locator('.monaco-checkbox');
    if ((await checkbox.count()) === 0) continue;
    const checked = await isChecked(checkbox.first());
    if (checked !== labels.includes(label)) await checkbox.first().click();
  }
  for (const label of labels) {
    const checkbox = quickPickRow(page, label).locator('.monaco-checkbox').first();
    await waitFor(`model "${label}" checked`, () => isChecked(checkbox), 5_000);
  }
  await page.keyboard.press('Enter');
}

async function isChecked(checkbox: Locator): Promise<boolean> {
  return checkbox.evaluate((el) =>
    el.tagName === 'INPUT' ? (el as unknown as { checked: boolean }).checked : el.getAttribute('aria-checked') === 'true' || el.classList.contains('checked'),
  );
}

/** F1, type the title, click the row whose label is exactly the title; retries the activation races. */
/**
 * Replaces every `find` by `replacement` in `editor` with the find widget (Ctrl+H): deterministic, unlike a
 * double-click, which picks whichever word (or CodeLens) is under the pointer.
 */
export async function replaceAll(page: Page, editor: Locator, find: string, replacement: string): Promise<void> {
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+H');
  await page.locator('.editor-widget.find-widget textarea, .editor-widget.find-widget input').first().waitFor();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(find);
  await page.locator('.editor-widget.find-widget .replace-part textarea, .editor-widget.find-widget .replace-part input').first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(replacement);
  await page.keyboard.press('Control+Alt+Enter');
  await page.keyboard.press('Escape');
}

/**
 * Clicks Cancel on the run's progress notification. VS Code may have tucked the toast away (the progress then shows in
 * the status bar, as in one CI run): the status bar entry brings the notification back first.
 */
export async function cancelProgressNotification(page: Page): Promise<void> {
  const cancel = page.locator('.notifications-toasts .monaco-button, .notifications-center .monaco-button', { hasText: 'Cancel' }).first();
  if (!(await cancel.waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => false))) {
    await page.locator('.statusbar-item', { hasText: 'Instruction Lens' }).first().click();
  }
  await cancel.click();
}

export async function runCommand(page: Page, title: string): Promise<void> {
  let attempt = 0;
  await waitFor(`command "${title}"`, async () => {
    // Not before the first attempt: Escape would clear an editor selection the command may need.
    if (attempt++ > 0) await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    await quickInput(page).locator('input').waitFor({ timeout: 10_000 });
    await page.keyboard.type(title);
    const row = quickPickRow(page, title);
    try {
      await row.first().waitFor({ timeout: 3_000 });
    } catch {
      await page.keyboard.press('Escape');
      return false;
    }
    await row.first().click();
    return true;
  });
}

/** Text of every notification toast currently shown. */
export async function notifications(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-list-item-message').allTextContents();
}

/** Whether `frame` is the results webview's inner frame. */
async function isResultsFrame(frame: Frame): Promise<boolean> {
  try {
    return await frame.evaluate(() => document.body?.classList.contains('view') && !!document.getElementById('map'));
  } catch {
    return false; // frame navigating or detached
  }
}

/** The inner frames of every results webview on screen (webviews are nested iframes; page.frames() lists them). */
export async function resultsFrames(page: Page): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (const frame of page.frames()) if (await isResultsFrame(frame)) frames.push(frame);
  return frames;
}

/** The inner frame of the results view. */
export async function resultsFrame(page: Page): Promise<Frame> {
  return waitFor('results webview', async () => (await resultsFrames(page))[0]);
}

export interface RenderedPlots {
  runId: string | undefined;
  mapPoints: number;
  trajectoryLines: number;
  /** Positions of the map's points, to tell one map from another. */
  pointTransforms: string[];
  heatmapCells: string[];
  tableRows: number;
  background: string;
  status: string | undefined;
  statusText: string;
}

export async function readPlots(frame: Frame): Promise<RenderedPlots> {
  return frame.evaluate(() => {
    const map = document.getElementById('map')!;
    return {
      runId: document.body.dataset.rendered,
      mapPoints: map.querySelectorAll('.scatterlayer .trace .points path.point').length,
      trajectoryLines: map.querySelectorAll('.scatterlayer .trace path.js-line').length,
      pointTransforms: [...map.querySelectorAll('.scatterlayer .trace .points path.point')].map((el: { getAttribute(name: string): string | null; textContent: string | null }) => el.getAttribute('transform') ?? ''),
      heatmapCells: [...document.querySelectorAll('#heatmap .heatmaplayer text')].map((el: { getAttribute(name: string): string | null; textContent: string | null }) => el.textContent ?? ''),
      tableRows: document.querySelectorAll('#movers-body tr').length,
      background: (map.querySelector('svg.main-svg')?.style.background as string | undefined) ?? '',
      status: document.body.dataset.status,
      statusText: document.getElementById('status')?.textContent ?? '',
    };
  });
}

/** The plots of the results view, finding its frame again each time (a reloaded webview is a new frame). */
export async function plotsIn(page: Page): Promise<RenderedPlots> {
  return readPlots(await resultsFrame(page));
}

/** What a user would see as not fitting: clipped or covered titles, sideways scrolling, legends beside a narrow plot. */
export interface FitReport {
  width: number;
  layout: string | undefined;
  /** Page wider than the view (a sideways scroll bar). */
  horizontalOverflow: number;
  /** The first elements reaching past the right edge. */
  overflowing: string[];
  /** Headings whose text does not fit their box. */
  clippedHeadings: string[];
  /** Figures laid out (not hidden behind a tab). */
  visibleFigures: string[];
  /** Titles drawn inside a plot (they belong in the headings). */
  plotTitles: number;
  /** The view's height and the map plot's (the tabs layout gives the figure most of the height). */
  viewHeight: number;
  mapHeight: number;
  /** The map plot's bottom edge from the top of the page (not of the scrolled view). */
  mapBottom: number;
  /** Per figure: legends' top minus the plot area's bottom (positive: the legend is under the plot). */
  legendBelowPlot: Record<string, number[]>;
  /** Model cells of the movers table: shown text and full name. */
  modelCells: Array<{ text: string; title: string }>;
}

export async function readFit(frame: Frame): Promise<FitReport> {
  return frame.evaluate(() => {
    type El = { getBoundingClientRect(): { top: number; bottom: number; left: number; right: number }; scrollWidth: number; clientWidth: number; textContent: string | null; getAttribute(name: string): string | null; querySelectorAll(selector: string): El[]; querySelector(selector: string): El | null };
    const root = document.documentElement as El;
    const legendBelowPlot: Record<string, number[]> = {};
    for (const id of ['map', 'heatmap', 'displacement']) {
      const plot = document.getElementById(id) as El;
      const area = plot.querySelector('.bglayer .bg') ?? plot.querySelector('.nsewdrag');
      const bottom = area?.getBoundingClientRect().bottom ?? 0;
      legendBelowPlot[id] = [...plot.querySelectorAll('.legend')].map((legend) => Math.round(legend.getBoundingClientRect().top - bottom));
    }
    return {
      width: root.clientWidth,
      layout: document.body.dataset.layout as string | undefined,
      horizontalOverflow: root.scrollWidth - root.clientWidth,
      overflowing: [...(document.querySelectorAll('body *') as El[])]
        .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 1 && !(el as unknown as { closest(s: string): unknown }).closest('.plot'))
        .slice(0, 5)
        .map((el) => `${(el as unknown as { tagName: string }).tagName}#${(el as unknown as { id: string }).id}.${el.getAttribute('class') ?? ''}`),
      clippedHeadings: [...(document.querySelectorAll('h1, h2') as El[])].filter((h) => h.scrollWidth > h.clientWidth + 1).map((h) => h.textContent ?? ''),
      plotTitles: document.querySelectorAll('.plot .gtitle').length as number,
      viewHeight: (globalThis as unknown as { innerHeight: number }).innerHeight,
      mapHeight: Math.round((document.getElementById('map') as El).getBoundingClientRect().bottom - (document.getElementById('map') as El).getBoundingClientRect().top),
      mapBottom: Math.round((document.getElementById('map') as El).getBoundingClientRect().bottom + (globalThis as unknown as { scrollY: number }).scrollY),
      visibleFigures: [...(document.querySelectorAll('.figure') as El[])].filter((el) => el.getBoundingClientRect().bottom > el.getBoundingClientRect().top).map((el) => el.getAttribute('data-figure') ?? ''),
      legendBelowPlot,
      modelCells: [...(document.querySelectorAll('#movers-body td.model') as El[])].map((cell) => ({ text: cell.textContent ?? '', title: cell.getAttribute('title') ?? '' })),
    };
  });
}

export interface PlottedMap {
  runId: string | undefined;
  /** body data-map-mode: exact, anchored or preview. */
  mode: string | undefined;
  /** The panel's line saying which map is shown. */
  modeText: string;
  /** How many points are drawn with their previous position and an arrow. */
  moved: number;
  /** The plotted points (the Plotly div's data): per model trace, x and y in task order. */
  points: { model: string; x: number[]; y: number[] }[];
}

/** The map as plotted in a results webview, read from the Plotly div's own data. */
export async function plottedMap(page: Page): Promise<PlottedMap> {
  const frame = await resultsFrame(page);
  return frame.evaluate(() => {
    type PlotlyTrace = { meta?: { kind?: string; model?: string }; x: number[]; y: number[] };
    const gd = document.getElementById('map') as unknown as { data?: PlotlyTrace[] };
    return {
      runId: document.body.dataset.rendered,
      mode: document.body.dataset.mapMode,
      modeText: document.getElementById('map-mode')?.textContent ?? '',
      moved: Number(document.body.dataset.moved ?? '0'),
      points: (gd.data ?? [])
        .filter((trace) => trace.meta?.kind === 'points')
        .map((trace) => ({ model: trace.meta?.model ?? '', x: Array.from(trace.x), y: Array.from(trace.y) })),
    };
  });
}

/** A trace of a Plotly div as the page holds it (only the fields the tests read). */
export interface PlottedTrace {
  type: string;
  x?: unknown[];
  y?: (number | null)[];
  z?: (number | null)[][];
  text?: unknown;
  errorPlus?: (number | null)[];
}

/** The traces of the Plotly div `#id` in a results webview, read from the div's own data; [] before it is drawn. */
export async function plottedTraces(frame: Frame, id: string): Promise<PlottedTrace[]> {
  return frame.evaluate((plotId: string) => {
    type Trace = { type: string; x?: unknown[]; y?: (number | null)[]; z?: (number | null)[][]; text?: unknown; error_y?: { array?: (number | null)[] } };
    const gd = document.getElementById(plotId) as { data?: Trace[] } | null;
    return (gd?.data ?? []).map((trace) => ({
      type: trace.type,
      x: trace.x,
      y: trace.y,
      z: trace.z,
      text: trace.text,
      errorPlus: trace.error_y?.array,
    }));
  }, id);
}

/** Drags the primary side bar's edge so that the side bar is `width` px wide. */
export async function dragSidebarTo(page: Page, width: number): Promise<void> {
  const sidebar = await page.locator('.part.sidebar').boundingBox();
  if (!sidebar) throw new Error('the side bar is not shown');
  const edge = sidebar.x + sidebar.width;
  await page.mouse.move(edge, sidebar.y + 200);
  await page.mouse.down();
  await page.mouse.move(edge + (width - sidebar.width) / 2, sidebar.y + 200, { steps: 4 });
  await page.mouse.move(edge + (width - sidebar.width), sidebar.y + 200, { steps: 4 });
  await page.mouse.up();
}
