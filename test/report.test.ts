/**
 * The chart builders (webview/charts.ts), report.html rendering and escaping, and the real report in headless
 * Chromium: the map has M*T points and M*(T-1) trajectory lines, the heatmap M x M cells with the values of
 * results.json, and the page makes no network request.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { packageRoot } from '../src/engine/io/paths';
import { escapeHtml } from '../src/report/html';
import { renderReport as renderPage, type ReportAssets } from '../src/report/report';
import type { AnalysisResult } from '../src/engine/types';
import { displacementFigure, formatNumber, heatmapFigure, LIGHT_THEME, mapFigure, type Trace } from '../webview/charts';

const root = packageRoot();
const CHROMIUM = '/usr/bin/chromium';
const HOSTILE = '</script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

/**
 * A structurally complete AnalysisResult with chosen numbers (test input for rendering; the numbers are not
 * checked against the method here, only carried through to the page).
 */
function sampleResult(models: string[], tasks: string[]): AnalysisResult {
  const points = models.flatMap((model, m) => tasks.map((task, t) => ({ model, task, x: m * 2 + 0.3 * t, y: t - 0.5 * m })));
  const displacement = models.flatMap((model, m) =>
    tasks.slice(1).map((task, t) => ({
      model,
      task,
      meanCosineDistance: 0.01 * (m + 1) * (t + 1),
      meanCosineDistanceCiLow: 0.008 * (m + 1) * (t + 1),
      meanCosineDistanceCiHigh: 0.013 * (m + 1) * (t + 1),
      medianCosineDistance: 0.009 * (t + 1),
      p90CosineDistance: 0.02 * (t + 1),
      trajectoryLength: 0.3 * (t + 1),
      shiftFraction: 0.4,
      neighbourOverlap: 0.8,
    })),
  );
  return {
    models,
    tasks,
    n: 5,
    dims: models.map(() => 8),
    k: 4,
    reference: models[0],
    referenceChosenBy: 'auto',
    pointsMode: 'flatten',
    mdsMethod: 'classical',
    mdsStress: 0.0123,
    procrustesDistance: models.map((_, i) => models.map((__, j) => (i === j ? 0 : 0.1 * (i + 1) + 0.013 * j))),
    cosineDistance: points.map((_, a) => points.map((__, b) => (a === b ? 0 : 0.5))),
    points,
    displacement,
    explainedVarianceRatio: Object.fromEntries(models.map((model) => [model, [0.5, 0.2, 0.1, 0.05]])),
    robustness: models.slice(1).map((reference) => ({
      reference,
      disparity: 0.001,
      taskOrderPreserved: Object.fromEntries(models.map((model, m) => [model, m !== 1])),
    })),
    topMovers: [{ model: models[0], task: tasks[1], index: 2, query: HOSTILE, cosineDistance: 0.2, relativeMovement: 1.5, neighbourOverlap: 0.3 }],
    warnings: [],
    warningDetails: [],
    failedModels: [],
    taskOrderStability: models.map((model) => ({ model, order: [...tasks.slice(1)].reverse(), share: 0.9, adjacentShares: tasks.slice(2).map(() => 0.95) })),
    queries: ['q0', 'q1', HOSTILE, 'q3', 'q4\u2028with separator'],
    instructions: { [tasks[1]]: `Find passages <b>now</b> ${'and more words '.repeat(8)}`, [tasks[2]]: '検索クエリ'.repeat(20) },
    evaluation: [],
    displacementVsPerformance: [],
    leaderboard: [],
  };
}

const MODELS = ['alpha', HOSTILE, '42'];
const TASKS = ['Base', 'STS', 'Retrieval', 'Clustering'];

