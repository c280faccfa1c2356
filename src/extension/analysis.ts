/**
 * Runs an analysis for the extension: read queries and instructions, embed with every model (worker threads, the
 * embedding cache serves what was embedded before), analyse (worker thread), write results.json, show the result.
 * Keeps the last run's inputs and embedders as the session that live mode re-runs when an instruction changes.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../engine/io/atomicWrite';
import { readBundle } from '../engine/io/bundle';
import { UserError } from '../engine/errors';
import { RESULTS_FILE, resultsJson } from '../engine/io/outputs';
import { prewarmAnalysis, runAnalysis } from '../engine/method/runAnalysis';
import { type AnalysisResult, BASE_TASK } from '../engine/types';
import { instructionFormat, parseInstructionDocument, readInstructionSet } from '../inputs/instructions';
import { parseQueries, readQueries } from '../inputs/queries';
import { EmbeddingCache, SESSION_MEMORY_BYTES } from '../models/cache';
import type { EmbedProgress, Embedder, TaskSpec } from '../models/embedder';
import { embedAll } from '../models/pipeline';
import { createEmbedder, parseEndpointSpec } from '../models/registry';
import { analysisResultProblem } from '../protocol';
import { isCancellation, type Log, reportError, timed } from './log';
import { LatestOnly } from './latestOnly';
import { type ModelEntry, restrictedModeRefusal } from './modelSpecs';
import { apiKeySecret, restrictedModeMessage } from './pickers';
import type { ResultsViews } from './resultsViews';
import { analysisOptionsOf, readSettings, type Settings } from './settings';

/** What the user chose: the same inputs give the same analysis. */
export interface AnalysisInputs {
  queryFile: string;
  /** An instruction set file or a preset name (paper-en, paper-ja). */
  instructionSource: string;
  modelIds: string[];
  /** Tasks added with "Analyze Selection as Instruction". */
  extraTasks: TaskSpec[];
}

interface LoadedModels {
  /** Same key, same embedders: model ids with their per-model settings, dtype, offline, cache folder. */
  key: string;
  embedders: Embedder[];
}

export interface Session {
  inputs: AnalysisInputs;
  queries: string[];
  /** Tasks of the last run, Base first. */
  tasks: TaskSpec[];
  result?: AnalysisResult;
  outputDir?: string;
  /** A newer run is pending or computing: the shown numbers are about to change. */
  stale: boolean;
}

const KEPT_RUNS = 20;

/** A run started by LatestOnly: aborted when a newer one starts or on Cancel. */
type Run = { signal: AbortSignal; isCurrent: () => boolean };

