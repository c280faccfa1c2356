/** Click on a row of the top-movers table: open the query file at that query's line. */
import * as vscode from 'vscode';
import type { ResultContext } from '../protocol';
import type { Session } from './analysis';

export async function revealQuery(index: number, context: ResultContext, session: Session | undefined): Promise<void> {
  if (!context.queryFile) return;
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(context.queryFile));
  const query = session?.inputs.queryFile === context.queryFile ? session.queries[index] : undefined;
  const target = findQueryLine(document, query);
  const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: true });
  if (target === undefined) return;
  const range = document.lineAt(Math.min(target, document.lineCount - 1)).range;
  editor.selection = new vscode.Selection(range.start, range.end);
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

function findQueryLine(document: vscode.TextDocument, query: string | undefined): number | undefined {
  if (!query) return undefined;
  const offset = document.getText().indexOf(query);
  return offset < 0 ? undefined : document.positionAt(offset).line;
}
