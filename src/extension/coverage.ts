/**
 * Before a run: when no chosen model covers the script of the queries (src/models/languages.ts), a modal question with
 * a way to go on ("Continue") or back ("Choose models"); closing it cancels the run.
 */
import * as vscode from 'vscode';
import { scriptCoverage } from '../models/languages';
import { readQueryTexts } from './analysis';
import type { Log } from './log';
import { localMessage } from './messages';

export type CoverageChoice = 'continue' | 'choose' | 'cancel';

export async function confirmScriptCoverage(queryFile: string, modelIds: string[], log: Log): Promise<CoverageChoice> {
  const { queries, lines } = await readQueryTexts(queryFile, log);
  const gap = scriptCoverage(queries, lines, modelIds);
  if (!gap) return 'continue';
  log.warn(localMessage(gap));
  const go = vscode.l10n.t('Continue');
  const choose = vscode.l10n.t('Choose models');
  const choice = await vscode.window.showWarningMessage(localMessage(gap), { modal: true }, go, choose);
  return choice === go ? 'continue' : choice === choose ? 'choose' : 'cancel';
}
