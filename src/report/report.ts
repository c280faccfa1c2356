/**
 * report.html: one self-contained page that opens offline in any browser. Plotly and the chart code
 * (dist/report.js, built from webview/reportMain.ts and webview/charts.ts, shared with the webview) are inlined,
 * the AnalysisResult is embedded as JSON, and the tables are static HTML. No date or path goes in, so the same
 * result always gives the same bytes.
 */
import * as fs from 'node:fs';
import { distPath } from '../engine/io/paths';
import type { AnalysisResult } from '../engine/types';
import { ownValue } from '../engine/records';
import { formatNumber } from '../../webview/charts';
import { evaluationView } from '../../webview/evaluationCharts';
import { evaluationSection } from './evaluationSection';
import { escapeHtml, table } from './html';

export interface ReportAssets {
  /** Plotly's browser bundle (minified), as UTF-8 bytes: it goes into the page as read, never decoded. */
  plotlyJs: Uint8Array;
  /** The report's own script (dist/report.js). */
  reportJs: string;
}

let cachedAssets: ReportAssets | undefined;

/** The built assets from dist/ (run `npm run build` first). */
export function loadReportAssets(): ReportAssets {
  if (!cachedAssets) {
    const read = (name: string): Buffer => {
      const file = distPath(name);
      if (!fs.existsSync(file)) throw new Error(`report asset ${file} is missing: run \`npm run build\` first`);
      return fs.readFileSync(file);
    };
    cachedAssets = { plotlyJs: read('plotly.min.js'), reportJs: read('report.js').toString('utf8') };
  }
  return cachedAssets;
}

/** A row saying how the map was made, for previews and anchored maps only (plain reports are unchanged). */
function mapModeRows(result: AnalysisResult): string[][] {
  if (result.mapMode === 'preview' && result.mapFrame) {
    const projected = result.mapFrame.projected.map((p) => `${escapeHtml(p.model)} / ${escapeHtml(p.task)}`).join(', ') || 'none';
    return [['Map shown', `preview in the frame ${escapeHtml(result.mapFrame.frameId)} of an earlier analysis; projected by out-of-sample MDS: ${projected}`]];
  }
  if (result.mapMode === 'anchored' && result.mapAnchor) {
    return [['Map shown', `exact analysis, anchored to an earlier map on ${result.mapAnchor.matchedPoints} points (rms residual ${formatNumber(result.mapAnchor.rmsResidual)})`]];
  }
  return [];
}

/** Where the result came from (results.json's provenance), when it is known. */
function provenanceSection(result: AnalysisResult): string {
  const p = result.provenance;
  if (!p) return '';
  const rows = [
    ['Tool', `${escapeHtml(p.tool.name)} ${escapeHtml(p.tool.version)}`],
    ['Query file', escapeHtml(p.queryFile ?? '—')],
    ['Instruction set', escapeHtml(p.instructions.source)],
    ['Evaluation files', p.evaluationFiles.length === 0 ? '—' : p.evaluationFiles.map(escapeHtml).join(', ')],
    ['Analysis asked for', escapeHtml(`k ${p.options.k ?? 'default'}, points ${p.options.points ?? 'default'}, MDS ${p.options.mds ?? 'default'}, reference ${p.options.reference ?? 'automatic'}, seed ${p.options.seed}`)],
  ];
  const models = p.models.map((model) => `<tr><td>${escapeHtml(model.name)}</td><td>${escapeHtml(model.id)}</td><td><code>${escapeHtml(model.identity)}</code></td></tr>`);
  const tasks = p.instructions.tasks.map((task) => `<tr><td>${escapeHtml(task.name)}</td><td>${task.instruction === null ? '<em>no instruction</em>' : escapeHtml(task.instruction)}</td></tr>`);
  return `<section>
<h2>Provenance</h2>
<table class="summary"><tbody>
${rows.map(([name, value]) => `<tr><th scope="row">${name}</th><td>${value}</td></tr>`).join('\n')}
</tbody></table>
<table><thead><tr><th>Model</th><th>Id</th><th>Identity (dtype, weights hash, pooling)</th></tr></thead><tbody>
${models.join('\n')}
</tbody></table>
<table><thead><tr><th>Task</th><th>Instruction</th></tr></thead><tbody>
${tasks.join('\n')}
</tbody></table>
</section>`;
}

/**
 * The page's bytes (UTF-8). Plotly's bundle is copied in as bytes: decoding its 4.8 MB and encoding them again took
 * about 40 ms of a 0.9 s interactive run.
 */
export function renderReport(result: AnalysisResult, assets: ReportAssets = loadReportAssets()): Buffer {
  const tail = `</script>
<script>${inlineScript(assets.reportJs)}</script>
</body>
</html>
`;
  return Buffer.concat([Buffer.from(pageBeforePlotly(result)), inlineScriptBytes(assets.plotlyJs), Buffer.from(tail)]);
}

