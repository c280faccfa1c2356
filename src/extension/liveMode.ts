/**
 * Live tweaking: while the analysed instruction set is edited, re-run the analysis (debounced; a newer edit cancels
 * the run in flight) and show each instruction's mean displacement per model in a CodeLens above it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type InstructionDocument, type InstructionProblem, instructionFormat, parseInstructionDocument } from '../inputs/instructions';
import { BASE_TASK } from '../engine/types';
import type { TaskSpec } from '../models/embedder';
import { formatNumber } from '../../webview/charts';
import type { AnalysisController } from './analysis';
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
  private pending: vscode.TextDocument | undefined;
  private readonly debouncer = new Debouncer(() => void this.rerun());

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly controller: AnalysisController,
  ) {
    this.disposables.push(vscode.workspace.onDidChangeTextDocument((event) => this.onEdit(event)));
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
    this.debouncer.trigger(readSettings(this.context.globalStorageUri).debounceMs);
  }

  private async rerun(): Promise<void> {
    const document = this.pending;
    this.pending = undefined;
    if (!document) return;
    const parsed = parseDocument(document);
    if (!parsed) return;
    const [problem] = parsed.problems;
    if (problem) {
      this.controller.showLiveProblem(problemText(document, problem));
      return;
    }
    const tasks: TaskSpec[] = [{ name: BASE_TASK, instruction: null }, ...parsed.tasks.map(({ name, instruction }) => ({ name, instruction }))];
    await this.controller.runLive(tasks);
  }

  static async toggle(): Promise<boolean> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const next = !config.get<boolean>('liveMode', true);
    await config.update('liveMode', next, vscode.ConfigurationTarget.Global);
    return next;
  }

  dispose(): void {
    this.debouncer.cancel();
    for (const disposable of this.disposables) disposable.dispose();
  }
}

/** A CodeLens above each instruction of the analysed instruction set: its mean displacement per model. */
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
    return [...why, ...located.map(({ name, range }) => {
      const rows = result.displacement.filter((row) => row.task === name);
      const title =
        rows.length === 0
          ? vscode.l10n.t('{0}: not analysed yet', name)
          : `${vscode.l10n.t('Displacement')}: ${rows.map((row) => `${row.model} ${formatNumber(row.meanCosineDistance)}`).join(' · ')}${suffix}`;
      const position = new vscode.Position(range.start.line, range.start.character);
      return new vscode.CodeLens(new vscode.Range(position, position), { title, command: 'instructionLens.showResults' });
    })];
  }
}