export class AnalysisController implements vscode.Disposable {
  private models: LoadedModels | undefined;
  private readonly runs = new LatestOnly();
  private runCounter = 0;
  private currentSession: Session | undefined;
  private cache: EmbeddingCache | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the session's result or staleness changes (CodeLens refresh). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
    private readonly views: ResultsViews,
  ) {}

  get session(): Session | undefined {
    return this.currentSession;
  }

  /** A run started by a command: progress notification with Cancel, errors as notifications. */
  async runFromCommand(inputs: AnalysisInputs): Promise<void> {
    await this.withCancellableProgress(async (run, report) => {
      try {
        await this.execute(inputs, undefined, run, report, true);
      } catch (error) {
        reportError(this.log, error);
        if (this.currentSession) this.setStale(false);
      }
    });
  }

  /**
   * Opens saved work without embedding anything (allowed in Restricted Mode): a results.json written before, or an
   * embedding bundle (folder of .npy files or .jsonl), which is analysed.
   */
  async openSaved(target: string): Promise<void> {
    const runId = ++this.runCounter;
    const title = path.basename(target);
    // The views now follow saved work: live mode and the CodeLenses stop following the previous analysis.
    this.runs.cancel();
    this.currentSession = undefined;
    this.changed.fire();
    if ((await fs.stat(target)).isFile() && target.toLowerCase().endsWith('.json')) {
      const result = await timed(this.log, `open ${target}`, () => readResultsFile(target));
      this.views.show(result, { runId, title, outputDir: path.dirname(target) }, { reveal: true, resultsFile: target });
      return;
    }
    const settings = readSettings(this.context.globalStorageUri);
    await this.withCancellableProgress(async (run, report) => {
      report(vscode.l10n.t('Reading inputs…'));
      const bundle = await timed(this.log, `read bundle ${target}`, () => readBundle(target));
      report(vscode.l10n.t('Analysing…'));
      const result = await timed(this.log, 'analysis', () =>
        runAnalysis(bundle, analysisOptionsOf(settings), run.signal),
      );
      if (!run.isCurrent()) return;
      const outputDir = await this.writeResults(result, runId);
      this.log.info(`run ${runId}: ${RESULTS_FILE} written to ${outputDir}`);
      this.views.show(result, { runId, title, outputDir }, { reveal: true, resultsFile: path.join(outputDir, RESULTS_FILE) });
    });
  }

  /** Runs `work` as the current run under a progress notification whose Cancel button aborts it. */
  private async withCancellableProgress(work: (run: Run, report: (message: string) => void) => Promise<void>): Promise<void> {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Instruction Lens'), cancellable: true },
      async (progress, token) => {
        const run = this.runs.start();
        token.onCancellationRequested(() => this.runs.cancel());
        try {
          await work(run, (message) => progress.report({ message }));
        } finally {
          this.runs.finish(run.signal);
        }
      },
    );
  }

  /** Marks the shown result as about to change and aborts a run in flight (live mode, before the debounce). */
  markStale(): void {
    this.runs.cancel();
    if (this.currentSession) this.setStale(true);
    this.views.setStatus('computing');
  }

  /**
   * A live-mode run on the tasks parsed from the edited instruction set: only changed tasks miss the embedding
   * cache. Problems (a half-typed file) show in the views' status line, not as notifications.
   */
  async runLive(tasks: TaskSpec[]): Promise<void> {
    const session = this.currentSession;
    if (!session) return;
    const run = this.runs.start();
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Instruction Lens: computing') }, () =>
        this.execute(session.inputs, withExtraTasks(tasks, session.inputs.extraTasks), run, () => undefined, false),
      );
    } catch (error) {
      if (!run.isCurrent()) return;
      if (isCancellation(error)) return;
      const message = error instanceof Error ? error.message : String(error);
      this.log.warn(`live update failed: ${message}`);
      this.views.setStatus('error', message);
      this.setStale(false);
    } finally {
      this.runs.finish(run.signal);
    }
  }

  /** Shows a live-mode problem (e.g. the instruction set does not parse yet) without running. */
  showLiveProblem(message: string): void {
    this.runs.cancel();
    this.views.setStatus('error', message);
    if (this.currentSession) this.setStale(false);
  }

  cancel(): void {
    this.runs.cancel();
  }

  private setStale(stale: boolean): void {
    if (this.currentSession && this.currentSession.stale !== stale) {
      this.currentSession.stale = stale;
      this.changed.fire();
    }
  }

  private async execute(
    inputs: AnalysisInputs,
    liveTasks: TaskSpec[] | undefined,
    run: Run,
    report: (message: string) => void,
    interactive: boolean,
  ): Promise<void> {
    const settings = readSettings(this.context.globalStorageUri);
    const runId = ++this.runCounter;
    const started = performance.now();
    this.log.info(
      `run ${runId}: queries ${inputs.queryFile}, instructions ${inputs.instructionSource}, models ${inputs.modelIds.join(', ')}` +
        `${settings.trusted ? '' : ' (Restricted Mode: offline)'}`,
    );
    checkRestrictedMode(inputs.modelIds, settings);
    prewarmAnalysis(); // the analysis workers start while the models load and embed
    if (interactive) this.views.setStatus('computing');

    report(vscode.l10n.t('Reading inputs…'));
    const sameInputs = liveTasks !== undefined && this.currentSession?.inputs === inputs;
    const queries = sameInputs ? this.currentSession!.queries : await timed(this.log, 'read queries', () => readQueryTexts(inputs.queryFile, this.log));
    const tasks = liveTasks ?? withExtraTasks(await timed(this.log, 'read instructions', () => readTasks(inputs.instructionSource)), inputs.extraTasks);
    this.log.info(`${queries.length} queries, tasks ${tasks.map((task) => task.name).join(', ')}`);

    const embedders = await this.loadModels(inputs.modelIds, settings, report);
    const cache = this.embeddingCache(path.join(settings.cacheFolder, 'embeddings'));
    const onProgress = (progress: EmbedProgress): void => report(progressMessage(progress));
    const { bundle, stats } = await timed(this.log, 'embed', () =>
      embedAll({ queries, tasks, embedders, cache, signal: run.signal, onProgress }),
    );
    this.log.info(`embedding cache: ${stats.hits} hits, ${stats.misses} misses`);

    report(vscode.l10n.t('Analysing…'));
    const result = await timed(this.log, 'analysis', () =>
      runAnalysis(bundle, analysisOptionsOf(settings), run.signal),
    );
    if (!run.isCurrent()) return;
    const outputDir = await this.writeResults(result, runId);
    this.log.info(`run ${runId}: ${RESULTS_FILE} written to ${outputDir}; total ${Math.round(performance.now() - started)} ms`);

    this.currentSession = { inputs, queries, tasks, result, outputDir, stale: false };
    this.views.show(
      result,
      {
        runId,
        title: `${path.basename(inputs.queryFile)} × ${path.basename(inputs.instructionSource)}`,
        queryFile: inputs.queryFile,
        instructionSource: inputs.instructionSource,
        outputDir,
      },
      { reveal: interactive, resultsFile: path.join(outputDir, RESULTS_FILE) },
    );
    this.changed.fire();
  }

  /**
   * One cache instance per folder, kept across runs: it holds recent vectors in memory too, so a live update reads
   * from disk only what it did not see in the previous run.
   */
  private embeddingCache(dir: string): EmbeddingCache {
    if (this.cache?.dir !== dir) this.cache = new EmbeddingCache(dir, { memoryBytes: SESSION_MEMORY_BYTES });
    return this.cache;
  }

  /** Creates the embedders, or reuses the previous run's when nothing about the models changed. */
  private async loadModels(modelIds: string[], settings: Settings, report: (message: string) => void): Promise<Embedder[]> {
    const entries = modelIds.map((id) => settings.models.find((entry) => entry.id === id) ?? ({ id } satisfies ModelEntry));
    const key = JSON.stringify([entries, settings.dtype, settings.offline, settings.cacheFolder]);
    if (this.models?.key === key) return this.models.embedders;
    await this.disposeModels();
    const embedders: Embedder[] = [];
    try {
      for (const entry of entries) {
        report(vscode.l10n.t('Loading {0}…', entry.id));
        const endpoint = parseEndpointSpec(entry.id);
        const apiKey = endpoint ? await this.context.secrets.get(apiKeySecret(endpoint.baseUrl)) : undefined;
        embedders.push(
          await timed(this.log, `load model ${entry.id}`, () =>
            createEmbedder(entry.id, {
              cacheDir: path.join(settings.cacheFolder, 'models'),
              offline: settings.offline,
              dtype: entry.dtype ?? settings.dtype,
              apiKey,
              overrides: entry.overrides,
            }),
          ),
        );
      }
    } catch (error) {
      await Promise.allSettled(embedders.map((embedder) => embedder.dispose()));
      throw error;
    }
    this.models = { key, embedders };
    return embedders;
  }

  private async disposeModels(): Promise<void> {
    const old = this.models;
    this.models = undefined;
    if (old) await Promise.allSettled(old.embedders.map((embedder) => embedder.dispose()));
  }

  /** results.json of every run goes into the workspace's storage folder; the newest runs are kept. */
  private async writeResults(result: AnalysisResult, runId: number): Promise<string> {
    const root = path.join((this.context.storageUri ?? this.context.globalStorageUri).fsPath, 'runs');
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const dir = path.join(root, `${stamp}-${runId}`);
    await fs.mkdir(dir, { recursive: true });
    await writeFileAtomic(path.join(dir, RESULTS_FILE), resultsJson(result));
    const runs = (await fs.readdir(root)).sort();
    for (const old of runs.slice(0, Math.max(0, runs.length - KEPT_RUNS))) {
      await fs.rm(path.join(root, old), { recursive: true, force: true });
    }
    return dir;
  }

  dispose(): void {
    this.runs.cancel();
    void this.disposeModels();
    this.changed.dispose();
  }
}

