/**
 * Live tweaking: while the analysed instruction set is edited, show a live preview (debounced; a newer edit cancels
 * the run in flight): the edited tasks projected into the frame of the last full analysis, every other point where
 * it was. The exact analysis (a refit, its map anchored to the one shown) follows when editing pauses
 * (instructionLens.liveRefitDelayMs), when the file is saved, or on "Refit Analysis". Each instruction's mean
 * displacement per model (exact in both cases) shows in a CodeLens above it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type InstructionDocument, type InstructionProblem, instructionFormat, parseInstructionDocument, taskSpecOf } from '../inputs/instructions';
import { BASE_TASK } from '../engine/types';
import type { TaskSpec } from '../models/embedder';
import { formatNumber } from '../../webview/charts';
import { homeScores, scoreSummary } from '../../webview/evaluationCharts';
import type { AnalysisController, LiveTrigger } from './analysis';
import { Debouncer } from './latestOnly';
import { isInstructionFile } from './pickers';
import { readSettings, SECTION } from './settings';

function samePath(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b);
}

/** "The map is out of date: FILE:LINE: problem" (line 1-based, as the editor shows it). */
function problemText(document: vscode.TextDocument, problem: InstructionProblem): string {
  return vscode.l10n.t('The map is out of date: {0}', `${path.basename(document.uri.fsPath)}:${problem.line}: ${problem.message}`);
}

function parseDocument(document: vscode.TextDocument): InstructionDocument | undefined {
  const format = instructionFormat(document.uri.fsPath);
  return format ? parseInstructionDocument(document.getText(), format) : undefined;
}

export class LiveMode implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** The edited instruction set, until the refit that follows the edits. */
  private pending: vscode.TextDocument | undefined;
  private readonly previewDebouncer = new Debouncer(() => void this.rerun('preview', 'edit'));
  private readonly refitDebouncer = new Debouncer(() => void this.rerun('refit', 'pause'));

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly controller: AnalysisController,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((event) => this.onEdit(event)),
      vscode.workspace.onWillSaveTextDocument((event) => this.onSave(event)),
    );
  }

  private enabled(): boolean {
    return readSettings(this.context.globalStorageUri).liveMode;
  }

  private onEdit(event: vscode.TextDocumentChangeEvent): void {
    const session = this.controller.session;
    if (!session || event.contentChanges.length === 0) return;
    if (!samePath(event.document.uri.fsPath, session.inputs.instructionSource)) return;
    if (!this.enabled()) {
      // No re-run, but the map says when the file it came from has errors.
      const [problem] = parseDocument(event.document)?.problems ?? [];
      if (problem) this.controller.showLiveProblem(problemText(event.document, problem));
      else this.controller.clearProblem();
      return;
    }
    this.pending = event.document;
    this.controller.markStale();
    const settings = readSettings(this.context.globalStorageUri);
    this.previewDebouncer.trigger(settings.debounceMs);
    this.refitDebouncer.trigger(Math.max(settings.refitDelayMs, settings.debounceMs));
  }

  /**
   * A save the user asked for refits at once. Auto-saves (after a delay, on focus change: VS Code for the web saves
   * after 1 s by default) do not: the refit then comes when editing pauses, as without saving.
   */
  private onSave(event: vscode.TextDocumentWillSaveEvent): void {
    const session = this.controller.session;
    const document = event.document;
    if (event.reason !== vscode.TextDocumentSaveReason.Manual) return;
    if (!session || !this.enabled() || !samePath(document.uri.fsPath, session.inputs.instructionSource)) return;
    if (!this.pending && !session.stale && session.result?.mapMode !== 'preview') return; // nothing to refit
    this.refitNow('save', document);
  }

  /** The exact analysis now (save, "Refit Analysis"): of the edited document, else of the analysed file as it is. */
  refitNow(trigger: LiveTrigger, document?: vscode.TextDocument): void {
    const session = this.controller.session;
    if (!session) return;
    this.pending = document ?? this.pending ?? vscode.workspace.textDocuments.find((doc) => samePath(doc.uri.fsPath, session.inputs.instructionSource));
    this.previewDebouncer.cancel();
    this.refitDebouncer.cancel();
    if (this.pending) {
      this.controller.markStale();
      void this.rerun('refit', trigger);
    } else void this.controller.refitSession(trigger);
  }

  private async rerun(mode: 'preview' | 'refit', trigger: LiveTrigger): Promise<void> {
    const document = this.pending;
    if (mode === 'refit') this.pending = undefined;
    if (!document) return;
    const parsed = parseDocument(document);
    if (!parsed) return;
    const [problem] = parsed.problems;
    if (problem) {
      this.controller.showLiveProblem(problemText(document, problem));
      return;
    }
    const tasks: TaskSpec[] = [{ name: BASE_TASK, instruction: null }, ...parsed.tasks.map(taskSpecOf)];
    await this.controller.runLive(tasks, mode, trigger);
  }

  static async toggle(): Promise<boolean> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const next = !config.get<boolean>('liveMode', true);
    await config.update('liveMode', next, vscode.ConfigurationTarget.Global);
    return next;
  }

  dispose(): void {
    this.previewDebouncer.cancel();
    this.refitDebouncer.cancel();
    for (const disposable of this.disposables) disposable.dispose();
  }
}

