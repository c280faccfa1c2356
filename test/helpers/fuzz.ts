/**
 * The fuzz suites' harness: runs one generated case of a class through the CLI (in-process with runCli, or as a real
 * process for a sample), bounded by a timeout, and judges it. A case expects either a rejection (exit 2, a message
 * naming the given file, no "unexpected error", no stack trace) or success (exit 0, then an optional check of the
 * results). Tallies per class: cases, crashes, stack traces, hangs, wrong verdicts, changed results; printed at the
 * end of each suite (the figures issue 10 asks for) and asserted to be zero by every case.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/program';
import { cli } from './cli';

export type Expectation =
  | { reject: true; names: string[]; problem?: RegExp }
  | { reject: false; check?: () => void | Promise<void> };

export interface Tally {
  cases: number;
  realProcess: number;
  crashes: number;
  stackTraces: number;
  hangs: number;
  wrongVerdicts: number;
  changedResults: number;
}

const tallies = new Map<string, Tally>();

function tallyOf(klass: string): Tally {
  let tally = tallies.get(klass);
  if (!tally) {
    tally = { cases: 0, realProcess: 0, crashes: 0, stackTraces: 0, hangs: 0, wrongVerdicts: 0, changedResults: 0 };
    tallies.set(klass, tally);
  }
  return tally;
}

const STACK = /\n\s+at .+:\d+:\d+/;

export interface CaseOptions {
  /** Bound of the whole case. */
  timeoutMs?: number;
  /** Run as a real process (node bin/instruction-lens.js) instead of in-process. */
  realProcess?: boolean;
}

/** Runs `args` and judges the outcome against `expect`; throws (failing the property) on any defect. */
export async function runCase(klass: string, args: string[], expect: Expectation, options: CaseOptions = {}): Promise<void> {
  const tally = tallyOf(klass);
  tally.cases++;
  if (options.realProcess) tally.realProcess++;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const outcome = await bounded(args, timeoutMs, options.realProcess ?? false);
  const context = `${klass}: instruction-lens ${args.join(' ')}\nexit ${outcome.status}\n${outcome.stderr}`;
  // fast-check reports only the generated values: the defect itself goes to the log.
  const fail = (defect: string): never => {
    console.log(`fuzz defect: ${defect}: ${context}`);
    assert.fail(`${defect}: ${context}`);
  };
  if (outcome.status === 'hang') {
    tally.hangs++;
    fail(`hang (no exit within ${timeoutMs} ms)`);
  }
  if (outcome.status === 1 || /unexpected error/.test(outcome.stderr)) {
    tally.crashes++;
    fail('crash');
  }
  if (STACK.test(outcome.stderr)) {
    tally.stackTraces++;
    fail('stack trace');
  }
  if (expect.reject) {
    const named = expect.names.every((name) => outcome.stderr.includes(name));
    const problem = expect.problem === undefined || expect.problem.test(outcome.stderr);
    if (outcome.status !== 2 || !named || !problem) {
      tally.wrongVerdicts++;
      fail(`expected exit 2 naming ${expect.names.join(', ')}${expect.problem ? ` and ${expect.problem}` : ''}`);
    }
    return;
  }
  if (outcome.status !== 0) {
    tally.wrongVerdicts++;
    fail('expected success');
  }
  try {
    await expect.check?.();
  } catch (error) {
    tally.changedResults++;
    fail(`changed results (${(error as Error).message})`);
  }
}

async function bounded(args: string[], timeoutMs: number, realProcess: boolean): Promise<{ status: number | 'hang'; stderr: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), timeoutMs)));
  const controller = new AbortController();
  let stderr = '';
  const run = realProcess
    ? cli(...args).then((result) => {
        stderr = result.stderr;
        return result.status ?? -1;
      })
    : runCli(args, { stdout: () => undefined, stderr: (text) => void (stderr += text), signal: controller.signal });
  const status = await Promise.race([run, timeout]);
  clearTimeout(timer);
  if (status === 'hang') {
    controller.abort(); // lets an in-process run stop; its result is no longer looked at
    return { status, stderr };
  }
  return { status, stderr };
}

/** The tallies of the classes whose names start with `prefix`, as a table, for the test log. */
export function summary(prefix = ''): string {
  const rows = [...tallies].filter(([klass]) => klass.startsWith(prefix));
  const header = 'class | cases (real processes) | crashes | stack traces | hangs | wrong verdicts | changed results';
  return [
    header,
    ...rows.map(([klass, t]) => `${klass} | ${t.cases} (${t.realProcess}) | ${t.crashes} | ${t.stackTraces} | ${t.hangs} | ${t.wrongVerdicts} | ${t.changedResults}`),
  ].join('\n');
}

export function allTallies(): ReadonlyMap<string, Tally> {
  return tallies;
}

/** A fresh folder for one case. */
export function caseDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'il-fuzz-'));
}

/** Names that are JavaScript object properties, and ordinary ones. */
export const HOSTILE_NAMES = ['__proto__', 'toString', 'constructor', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'prototype', 'length'];
export const ORDINARY_NAMES = ['Retrieval', 'STS', 'Clustering', 'model-a', 'Qwen/Qwen3', '検索', 'a b'];
