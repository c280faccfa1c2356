/**
 * The status bar item shown while an instruction set is analysed: live mode on or off and the last run's time;
 * a click toggles live mode.
 */
import * as vscode from 'vscode';
import type { AnalysisController } from './analysis';
import { readSettings, SECTION } from './settings';

export class LiveStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('instructionLens.live', vscode.StatusBarAlignment.Right, 100);
  private readonly disposables: vscode.Disposable[] = [this.item];

  constructor(
    private readonly globalStorage: vscode.Uri,
    private readonly controller: AnalysisController,
  ) {
    this.item.name = 'Instruction Lens';
    this.item.command = 'instructionLens.toggleLiveMode';
    this.disposables.push(
      controller.onDidChange(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(SECTION)) this.update();
      }),
    );
    this.update();
  }

  private update(): void {
    const session = this.controller.session;
    if (!session) {
      this.item.hide();
      return;
    }
    const live = readSettings(this.globalStorage).liveMode;
    const time = session.lastRunMs === undefined ? '' : ` · ${(session.lastRunMs / 1000).toFixed(1)} s`;
    this.item.text = `$(${live ? 'eye' : 'eye-closed'}) ${live ? vscode.l10n.t('Live') : vscode.l10n.t('Live off')}${session.stale ? ' $(sync~spin)' : time}`;
    this.item.tooltip = [
      live ? vscode.l10n.t('Instruction Lens: live mode is on for {0}', session.inputs.instructionSource) : vscode.l10n.t('Instruction Lens: live mode is off'),
      session.lastRunMs === undefined ? '' : vscode.l10n.t('Last run: {0} ms', session.lastRunMs),
      vscode.l10n.t('Click to toggle live mode'),
    ]
      .filter((line) => line !== '')
      .join('\n');
    this.item.show();
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }
}