/**
 * CodeLenses above each instruction of the analysed instruction set: its mean displacement per model and, with
 * labelled data, its score on its home kind with the change against Base and that change's 95% interval per model
 * (`nDCG@10 0.6120 (+0.0210, 95% +0.0080..+0.0340)`).
 */
export class DisplacementLenses implements vscode.CodeLensProvider {
  readonly onDidChangeCodeLenses: vscode.Event<void>;

  constructor(private readonly controller: AnalysisController) {
    this.onDidChangeCodeLenses = controller.onDidChange;
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const session = this.controller.session;
    if (!isInstructionFile(document.uri.fsPath)) return [];
    if (!session?.result || !samePath(document.uri.fsPath, session.inputs.instructionSource)) {
      return [new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), { title: vscode.l10n.t('Analyze Instructions'), command: 'instructionLens.analyze', arguments: [document.uri] })];
    }
    const result = session.result;
    const parsed = parseDocument(document);
    const located = parsed?.tasks ?? [];
    const [problem] = parsed?.problems ?? [];
    const suffix = problem ? ` ${vscode.l10n.t('(out of date)')}` : session.stale ? ` ${vscode.l10n.t('(computing…)')}` : '';
    // While the file has errors the shown numbers are of its last good version: the first lens says why.
    const why = problem
      ? [
          new vscode.CodeLens(new vscode.Range(problem.range.start.line, 0, problem.range.start.line, 0), {
            title: `$(warning) ${vscode.l10n.t('Map out of date: line {0}: {1}', problem.line, problem.message)}`,
            command: 'workbench.actions.view.problems',
          }),
        ]
      : [];
    return [...why, ...located.flatMap(({ name, range }) => {
      const rows = result.displacement.filter((row) => row.task === name);
      const title =
        rows.length === 0
          ? vscode.l10n.t('{0}: not analysed yet', name)
          : `${vscode.l10n.t('Displacement')}: ${rows.map((row) => `${row.model} ${formatNumber(row.meanCosineDistance)}`).join(' · ')}${suffix}`;
      const position = new vscode.Position(range.start.line, range.start.character);
      const at = new vscode.Range(position, position);
      const lenses = [new vscode.CodeLens(at, { title, command: 'instructionLens.showResults' })];
      const scores = homeScores(result.evaluation ?? [], name);
      if (scores.length > 0) {
        const text = scores.map((row) => `${row.model} ${scoreSummary(row)}`).join(' · ');
        lenses.push(new vscode.CodeLens(at, { title: `${vscode.l10n.t('Score')}: ${text}${suffix}`, command: 'instructionLens.showResults' }));
      }
      return lenses;
    })];
  }
}