describe('chart builders', () => {
  const result = sampleResult(MODELS, TASKS);
  const byKind = (traces: Trace[], kind: string) => traces.filter((t) => t.meta.kind === kind);

  test('map: one points trace per model with T points, M*(T-1) trajectory lines from Base to each task', () => {
    const { data } = mapFigure(result, LIGHT_THEME);
    const points = byKind(data, 'points');
    assert.equal(points.length, MODELS.length);
    const trajectories = byKind(data, 'trajectory');
    assert.equal(trajectories.length, MODELS.length * (TASKS.length - 1));
    assert.equal(byKind(data, 'taskLegend').length, TASKS.length);
    points.forEach((trace, m) => {
      const mine = result.points.filter((p) => p.model === MODELS[m]);
      assert.deepEqual(trace.x, mine.map((p) => p.x));
      assert.deepEqual(trace.y, mine.map((p) => p.y));
      const marker = trace.marker as { color: string; symbol: string[] };
      assert.equal(new Set(marker.symbol).size, TASKS.length, 'one marker per task');
      assert.deepEqual(marker.symbol, (points[0].marker as { symbol: string[] }).symbol, 'same task, same marker');
      for (const line of trajectories.filter((t) => t.meta.kind === 'trajectory' && t.meta.model === MODELS[m])) {
        assert.equal((line.line as { color: string }).color, marker.color, 'line in the model colour');
        const task = (line.meta as { task: string }).task;
        const target = mine.find((p) => p.task === task);
        assert.deepEqual([line.x, line.y], [[mine[0].x, target?.x], [mine[0].y, target?.y]]);
      }
    });
    assert.equal(new Set(points.map((t) => (t.marker as { color: string }).color)).size, MODELS.length, 'one colour per model');
  });

  test('map hover text: model, task, wrapped instruction, displacement and trajectory length, all escaped', () => {
    const { data } = mapFigure(result, LIGHT_THEME);
    const texts = byKind(data, 'points')[1].text as string[];
    assert.match(texts[0], /task: Base \(no instruction\)/);
    assert.match(texts[1], /^<b>&lt;\/script&gt;&lt;script&gt;window\.__pwned = 1/);
    assert.match(texts[1], /task: STS<br>instruction: Find passages &lt;b&gt;now&lt;\/b&gt;/);
    assert.match(texts[1], /mean displacement: 0\.0200<br>trajectory length: 0\.3000$/);
    assert.ok(texts[2].split('<br>').every((line) => line.length <= 200), 'long instructions are wrapped');
    assert.ok(texts[2].split('<br>').filter((line) => line.includes('検索クエリ')).length >= 2, 'text without spaces is cut');
    for (const text of texts) assert.doesNotMatch(text.replace(/<\/?b>|<br>/g, ''), /[<>]/);
  });

  test('heatmap: z is D, rows and columns are the models, cells carry the values as text', () => {
    const { data, layout } = heatmapFigure(result, LIGHT_THEME);
    assert.equal(data.length, 1);
    assert.deepEqual(data[0].z, result.procrustesDistance);
    assert.deepEqual(data[0].x, ['alpha', HOSTILE.replace(/</g, '&lt;').replace(/>/g, '&gt;'), '42']);
    assert.deepEqual((data[0].text as string[][])[1], ['0.2000', '0.0000', '0.2260']);
    assert.equal((layout.xaxis as { type: string }).type, 'category', 'a model named 42 stays a category');
  });

  test('displacement bars: one series per model, the mean cosine distance per non-Base task', () => {
    const { data } = displacementFigure(result, LIGHT_THEME);
    assert.equal(data.length, MODELS.length);
    assert.deepEqual(data[2].y, result.displacement.filter((d) => d.model === '42').map((d) => d.meanCosineDistance));
    assert.deepEqual(data[0].x, ['STS', 'Retrieval', 'Clustering']);
  });
});

