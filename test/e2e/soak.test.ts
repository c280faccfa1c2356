/**
 * Soak test in a real VS Code (code-server + headless chromium, offline): 300 live edits of an instruction in a row,
 * one every 200-800 ms, some of them invalid (a stray quote breaks the JSON; the next edit removes it), then idle.
 * The extension host (measured from inside by test/e2e/hostProbe.ts, loaded with NODE_OPTIONS) keeps its event-loop
 * delay p99 under 50 ms over the soak, its memory after the soak within 10% of its memory after the first ten edits
 * (each measured after a full garbage collection in every thread of the host, so that a leak is told from the timing
 * of V8's collections),
 * no worker thread (the process's thread count) or child process is left behind, and the last map is the one for the
 * last valid text.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { packageRoot } from '../../src/engine/io/paths';
import type { AnalysisResult } from '../../src/engine/types';
import { findFiles, installExtension, makeDirs, missingPrerequisite, type RunningCodeServer, startCodeServer, writeUserSettings } from './codeServer';
import { explorerContextCommand, explorerRow, launchBrowser, openWorkbench, plotsIn, quickPickCheckOnly, quickPickChoose, showExplorer, sleep, waitFor } from './workbench';

const ROOT = packageRoot();
const GLOVE = path.resolve(ROOT, '../shared/models/glove-6B-100d-sif-50k');
const INSTRUCTION_FILE = 'paper-en.instructions.json';
const QUERY_FILE = 'queries-en.txt';
const EDITS = Number(process.env.IL_SOAK_EDITS ?? 300);

interface HostStats {
  pid: number;
  at: number;
  p99Ms: number;
  maxMs: number;
  count: number;
  rss: number;
  heapUsed: number;
  /** The last collection done on request (see hostProbe.ts); -1 when the host has no gc(). */
  collected: number;
  argv: string;
}

/** Threads of a process (its worker threads among them: a worker left behind keeps its threads). */
function threads(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/task`).length;
}

let server: RunningCodeServer | undefined;
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The probe's files of the processes that loaded the extension, one per process (<pid>.json). */
function hostFiles(probeDir: string): string[] {
  return fs.readdirSync(probeDir).filter((name) => /^\d+\.json$/.test(name));
}

function hostStats(probeDir: string): HostStats | undefined {
  const stats = hostFiles(probeDir).map((name) => JSON.parse(fs.readFileSync(path.join(probeDir, name), 'utf8')) as HostStats);
  return stats.sort((a, b) => b.at - a.at)[0];
}

/** The host's stats measured after a full garbage collection in each of its threads, asked for as number `asked`. */
async function statsAfterCollection(probeDir: string, asked: number): Promise<HostStats> {
  fs.writeFileSync(path.join(probeDir, 'collect'), String(asked));
  return waitFor(`the host's memory after collection ${asked}`, async () => {
    const stats = hostStats(probeDir);
    if (stats?.collected === -1) assert.fail('the extension host has no gc(): --expose-gc did not reach it');
    return stats?.collected === asked ? stats : undefined;
  }, 30_000);
}

function hostProcesses(probeDir: string): number {
  return hostFiles(probeDir).length;
}

/** Each worker thread of process `pid` as "thread id: heap MB + external MB", from the probe's latest samples. */
function workerMemory(probeDir: string, pid: number): string {
  const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
  return fs
    .readdirSync(probeDir)
    .filter((name) => name.startsWith(`${pid}-worker-`) && name.endsWith('.json'))
    .map((name) => JSON.parse(fs.readFileSync(path.join(probeDir, name), 'utf8')) as { threadId: number; heapTotal: number; external: number })
    .sort((a, b) => a.threadId - b.threadId)
    .map((worker) => `${worker.threadId}: ${mb(worker.heapTotal)} + ${mb(worker.external)}`)
    .join(', ');
}

/** The child processes of `pid`, each as "pid command line". */
function childList(pid: number): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map((line) => line.trim());
  } catch {
    return []; // ps exits 1 when there are none
  }
}

function childProcesses(pid: number): number {
  return childList(pid).length;
}

