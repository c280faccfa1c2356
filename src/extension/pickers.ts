/** Quick picks: query file, instruction set, models (with "add a Hub id / local folder / endpoint"). */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { endpointId, modelKind, orderModelChoices, restrictedModeRefusal, USE_LITE } from './modelSpecs';

export const PRESETS = ['paper-en', 'paper-ja'] as const;
export const QUERY_FILE_PATTERN = /\.(txt|jsonl|ndjson|csv|tsv|json)$/i;
export const INSTRUCTION_FILE_PATTERN = /\.instructions\.(json|ya?ml)$/i;
const EXCLUDE = '{**/node_modules/**,**/.git/**,**/out/**,**/dist/**}';

export function isInstructionFile(file: string): boolean {
  return INSTRUCTION_FILE_PATTERN.test(file);
}

export function isQueryFile(file: string): boolean {
  return QUERY_FILE_PATTERN.test(file) && !isInstructionFile(file) && path.basename(file) !== 'results.json';
}

/** A key for SecretStorage: one API key per endpoint base URL. */
export function apiKeySecret(baseUrl: string): string {
  return `instructionLens.apiKey:${baseUrl.replace(/\/+$/, '')}`;
}

function relative(uri: vscode.Uri): string {
  return vscode.workspace.asRelativePath(uri, false);
}

export async function pickQueryFile(): Promise<string | undefined> {
  const files = (await vscode.workspace.findFiles('**/*.{txt,jsonl,ndjson,csv,tsv,json}', EXCLUDE, 500)).filter((uri) => isQueryFile(uri.fsPath));
  const browse = { label: `$(folder-opened) ${vscode.l10n.t('Browse…')}`, file: undefined as string | undefined };
  const items = [...files.map((uri) => ({ label: relative(uri), file: uri.fsPath as string | undefined })), browse];
  const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Query file'), placeHolder: vscode.l10n.t('Pick the queries to analyse') });
  if (!picked) return undefined;
  if (picked.file) return picked.file;
  const chosen = await vscode.window.showOpenDialog({
    canSelectMany: false,
    filters: { [vscode.l10n.t('Query files')]: ['txt', 'jsonl', 'ndjson', 'csv', 'tsv', 'json'] },
  });
  return chosen?.[0]?.fsPath;
}

/** Returns a file path or a preset name. */
export async function pickInstructionSet(): Promise<string | undefined> {
  const files = await vscode.workspace.findFiles('**/*.instructions.{json,yaml,yml}', EXCLUDE, 200);
  const items: (vscode.QuickPickItem & { source: string })[] = [
    ...files.map((uri) => ({ label: relative(uri), description: vscode.l10n.t('workspace file'), source: uri.fsPath })),
    { label: 'paper-en', description: vscode.l10n.t("the paper's five tasks, English instructions"), source: 'paper-en' },
    { label: 'paper-ja', description: vscode.l10n.t("the paper's five tasks, Japanese instructions"), source: 'paper-ja' },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Instruction set'),
    placeHolder: vscode.l10n.t('Pick the task instructions to compare'),
  });
  return picked?.source;
}

interface ModelItem extends vscode.QuickPickItem {
  id?: string;
  add?: 'hub' | 'folder' | 'endpoint';
}

export interface ModelPickOptions {
  configured: string[];
  recent: string[];
  /** Checked when the pick opens: the models of the last analysis. */
  checked: string[];
  trusted: boolean;
  secrets: vscode.SecretStorage;
}

function modelItem(id: string, trusted: boolean): ModelItem {
  const kind = modelKind(id);
  const descriptions = {
    'use-lite': vscode.l10n.t('built in: Universal Sentence Encoder lite (English)'),
    folder: vscode.l10n.t('local folder'),
    hub: vscode.l10n.t('Hugging Face Hub'),
    endpoint: vscode.l10n.t('OpenAI-compatible endpoint'),
    bundle: vscode.l10n.t('embedding bundle'),
  } as const;
  const refused = !trusted && restrictedModeRefusal(id) !== undefined;
  return {
    label: kind === 'folder' ? path.basename(id) : id,
    description: descriptions[kind] + (refused ? ` — ${vscode.l10n.t('not allowed in Restricted Mode')}` : ''),
    detail: kind === 'folder' ? id : undefined,
    id,
  };
}

/**
 * Multi-select of models. Picking one of the "add" entries asks for the model and returns to the list with it
 * checked. Returns undefined when dismissed.
 */
