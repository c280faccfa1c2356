/** Entry point of the VS Code extension: commands, views, live mode, CodeLens. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TaskSpec } from '../models/embedder';
import { type AnalysisInputs, AnalysisController } from './analysis';
import { confirmScriptCoverage } from './coverage';
import { exportResults } from './exporter';
import { AnalysisOutputs } from './analysisFiles';
import { InstructionDiagnostics } from './diagnostics';
import { createLog, reportError } from './log';
import { DisplacementLenses, LiveMode } from './liveMode';
import { editModelSetting, removeModelSetting } from './modelSettings';
import { updateRecent } from './modelSpecs';
import { isInstructionFile, isQueryFile, pickInstructionSet, pickModels, pickQueryFile } from './pickers';
import { revealQuery } from './reveal';
import { ResultsViews, SIDE_VIEW_ID } from './resultsViews';
import { readSettings } from './settings';
import { LiveStatus } from './statusBar';

const RECENT_MODELS = 'recentModels';
const LAST_MODELS = 'lastModels';

export function activate(context: vscode.ExtensionContext): void {
  const log = createLog();
  const storageDir = (context.storageUri ?? context.globalStorageUri).fsPath;
  const views: ResultsViews = new ResultsViews(context.extensionUri, storageDir, log, {
    revealQuery: (index, resultContext) => void revealQuery(index, resultContext, controller.session).catch((error) => reportError(log, error)),
    export: (kind) => void exportResults(views, log, context.globalState, kind).catch((error) => reportError(log, error)),
  }, context.globalState);
  const controller = new AnalysisController(context, log, views);
  const live = new LiveMode(context, controller);
  log.info(`Instruction Lens ${context.extension.packageJSON.version} activated (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'untrusted: Restricted Mode'})`);

  /** Asks for whatever the command did not get from its context (file, selection), then runs. */
  async function analyze(resource: vscode.Uri | undefined, extraTasks: TaskSpec[]): Promise<void> {
    const settings = readSettings(context.globalStorageUri);
    for (const problem of settings.modelProblems) void vscode.window.showWarningMessage(problem);
    const file = resource?.scheme === 'file' ? resource.fsPath : activeFile();
    let queryFile = file && isQueryFile(file) ? file : undefined;
    let instructionSource = file && isInstructionFile(file) ? file : undefined;
    queryFile ??= await pickQueryFile();
    if (!queryFile) return;
    instructionSource ??= await pickInstructionSet();
    if (!instructionSource) return;
    const recent = context.globalState.get<string[]>(RECENT_MODELS, []);
    let checked = context.globalState.get<string[]>(LAST_MODELS, []);
    let modelIds: string[] | undefined;
    // Asked again while the user chooses to change models after the language check.
    for (;;) {
      modelIds = await pickModels({
        removeModel: async (id) => {
          await removeModelSetting(id);
          await context.globalState.update(RECENT_MODELS, context.globalState.get<string[]>(RECENT_MODELS, []).filter((other) => other !== id));
        },
        editModel: editModelSetting,
        configured: settings.models.map((entry) => entry.id),
        recent,
        checked,
        trusted: settings.trusted,
        secrets: context.secrets,
      });
      if (!modelIds || modelIds.length === 0) return;
      const choice = await confirmScriptCoverage(queryFile, modelIds, log);
      if (choice === 'cancel') return;
      if (choice === 'continue') break;
      checked = modelIds;
    }
    await context.globalState.update(RECENT_MODELS, updateRecent(context.globalState.get<string[]>(RECENT_MODELS, []), modelIds));
    await context.globalState.update(LAST_MODELS, modelIds);
    const inputs: AnalysisInputs = { queryFile, instructionSource, modelIds, extraTasks };
    await controller.runFromCommand(inputs);
  }

  async function analyzeSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const text = editor?.document.getText(editor.selection).trim();
    if (!editor || !text) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Select the instruction text first.'));
      return;
    }
    const name = await vscode.window.showInputBox({
      title: vscode.l10n.t('Analyze Selection as Instruction'),
      prompt: vscode.l10n.t('Task name for this instruction'),
      value: 'Selection',
      validateInput: (value) => (value.trim() && value.trim() !== 'Base' ? undefined : vscode.l10n.t('Enter a task name other than Base')),
    });
    if (!name) return;
    const task: TaskSpec = { name: name.trim(), instruction: text };
    const session = controller.session;
    if (session) {
      const extraTasks = [...session.inputs.extraTasks.filter((other) => other.name !== task.name), task];
      await controller.runFromCommand({ ...session.inputs, extraTasks });
    } else {
      await analyze(undefined, [task]);
    }
  }

  const guarded =
    <A extends unknown[]>(command: (...args: A) => Promise<unknown>) =>
    (...args: A): Promise<void> =>
      command(...args).then(
        () => undefined,
        (error) => reportError(log, error),
      );

  context.subscriptions.push(
    log,
    views,
    controller,
    live,
    new InstructionDiagnostics(),
    new AnalysisOutputs(),
    new LiveStatus(context.globalStorageUri, controller),
    // Kept while hidden: Plotly (megabytes) is loaded once, not again each time the view comes back.
    vscode.window.registerWebviewViewProvider(SIDE_VIEW_ID, views, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.languages.registerCodeLensProvider(
      [{ scheme: 'file', pattern: '**/*.instructions.{json,yaml,yml}' }],
      new DisplacementLenses(controller),
    ),
    vscode.commands.registerCommand('instructionLens.analyze', guarded((resource?: vscode.Uri) => analyze(resource, []))),
    vscode.commands.registerCommand('instructionLens.analyzeSelection', guarded(analyzeSelection)),
    vscode.commands.registerCommand('instructionLens.export', guarded(() => exportResults(views, log, context.globalState))),
    vscode.commands.registerCommand(
      'instructionLens.toggleLiveMode',
      guarded(async () => {
        const on = await LiveMode.toggle();
        void vscode.window.showInformationMessage(on ? vscode.l10n.t('Live mode is on.') : vscode.l10n.t('Live mode is off.'));
      }),
    ),
    vscode.commands.registerCommand(
      'instructionLens.openResults',
      guarded(async (resource?: vscode.Uri) => {
        const target =
          resource?.fsPath ??
          (
            await vscode.window.showOpenDialog({
              canSelectFiles: true,
              canSelectFolders: true,
              canSelectMany: false,
              filters: { [vscode.l10n.t('Results or embedding bundle')]: ['json', 'jsonl', 'ndjson'] },
            })
          )?.[0]?.fsPath;
        if (target) await controller.openSaved(target);
      }),
    ),
    vscode.commands.registerCommand(
      'instructionLens.refit',
      guarded(async () => {
        if (controller.session) live.refitNow('command');
        else void vscode.window.showInformationMessage(vscode.l10n.t('Analyze instructions first: there is no analysis to refit.'));
      }),
    ),
    vscode.commands.registerCommand('instructionLens.openExample', guarded(() => openExample(context))),
    vscode.commands.registerCommand('instructionLens.showLog', () => log.show()),
    vscode.commands.registerCommand('instructionLens.showResults', () => views.reveal()),
  );
}

