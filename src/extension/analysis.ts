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
import { readResults, RESULTS_FILE, resultsJson } from '../engine/io/outputs';
import { provenanceOptions } from '../engine/io/provenance';
import { anchorResult } from '../engine/method/anchor';
import { anchorFrame, type MapFrame } from '../engine/method/frame';
import { checkFrameFits } from '../engine/method/preview';
import { prewarmAnalysis, runAnalysis, runAnalysisWithFrame, runPreview } from '../engine/method/runAnalysis';
import { type AnalysisOptions, type AnalysisResult, BASE_TASK, type EmbeddingBundle } from '../engine/types';
import { EvaluationMemo } from '../engine/evaluation/memo';
import { instructionFormat, type InstructionSet, instructionSetOf, parseInstructionDocument, readInstructionFile } from '../inputs/instructions';
import { parseQueries, type QueryFile, readQueries } from '../inputs/queries';
import { EmbeddingCache, SESSION_MEMORY_BYTES } from '../models/cache';
import type { EmbedProgress, Embedder, TaskSpec } from '../models/embedder';
import { embedAll } from '../models/pipeline';
import { createEmbedder, parseEndpointSpec } from '../models/registry';
import { EvaluationInputs } from './evaluationInputs';
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
  /** 1-based line of each query in its file. */
  queryLines: number[];
  /** The query file's ids and class labels (task evaluation), when it has them. */
  queryIds?: string[];
  queryClassLabels?: string[];
  /** Each query's id, or its line in the query file ("line 12"); parallel to `queries`. */
  queryLabels: string[];
  /** Tasks of the last run, Base first. */
  tasks: TaskSpec[];
  result?: AnalysisResult;
  outputDir?: string;
  /** A newer run is pending or computing: the shown numbers are about to change. */
  stale: boolean;
  /** The frame of the last full analysis: live previews are shown in it. */
  frame?: LiveFrame;
  /** How long the last run took, from reading the inputs to the analysis result (ms); unknown when restored. */
  lastRunMs?: number;
}

/** A frame kept for live previews, with when it was made and the analysis settings it was made with. */
export interface LiveFrame {
  frame: MapFrame;
  /** Local clock time of the full analysis, HH:MM:SS. */
  time: string;
  settingsKey: string;
}

/**
 * What a run does with the embeddings. 'exact': the full analysis (a command). 'preview': show the tasks in the frame
 * of the last full analysis (live mode while typing); the full analysis when there is no usable frame. 'refit': the
 * full analysis with its map anchored to the map shown before (live mode after a pause, on save, Refit Analysis, and
 * a command run that continues the session).
 */
export type AnalysisMode = 'exact' | 'preview' | 'refit';

/** What started a live run (logged): an edit (preview), a pause in editing, a save, the Refit Analysis command. */
export type LiveTrigger = 'edit' | 'pause' | 'save' | 'command';

const KEPT_RUNS = 20;
/** workspaceState key of the last analysis's inputs and results.json (restored after a reload). */
const SESSION_KEY = 'lastSession';

/** A run started by LatestOnly: aborted when a newer one starts or on Cancel. */
type Run = { signal: AbortSignal; isCurrent: () => boolean };

