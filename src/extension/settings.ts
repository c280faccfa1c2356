/** Typed access to the `instructionLens.*` settings, with Restricted Mode (untrusted workspace) applied. */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisOptions, MdsMethod, PointsMode } from '../engine/types';
import { type ModelEntry, parseModelEntries } from './modelSpecs';

export const SECTION = 'instructionLens';

export interface Settings {
  models: ModelEntry[];
  /** Problems in the models setting, shown to the user. */
  modelProblems: string[];
  /** Undefined when not set: the engine's default (at most the number of queries). */
  k: number | undefined;
  points: PointsMode;
  mds: MdsMethod;
  /** Undefined: the analysis picks the reference. */
  reference: string | undefined;
  /** Compute the neighbour overlap (N^2 work per model and task); off for very many queries. */
  neighbourOverlap: boolean;
  dtype: 'fp32' | 'fp16' | 'q8' | 'q4';
  /** True when set, and always in an untrusted workspace. */
  offline: boolean;
  /** Where models are downloaded and embeddings cached. */
  cacheFolder: string;
  liveMode: boolean;
  debounceMs: number;
  /** Live mode: the exact analysis (refit) runs this long after the last edit; previews come before it. */
  refitDelayMs: number;
  /** OpenAI-compatible endpoints: total time per request, retries included (seconds), and retries. */
  requestTimeoutSeconds: number;
  requestRetries: number;
  trusted: boolean;
}

export function workspaceFolderPath(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

export function readSettings(globalStorage: vscode.Uri): Settings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const trusted = vscode.workspace.isTrusted;
  const { entries, problems } = parseModelEntries(config.get<unknown>('models'), workspaceFolderPath(), os.homedir());
  // cacheFolder is a restricted setting: in an untrusted workspace VS Code returns only the user's own value.
  const cacheSetting = config.get<string>('cacheFolder', '').trim();
  const cacheFolder = cacheSetting
    ? path.resolve(cacheSetting.startsWith('~') ? path.join(os.homedir(), cacheSetting.slice(1)) : cacheSetting)
    : path.join(globalStorage.fsPath, 'cache');
  const reference = config.get<string>('reference', '').trim();
  const k = config.get<number | null>('k', null);
  return {
    models: entries,
    modelProblems: problems,
    k: typeof k === 'number' ? Math.max(1, Math.floor(k)) : undefined,
    points: config.get<PointsMode>('points', 'flatten'),
    mds: config.get<MdsMethod>('mds', 'classical'),
    reference: reference === '' ? undefined : reference,
    neighbourOverlap: config.get<boolean>('neighbourOverlap', true),
    dtype: config.get<Settings['dtype']>('dtype', 'fp32'),
    offline: config.get<boolean>('offline', false) || !trusted,
    cacheFolder,
    liveMode: config.get<boolean>('liveMode', true),
    debounceMs: Math.max(0, config.get<number>('liveDebounceMs', 600)),
    refitDelayMs: Math.max(0, config.get<number>('liveRefitDelayMs', 3000)),
    requestTimeoutSeconds: Math.min(3600, Math.max(1, config.get<number>('requestTimeoutSeconds', 120))),
    requestRetries: Math.min(20, Math.max(0, Math.floor(config.get<number>('requestRetries', 4)))),
    trusted,
  };
}

/** The analysis options the settings give. */
export function analysisOptionsOf(settings: Settings): AnalysisOptions {
  const { k, points, mds, reference, neighbourOverlap } = settings;
  return { k, points, mds, reference, neighbourOverlap };
}