describe('report.html', () => {
  const assets = { plotlyJs: Buffer.from('window.Plotly = {}; // </Script'), reportJs: 'var s = "</script>"; var t = "</SCRIPT >";' };
  const renderReport = (r: AnalysisResult, a?: ReportAssets): string => renderPage(r, a).toString('utf8');
  const result = sampleResult(MODELS, TASKS);

  test('the same result gives the same bytes', () => {
    assert.equal(renderReport(result, assets), renderReport(sampleResult(MODELS, TASKS), assets));
  });

  test('embedded JSON round-trips and nothing in the data or scripts can close a <script> element', () => {
    const html = renderReport(result, assets);
    const match = /<script type="application\/json" id="result-data">([^]*?)<\/script>/.exec(html);
    assert.ok(match);
    assert.deepEqual(JSON.parse(match[1]), result);
    assert.ok(!match[1].includes('\u2028'));
    assert.equal(html.match(/<\/script/gi)?.length, 3, 'only the three real closing tags');
    assert.match(html, /var s = "<\\\/script>"; var t = "<\\\/SCRIPT >";/);
  });

  test('Plotly goes in byte for byte, UTF-8 intact, escaped only where it holds a closing tag', () => {
    const plain = Buffer.from('var é = "—"; window.Plotly = {};');
    const page = renderPage(result, { ...assets, plotlyJs: plain });
    assert.ok(page.includes(Buffer.concat([Buffer.from('<script>'), plain, Buffer.from('</script>')])));
    const closing = renderPage(result, { ...assets, plotlyJs: Buffer.from('var é = "—</scRipt>";') }).toString('utf8');
    assert.match(closing, /<script>var é = "—<\\\/scRipt>";<\/script>/);
  });

  test('tables are static HTML with every user string escaped', () => {
    const html = renderReport(result, assets);
    assert.ok(!html.includes('<img'), 'no injected element');
    assert.match(html, /<td>&lt;\/script&gt;&lt;script&gt;window\.__pwned = 1&lt;\/script&gt;&lt;img src=x onerror=&quot;window\.__pwned = 2&quot;&gt;<\/td>/);
    assert.match(html, /<h2>Displacement per model and task<\/h2>/);
    assert.match(html, /<h2>Normalised Procrustes distance D<\/h2>/);
    assert.match(html, /<h2>Robustness to the choice of reference model<\/h2>/);
    assert.match(html, /<h2>Queries that moved most relative to their neighbours<\/h2>/);
    assert.doesNotMatch(html, /\d{4}-\d{2}-\d{2}/, 'no date');
  });

  test('warnings are shown, escaped', () => {
    const html = renderReport({ ...result, warnings: ['k = 9 exceeds <the> number of queries'] }, assets);
    assert.match(html, /<p class="warning" role="note">k = 9 exceeds &lt;the&gt; number of queries<\/p>/);
    assert.doesNotMatch(renderReport(result, assets), /class="warning"/);
  });

  test('a partial result says so; the task-order stability and the intervals are tabled', () => {
    const partial = { ...result, failedModels: [{ model: 'remote <m>', error: 'HTTP 500' }] };
    assert.match(renderReport(partial, assets), /<p class="warning partial" role="note">Partial result: remote &lt;m&gt; left out/);
    const html = renderReport(result, assets);
    const row = result.taskOrderStability[0];
    const steps = row.order.map((task, i) => (i === 0 ? escapeHtml(task) : `&gt; (95.0%) ${escapeHtml(task)}`)).join(' ');
    assert.ok(html.includes(`<td>${escapeHtml(row.model)}</td><td>${steps}</td><td class="num">90.0%</td>`), 'stability row');
    const d = result.displacement[0];
    assert.ok(html.includes(`[${formatNumber(d.meanCosineDistanceCiLow)}, ${formatNumber(d.meanCosineDistanceCiHigh)}]`), 'interval cell');
  });

  test('the displacement figure draws interval bars, and none for results written before the intervals', () => {
    const figure = displacementFigure(result, LIGHT_THEME);
    const first = figure.data[0];
    const rows = result.displacement.filter((d) => d.model === result.models[0]);
    assert.deepEqual((first.error_y as { array: number[] }).array, rows.map((d) => d.meanCosineDistanceCiHigh - d.meanCosineDistance));
    assert.deepEqual((first.error_y as { arrayminus: number[] }).arrayminus, rows.map((d) => d.meanCosineDistance - d.meanCosineDistanceCiLow));
    const old = { ...result, displacement: result.displacement.map(({ meanCosineDistanceCiLow, meanCosineDistanceCiHigh, ...rest }) => rest) };
    const plain = displacementFigure(old as unknown as AnalysisResult, LIGHT_THEME);
    assert.ok(plain.data.every((trace) => trace.error_y === undefined));
    assert.doesNotMatch(String(plain.data[0].hovertemplate), /95% interval/);
  });
});