export class AnalysisController implements vscode.Disposable {
  private models: LoadedModels | undefined;
  private readonly runs = new LatestOnly();
  private runCounter = 0;
  private currentSession: Session | undefined;
  private cache: EmbeddingCache | undefined;
  /** The evaluation's files, read once while they do not change, and its scores (live mode re-scores only edited tasks). */
  private readonly evaluationInputs = new EvaluationInputs();
  private readonly evaluationMemo = new EvaluationMemo();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the session's result or staleness changes (CodeLens refresh). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
    private readonly views: ResultsViews,
  ) {
    void this.restoreSession();
  }

  /**
   * After a window reload: the last analysis of this workspace becomes the session again (its inputs, its saved
   * results.json, the query file as it reads now), so live mode and the CodeLenses work without a new run.
   */
  private async restoreSession(): Promise<void> {
    const saved = this.context.workspaceState.get<{ inputs: AnalysisInputs; resultsFile: string }>(SESSION_KEY);
    if (!saved || this.currentSession) return;
    try {
      const result = await readResults(saved.resultsFile);
      const queryFile = await readQueryTexts(saved.inputs.queryFile, this.log);
      if (this.currentSession) return; // a run finished meanwhile
      const instructions = new Map(Object.entries(result.instructions ?? {}));
      const tasks: TaskSpec[] = result.tasks.map((name, t) => ({ name, instruction: t === 0 ? null : (instructions.get(name) ?? null) }));
      this.currentSession = {
        inputs: saved.inputs,
        queries: queryFile.queries,
        queryLines: queryFile.lines,
        ...(queryFile.ids ? { queryIds: queryFile.ids } : {}),
        ...(queryFile.labels ? { queryClassLabels: queryFile.labels } : {}),
        queryLabels: displayLabels(queryFile),
        tasks,
        result,
        outputDir: path.dirname(saved.resultsFile),
        stale: false,
      };
      this.log.info(`restored the last analysis (${saved.resultsFile}): live mode and CodeLenses follow ${saved.inputs.instructionSource}`);
      this.changed.fire();
    } catch (error) {
      this.log.info(`the last analysis was not restored: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  get session(): Session | undefined {
    return this.currentSession;
  }

  /**
   * A run started by a command: progress notification with Cancel, errors as notifications. The results view opens
   * at once and shows the progress too (and loads its chart library while the models embed). A run that continues the
   * session (same queries, instruction source and models: e.g. Analyze Selection as Instruction adds a task) has its
   * map anchored to the one shown; any other starts a new map.
   */
  async runFromCommand(inputs: AnalysisInputs): Promise<void> {
    this.views.reveal();
    const session = this.currentSession?.inputs;
    const continues =
      session !== undefined &&
      session.queryFile === inputs.queryFile &&
      session.instructionSource === inputs.instructionSource &&
      JSON.stringify(session.modelIds) === JSON.stringify(inputs.modelIds);
    await this.withCancellableProgress(async (run, report) => {
      const reportEverywhere = (message: string): void => {
        report(message);
        if (run.isCurrent()) this.views.setStatus('computing', message);
      };
      try {
        await this.execute(inputs, undefined, run, reportEverywhere, true, continues ? 'refit' : 'exact');
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
      const result = await timed(this.log, `open ${target}`, () => readResults(target));
      this.views.show(result, { runId, title, outputDir: path.dirname(target) }, { reveal: true, resultsFile: target });
      return;
    }
    const settings = readSettings(this.context.globalStorageUri);
    await this.withCancellableProgress(async (run, report) => {
      report(vscode.l10n.t('Reading inputs…'));
      const bundle = await timed(this.log, `read bundle ${target}`, () => readBundle(target));
      report(vscode.l10n.t('Analysing…'));
      const result = await timed(this.log, 'analysis', () => runAnalysis(bundle, analysisOptionsOf(settings), run.signal));
      if (!run.isCurrent()) return;
      const analysedAt = performance.now();
      const outputDir = this.runDir(runId);
      await this.writeResults(result, outputDir);
      this.log.info(`run ${runId}: ${RESULTS_FILE} written to ${outputDir}`);
      this.views.show(result, { runId, title, outputDir }, { reveal: true, resultsFile: path.join(outputDir, RESULTS_FILE), analysedAt });
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
  async runLive(tasks: TaskSpec[], mode: 'preview' | 'refit', trigger: LiveTrigger): Promise<void> {
    const session = this.currentSession;
    if (!session) return;
    this.log.info(`live ${mode} (${trigger})`);
    const run = this.runs.start();
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Instruction Lens: computing') }, () =>
        this.execute(session.inputs, withExtraTasks(tasks, session.inputs.extraTasks), run, () => undefined, false, mode),
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

  /** The exact analysis of the session's tasks again, its map anchored to the one shown ("Refit Analysis"). */
  async refitSession(trigger: LiveTrigger): Promise<void> {
    const session = this.currentSession;
    if (session) await this.runLive(session.tasks, 'refit', trigger);
  }

  /** Shows a live-mode problem (e.g. the instruction set does not parse yet) without running. */
  showLiveProblem(message: string): void {
    this.runs.cancel();
    this.views.setStatus('error', message);
    if (this.currentSession) this.setStale(false);
  }

  /** The problem shown by showLiveProblem is gone (live mode off: the map stays as it was). */
  clearProblem(): void {
    this.views.clearError();
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
    mode: AnalysisMode,
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
    const session = this.currentSession;
    const queryFile: LabelledQueryFile = sameInputs && session
      ? { queries: session.queries, lines: session.queryLines, ids: session.queryIds, labels: session.queryClassLabels }
      : await timed(this.log, 'read queries', () => readQueryTexts(inputs.queryFile, this.log));
    const { queries, lines: queryLines } = queryFile;
    const queryLabels = displayLabels(queryFile);
    const instructionSet = await timed(this.log, 'read instructions', () => readInstructions(inputs.instructionSource));
    for (const warning of instructionSet.warnings) this.log.warn(warning);
    const tasks = liveTasks ?? withExtraTasks(instructionSet.tasks, inputs.extraTasks);
    this.log.info(`${queries.length} queries, tasks ${tasks.map((task) => task.name).join(', ')}`);
    const { evaluation, documents } = await timed(this.log, 'read evaluation data', () =>
      this.evaluationInputs.resolve(inputs.queryFile, queryFile, instructionSet.evaluation, tasks),
    );

    const embedders = await this.loadModels(inputs.modelIds, settings, report);
    const cache = this.embeddingCache(path.join(settings.cacheFolder, 'embeddings'));
    const onProgress = (progress: EmbedProgress): void => report(progressMessage(progress));
    const { bundle, stats } = await timed(this.log, 'embed', () =>
      embedAll({ queries, queryLines, documents, tasks, embedders, cache, signal: run.signal, onProgress }),
    );
    if (evaluation) bundle.evaluation = evaluation;
    this.log.info(`embedding cache: ${stats.hits} hits, ${stats.misses} misses`);

    report(vscode.l10n.t('Analysing…'));
    const { result, frame } = await timed(this.log, mode === 'preview' ? 'analysis (preview)' : 'analysis', () =>
      this.analyseBundle(bundle, settings, mode, run.signal),
    );
    if (!run.isCurrent()) return;
    const analysedAt = performance.now();
    result.provenance = {
      tool: { name: 'instruction-lens', version: String(this.context.extension.packageJSON.version) },
      queryFile: inputs.queryFile,
      instructions: { source: inputs.instructionSource, tasks: tasks.map(({ name, instruction }) => ({ name, instruction })) },
      evaluationFiles: [instructionSet.evaluation.pairs, instructionSet.evaluation.corpus, instructionSet.evaluation.qrels].filter(
        (file): file is string => file !== undefined,
      ),
      models: await Promise.all(embedders.map(async (embedder, i) => ({ id: inputs.modelIds[i], name: embedder.name, identity: await embedder.identity() }))),
      options: provenanceOptions(analysisOptionsOf(settings)),
    };
    const outputDir = this.runDir(runId);
    const context = {
      runId,
      title: `${path.basename(inputs.queryFile)} × ${path.basename(inputs.instructionSource)}`,
      queryFile: inputs.queryFile,
      instructionSource: inputs.instructionSource,
      outputDir,
      queryLabels,
      ...(result.mapMode === 'preview' ? { frameTime: frame.time } : {}),
    };
    this.currentSession = {
      inputs,
      queries,
      queryLines,
      ...(queryFile.ids ? { queryIds: queryFile.ids } : {}),
      ...(queryFile.labels ? { queryClassLabels: queryFile.labels } : {}),
      queryLabels,
      tasks,
      result,
      outputDir,
      stale: false,
      frame,
      lastRunMs: Math.round(analysedAt - started),
    };
    // Drawn first, saved meanwhile: the map does not wait for the disk.
    this.views.show(result, context, { reveal: interactive, analysedAt });
    this.changed.fire();
    await this.writeResults(result, outputDir);
    void this.views.rememberLatest(context, path.join(outputDir, RESULTS_FILE));
    await this.context.workspaceState.update(SESSION_KEY, { inputs, resultsFile: path.join(outputDir, RESULTS_FILE) });
    this.log.info(`run ${runId}: ${RESULTS_FILE} written to ${outputDir}; total ${Math.round(performance.now() - started)} ms`);
  }

  /**
   * The analysis step of a run (all heavy work in worker threads): a preview in the session's frame when asked and
   * the frame fits (same models, queries and analysis settings), otherwise the full analysis and its frame, anchored
   * to the session's shown map unless it is a plain 'exact' run.
   */
  private async analyseBundle(
    bundle: EmbeddingBundle,
    settings: Settings,
    mode: AnalysisMode,
    signal: AbortSignal,
  ): Promise<{ result: AnalysisResult; frame: LiveFrame }> {
    const options = analysisOptionsOf(settings);
    const settingsKey = JSON.stringify(options);
    const session = this.currentSession;
    const kept = session?.frame;
    if (mode === 'preview' && kept && kept.settingsKey === settingsKey && frameFits(kept.frame, bundle)) {
      const source = vscode.l10n.t('the frame of {0}', kept.time);
      return { result: await runPreview(kept.frame, bundle, source, signal, { evaluationMemo: this.evaluationMemo, neighbourOverlap: options.neighbourOverlap }), frame: kept };
    }
    const exact = await runAnalysisWithFrame(bundle, { ...options, evaluationMemo: this.evaluationMemo }, signal);
    const time = new Date().toTimeString().slice(0, 8);
    const previous = mode === 'exact' ? undefined : session?.result?.points;
    if (!previous) return { result: exact.result, frame: { frame: exact.frame, time, settingsKey } };
    const anchored = anchorResult(exact.result, previous);
    this.log.info(
      `map anchored on ${anchored.result.mapAnchor?.matchedPoints} points, rms residual ${anchored.result.mapAnchor?.rmsResidual.toPrecision(3)}`,
    );
    return { result: anchored.result, frame: { frame: anchorFrame(exact.frame, anchored.transform), time, settingsKey } };
  }

  /**
   * One cache instance per folder, kept across runs: it holds recent vectors in memory too, so a live update reads
   * from disk only what it did not see in the previous run.
   */
  private embeddingCache(dir: string): EmbeddingCache {
    if (this.cache?.dir !== dir) {
      // A broken cache entry is recomputed; the user sees why in the output channel.
      this.cache = new EmbeddingCache(dir, { memoryBytes: SESSION_MEMORY_BYTES, onWarning: (message) => this.log.warn(message) });
    }
    return this.cache;
  }

  /** Creates the embedders, or reuses the previous run's when nothing about the models changed. */
  private async loadModels(modelIds: string[], settings: Settings, report: (message: string) => void): Promise<Embedder[]> {
    const entries = modelIds.map((id) => settings.models.find((entry) => entry.id === id) ?? ({ id } satisfies ModelEntry));
    const key = JSON.stringify([entries, settings.dtype, settings.offline, settings.cacheFolder, settings.requestTimeoutSeconds, settings.requestRetries]);
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
              requestTimeoutMs: settings.requestTimeoutSeconds * 1000,
              requestRetries: settings.requestRetries,
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

  /** results.json of every run goes into its own folder in the workspace's storage folder. */
  private runDir(runId: number): string {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    return path.join(this.runsRoot(), `${stamp}-${runId}`);
  }

  private runsRoot(): string {
    return path.join((this.context.storageUri ?? this.context.globalStorageUri).fsPath, 'runs');
  }

  /** Writes results.json into `dir`; the newest runs are kept. */
  private async writeResults(result: AnalysisResult, dir: string): Promise<void> {
    const root = this.runsRoot();
    await fs.mkdir(dir, { recursive: true });
    await writeFileAtomic(path.join(dir, RESULTS_FILE), resultsJson(result));
    const runs = (await fs.readdir(root)).sort();
    for (const old of runs.slice(0, Math.max(0, runs.length - KEPT_RUNS))) {
      await fs.rm(path.join(root, old), { recursive: true, force: true });
    }
  }

  dispose(): void {
    this.runs.cancel();
    void this.disposeModels();
    this.changed.dispose();
  }
}

function frameFits(frame: MapFrame, bundle: EmbeddingBundle): boolean {
  try {
    checkFrameFits(frame, bundle, 'frame');
    return true;
  } catch {
    return false;
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
  if (progress.kind === 'load' || progress.kind === 'download') {
    const percent = progress.total > 0 ? ` ${Math.round((100 * progress.done) / progress.total)}%` : '';
    return progress.kind === 'load'
      ? vscode.l10n.t('Loading {0}: {1}{2}', progress.model, progress.file ?? '', percent)
      : vscode.l10n.t('Downloading {0}: {1}{2}', progress.model, progress.file ?? '', percent);
  }
  if (progress.kind === 'wait') {
    return vscode.l10n.t('{0}: retrying in {1} s: {2}', progress.model, progress.waitSeconds ?? 0, progress.reason ?? '');
  }
  return vscode.l10n.t('Embedding with {0}: {1}/{2}', progress.model, progress.done, progress.total);
}

/** The text of `file` when it is open in an editor with unsaved changes: what the user sees is what is analysed. */
function unsavedText(file: string): string | undefined {
  const document = vscode.workspace.textDocuments.find((doc) => doc.uri.scheme === 'file' && path.resolve(doc.uri.fsPath) === path.resolve(file));
  return document?.isDirty ? document.getText() : undefined;
}

/** The instruction set (tasks and evaluation block), from the editor's unsaved text when there is one. */
async function readInstructions(source: string): Promise<InstructionSet> {
  const text = unsavedText(source);
  const format = instructionFormat(source);
  if (text === undefined || !format) return readInstructionFile(source);
  return instructionSetOf(source, parseInstructionDocument(text, format));
}

/** The query file as a run uses it: queries, their 1-based lines, and the ids and class labels when it has them. */
type LabelledQueryFile = Pick<QueryFile, 'queries' | 'lines' | 'ids' | 'labels'>;

/** The query file, from the editor's unsaved text when there is one. */
export async function readQueryTexts(file: string, log: Log): Promise<QueryFile> {
  const text = unsavedText(file);
  const queryFile = text === undefined ? await readQueries(file) : parseQueries(text, file);
  for (const duplicate of queryFile.duplicates) log.warn(`${file}: duplicate query kept once (lines ${duplicate.lines.join(', ')}): ${duplicate.text}`);
  return queryFile;
}

/** How each query is named in the movers table: its id when the file gives ids, else its line. */
function displayLabels(queryFile: LabelledQueryFile): string[] {
  return queryFile.queries.map((_, i) => queryFile.ids?.[i] ?? `${vscode.l10n.t('line')} ${queryFile.lines[i]}`);
}
