/** Quick picks: query file, instruction set, models (with "add a Hub id / local folder / endpoint"). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BUNDLE_SPEC_PREFIX } from '../models/bundleEmbedder';
import { readAnalysisOutputKind } from './analysisFiles';
import { endpointId, missingModelFiles, modelKind, orderModelChoices, restrictedModeRefusal, USE_LITE } from './modelSpecs';

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
  const candidates = (await vscode.workspace.findFiles('**/*.{txt,jsonl,ndjson,csv,tsv,json}', EXCLUDE, 500)).filter((uri) => isQueryFile(uri.fsPath));
  // What an analysis wrote (results.json, its CSV tables) is not a query file.
  const outputs = await Promise.all(candidates.map((uri) => readAnalysisOutputKind(uri.fsPath)));
  const files = candidates.filter((_, i) => outputs[i] === undefined);
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
  /** Item buttons of the configured and recent models: remove from the list, change dtype / open in Settings. */
  removeModel(id: string): Promise<void>;
  editModel(id: string): Promise<void>;
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
    buttons: id === USE_LITE ? [] : [EDIT_BUTTON, REMOVE_BUTTON],
  };
}

const EDIT_BUTTON: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('gear'), tooltip: vscode.l10n.t('Edit (dtype, overrides)') };
const REMOVE_BUTTON: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('trash'), tooltip: vscode.l10n.t('Remove from the list') };

interface MultiPickResult {
  selected: readonly ModelItem[];
  /** A model item's button was clicked. */
  button?: { id: string; action: 'edit' | 'remove' };
}

/**
 * Multi-select of models. Picking one of the "add" entries asks for the model and returns to the list with it
 * checked. Returns undefined when dismissed.
 */
export async function pickModels(initial: ModelPickOptions): Promise<string[] | undefined> {
  let options = initial;
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
    checked = new Set(result.selected.flatMap((item) => (item.id ? [item.id] : [])));
    if (result.button) {
      const { id, action } = result.button;
      if (action === 'remove') {
        await options.removeModel(id);
        checked.delete(id);
        options = { ...options, configured: options.configured.filter((other) => other !== id), recent: options.recent.filter((other) => other !== id) };
        extra.splice(0, extra.length, ...extra.filter((other) => other !== id));
      } else {
        await options.editModel(id);
      }
      continue;
    }
    const add = result.selected.find((item) => item.add)?.add;
    if (!add) return [...checked];
    const added = await askForModel(add, options);
    if (added) {
      extra.unshift(added);
      checked.add(added);
    }
  }
}

function showMultiPick(items: ModelItem[], isChecked: (item: ModelItem) => boolean): Promise<MultiPickResult | undefined> {
  return new Promise((resolve) => {
    const pick = vscode.window.createQuickPick<ModelItem>();
    pick.title = vscode.l10n.t('Models');
    pick.placeholder = vscode.l10n.t('Check the models to compare, then press Enter');
    pick.canSelectMany = true;
    pick.matchOnDetail = true;
    pick.items = items;
    pick.selectedItems = items.filter(isChecked);
    let accepted = false;
    const accept = (button?: MultiPickResult['button']): void => {
      accepted = true;
      resolve({ selected: pick.selectedItems, button });
      pick.hide();
    };
    pick.onDidTriggerItemButton(({ item, button }) => {
      if (item.id) accept({ id: item.id, action: button === REMOVE_BUTTON ? 'remove' : 'edit' });
    });
    pick.onDidAccept(() => accept());
    // An "Add …" entry acts on click: its dialog opens at once (no checkbox to tick and Enter to press).
    pick.onDidChangeSelection((selected) => {
      if (selected.some((item) => item.add)) accept();
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
    const folder = (
      await vscode.window.showOpenDialog({
        canSelectFiles: false,
        canSelectFolders: true,
        canSelectMany: false,
        openLabel: vscode.l10n.t('Use this model folder'),
      })
    )?.[0]?.fsPath;
    if (!folder) return undefined;
    const checked = await checkLocalModelFolder(folder, options.trusted);
    if ('problem' in checked) void vscode.window.showWarningMessage(checked.problem);
    return 'id' in checked ? checked.id : undefined;
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

/**
 * The model id of a picked folder (the folder, or bundle:FOLDER for an embedding bundle), or why it cannot be used:
 * it must hold a transformers.js model (config.json, tokenizer.json, ONNX weights) or MODEL/TASK.npy files.
 * Workspace folders are refused: the root is never a model, and in Restricted Mode files that came with the
 * workspace are not loaded as a model.
 */
async function checkLocalModelFolder(folder: string, trusted: boolean): Promise<{ id: string } | { problem: string }> {
  const resolved = path.resolve(folder);
  const workspaceFolder = vscode.workspace.workspaceFolders?.find((candidate) => {
    const root = path.resolve(candidate.uri.fsPath);
    return resolved === root || (!trusted && resolved.startsWith(root + path.sep));
  });
  if (workspaceFolder) {
    return {
      problem:
        path.resolve(workspaceFolder.uri.fsPath) === resolved
          ? vscode.l10n.t('{0} is the workspace folder, not a model folder. Pick the folder that holds the model files.', folder)
          : vscode.l10n.t('{0} is inside an untrusted workspace: in Restricted Mode a model is loaded only from outside it.', folder),
    };
  }
  const files = await twoLevelListing(resolved);
  if (files.some((file) => /^[^/]+\/[^/]+\.npy$/i.test(file))) return { id: `${BUNDLE_SPEC_PREFIX}${resolved}` };
  const missing = missingModelFiles(files);
  if (missing.length > 0) {
    return { problem: vscode.l10n.t('{0} is not a model folder: {1} missing (or use an embedding bundle: MODEL/TASK.npy files).', folder, missing.join(', ')) };
  }
  return { id: resolved };
}

/** Relative paths of the files in `dir` and its direct subfolders (enough to recognise a model or a bundle). */
async function twoLevelListing(dir: string): Promise<string[]> {
  const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => []);
  const files = entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
  for (const sub of entries.filter((entry) => entry.isDirectory()).slice(0, 100)) {
    const inner = await fs.promises.readdir(path.join(dir, sub.name)).catch(() => [] as string[]);
    files.push(...inner.map((name) => `${sub.name}/${name}`));
  }
  return files;
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