/**
 * The walkthrough's first step: the English example queries and instruction set, copied into the workspace folder
 * (instruction-lens-example/, never over the user's files) or, without one, the extension's storage, then opened.
 */
async function openExample(context: vscode.ExtensionContext): Promise<void> {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? context.globalStorageUri.fsPath;
  const folder = path.join(root, 'instruction-lens-example');
  await fs.promises.mkdir(folder, { recursive: true });
  const files = ['queries-en.txt', 'paper-en.instructions.json'];
  const schema = JSON.stringify(path.join(context.extensionPath, 'schemas', 'instructions.schema.json'));
  for (const file of files) {
    const target = path.join(folder, file);
    if (fs.existsSync(target)) continue; // an earlier copy, perhaps edited: kept as it is
    // The example's $schema points at ../schemas/: the copy points at the packaged schema.
    const text = await fs.promises.readFile(path.join(context.extensionPath, 'examples', file), 'utf8');
    await fs.promises.writeFile(target, text.replace('"../schemas/instructions.schema.json"', schema));
  }
  await vscode.window.showTextDocument(vscode.Uri.file(path.join(folder, files[0])), { preview: false });
  await vscode.window.showTextDocument(vscode.Uri.file(path.join(folder, files[1])), { preview: false, viewColumn: vscode.ViewColumn.Beside });
}

function activeFile(): string | undefined {
  const uri = vscode.window.activeTextEditor?.document.uri;
  return uri?.scheme === 'file' && fs.existsSync(uri.fsPath) ? path.resolve(uri.fsPath) : undefined;
}

export function deactivate(): void {}
