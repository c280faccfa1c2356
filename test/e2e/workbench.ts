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

/** Right-click a file in the Explorer and choose a context menu item. */
export async function explorerContextCommand(page: Page, fileName: string, itemTitle: string): Promise<void> {
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

/**
 * The inner frame of a results webview: the one whose body has class `panel` (beside the editor) or `view` (bottom
 * panel). Webviews are nested iframes; page.frames() lists them all.
 */
export async function resultsFrame(page: Page, where: 'panel' | 'view'): Promise<Frame> {
  return waitFor(`results webview (${where})`, async () => {
    for (const frame of page.frames()) {
      try {
        if (await frame.evaluate((cls) => document.body?.classList.contains(cls) && !!document.getElementById('map'), where)) return frame;
      } catch {
        // frame navigating or detached
      }
    }
    return undefined;
  });
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
    };
  });
}

/** The plots of a results webview, finding its frame again each time (a hidden webview is re-created). */
export async function plotsIn(page: Page, where: 'panel' | 'view'): Promise<RenderedPlots> {
  return readPlots(await resultsFrame(page, where));
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
export async function plottedMap(page: Page, where: 'panel' | 'view'): Promise<PlottedMap> {
  const frame = await resultsFrame(page, where);
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