export async function pickModels(options: ModelPickOptions): Promise<string[] | undefined> {
  const extra: string[] = [];
  let checked = new Set<string>(options.checked.length > 0 ? options.checked : [USE_LITE]);
  for (;;) {
    const ids = [...new Set([...extra, ...orderModelChoices(options.configured, options.recent)])];
    const addItems: ModelItem[] = [
      { label: '', kind: vscode.QuickPickItemKind.Separator },
      { label: `$(cloud-download) ${vscode.l10n.t('Add a Hugging Face Hub model id…')}`, add: 'hub', alwaysShow: true },
      { label: `$(folder) ${vscode.l10n.t('Add a local model folder…')}`, add: 'folder', alwaysShow: true },
      { label: `$(plug) ${vscode.l10n.t('Add an OpenAI-compatible endpoint…')}`, add: 'endpoint', alwaysShow: true },
    ];
    const modelItems = ids.map((id) => modelItem(id, options.trusted));
    const result = await showMultiPick([...modelItems, ...addItems], (item) => item.id !== undefined && checked.has(item.id));
    if (!result) return undefined;
    const add = result.find((item) => item.add)?.add;
    checked = new Set(result.flatMap((item) => (item.id ? [item.id] : [])));
    if (!add) return [...checked];
    const added = await askForModel(add, options);
    if (added) {
      extra.unshift(added);
      checked.add(added);
    }
  }
}

function showMultiPick(items: ModelItem[], isChecked: (item: ModelItem) => boolean): Promise<readonly ModelItem[] | undefined> {
  return new Promise((resolve) => {
    const pick = vscode.window.createQuickPick<ModelItem>();
    pick.title = vscode.l10n.t('Models');
    pick.placeholder = vscode.l10n.t('Check the models to compare, then press Enter');
    pick.canSelectMany = true;
    pick.matchOnDetail = true;
    pick.items = items;
    pick.selectedItems = items.filter(isChecked);
    let accepted = false;
    pick.onDidAccept(() => {
      accepted = true;
      resolve(pick.selectedItems);
      pick.hide();
    });
    pick.onDidHide(() => {
      if (!accepted) resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}

async function askForModel(kind: 'hub' | 'folder' | 'endpoint', options: ModelPickOptions): Promise<string | undefined> {
  if (kind === 'folder') {
    const folder = await vscode.window.showOpenDialog({
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      openLabel: vscode.l10n.t('Use this model folder'),
    });
    return folder?.[0]?.fsPath;
  }
  if (!options.trusted) {
    void vscode.window.showWarningMessage(
      vscode.l10n.t('In an untrusted workspace (Restricted Mode) Instruction Lens downloads no model and calls no endpoint. Trust the workspace first.'),
    );
    return undefined;
  }
  if (kind === 'hub') {
    const id = await vscode.window.showInputBox({
      title: vscode.l10n.t('Hugging Face Hub model id'),
      prompt: vscode.l10n.t('An ONNX model id, e.g. Xenova/bge-small-en-v1.5 (downloaded once into the cache folder)'),
      validateInput: (value) => (/^[\w.-]+\/[\w.-]+$/.test(value.trim()) ? undefined : vscode.l10n.t('Expected owner/name')),
    });
    return id?.trim();
  }
  const baseUrl = await vscode.window.showInputBox({
    title: vscode.l10n.t('OpenAI-compatible endpoint'),
    prompt: vscode.l10n.t('Base URL of the server (it serves POST /v1/embeddings)'),
    placeHolder: 'http://127.0.0.1:8000',
    validateInput: (value) => (/^https?:\/\/\S+$/.test(value.trim()) ? undefined : vscode.l10n.t('Expected an http:// or https:// URL')),
  });
  if (!baseUrl) return undefined;
  const model = await vscode.window.showInputBox({
    title: vscode.l10n.t('OpenAI-compatible endpoint'),
    prompt: vscode.l10n.t('Model name on that server'),
    validateInput: (value) => (value.trim() ? undefined : vscode.l10n.t('Enter a model name')),
  });
  if (!model) return undefined;
  const apiKey = await vscode.window.showInputBox({
    title: vscode.l10n.t('OpenAI-compatible endpoint'),
    prompt: vscode.l10n.t('API key (leave empty if the server needs none). Kept in VS Code secret storage, never in settings.'),
    password: true,
  });
  if (apiKey === undefined) return undefined;
  if (apiKey.trim()) await options.secrets.store(apiKeySecret(baseUrl.trim()), apiKey.trim());
  return endpointId(model.trim(), baseUrl.trim());
}

export function restrictedModeMessage(refusal: 'download' | 'endpoint', model: string): string {
  return refusal === 'download'
    ? vscode.l10n.t(
        'Model "{0}" is not allowed in an untrusted workspace (Restricted Mode): Instruction Lens downloads nothing there. Trust the workspace, or use use-lite or a local model folder.',
        model,
      )
    : vscode.l10n.t(
        'Model "{0}" is not allowed in an untrusted workspace (Restricted Mode): Instruction Lens calls no endpoint there. Trust the workspace, or use use-lite or a local model folder.',
        model,
      );
}
