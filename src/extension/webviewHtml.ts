/** The HTML of the results webviews: strict Content-Security-Policy with a nonce, only local scripts and styles. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { type ExportKind, type FigureId, UI_STRINGS, type UiStrings } from '../protocol';

/** The only folders a results webview may load from. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function translatedStrings(): UiStrings {
  const entries = Object.entries(UI_STRINGS).map(([key, english]) => [key, vscode.l10n.t(english)]);
  return Object.fromEntries(entries) as UiStrings;
}

const EXPORT_LABELS: Record<ExportKind, string> = {
  'map.png': 'PNG',
  'map.svg': 'SVG',
  'heatmap.png': 'PNG',
  'heatmap.svg': 'SVG',
  'displacement.png': 'PNG',
  'displacement.svg': 'SVG',
  'results.json': 'results.json',
  'displacement.csv': 'displacement.csv',
  'procrustes.csv': 'procrustes.csv',
  'report.html': 'report.html',
};

function exportButtons(kinds: readonly ExportKind[]): string {
  return kinds
    .map((kind) => `<button type="button" data-export="${kind}" title="${escapeAttribute(vscode.l10n.t('Export {0}', kind))}">${EXPORT_LABELS[kind]}</button>`)
    .join('');
}

/** The task-performance section (webview/evaluationPanel.ts fills it; hidden without labelled data). */
function evaluationSection(t: typeof vscode.l10n.t): string {
  return `<section id="evaluation" hidden>
    <h2>${t('Task performance')}</h2>
    <p class="filters">
      <label>${t('Kind')} <select id="evaluation-kind"></select></label>
      <label>${t('Model')} <select id="evaluation-model"></select></label>
    </p>
    <p id="evaluation-correlation" role="note"></p>
    <div class="evaluation-figures">
      <section class="figure"><h3 class="plot-title"></h3><div id="performance" class="plot"></div></section>
      <section class="figure"><h3 class="plot-title"></h3><div id="displacement-vs-performance" class="plot"></div></section>
      <section class="figure"><h3 class="plot-title"></h3><div id="delta-matrix" class="plot"></div>
        <p class="note">${t('[the task’s own kind] · * the 95% interval excludes 0')}</p></section>
    </div>
    <section id="leaderboard" hidden>
      <h3>${t('Wordings of one instruction')}</h3>
      <table>
        <thead><tr><th>${t('Model')}</th><th>${t('Rank')}</th><th>${t('Task')}</th><th>${t('Score')}</th><th>${t('Difference to the best (95% interval)')}</th><th>${t('Beyond noise')}</th></tr></thead>
        <tbody id="leaderboard-body"></tbody>
      </table>
    </section>
  </section>`;
}

/**
 * Scripts: nonce only, no 'unsafe-eval' (the charts we draw never reach Plotly's eval paths; the end-to-end test
 * checks that no violation is reported). Styles: Plotly inserts <style> elements and sets `style` attributes, which
 * a nonce cannot cover (seen as style-src-elem / style-src-attr violations), so style-src allows 'unsafe-inline'.
 * Images exported with Plotly.toImage pass through data: and blob: URLs.
 */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const asset = (...segments: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...segments)).toString();
  const csp = [
    `default-src 'none'`,
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource} 'unsafe-inline'`,
    `img-src ${webview.cspSource} data: blob:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  const t = vscode.l10n.t;
  // The figure's title is its heading (it wraps there; Plotly's own title would be cut or sit under its toolbar).
  const labelsToggle = `<label class="toggle" title="${escapeAttribute(t('Task names beside the points, model names at the Base points'))}"><input type="checkbox" id="point-labels"> ${t('Labels')}</label>`;
  const figure = (id: FigureId, heading: string): string => `
    <section class="figure" data-figure="${id}" id="figure-${id}" role="tabpanel">
      <header><h2>${heading}</h2><span class="exports" data-figure-tools="${id}">${id === 'map' ? labelsToggle : ''}${exportButtons([`${id}.png`, `${id}.svg`] as ExportKind[])}</span></header>
      <div id="${id}" class="plot"></div>
    </section>`;
  const tab = (id: FigureId, label: string): string =>
    `<button type="button" role="tab" data-tab="${id}" aria-controls="figure-${id}">${label}</button>`;
  return `<!DOCTYPE html>
<html lang="${escapeAttribute(vscode.env.language)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('media', 'results.css')}">
<title>Instruction Lens</title>
</head>
<body class="view" data-strings="${escapeAttribute(JSON.stringify(translatedStrings()))}">
<div id="status" role="status" hidden></div>
<div id="empty">${t('No analysis yet. Right-click a query file or an instruction set and choose "Analyze Instructions".')}</div>
<main id="content">
  <header class="top">
    <h1 id="title"></h1>
    <p id="map-mode" role="status"></p>
    <p id="summary"></p>
    <div id="warnings"></div>
    <p class="exports">${t('Export')}: ${exportButtons(['results.json', 'displacement.csv', 'procrustes.csv', 'report.html'])}</p>
  </header>
  <nav id="tabs" role="tablist">${tab('map', t('Map'))}${tab('heatmap', t('Procrustes distance'))}${tab('displacement', t('Displacement'))}<span id="tab-tools"></span></nav>
  <div class="layout">
    <div class="figures">
      ${figure('map', t(UI_STRINGS.chartMapTitle))}
      ${figure('heatmap', t(UI_STRINGS.chartHeatmapTitle))}
      ${figure('displacement', t(UI_STRINGS.chartBarsTitle))}
    </div>
    <p id="one-model-note" class="note">${t('The Procrustes distance between models and the robustness check need two or more models: add a model to compare.')}</p>
    <div class="tables">
      <section id="movers">
        <h2>${t('Queries that moved most')}</h2>
        <p class="filters">
          <label>${t('Model')} <select id="movers-model"></select></label>
          <label>${t('Task')} <select id="movers-task"></select></label>
        </p>
        <table>
          <thead><tr><th>${t('Model')}</th><th>${t('Task')}</th><th>${t('Id / line')}</th><th>${t('Query')}</th><th class="number">${t('Cosine distance')}</th><th class="number secondary">${t('Relative movement')}</th><th class="number secondary">${t('Neighbour overlap')}</th></tr></thead>
          <tbody id="movers-body"></tbody>
        </table>
      </section>
      <section id="stability">
        <h2>${t('Task order by displacement')}</h2>
        <table>
          <thead><tr><th>${t('Model')}</th><th>${t('Tasks, most moved first (share of resamples keeping each step)')}</th><th class="number">${t('Whole order')}</th></tr></thead>
          <tbody id="stability-body"></tbody>
        </table>
      </section>
      <section id="robustness">
        <h2>${t('Robustness to the reference model')}</h2>
        <table>
          <thead><tr><th>${t('Reference')}</th><th class="number">${t('Procrustes disparity to the main map')}</th><th>${t('Task order by trajectory length')}</th></tr></thead>
          <tbody id="robustness-body"></tbody>
        </table>
      </section>
    </div>
  </div>
  ${evaluationSection(t)}
</main>
<script nonce="${nonce}" src="${asset('dist', 'plotly.min.js')}"></script>
<script nonce="${nonce}" src="${asset('dist', 'webview.js')}"></script>
</body>
</html>`;
}
