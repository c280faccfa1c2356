/**
 * The two places results are drawn: a webview panel beside the editor (restored after a reload by a serializer)
 * and a webview view in the bottom panel that follows the last analysis. Both get the same messages.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../engine/io/atomicWrite';
import type { AnalysisResult } from '../engine/types';
import {
  type ExportKind,
  type FigureId,
  type HostMessage,
  type ImageFormat,
  parseWebviewMessage,
  parseWebviewState,
  type ResultContext,
  type WebviewMessage,
  analysisResultProblem,
} from '../protocol';
import type { Log } from './log';
import { openSetting, resultNotes } from './messages';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const PANEL_VIEW_TYPE = 'instructionLens.results';
export const SIDE_VIEW_ID = 'instructionLens.resultsView';

/**
 * Which result the views showed last, kept in the extension's storage folder. A webview's own saved state can lag
 * behind (VS Code persists it lazily), so after a reload the host restores from this pointer.
 */
const LATEST_POINTER = 'latest-result.json';

export interface ResultsViewEvents {
  revealQuery(index: number, context: ResultContext): void;
  export(kind: ExportKind): void;
}

interface PendingImage {
  resolve(dataUrl: string): void;
  reject(error: Error): void;
}

/** The context with the result's warnings worded for VS Code (localised, naming settings). */
function withNotes(result: AnalysisResult, context: ResultContext): ResultContext {
  return { ...context, notes: resultNotes(result) };
}

export class ResultsViews implements vscode.WebviewViewProvider, vscode.WebviewPanelSerializer, vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private view: vscode.WebviewView | undefined;
  private latest: { result: AnalysisResult; context: ResultContext } | undefined;
  private status: HostMessage & { type: 'status' } = { type: 'status', state: 'idle' };
  private nextImageRequest = 1;
  private readonly pendingImages = new Map<number, PendingImage>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly storageDir: string,
    private readonly log: Log,
    private readonly events: ResultsViewEvents,
  ) {}

  get current(): { result: AnalysisResult; context: ResultContext } | undefined {
    return this.latest;
  }

  /**
   * Shows a result in the panel (opened beside the active editor when closed) and in the side view. `resultsFile`
   * is where the result is saved, so that a reloaded window shows it again.
   */
  show(result: AnalysisResult, shown: ResultContext, options: { reveal: boolean; resultsFile?: string }): void {
    const context = withNotes(result, shown);
    this.latest = { result, context };
    if (options.resultsFile) void this.rememberLatest(context, options.resultsFile);
    this.status = { type: 'status', state: 'idle' };
    if (!this.panel && options.reveal) this.createPanel();
    else if (this.panel && options.reveal && !this.panel.visible) this.panel.reveal(vscode.ViewColumn.Beside, true);
    this.broadcast({ type: 'show', result, context });
    this.broadcast(this.status);
  }

  setStatus(state: 'computing' | 'idle' | 'error', message?: string): void {
    this.status = { type: 'status', state, message };
    this.broadcast(this.status);
  }

  /** Asks a visible webview to draw one figure as an image (Plotly.toImage) and returns its data: URL. */
  renderImage(figure: FigureId, format: ImageFormat): Promise<string> {
    const target = this.panel?.webview ?? this.view?.webview;
    if (!target) return Promise.reject(new Error(vscode.l10n.t('Open the results panel first.')));
    const requestId = this.nextImageRequest++;
    return new Promise<string>((resolve, reject) => {
      this.pendingImages.set(requestId, { resolve, reject });
      void target.postMessage({ type: 'renderImage', requestId, figure, format } satisfies HostMessage);
    });
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    if (!this.latest) {
      // A reloaded window: show the result shown last, once read.
      void this.restoreLatest().then((restored) => {
        if (!restored || this.latest) return;
        this.latest = restored;
        this.broadcast({ type: 'show', ...restored });
      });
    }
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'view');
    this.disposables.push(
      view.webview.onDidReceiveMessage((message) => this.receive(view.webview, message)),
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
      }),
    );
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    // The webview redraws itself from its saved state at once; the host then sends the result shown last, which
    // is newer when the saved state lagged behind.
    this.latest ??= (await this.restoreLatest()) ?? parseWebviewState(state);
    this.adoptPanel(panel);
  }

  private async rememberLatest(context: ResultContext, resultsFile: string): Promise<void> {
    try {
      await fs.mkdir(this.storageDir, { recursive: true });
      await writeFileAtomic(path.join(this.storageDir, LATEST_POINTER), JSON.stringify({ context, resultsFile }));
    } catch (error) {
      this.log.warn(`could not remember the latest result: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async restoreLatest(): Promise<{ result: AnalysisResult; context: ResultContext } | undefined> {
    try {
      const pointer = JSON.parse(await fs.readFile(path.join(this.storageDir, LATEST_POINTER), 'utf8')) as { context: ResultContext; resultsFile: string };
      const result: unknown = JSON.parse(await fs.readFile(pointer.resultsFile, 'utf8'));
      if (analysisResultProblem(result) !== undefined) return undefined;
      return { result: result as AnalysisResult, context: withNotes(result as AnalysisResult, pointer.context) };
    } catch {
      return undefined; // nothing shown before in this workspace, or the files were removed
    }
  }

  private createPanel(): void {
    const panel = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPE,
      vscode.l10n.t('Instruction Lens'),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { ...webviewOptions(this.extensionUri), retainContextWhenHidden: false },
    );
    this.adoptPanel(panel);
  }

  private adoptPanel(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.svg');
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, 'panel');
    const subscription = panel.webview.onDidReceiveMessage((message) => this.receive(panel.webview, message));
    panel.onDidDispose(() => {
      subscription.dispose();
      if (this.panel === panel) this.panel = undefined;
    });
  }

  private broadcast(message: HostMessage): void {
    for (const webview of [this.panel?.webview, this.view?.webview]) if (webview) void webview.postMessage(message);
  }

  private receive(webview: vscode.Webview, raw: unknown): void {
    const message: WebviewMessage | undefined = parseWebviewMessage(raw);
    if (!message) {
      this.log.warn(`results webview sent an invalid message: ${JSON.stringify(raw).slice(0, 200)}`);
      return;
    }
    switch (message.type) {
      case 'ready':
        // A webview (re)loaded: give it the latest result, unless its own saved state is that result already.
        if (this.latest) void webview.postMessage({ type: 'show', ...this.latest } satisfies HostMessage);
        void webview.postMessage(this.status);
        break;
      case 'revealQuery':
        if (this.latest) this.events.revealQuery(message.index, this.latest.context);
        break;
      case 'export':
        this.events.export(message.kind);
        break;
      case 'openSetting':
        void openSetting(message.setting);
        break;
      case 'image':
      case 'imageError': {
        const pending = this.pendingImages.get(message.requestId);
        this.pendingImages.delete(message.requestId);
        if (message.type === 'image') pending?.resolve(message.dataUrl);
        else pending?.reject(new Error(message.message));
        break;
      }
      case 'cspViolation':
        this.log.error(`results webview: Content-Security-Policy blocked ${message.blocked || '(inline)'} (${message.directive})`);
        break;
      case 'error':
        this.log.error(`results webview: ${message.message}`);
        break;
    }
  }

  dispose(): void {
    this.panel?.dispose();
    for (const disposable of this.disposables) disposable.dispose();
    for (const pending of this.pendingImages.values()) pending.reject(new Error('closed'));
  }
}
