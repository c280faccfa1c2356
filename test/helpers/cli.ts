/** Runs the real CLI (node bin/instruction-lens.js, the built dist/cli.js) the way a user does. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../../src/engine/io/paths';

const bin = path.join(packageRoot(), 'bin', 'instruction-lens.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI; resolves when it exits. Async so that independent cases can run concurrently. */
export function cli(...args: string[]): Promise<CliRun> {
  return cliWith({}, [], ...args);
}

export function cliWith(extraEnv: Record<string, string>, nodeArgs: string[], ...args: string[]): Promise<CliRun> {
  const env = { ...process.env, ...extraEnv };
  if (!('INSTRUCTION_LENS_DEBUG' in extraEnv)) delete env.INSTRUCTION_LENS_DEBUG;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, bin, ...args], { env, cwd: packageRoot() });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * Runs the real CLI and sends it SIGINT (Ctrl-C) `delayMs` after its stderr first matches `when`; resolves when it
 * exits, with the signal it died of when it did not exit by itself.
 */
export function cliInterrupted(when: RegExp, delayMs: number, ...args: string[]): Promise<CliRun & { signal: NodeJS.Signals | null }> {
  const env = { ...process.env };
  delete env.INSTRUCTION_LENS_DEBUG;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, cwd: packageRoot() });
    let stdout = '';
    let stderr = '';
    let armed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (armed || !when.test(stderr)) return;
      armed = true;
      setTimeout(() => child.kill('SIGINT'), delayMs);
    });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'il-cli-'));
}

export function assertNoStack(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+/, `stack trace in stderr:\n${stderr}`);
}
