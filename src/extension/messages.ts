/**
 * Engine messages (warnings and errors, src/engine/messages.ts) as VS Code shows them: in the display language
 * (vscode.l10n, l10n/bundle.l10n.ja.json), naming settings instead of CLI flags, with the setting a message asks to
 * change so that the views can offer to open it.
 */
import * as vscode from 'vscode';
import { type EngineMessage, messageOption, messageText, SETTINGS_SURFACE } from '../engine/messages';
import type { AnalysisResult } from '../engine/types';
import type { ResultNote } from '../protocol';

/** The message in the display language, naming settings. */
export function localMessage(message: EngineMessage): string {
  return messageText(message, SETTINGS_SURFACE, vscode.l10n.t);
}

/** The notes a results view shows for a result: its warnings, localised; older results without details as they are. */
export function resultNotes(result: AnalysisResult): ResultNote[] {
  const details = Array.isArray(result.warningDetails) ? result.warningDetails : undefined;
  if (!details) return result.warnings.map((text) => ({ text }));
  return details.map((detail) => {
    const option = messageOption(detail);
    return option ? { text: localMessage(detail), setting: SETTINGS_SURFACE.option(option) } : { text: localMessage(detail) };
  });
}

/** Opens the Settings editor on one of our settings. */
export function openSetting(setting: string): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.action.openSettings', setting);
}
