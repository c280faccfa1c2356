/** Export: figure images (drawn by the webview with Plotly.toImage), results.json, the CSV tables, report.html. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../engine/io/atomicWrite';
import { displacementCsv, procrustesCsv, resultsJson } from '../engine/io/outputs';
import type { AnalysisResult } from '../engine/types';
import { EXPORT_KINDS, type ExportKind, type FigureId, type ImageBackground, type ImageFormat } from '../protocol';
import { renderReport } from '../report/report';
import { decodeDataUrl } from './dataUrl';
import type { Log } from './log';
import type { ResultsViews } from './resultsViews';

export async function exportContent(
  kind: ExportKind,
  result: AnalysisResult,
  views: ResultsViews,
  background: ImageBackground = 'theme',
): Promise<string | Uint8Array> {
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
      return decodeDataUrl(await views.renderImage(figure, format, background));
    }
  }
}

/** globalState key: the background chosen for the last PNG export (offered first next time). */
const PNG_BACKGROUND = 'pngBackground';

/** Asks for a PNG's background: the theme's (as on screen) or transparent; the last choice comes first. */
async function pickBackground(state: vscode.Memento): Promise<ImageBackground | undefined> {
  const items: (vscode.QuickPickItem & { background: ImageBackground })[] = [
    { label: vscode.l10n.t('Theme background'), description: vscode.l10n.t('as on screen'), background: 'theme' },
    { label: vscode.l10n.t('Transparent background'), description: vscode.l10n.t('for slides and documents'), background: 'transparent' },
  ];
  const last = state.get<ImageBackground>(PNG_BACKGROUND);
  if (last === 'transparent') items.reverse();
  const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('PNG background') });
  if (picked) await state.update(PNG_BACKGROUND, picked.background);
  return picked?.background;
}

/**
 * Asks what to export (unless given), a PNG's background, and where to save it; never overwrites without VS Code's
 * save dialog asking.
 */
export async function exportResults(views: ResultsViews, log: Log, state: vscode.Memento, kind?: ExportKind): Promise<void> {
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
  const background = extension === 'png' ? await pickBackground(state) : 'theme';
  if (!background) return;
  const folder = current.context.queryFile ? path.dirname(current.context.queryFile) : undefined;
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.file(path.join(folder, `instruction-lens-${chosen}`)) : undefined,
    filters: { [extension.toUpperCase()]: [extension] },
  });
  if (!target) return;
  const content = await exportContent(chosen as ExportKind, current.result, views, background);
  await writeFileAtomic(target.fsPath, content);
  log.info(`exported ${chosen}${extension === 'png' ? ` (${background} background)` : ''} to ${target.fsPath}`);
  announceSaved(target);
}

/** Whether a "Saved" notification is still on screen (its promise settles when it closes). */
let savedNoticeOpen = false;

/**
 * "Saved FILE" with Open and Reveal. One notification at a time: while one is open, later exports say so in the
 * status bar instead of piling notifications up.
 */
function announceSaved(target: vscode.Uri): void {
  const message = vscode.l10n.t('Saved {0}', target.fsPath);
  if (savedNoticeOpen) {
    vscode.window.setStatusBarMessage(message, 5000);
    return;
  }
  savedNoticeOpen = true;
  const open = vscode.l10n.t('Open');
  const reveal = vscode.l10n.t('Reveal');
  void vscode.window.showInformationMessage(message, open, reveal).then((choice) => {
    savedNoticeOpen = false;
    if (choice === open) void vscode.commands.executeCommand('vscode.open', target);
    else if (choice === reveal) {
      const inWorkspace = vscode.workspace.getWorkspaceFolder(target) !== undefined;
      void vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', target);
    }
  });
}
