/** Export: figure images (drawn by the webview with Plotly.toImage), results.json, the CSV tables, report.html. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../engine/io/atomicWrite';
import { displacementCsv, procrustesCsv, resultsJson } from '../engine/io/outputs';
import type { AnalysisResult } from '../engine/types';
import { EXPORT_KINDS, type ExportKind, type FigureId, type ImageFormat } from '../protocol';
import { renderReport } from '../report/report';
import { decodeDataUrl } from './dataUrl';
import type { Log } from './log';
import type { ResultsViews } from './resultsViews';

export async function exportContent(kind: ExportKind, result: AnalysisResult, views: ResultsViews): Promise<string | Uint8Array> {
  switch (kind) {
    case 'results.json':
      return resultsJson(result);
    case 'displacement.csv':
      return displacementCsv(result);
    case 'procrustes.csv':
      return procrustesCsv(result);
    case 'report.html':
      return renderReport(result);
    default: {
      const [figure, format] = kind.split('.') as [FigureId, ImageFormat];
      return decodeDataUrl(await views.renderImage(figure, format));
    }
  }
}

/** Asks what to export (unless given) and where to save it; never overwrites without VS Code's save dialog asking. */
export async function exportResults(views: ResultsViews, log: Log, kind?: ExportKind): Promise<void> {
  const current = views.current;
  if (!current) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Nothing to export yet: run Analyze Instructions first.'));
    return;
  }
  const chosen =
    kind ??
    (await vscode.window.showQuickPick([...EXPORT_KINDS], { title: vscode.l10n.t('Export'), placeHolder: vscode.l10n.t('What to export') }));
  if (!chosen) return;
  const extension = chosen.split('.').pop()!;
  const folder = current.context.queryFile ? path.dirname(current.context.queryFile) : undefined;
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.file(path.join(folder, `instruction-lens-${chosen}`)) : undefined,
    filters: { [extension.toUpperCase()]: [extension] },
  });
  if (!target) return;
  const content = await exportContent(chosen as ExportKind, current.result, views);
  await writeFileAtomic(target.fsPath, content);
  log.info(`exported ${chosen} to ${target.fsPath}`);
  void vscode.window.showInformationMessage(vscode.l10n.t('Saved {0}', target.fsPath));
}
