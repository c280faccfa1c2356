/**
 * Exported figure images (webview/imageExport.ts) drawn by Plotly.toImage in headless Chromium, as the webview
 * draws them: a PNG at twice the size on the theme's background or a transparent one (the pixels decoded here with
 * node's zlib), and an SVG whose texts name the theme's font.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as esbuild from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { readBundle } from '../src/engine/io/bundle';
import { packageRoot } from '../src/engine/io/paths';
import { analyze } from '../src/engine/method/analyze';
import type { AnalysisResult } from '../src/engine/types';
import { decodeDataUrl } from '../src/extension/dataUrl';
import type { ChartTheme } from '../webview/charts';
import { DEFAULT_COLORWAY } from '../webview/charts';
import { decodePng } from './helpers/png';

const CHROMIUM = '/usr/bin/chromium';
const root = packageRoot();
const THEME: ChartTheme = {
  foreground: '#cccccc',
  background: '#1e1e1e',
  gridColor: '#454545',
  font: '"Segoe WPC", "Segoe UI", Ubuntu, sans-serif',
  colorway: DEFAULT_COLORWAY,
};
const WIDTH = 800;

let browser: Browser;
let page: Page;
let result: AnalysisResult;

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is not installed: apt-get install chromium (.ci/run does)`);
  result = await analyze(await readBundle(path.join(root, 'test', 'fixtures', 'bundles', 'good')));
  // The webview's own export code, bundled for the page as esbuild.mjs bundles the webview.
  const bundled = await esbuild.build({
    stdin: {
      contents: `import { renderFigureImage } from './webview/imageExport';
import { displacementFigure, mapFigure } from './webview/charts';
const builders = { map: mapFigure, displacement: displacementFigure };
window.exportImage = (figure, result, theme, options) => renderFigureImage(Plotly, builders[figure](result, theme), { ...options, theme });`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage();
  await page.setContent('<!DOCTYPE html><html><body></body></html>');
  await page.addScriptTag({ path: path.join(root, 'node_modules', 'plotly.js-dist', 'plotly.js') });
  await page.addScriptTag({ content: bundled.outputFiles[0].text });
});
after(async () => {
  await browser?.close();
});

function exportImage(figure: 'map' | 'displacement', format: 'png' | 'svg', background: 'theme' | 'transparent'): Promise<string> {
  return page.evaluate(
    ([f, r, t, o]) => (globalThis as unknown as { exportImage: (...args: unknown[]) => Promise<string> }).exportImage(f, r, t, o),
    [figure, result, THEME, { format, background, width: WIDTH }] as const,
  );
}

test('PNG: twice the size; the theme background in the corner, or alpha 0 with a transparent background', async () => {
  const themed = decodePng(decodeDataUrl(await exportImage('map', 'png', 'theme')));
  assert.equal(themed.width, 2 * WIDTH);
  assert.ok(themed.height >= 2 * 500, `height ${themed.height}`);
  assert.deepEqual(themed.corner, [0x1e, 0x1e, 0x1e, 255]);
  const transparent = decodePng(decodeDataUrl(await exportImage('map', 'png', 'transparent')));
  assert.equal(transparent.width, 2 * WIDTH);
  assert.equal(transparent.corner[3], 0, `corner ${transparent.corner.join(',')}`);
  const bars = decodePng(decodeDataUrl(await exportImage('displacement', 'png', 'transparent')));
  assert.equal(bars.corner[3], 0);
});

test('SVG: every text names the theme font (no CSS variable), on the theme background', async () => {
  const svg = new TextDecoder().decode(decodeDataUrl(await exportImage('map', 'svg', 'theme')));
  assert.match(svg, /^<svg/);
  const texts = [...svg.matchAll(/<text\b[^>]*>/g)].map((match) => match[0]);
  assert.ok(texts.length > 5, `${texts.length} texts`);
  for (const text of texts) {
    const family = /font-family:\s*([^;"]*);/.exec(text)?.[1];
    assert.ok(family !== undefined, `no font-family in ${text}`);
    // Plotly writes the family's quotes as single quotes.
    assert.equal(family.trim(), THEME.font.replace(/"/g, "'"));
  }
  assert.doesNotMatch(svg, /var\(--/);
  assert.match(svg, /<rect[^>]*style="fill: rgb\(30, 30, 30\)/);
  // The title is drawn in (an image has no page heading).
  assert.match(svg, /class="gtitle"/);
});
