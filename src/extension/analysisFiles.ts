/**
 * Files an analysis wrote (results.json with the format key, its CSV tables, report.html): they open with "Open
 * Analysis Results" and are never offered as query files. The workspace's are kept in two context keys that the
 * menus' `when` clauses read: `instructionLens.resultsFiles` and `instructionLens.analysisOutputs`.
 */
import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import { type AnalysisOutputKind, analysisOutputKind } from '../engine/io/provenance';

const HEAD_BYTES = 4096;
export async function readAnalysisOutputKind(file: string): Promise<AnalysisOutputKind | undefined> {
  try {
    const handle = await fs.open(file, 'r');
    try {
      const buffer = Buffer.alloc(HEAD_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
      return analysisOutputKind(file, buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, ''));
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

const EXCLUDE = '{**/node_modules/**,**/.git/**}';

export class AnalysisOutputs implements vscode.Disposable {
  private readonly kinds = new Map<string, AnalysisOutputKind>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.{json,csv,html}');
    this.disposables.push(
      watcher,
      watcher.onDidCreate((uri) => void this.check(uri)),
      watcher.onDidChange((uri) => void this.check(uri)),
      watcher.onDidDelete((uri) => {
        if (this.kinds.delete(uri.fsPath)) this.publish();
      }),
    );
    void this.scan();
  }

  private async scan(): Promise<void> {
    const files = await vscode.workspace.findFiles('**/*.{json,csv,html}', EXCLUDE, 2000);
    await Promise.all(files.map((uri) => this.check(uri, false)));
    this.publish();
  }

  private async check(uri: vscode.Uri, publish = true): Promise<void> {
    if (uri.scheme !== 'file') return;
    const kind = await readAnalysisOutputKind(uri.fsPath);
    const before = this.kinds.get(uri.fsPath);
    if (kind) this.kinds.set(uri.fsPath, kind);
    else this.kinds.delete(uri.fsPath);
    if (publish && before !== kind) this.publish();
  }

  private publish(): void {
    const paths = (filter: (kind: AnalysisOutputKind) => boolean): string[] => [...this.kinds].filter(([, kind]) => filter(kind)).map(([file]) => file);
    void vscode.commands.executeCommand('setContext', 'instructionLens.resultsFiles', paths((kind) => kind === 'results'));
    void vscode.commands.executeCommand('setContext', 'instructionLens.analysisOutputs', paths(() => true));
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }
}
