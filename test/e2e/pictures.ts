/**
 * Makes the pictures of the Get Started walkthrough (media/walkthrough/*.png, 800 x 500) and the README's
 * screenshot (media/screenshot.png) in a real VS Code (code-server), driven as the end-to-end test drives it: a
 * workspace folder named instruction-lens-demo holding the example files, offline (use-lite and the shared GloVe
 * folder), nothing of the test machinery on screen (no temporary paths, no log, no test endpoints).
 * Not a test: run `npm run build && TMPDIR=... node out/test/e2e/pictures.js` after a change that shows in them (it
 * packages the .vsix first). The screenshots at full size also go to .test-output/pictures/.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { packageRoot } from '../../src/engine/io/paths';
import { installExtension, makeDirs, missingPrerequisite, type RunningCodeServer, startCodeServer, writeUserSettings } from './codeServer';
import {
  dragSidebarTo,
  explorerContextCommand,
  explorerRow,
  launchBrowser,
  openWorkbench,
  plotsIn,
  quickPickCheckOnly,
  quickPickChoose,
  replaceAll,
  runCommand,
  showExplorer,
  sleep,
  waitFor,
} from './workbench';

const ROOT = packageRoot();
const GLOVE = path.resolve(ROOT, '../shared/models/glove-6B-100d-sif-50k');
const GLOVE_LABEL = path.basename(GLOVE);
const QUERY_FILE = 'queries-en.txt';
const INSTRUCTION_FILE = 'paper-en.instructions.json';
const ANALYZE = 'Analyze Instructions';
/** A window of a common laptop size; the walkthrough pictures are it at 800 x 500. */
const WINDOW = { width: 1280, height: 800 };
const PICTURE = { width: 800, height: 500 };
/** The results view beside the editor: wide enough for the map and its legend side by side. */
const SIDEBAR_WIDTH = 520;
const FULL_SIZE = path.join(ROOT, '.test-output', 'pictures');
/** Hub models listed (never loaded) in the model pick list's picture: what a user would add. */
const LISTED_MODELS = ['Xenova/bge-small-en-v1.5', 'Xenova/multilingual-e5-small'];

