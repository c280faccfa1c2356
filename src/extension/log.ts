/** The "Instruction Lens" log channel, timings, and how errors reach the user. */
import * as vscode from 'vscode';
import { CancelledError, UserError } from '../engine/errors';
import { localMessage } from './messages';

export type Log = vscode.LogOutputChannel;

export function createLog(): Log {
  return vscode.window.createOutputChannel('Instruction Lens', { log: true });
}

/** Runs `work`, logging its name and how long it took. */
export async function timed<T>(log: Log, what: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  log.info(`${what}…`);
  try {
    const value = await work();
    log.info(`${what}: done in ${Math.round(performance.now() - started)} ms`);
    return value;
  } catch (error) {
    log.info(`${what}: stopped after ${Math.round(performance.now() - started)} ms`);
    throw error;
  }
}

export function isCancellation(error: unknown): boolean {
  return error instanceof CancelledError || (error instanceof Error && error.name === 'AbortError');
}

/**
 * Shows an error as a notification with a "Show log" action. A UserError's message is shown as it is (it names the
 * file, line and problem); anything else is an internal error whose details go to the log. Cancellation is silent.
 */
export function reportError(log: Log, error: unknown): void {
  if (isCancellation(error)) {
    log.info('cancelled');
    return;
  }
  const userFacing = error instanceof UserError || (error instanceof Error && error.name === 'UserError');
  const detail = error instanceof UserError ? error.detail : undefined;
  const message = userFacing
    ? detail
      ? localMessage(detail)
      : (error as Error).message
    : vscode.l10n.t('Instruction Lens failed: {0}', error instanceof Error ? error.message : String(error));
  if (userFacing) log.error(message);
  else log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  const showLog = vscode.l10n.t('Show log');
  void vscode.window.showErrorMessage(message, showLog).then((choice) => {
    if (choice === showLog) log.show(true);
  });
}