describe('report.html in headless Chromium', () => {
  let browser: Browser;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'il-report-'));

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is not installed: apt-get install chromium (.ci/run does)`);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--no-first-run', '--disable-dev-shm-usage',
      ],
    });
  });
  after(async () => {
    await browser?.close();
  });

  /** Opens a report; fails any request that is not the file itself. Returns the page and what it requested. */
  async function open(file: string) {
    const page = await browser.newPage();
    const url = pathToFileURL(file).href;
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
    await page.goto(url);
    await page.waitForSelector('body[data-rendered]', { timeout: 120_000 });
    const problem = (await page.locator('#render-error').count()) > 0 ? await page.locator('#render-error').textContent() : '';
    assert.equal(await page.getAttribute('body', 'data-rendered'), 'true', problem ?? '');
    return { page, requests: requests.filter((r) => r !== url), errors };
  }

  test('the report of a real analysis: M*T points, M*(T-1) lines, M x M heatmap cells with results.json values, offline', async () => {
    const out = path.join(dir, 'real');
    const run = spawnSync(process.execPath, [path.join(root, 'bin', 'instruction-lens.js'), 'analyze', path.join(root, 'test', 'fixtures', 'bundles', 'good-ordered'), '--out', out], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as AnalysisResult;
    const M = result.models.length;
    const T = result.tasks.length;
    const { page, requests, errors } = await open(path.join(out, 'report.html'));
    try {
      assert.equal(await page.locator('#map .scatterlayer path.point').count(), M * T);
      assert.equal(await page.locator('#map .scatterlayer path.js-line').count(), M * (T - 1));
      const labels = await page.locator('#heatmap .heatmap-label text').allTextContents();
      assert.equal(labels.length, M * M);
      const flat = result.procrustesDistance.flat();
      labels.forEach((label, i) => assert.ok(Math.abs(Number(label) - flat[i]) <= 5e-5, `cell ${i}: ${label} vs ${flat[i]}`));
      const z = (await page.evaluate('document.getElementById("heatmap").data[0].z')) as number[][];
      assert.deepStrictEqual(z, result.procrustesDistance);
      assert.equal(await page.locator('#displacement-chart .barlayer .point path').count(), M * (T - 1));
      // One interval bar per bar, spanning the 95% interval of results.json.
      assert.equal(await page.locator('#displacement-chart .barlayer .errorbar').count(), M * (T - 1));
      const bars = (await page.evaluate(
        'document.getElementById("displacement-chart").data.map((t) => ({ y: t.y, plus: t.error_y.array, minus: t.error_y.arrayminus }))',
      )) as { y: number[]; plus: number[]; minus: number[] }[];
      bars.forEach((bar, m) =>
        bar.y.forEach((y, t) => {
          const row = result.displacement[m * (T - 1) + t];
          assert.ok(Math.abs(y + bar.plus[t] - row.meanCosineDistanceCiHigh) < 1e-12 && Math.abs(y - bar.minus[t] - row.meanCosineDistanceCiLow) < 1e-12);
        }),
      );
      assert.deepEqual(requests, [], 'no network request');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  test('hostile names and queries stay text: no script runs, tables show them verbatim', async () => {
    const file = path.join(dir, 'hostile.html');
    const result = sampleResult(MODELS, TASKS);
    fs.writeFileSync(file, renderPage(result));
    const { page, requests, errors } = await open(file);
    try {
      assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined');
      assert.equal(await page.locator('#map .scatterlayer path.point').count(), MODELS.length * TASKS.length);
      assert.equal(await page.locator('#map .scatterlayer path.js-line').count(), MODELS.length * (TASKS.length - 1));
      assert.equal(await page.locator('#heatmap .heatmap-label text').count(), MODELS.length ** 2);
      const legend = await page.locator('#map .legend .traces text.legendtext').allTextContents();
      assert.ok(legend.includes(HOSTILE), `legend shows the raw name: ${JSON.stringify(legend)}`);
      const cells = await page.locator('table td').allTextContents();
      assert.ok(cells.includes(HOSTILE));
      assert.ok(cells.includes('42'));
      assert.deepEqual(requests, [], 'no network request (the injected <img> would request x)');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