/** The page up to Plotly's script element, opened. */
function pageBeforePlotly(result: AnalysisResult): string {
  const reference = `${escapeHtml(result.reference)} (${result.referenceChosenBy === 'auto' ? 'smallest mean D onto it' : 'chosen by the user'})`;
  const summary = [
    ['Models', String(result.models.length)],
    ['Tasks', result.tasks.map(escapeHtml).join(', ')],
    ['Queries (N)', String(result.n)],
    ['PCA dimension (k)', String(result.k)],
    ['Reference model', reference],
    ['Points', result.pointsMode === 'flatten' ? 'flattened aligned configuration' : 'centroid of the aligned queries'],
    ['Map', `${result.mdsMethod === 'classical' ? 'classical (Torgerson) MDS' : 'SMACOF metric MDS'}, stress-1 ${formatNumber(result.mdsStress)}`],
    ...mapModeRows(result),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:">
<title>Instruction Lens report</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Instruction Lens report</h1>
<p class="lead">How far, and where, task instructions move the embeddings of the same queries, per model, and how the
models compare on one common map (PCA, pairwise orthogonal Procrustes on Base, alignment to a reference model, MDS).</p>
<table class="summary"><tbody>
${summary.map(([name, value]) => `<tr><th scope="row">${name}</th><td>${value}</td></tr>`).join('\n')}
</tbody></table>
${partialNote(result)}${result.warnings.map((warning) => `<p class="warning" role="note">${escapeHtml(warning)}</p>`).join('\n')}

<section>
<div id="map" class="chart chart-map"></div>
<p class="caption">Each point is one (model, task): colour = model, marker = task. Lines join a model's Base point to
its task points; their length is the trajectory length. Distances on the map approximate cosine distances between
the aligned embeddings.</p>
</section>

<section>
<div id="heatmap" class="chart chart-heatmap"></div>
<p class="caption">D[i][j] = ||S<sub>i</sub>Q<sub>ij</sub> − S<sub>j</sub>||²<sub>F</sub> / ||S<sub>j</sub>||²<sub>F</sub> on Base
embeddings: how well model i's geometry maps onto model j's (0 = identical up to rotation). Not symmetric.</p>
</section>

<section>
<div id="displacement-chart" class="chart chart-bars"></div>
</section>

${evaluationSection({ ...evaluationView(result), leaderboard: result.leaderboard ?? [] })}

<section>
<h2>Displacement per model and task</h2>
<p class="caption">Cosine distance between each query's Base and task embedding in the model's own space (mean,
median, 90th percentile); trajectory length on the map; shift fraction = share of the squared displacement that is
one common shift of all queries; neighbour overlap = mean Jaccard overlap of each query's 10 nearest neighbours under
Base and under the task.</p>
${displacementTable(result)}
</section>

<section>
<h2>Task order by displacement</h2>
<p class="caption">Each model's tasks by mean cosine displacement, largest first, and how often that order holds across
the 1000 bootstrap resamples of the queries (the same resamples for every model and task).</p>
${stabilityTable(result)}
</section>

<section>
<h2>Normalised Procrustes distance D</h2>
${procrustesTable(result)}
</section>

<section>
<h2>Explained variance of the k = ${result.k} PCA components</h2>
${varianceTable(result)}
</section>

<section>
<h2>Robustness to the choice of reference model</h2>
<p class="caption">The alignment and map redone with each other model as reference: Procrustes disparity between
that map and the main one (0 = same picture), and the models whose order of tasks by trajectory length changed.</p>
${robustnessTable(result)}
</section>

<section>
<h2>Queries that moved most relative to their neighbours</h2>
${topMoversTable(result)}
</section>
${provenanceSection(result)}
</main>
<script type="application/json" id="result-data">${embedJson(result)}</script>
<script>`;
}

/**
 * JSON inside <script type="application/json">: `<` is written as \u003c so no `</script>` or `<!--` can end or
 * confuse the element, and U+2028/U+2029 are escaped for any consumer that evaluates the text as JavaScript.
 */
function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Script text inlined in a <script> element: `</script` inside strings or comments must not close it. */
function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1');
}

/**
 * inlineScript for UTF-8 bytes, which are returned as they are when they hold no `</script`: the test runs on their
 * latin1 reading, exact for an ASCII pattern since UTF-8 never uses ASCII bytes inside a multi-byte character.
 */
function inlineScriptBytes(code: Uint8Array): Uint8Array {
  const bytes = Buffer.from(code.buffer, code.byteOffset, code.byteLength);
  if (!/<\/script/i.test(bytes.toString('latin1'))) return bytes;
  return Buffer.from(inlineScript(bytes.toString('utf8')));
}

function partialNote(result: AnalysisResult): string {
  if (result.failedModels.length === 0) return '';
  const left = result.failedModels.map((failure) => escapeHtml(failure.model)).join(', ');
  return `<p class="warning partial" role="note">Partial result: ${left} left out (see below).</p>\n`;
}
function displacementTable(result: AnalysisResult): string {
  const rows = result.displacement.map((d) => [
    escapeHtml(d.model),
    escapeHtml(d.task),
    escapeHtml(ownValue(result.instructions, d.task) ?? ''),
    formatNumber(d.meanCosineDistance),
    `[${formatNumber(d.meanCosineDistanceCiLow)}, ${formatNumber(d.meanCosineDistanceCiHigh)}]`,
    formatNumber(d.medianCosineDistance),
    formatNumber(d.p90CosineDistance),
    formatNumber(d.trajectoryLength),
    formatNumber(d.shiftFraction),
    formatNumber(d.neighbourOverlap),
  ]);
  return table(
    ['Model', 'Task', 'Instruction', 'Mean', '95% interval of the mean', 'Median', 'p90', 'Trajectory length', 'Shift fraction', 'Neighbour overlap'],
    rows,
    3,
  );
}

function procrustesTable(result: AnalysisResult): string {
  const rows = result.models.map((model, i) => [
    escapeHtml(model),
    ...result.procrustesDistance[i].map(formatNumber),
    formatNumber(mean(result.procrustesDistance.map((row, r) => (r === i ? NaN : row[i])).filter((v) => !Number.isNaN(v)))),
  ]);
  return table(['source \\ target', ...result.models.map(escapeHtml), 'mean D onto this model (column)'], rows, 1);
}

function varianceTable(result: AnalysisResult): string {
  const rows = result.models.map((model, m) => {
    const ratios = ownValue(result.explainedVarianceRatio, model) ?? [];
    const first = ratios.slice(0, 3).map(formatNumber).join(', ');
    return [escapeHtml(model), String(result.dims[m]), formatNumber(ratios.reduce((a, b) => a + b, 0)), first];
  });
  return table(['Model', 'Dimension d', 'Total explained by k components', 'First components'], rows, 1);
}

function robustnessTable(result: AnalysisResult): string {
  if (result.robustness.length === 0) return '<p>Only one model: nothing to compare.</p>';
  const rows = result.robustness.map((r) => {
    const changed = Object.entries(r.taskOrderPreserved)
      .filter(([, preserved]) => !preserved)
      .map(([model]) => escapeHtml(model));
    return [escapeHtml(r.reference), changed.length === 0 ? 'none' : changed.join(', '), formatNumber(r.disparity)];
  });
  return table(['Reference', 'Task order changed for', 'Disparity to main map'], rows, 2);
}

/** Per model: its tasks by mean displacement, with the share of bootstrap resamples keeping each step and the whole order. */
function stabilityTable(result: AnalysisResult): string {
  const rows = result.taskOrderStability.map((row) => [
    escapeHtml(row.model),
    row.order.map((task, i) => (i === 0 ? escapeHtml(task) : `&gt; (${percent(row.adjacentShares[i - 1])}) ${escapeHtml(task)}`)).join(' '),
    percent(row.share),
  ]);
  return table(['Model', 'Tasks, most moved first (share of resamples keeping each step)', 'Whole order holds in'], rows, 2);
}

function percent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}

function topMoversTable(result: AnalysisResult): string {
  if (result.topMovers.length === 0) return '<p>No task besides Base.</p>';
  const rows = result.topMovers.map((t) => [
    escapeHtml(t.model),
    escapeHtml(t.task),
    String(t.index + 1),
    escapeHtml(t.query ?? result.queries?.[t.index] ?? ''),
    formatNumber(t.relativeMovement),
    formatNumber(t.cosineDistance),
    formatNumber(t.neighbourOverlap),
  ]);
  const html = table(['Model', 'Task', 'Query #', 'Query', 'Relative movement', 'Cosine distance', 'Neighbour overlap'], rows, 4);
  // Up to 10 rows per model and task: hundreds at paper scale, so folded away by default when long.
  return rows.length <= 30 ? html : `<details><summary>Show ${rows.length} rows</summary>\n${html}\n</details>`;
}

function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

const STYLE = `
:root { --fg: #1f2328; --bg: #ffffff; --muted: #57606a; --grid: #d8dee4; --stripe: #f6f8fa;
  --font: system-ui, -apple-system, "Segoe UI", sans-serif; color-scheme: light dark; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --bg: #0d1117; --muted: #8d96a0; --grid: #30363d; --stripe: #161b22; }
}
body { margin: 0; background: var(--bg); color: var(--fg); font-family: var(--font); line-height: 1.45; }
main { max-width: 1200px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 8px; }
h2 { font-size: 1.2rem; margin: 32px 0 8px; }
.lead, .caption { color: var(--muted); max-width: 80ch; }
.caption { font-size: 0.9rem; }
.chart { width: 100%; }
.chart-map { height: 640px; }
.chart-heatmap { height: 620px; }
.chart-bars { height: 440px; }
.chart-scatter { height: 480px; }
.chart-matrix { height: 420px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.88rem; }
th, td { border-bottom: 1px solid var(--grid); padding: 4px 10px; text-align: left; vertical-align: top; }
tbody tr:nth-child(even) { background: var(--stripe); }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.summary th { font-weight: 600; }
#render-error { color: #cf222e; }
.warning { border-left: 4px solid #bf8700; padding: 6px 12px; max-width: 80ch; }
`;
