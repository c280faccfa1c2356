/**
 * The results view: one webview view in Instruction Lens's own activity bar container (the user may move it to the
 * secondary side bar or the bottom panel; its layout follows). There is only ever one copy of the results on
 * screen. Its context is kept while hidden, so Plotly stays loaded across updates.
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
  type ImageBackground,
  type ImageFormat,
  parseWebviewMessage,
    type ResultContext,
  type WebviewMessage,
  analysisResultProblem,
} from '../protocol';
import type { Log } from './log';
import { openSetting, resultNotes } from './messages';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const SIDE_VIEW_ID = 'instructionLens.resultsView';

/**
 * Which result the views showed last, kept in the extension's storage folder. A webview's own saved state can lag
 * behind (VS Code persists it lazily), so after a reload the host restores from this pointer.
 */
const LATEST_POINTER = 'latest-result.json';
/** globalState key: the map's point labels are on. */
const LABELS_KEY = 'pointLabels';

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

export class ResultsViews implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private latest: { result: AnalysisResult; context: ResultContext } | undefined;
  private status: HostMessage & { type: 'status' } = { type: 'status', state: 'idle' };
  private nextImageRequest = 1;
  private readonly pendingImages = new Map<number, PendingImage>();
  private readonly disposables: vscode.Disposable[] = [];
  /** When each shown run's analysis finished (performance.now()), until its map is drawn. */
  private readonly analysedAt = new Map<number, number>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly storageDir: string,
    private readonly log: Log,
    private readonly events: ResultsViewEvents,
    /** Where the view's options (point labels) are remembered. */
    private readonly memento: vscode.Memento,
  ) {}

  get current(): { result: AnalysisResult; context: ResultContext } | undefined {
    return this.latest;
  }

  /**
   * Shows a result in the view (revealed when `reveal`). `resultsFile` is where the result is saved, so that a
   * reloaded window shows it again; `analysedAt` (performance.now() when the analysis finished) lets the log say
   * how long the map took to appear.
   */
  show(result: AnalysisResult, shown: ResultContext, options: { reveal: boolean; resultsFile?: string; analysedAt?: number }): void {
    const context = withNotes(result, shown);
    this.latest = { result, context };
    if (options.resultsFile) void this.rememberLatest(context, options.resultsFile);
    if (options.analysedAt !== undefined) this.analysedAt.set(context.runId, options.analysedAt);
    this.status = { type: 'status', state: 'idle' };
    if (options.reveal) this.reveal();
    this.broadcast({ type: 'show', result, context });
    this.broadcast(this.status);
  }

  /** Brings the view into sight without taking the focus from the editor when it is already there. */
  reveal(): void {
    if (this.view) this.view.show(true);
    else void vscode.commands.executeCommand(`${SIDE_VIEW_ID}.focus`);
  }

  /** Back to idle when the status shows a problem. */
  clearError(): void {
    if (this.status.state === 'error') this.setStatus('idle');
  }

  setStatus(state: 'computing' | 'idle' | 'error', message?: string): void {
    this.status = { type: 'status', state, message };
    this.broadcast(this.status);
  }

  /** Asks a visible webview to draw one figure as an image (Plotly.toImage) and returns its data: URL. */
  renderImage(figure: FigureId, format: ImageFormat, background: ImageBackground): Promise<string> {
    const target = this.view?.webview;
    if (!target) return Promise.reject(new Error(vscode.l10n.t('Open the results panel first.')));
    const requestId = this.nextImageRequest++;
    return new Promise<string>((resolve, reject) => {
      this.pendingImages.set(requestId, { resolve, reject });
      void target.postMessage({ type: 'renderImage', requestId, figure, format, background } satisfies HostMessage);
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
    view.webview.html = webviewHtml(view.webview, this.extensionUri);
    this.disposables.push(
      view.webview.onDidReceiveMessage((message) => this.receive(view.webview, message)),
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
      }),
    );
  }

  /** Remembers where the shown result is saved, for a reloaded window. */
  async rememberLatest(context: ResultContext, resultsFile: string): Promise<void> {
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

  private broadcast(message: HostMessage): void {
    if (this.view) void this.view.webview.postMessage(message);
  }

  private receive(webview: vscode.Webview, raw: unknown): void {
    const message: WebviewMessage | undefined = parseWebviewMessage(raw);
    if (!message) {
      this.log.warn(`results webview sent an invalid message: ${JSON.stringify(raw).slice(0, 200)}`);
      return;
    }
    switch (message.type) {
      case 'ready':
        // A webview (re)loaded: its options, then the latest result.
        void webview.postMessage({ type: 'options', labels: this.memento.get<boolean>(LABELS_KEY, false) } satisfies HostMessage);
        if (this.latest) void webview.postMessage({ type: 'show', ...this.latest } satisfies HostMessage);
        void webview.postMessage(this.status);
        break;
      case 'drawn': {
        const analysedAt = this.analysedAt.get(message.runId);
        this.analysedAt.delete(message.runId);
        if (analysedAt !== undefined) this.log.info(`run ${message.runId}: map drawn ${Math.round(performance.now() - analysedAt)} ms after the analysis finished`);
        break;
      }
      case 'labels':
        void this.memento.update(LABELS_KEY, message.on);
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
    for (const disposable of this.disposables) disposable.dispose();
    for (const pending of this.pendingImages.values()) pending.reject(new Error('closed'));
  }
}
