/**
 * Edits of the `instructionLens.models` setting from the model pick list's item buttons: remove a model, change its
 * dtype, or open it in the Settings UI (overrides). Edits go where the entry is (workspace or user settings), new
 * entries to the user settings. API keys never go into settings.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { resolveModelId } from './modelSpecs';
import { SECTION, workspaceFolderPath } from './settings';

type RawEntry = string | { id: string; dtype?: string; overrides?: Record<string, unknown> };

function rawId(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  return typeof entry === 'object' && entry !== null && typeof (entry as { id?: unknown }).id === 'string' ? (entry as { id: string }).id : undefined;
}

/** Whether the raw setting entry names model `id` (ids in settings may be relative folders). */
function names(entry: unknown, id: string): boolean {
  const raw = rawId(entry);
  return raw !== undefined && resolveModelId(raw.trim(), workspaceFolderPath(), os.homedir()) === id;
}

const TARGETS = [
  { target: vscode.ConfigurationTarget.WorkspaceFolder, key: 'workspaceFolderValue' },
  { target: vscode.ConfigurationTarget.Workspace, key: 'workspaceValue' },
  { target: vscode.ConfigurationTarget.Global, key: 'globalValue' },
] as const;

/** Applies `change` to the models list of every settings level that lists `id`; returns whether any did. */
async function editEntries(id: string, change: (entries: unknown[]) => unknown[]): Promise<boolean> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const inspected = config.inspect<unknown[]>('models');
  let found = false;
  for (const { target, key } of TARGETS) {
    const value = inspected?.[key];
    if (!Array.isArray(value) || !value.some((entry) => names(entry, id))) continue;
    found = true;
    await config.update('models', change(value), target);
  }
  return found;
}

export async function removeModelSetting(id: string): Promise<void> {
  await editEntries(id, (entries) => entries.filter((entry) => !names(entry, id)));
}

const DTYPES = ['fp32', 'fp16', 'q8', 'q4'] as const;

export async function editModelSetting(id: string): Promise<void> {
  const openSettings = vscode.l10n.t('Overrides (template, pooling, normalize, maxLength): open in Settings…');
  const picked = await vscode.window.showQuickPick([...DTYPES, openSettings], {
    title: vscode.l10n.t('Edit {0}', id),
    placeHolder: vscode.l10n.t('ONNX weights to load (dtype), or the overrides in Settings'),
  });
  if (!picked) return;
  if (picked === openSettings) {
    await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.models`);
    return;
  }
  const withDtype = (entry: unknown): RawEntry => {
    const raw = rawId(entry) ?? id;
    const base = typeof entry === 'object' && entry !== null ? (entry as Exclude<RawEntry, string>) : { id: raw };
    return { ...base, dtype: picked };
  };
  const edited = await editEntries(id, (entries) => entries.map((entry) => (names(entry, id) ? withDtype(entry) : entry)));
  if (!edited) {
    const config = vscode.workspace.getConfiguration(SECTION);
    const user = config.inspect<unknown[]>('models')?.globalValue ?? [];
    await config.update('models', [...user, { id, dtype: picked }], vscode.ConfigurationTarget.Global);
  }
}