/** Base first (added when the reader did not), then the set's tasks, then the tasks added from selections. */
function withExtraTasks(tasks: TaskSpec[], extra: TaskSpec[]): TaskSpec[] {
  const base: TaskSpec = { name: BASE_TASK, instruction: null };
  const withBase = tasks[0]?.name === BASE_TASK ? tasks : [base, ...tasks];
  const names = new Set(withBase.map((task) => task.name));
  return [...withBase, ...extra.filter((task) => !names.has(task.name))];
}

function checkRestrictedMode(modelIds: string[], settings: Settings): void {
  if (settings.trusted) return;
  for (const id of modelIds) {
    const refusal = restrictedModeRefusal(id);
    if (refusal) throw new UserError(restrictedModeMessage(refusal, id));
  }
}

function progressMessage(progress: EmbedProgress): string {
  if (progress.kind === 'download') {
    const percent = progress.total > 0 ? ` ${Math.round((100 * progress.done) / progress.total)}%` : '';
    return vscode.l10n.t('Downloading {0}: {1}{2}', progress.model, progress.file ?? '', percent);
  }
  return vscode.l10n.t('Embedding with {0}: {1}/{2}', progress.model, progress.done, progress.total);
}

async function readResultsFile(file: string): Promise<AnalysisResult> {
  let value: unknown;
  try {
    value = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new UserError(`cannot read results: ${error instanceof Error ? error.message : String(error)}`, file);
  }
  const problem = analysisResultProblem(value);
  if (problem) throw new UserError(`not an Instruction Lens results file: ${problem}`, file);
  return value as AnalysisResult;
}

/** The text of `file` when it is open in an editor with unsaved changes: what the user sees is what is analysed. */
function unsavedText(file: string): string | undefined {
  const document = vscode.workspace.textDocuments.find((doc) => doc.uri.scheme === 'file' && path.resolve(doc.uri.fsPath) === path.resolve(file));
  return document?.isDirty ? document.getText() : undefined;
}

async function readTasks(source: string): Promise<TaskSpec[]> {
  const text = unsavedText(source);
  const format = instructionFormat(source);
  if (text === undefined || !format) return readInstructionSet(source);
  const { tasks, problems } = parseInstructionDocument(text, format);
  if (problems.length > 0) throw new UserError(problems[0].message, source, problems[0].line);
  return [{ name: BASE_TASK, instruction: null }, ...tasks.map(({ name, instruction }) => ({ name, instruction }))];
}

async function readQueryTexts(file: string, log: Log): Promise<string[]> {
  const text = unsavedText(file);
  const { queries, duplicates } = text === undefined ? await readQueries(file) : parseQueries(text, file);
  for (const duplicate of duplicates) log.warn(`${file}: duplicate query kept once (lines ${duplicate.lines.join(', ')}): ${duplicate.text}`);
  return queries;
}
