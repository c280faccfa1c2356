/**
 * Problems of instruction sets (JSON or YAML syntax, schema, empty or duplicate task names, kinds, and the files of
 * the evaluation block) as diagnostics: in the editor and the Problems panel, at the parser's exact range, updated
 * as the user types and as evaluation files appear or go, whether or not an analysis runs. Every open instruction
 * set file is checked.
 */
import * as vscode from 'vscode';
import { evaluationFileProblems } from '../inputs/evaluationFileProblems';
import { EVALUATION_FILE_EXTENSIONS } from '../inputs/evaluationFiles';
import { type InstructionProblem, instructionFormat, parseInstructionDocument } from '../inputs/instructions';
import { isInstructionFile } from './pickers';

export const DIAGNOSTIC_SOURCE = 'Instruction Lens';

/** The problems of an open instruction set, or undefined for any other document. */
export function instructionProblems(document: vscode.TextDocument): InstructionProblem[] | undefined {
  if (document.uri.scheme !== 'file' && document.uri.scheme !== 'untitled') return undefined;
  if (!isInstructionFile(document.uri.fsPath)) return undefined;
  const format = instructionFormat(document.uri.fsPath);
  if (!format) return undefined;
  const parsed = parseInstructionDocument(document.getText(), format);
  // An untitled file has no folder that its evaluation paths are relative to.
  const files = document.uri.scheme === 'file' ? evaluationFileProblems(document.uri.fsPath, parsed) : [];
  return [...parsed.problems, ...files, ...(parsed.warnings ?? [])];
}

function toDiagnostic(problem: InstructionProblem): vscode.Diagnostic {
  const { start, end } = problem.range;
  const diagnostic = new vscode.Diagnostic(
    new vscode.Range(start.line, start.character, end.line, end.character),
    problem.message,
    problem.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error,
  );
  diagnostic.source = DIAGNOSTIC_SOURCE;
  return diagnostic;
}

export class InstructionDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('instructionLens');
  private readonly disposables: vscode.Disposable[] = [this.collection];

  constructor() {
    for (const document of vscode.workspace.textDocuments) this.check(document);
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((document) => this.check(document)),
      vscode.workspace.onDidChangeTextDocument((event) => this.check(event.document)),
      vscode.workspace.onDidCloseTextDocument((document) => this.collection.delete(document.uri)),
    );
    // An evaluation file created, deleted or renamed changes what the open instruction sets' blocks point at.
    const evaluationFiles = vscode.workspace.createFileSystemWatcher(`**/*{${EVALUATION_FILE_EXTENSIONS.join(',')}}`, false, true, false);
    const recheck = (): void => {
      for (const document of vscode.workspace.textDocuments) this.check(document);
    };
    this.disposables.push(evaluationFiles, evaluationFiles.onDidCreate(recheck), evaluationFiles.onDidDelete(recheck));
  }

  private check(document: vscode.TextDocument): void {
    const problems = instructionProblems(document);
    if (problems === undefined) return;
    this.collection.set(document.uri, problems.map(toDiagnostic));
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }
}