async function main(): Promise<void> {
  const missing = missingPrerequisite();
  if (missing) throw new Error(missing);
  if (!fs.existsSync(GLOVE)) throw new Error(`shared model missing: ${GLOVE}`);
  fs.mkdirSync(FULL_SIZE, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'il-pictures-'));
  let browser: Browser | undefined;
  let server: RunningCodeServer | undefined;
  try {
    execFileSync('npm', ['run', 'package', '--silent'], { cwd: ROOT, stdio: 'inherit', timeout: 240_000 });
    const dirs = makeDirs(path.join(scratch, 'vscode'));
    // Whole instructions on screen, and no minimap beside them.
    writeUserSettings(dirs, { 'editor.wordWrap': 'on', 'editor.minimap.enabled': false });
    await installExtension(dirs, path.join(ROOT, 'instruction-lens-linux-x64.vsix'));
    const workspace = path.join(scratch, 'instruction-lens-demo');
    const settingsFile = path.join(workspace, '.vscode', 'settings.json');
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'examples', QUERY_FILE), path.join(workspace, QUERY_FILE));
    // The extension validates *.instructions.json itself: a user's set needs no $schema line.
    const instructions = fs.readFileSync(path.join(ROOT, 'examples', INSTRUCTION_FILE), 'utf8').replace(/^\s*"\$schema".*\n/m, '');
    fs.writeFileSync(path.join(workspace, INSTRUCTION_FILE), instructions);
    fs.writeFileSync(settingsFile, JSON.stringify({ 'instructionLens.models': LISTED_MODELS }, null, 2));

    server = await startCodeServer(dirs, workspace, { trust: 'disabled' });
    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: WINDOW });
    await openWorkbench(page, server.url, workspace);
    await explorerRow(page, INSTRUCTION_FILE).dblclick();
    await page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor();

    // The model pick list: the listed models with their item buttons (hovered), the built-in model, the Add entries.
    await explorerContextCommand(page, QUERY_FILE, ANALYZE);
    await quickPickChoose(page, INSTRUCTION_FILE);
    const listed = page.locator('.quick-input-widget .monaco-list-row', { hasText: LISTED_MODELS[0] }).first();
    await listed.waitFor({ timeout: 30_000 });
    await listed.hover();
    await listed.locator('.codicon-gear').first().hover();
    await sleep(1500); // the button's tooltip

    const shots = new Map<string, Buffer>();
    shots.set('add-model', await page.screenshot());
    await page.keyboard.press('Escape');

    // The analysis: use-lite and GloVe, the instruction set open with its CodeLenses, the view in the side bar.
    fs.writeFileSync(settingsFile, JSON.stringify({ 'instructionLens.models': [GLOVE] }, null, 2));
    await sleep(1000);
    await showExplorer(page, INSTRUCTION_FILE);
    await explorerContextCommand(page, INSTRUCTION_FILE, ANALYZE);
    await quickPickChoose(page, QUERY_FILE);
    await quickPickCheckOnly(page, ['use-lite', GLOVE_LABEL]);
    await waitFor('the results view', async () => (await plotsIn(page)).mapPoints > 0, 180_000);
    await dragSidebarTo(page, SIDEBAR_WIDTH);
    await page.mouse.move(WINDOW.width - 200, WINDOW.height - 100); // off the side bar's edge (it lights up)
    await sleep(1500);
    const first = await waitFor('the map drawn', async () => {
      const plots = await plotsIn(page);
      return plots.mapPoints > 0 && plots.heatmapCells.length > 0 && plots.status === 'idle' ? plots : undefined;
    }, 180_000);
    await waitFor('the CodeLenses', async () => (await page.locator('.monaco-editor .codelens-decoration', { hasText: 'Displacement' }).count()) > 0);
    await dismissNotifications(page);
    await sleep(1000);
    shots.set('analysis', await page.screenshot());

    // A live edit: one word of the Clustering instruction; the map follows (moved points keep an arrow).
    const editor = page.locator('.editor-instance .monaco-editor').filter({ has: page.locator('.view-lines') }).first();
    await replaceAll(page, editor, 'Identify the topic', 'Name the main theme');
    await waitFor('the live update drawn', async () => {
      const plots = await plotsIn(page);
      return plots.runId !== first.runId && plots.status === 'idle' && plots.mapPoints > 0;
    }, 120_000);
    await dismissNotifications(page);
    await sleep(1500);
    shots.set('live-edit', await page.screenshot());
    // The README's screenshot: the view and the editor, full size, without the empty lower part of the window.
    shots.set('screenshot', await page.screenshot({ clip: { x: 0, y: 0, width: WINDOW.width, height: 620 } }));
    await page.keyboard.press('Control+Z');

    for (const [name, png] of shots) fs.writeFileSync(path.join(FULL_SIZE, `${name}.png`), png);
    for (const name of ['add-model', 'analysis', 'live-edit']) {
      fs.writeFileSync(path.join(ROOT, 'media', 'walkthrough', `${name}.png`), await scaled(browser, shots.get(name)!, PICTURE));
    }
    fs.writeFileSync(path.join(ROOT, 'media', 'screenshot.png'), shots.get('screenshot')!);
    console.log(`pictures written to media/walkthrough/ and media/screenshot.png (full size in ${FULL_SIZE})`);
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Closes the notification toasts (e.g. a run's progress that lingers), so that the picture shows the work. */
async function dismissNotifications(page: Page): Promise<void> {
  if ((await page.locator('.notifications-toasts .notification-list-item').count()) > 0) await runCommand(page, 'Notifications: Clear All Notifications');
}

/** A PNG scaled to `size` by Chromium's high-quality image smoothing. */
async function scaled(browser: Browser, png: Buffer, size: { width: number; height: number }): Promise<Buffer> {
  const page = await browser.newPage();
  try {
    // A string: this runs in the page (the project's TypeScript has no DOM types).
    const dataUrl = (await page.evaluate(`(async () => {
      const image = new Image();
      image.src = 'data:image/png;base64,${png.toString('base64')}';
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = ${size.width};
      canvas.height = ${size.height};
      const context = canvas.getContext('2d');
      context.imageSmoothingQuality = 'high';
      context.drawImage(image, 0, 0, ${size.width}, ${size.height});
      return canvas.toDataURL('image/png');
    })()`)) as string;
    return Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
  } finally {
    await page.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
