/** Click on a row of the top-movers table: open the query file at that query's line. */
import * as vscode from 'vscode';
import { parseQueries } from '../inputs/queries';
import type { ResultContext } from '../protocol';
import type { Session } from './analysis';

export async function revealQuery(index: number, context: ResultContext, session: Session | undefined): Promise<void> {
  if (!context.queryFile) return;
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(context.queryFile));
  const query = session?.inputs.queryFile === context.queryFile ? session.queries[index] : undefined;
  const target = queryLine(document, index, query);
  const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: true });
  if (target === undefined) return;
  const range = document.lineAt(Math.min(target, document.lineCount - 1)).range;
  editor.selection = new vscode.Selection(range.start, range.end);
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

/** The 0-based line of query `index` as the file reads now; by text search when the file no longer parses. */
function queryLine(document: vscode.TextDocument, index: number, query: string | undefined): number | undefined {
  try {
    const line = parseQueries(document.getText(), document.uri.fsPath).lines[index];
    if (line !== undefined) return line - 1;
  } catch {
    // A half-edited file: fall back to finding the text.
  }
  if (!query) return undefined;
  const offset = document.getText().indexOf(query);
  return offset < 0 ? undefined : document.positionAt(offset).line;
}