/**
 * The children of `pid` once their number is at most `limit`, or after 10 s: a child that VS Code starts for a moment
 * (seen once in CI: one more child in a single snapshot) is gone by then, one left behind is not.
 */
async function settledChildren(pid: number, limit: number): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  let children = childList(pid);
  while (children.length > limit && Date.now() < deadline) {
    await sleep(500);
    children = childList(pid);
  }
  return children;
}

function latestResults(userData: string): AnalysisResult | undefined {
  const files = findFiles(path.join(userData, 'User', 'workspaceStorage'), (name) => name === 'results.json');
  if (files.length === 0) return undefined;
  const newest = files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  return JSON.parse(fs.readFileSync(newest, 'utf8')) as AnalysisResult;
}

test(`soak: ${EDITS} live edits, then idle: event loop, memory, workers, the last map`, { timeout: 15 * 60_000 }, async (t) => {
  const missing = missingPrerequisite();
  if (missing) assert.fail(missing);
  const vsix = path.join(ROOT, 'instruction-lens-linux-x64.vsix');
  if (!fs.existsSync(vsix)) execFileSync('npm', ['run', 'package', '--silent'], { cwd: ROOT, stdio: 'inherit', timeout: 240_000 });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'il-soak-'));
  const probeDir = path.join(scratch, 'probe');
  fs.mkdirSync(probeDir);
  const dirs = makeDirs(path.join(scratch, 'vscode'));
  writeUserSettings(dirs);
  await installExtension(dirs, vsix);
  const workspace = path.join(scratch, 'workspace');
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  const queries = fs.readFileSync(path.join(ROOT, 'examples', QUERY_FILE), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).slice(0, 15);
  fs.writeFileSync(path.join(workspace, QUERY_FILE), queries.join('\n') + '\n');
  fs.copyFileSync(path.join(ROOT, 'examples', INSTRUCTION_FILE), path.join(workspace, INSTRUCTION_FILE));
  fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'instructionLens.models': [GLOVE], 'instructionLens.liveDebounceMs': 150 }));
  server = await startCodeServer(dirs, workspace, {
    trust: 'disabled',
    env: { NODE_OPTIONS: `--expose-gc --require ${path.join(ROOT, 'out', 'test', 'e2e', 'hostProbe.js')}`, IL_HOST_PROBE_DIR: probeDir },
  });
  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await openWorkbench(page, server.url, workspace);

  await explorerRow(page, INSTRUCTION_FILE).waitFor({ timeout: 30_000 });
  await explorerContextCommand(page, INSTRUCTION_FILE, 'Analyze Instructions');
  await quickPickChoose(page, QUERY_FILE);
  await quickPickCheckOnly(page, [path.basename(GLOVE)]);
  await waitFor('the first map', async () => (await plotsIn(page)).mapPoints === 6, 180_000);
  const host = await waitFor('the extension host probe', async () => hostStats(probeDir));
  assert.equal(hostProcesses(probeDir), 1, 'one process loaded the extension: the extension host');

  await showExplorer(page, INSTRUCTION_FILE);
  await explorerRow(page, INSTRUCTION_FILE).dblclick();
  const editor = page.locator('.editor-instance .monaco-editor').filter({ has: page.locator('.view-lines') }).first();
  await editor.waitFor();
  await editor.locator('.view-line', { hasText: 'Classify the given query' }).first().locator('span', { hasText: 'category' }).last().dblclick();

  // Every edit types at the cursor inside the Classification instruction: a letter, or a quote (invalid JSON) that
  // the next edit deletes again.
  let typed = '';
  let invalid = false;
  let random = 12345;
  const next = (): number => (random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let afterTen: HostStats | undefined;
  let workersAfterTen = '';
  let childrenAfterTen = 0;
  let threadsAfterTen = 0;
  for (let edit = 1; edit <= EDITS; edit++) {
    if (invalid) {
      await page.keyboard.press('Backspace');
      invalid = false;
    } else if (edit > 1 && edit < EDITS && next() < 0.15) {
      await page.keyboard.type('"');
      invalid = true;
    } else {
      const letter = 'abcdefghijklmnopqrstuvwxyz'[Math.floor(next() * 26)];
      await page.keyboard.type(letter);
      typed += letter;
    }
    if (edit === 10) {
      afterTen = await statsAfterCollection(probeDir, 1);
      workersAfterTen = workerMemory(probeDir, host.pid);
      childrenAfterTen = childProcesses(host.pid);
      threadsAfterTen = threads(host.pid);
      fs.writeFileSync(path.join(probeDir, 'reset'), ''); // the event-loop histogram covers the soak from here
    }
    await sleep(200 + next() * 600);
  }
  // The last valid text, as the editor shows it (VS Code renders spaces as no-break spaces).
  const shown = (await editor.locator('.view-line').allTextContents()).join('\n').replace(/\u00a0/g, ' ');
  const tasks = (JSON.parse(shown) as { tasks: { name: string; instruction: string }[] }).tasks;
  const expected = tasks.find((task) => task.name === 'Classification')?.instruction ?? '';
  assert.ok(expected.includes(typed), `the editor holds the ${typed.length} typed letters: ${expected}`);
  try {
    // The exact analysis that follows the pause (a refit), not only the preview: the idle below is idle.
    await waitFor('the refitted map of the last valid text', async () => {
      const result = latestResults(dirs.userData);
      return result?.instructions?.Classification === expected && result.mapMode !== 'preview';
    }, 90_000);
  } catch (error) {
    await page.screenshot({ path: path.join(scratch, 'soak-failure.png') });
    t.diagnostic(`screenshot: ${path.join(scratch, 'soak-failure.png')}`);
    const lines = await editor.locator('.view-line').allTextContents();
    t.diagnostic(`expected: ${expected}\neditor: ${lines.join('\n')}\nlast results: ${latestResults(dirs.userData)?.instructions?.Classification}`);
    throw error;
  }
  await sleep(5_000); // idle
  assert.equal(latestResults(dirs.userData)?.instructions?.Classification, expected, 'no later run replaced the last map');
  const soak = hostStats(probeDir)!;
  const end = await statsAfterCollection(probeDir, 2);
  const workersAtEnd = workerMemory(probeDir, host.pid);
  assert.ok(afterTen);
  const growth = end.rss / afterTen.rss - 1;
  t.diagnostic(
    `extension host (pid ${end.pid}: ${end.argv}, ${hostProcesses(probeDir)} process(es) loaded the extension): event-loop p99 ${soak.p99Ms.toFixed(1)} ms (max ${soak.maxMs.toFixed(0)} ms, ${soak.count} samples) over the soak; ` +
      `after full collections: rss ${(afterTen.rss / 2 ** 20).toFixed(0)} MB after 10 edits, ${(end.rss / 2 ** 20).toFixed(0)} MB after ${EDITS} (${(growth * 100).toFixed(1)}%); ` +
      `heap ${(afterTen.heapUsed / 2 ** 20).toFixed(0)} -> ${(end.heapUsed / 2 ** 20).toFixed(0)} MB; ` +
      `worker threads' heap + external MB: ${workersAfterTen} -> ${workersAtEnd}; threads ${threadsAfterTen} -> ${threads(host.pid)}; ` +
      `child processes ${childrenAfterTen} -> ${childProcesses(host.pid)}`,
  );
  assert.ok(soak.p99Ms < 50, `event-loop p99 ${soak.p99Ms} ms`);
  // A leak shows as growth. RSS also falls when V8 and the allocator hand pages back after the busy phase
  // (one CI run: 356 -> 317 MB with the heap level at 45 -> 44 MB), which is no fault.
  assert.ok(growth <= 0.1, `memory grew by ${(growth * 100).toFixed(1)}%`);
  assert.ok(threads(host.pid) <= threadsAfterTen, `threads: ${threadsAfterTen} after 10 edits, ${threads(host.pid)} at the end`);
  const children = await settledChildren(host.pid, childrenAfterTen);
  assert.ok(children.length <= childrenAfterTen, `no child process left behind: ${childrenAfterTen} after 10 edits, now ${children.join('; ')}`);
});
