/**
 * Fitting the charts to their room (webview/fit.ts): short model names, wrapped titles, legends under the plot at
 * narrow widths, titles out of the toolbar's way; the data series and hover texts stay as built.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { AnalysisResult } from '../src/engine/types';
import { displacementFigure, heatmapFigure, LIGHT_THEME, mapFigure } from '../webview/charts';
import { fitFigure, NARROW_WIDTH, pointLabels, SHORT_NAME_LENGTH, shortModelNames, wrapTitle } from '../webview/fit';

const MODELS = ['Xenova/bge-small-en-v1.5', 'glove-6B-100d-sif-50k', 'use-lite', 'openai:text-embedding-3-small@http://127.0.0.1:8080'];

function result(models: string[]): AnalysisResult {
  const tasks = ['Base', 'Retrieval', 'STS'];
  return {
    models,
    tasks,
    n: 3,
    dims: models.map(() => 4),
    k: 2,
    reference: models[0],
    referenceChosenBy: 'auto',
    pointsMode: 'flatten',
    mdsMethod: 'classical',
    mdsStress: 0.01,
    procrustesDistance: models.map((_, i) => models.map((__, j) => (i === j ? 0 : 0.1 * (i + j)))),
    cosineDistance: [],
    points: models.flatMap((model, m) => tasks.map((task, t) => ({ model, task, x: m + 0.1 * t, y: t }))),
    displacement: models.flatMap((model) =>
      tasks.slice(1).map((task) => ({
        model,
        task,
        meanCosineDistance: 0.1,
        meanCosineDistanceCiLow: 0.09,
        meanCosineDistanceCiHigh: 0.11,
        medianCosineDistance: 0.1,
        p90CosineDistance: 0.2,
        trajectoryLength: 1,
        shiftFraction: 0.5,
        neighbourOverlap: 0.7,
      })),
    ),
    explainedVarianceRatio: {},
    robustness: [],
    topMovers: [],
    warnings: [],
    warningDetails: [],
    failedModels: [],
    taskOrderStability: [],
    evaluation: [],
    displacementVsPerformance: [],
    leaderboard: [],
  };
}

test('short model names: the last segment, no endpoint address, at most the limit, unique', () => {
  assert.deepEqual(shortModelNames(MODELS, SHORT_NAME_LENGTH), ['bge-small-en-…', 'glove-6B-100d…', 'use-lite', 'text-embeddin…']);
  // Two names that would look alike keep their full names.
  assert.deepEqual(shortModelNames(['a/model-one-very-long-x', 'b/model-one-very-long-y'], 10), ['a/model-one-very-long-x', 'b/model-one-very-long-y']);
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 2, max: 30 }), (names, max) => {
      const short = shortModelNames(names, max);
      assert.equal(short.length, names.length);
      assert.equal(new Set(short).size, names.length, 'distinct names stay distinct');
      short.forEach((name, i) => assert.ok(name === names[i] || [...name].length <= max, `${name} within ${max}`));
    }),
  );
});

test('titles wrap at the width: no line wider than the room, no text lost', () => {
  const lines = wrapTitle('Figure 2. Normalised Procrustes distance D (row mapped onto column)', 200);
  assert.ok(lines.length > 1);
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.integer({ min: 60, max: 1600 }), (text, width) => {
      const wrapped = wrapTitle(text, width);
      const maxUnits = Math.max(8, Math.floor(width / (15 * 0.55)));
      const units = (line: string): number => [...line].reduce((sum, ch) => sum + (ch.codePointAt(0)! > 0x2e7f ? 2 : 1), 0);
      for (const line of wrapped) assert.ok(units(line) <= maxUnits, `"${line}" fits ${maxUnits}`);
      assert.equal(wrapped.join('').replace(/\s+/g, ''), text.replace(/\s+/g, ''));
    }),
  );
});

test('narrow: legends under the plot in container coordinates, short names on legends, full names on hover', () => {
  const figure = mapFigure(result(MODELS), LIGHT_THEME);
  const fitted = fitFigure(figure, { width: 320, title: 'html' });
  assert.ok(fitted.narrow);
  assert.equal(fitted.layout.title, undefined, 'the page heading carries the title');
  for (const id of ['legend', 'legend2']) {
    const legend = fitted.layout[id] as Record<string, unknown>;
    assert.equal(legend.orientation, 'h');
    assert.equal(legend.yref, 'container');
    assert.ok((legend.y as number) > 0 && (legend.y as number) < 1);
  }
  const margin = fitted.layout.margin as Record<string, number>;
  assert.ok(margin.b >= 100, 'room under the plot for both legends');
  assert.equal(fitted.height, fitted.layout.height);
  const points = fitted.data.filter((trace) => trace.meta.kind === 'points');
  assert.deepEqual(points.map((trace) => trace.name), shortModelNames(MODELS, SHORT_NAME_LENGTH));
  assert.deepEqual(points.map((trace) => trace.text), figure.data.filter((trace) => trace.meta.kind === 'points').map((trace) => trace.text), 'hover texts unchanged');
  // The data series are the builder's.
  assert.deepEqual(fitted.data.map((trace) => [trace.x, trace.y]), figure.data.map((trace) => [trace.x, trace.y]));
});

test('wide: legends where the builder put them, full names, the given height', () => {
  const figure = displacementFigure(result(MODELS), LIGHT_THEME);
  const fitted = fitFigure(figure, { width: NARROW_WIDTH + 400, height: 400, title: 'html' });
  assert.equal(fitted.narrow, false);
  assert.deepEqual(fitted.layout.legend, figure.layout.legend);
  assert.deepEqual(fitted.data.map((trace) => trace.name), figure.data.map((trace) => trace.name));
  assert.equal(fitted.height, 400);
  assert.ok((fitted.layout.margin as Record<string, number>).t >= 30, 'room for the toolbar above the plot');
});

test('heatmap: tick labels shortened when narrow, cells still keyed by the full names', () => {
  const figure = heatmapFigure(result(MODELS), LIGHT_THEME);
  const fitted = fitFigure(figure, { width: 300, title: 'html' }); // room for 14 characters
  const xaxis = fitted.layout.xaxis as Record<string, unknown>;
  assert.deepEqual(xaxis.tickvals, MODELS);
  assert.deepEqual(xaxis.ticktext, shortModelNames(MODELS, SHORT_NAME_LENGTH));
  assert.deepEqual(fitted.data[0].x, figure.data[0].x);
});

test('inline titles (images, report.html): wrapped left of the toolbar, the top margin grows with the lines', () => {
  const figure = heatmapFigure(result(MODELS), LIGHT_THEME);
  const wide = fitFigure(figure, { width: 1600, height: 800, title: 'inline' });
  const narrow = fitFigure(figure, { width: 400, title: 'inline' });
  const text = (fitted: typeof wide): string => (fitted.layout.title as { text: string }).text;
  assert.equal(text(wide).split('<br>').length, 1);
  assert.ok(text(narrow).split('<br>').length > 1);
  assert.equal(text(narrow).replace(/<br>/g, ' '), wide.titleText);
  assert.ok((narrow.layout.margin as Record<string, number>).t > (wide.layout.margin as Record<string, number>).t);
  assert.equal((narrow.layout.title as { xanchor: string }).xanchor, 'left');
});

test('point labels: one per (model, task) at the point, the model named at its Base point, names escaped', () => {
  const models = ['<m&x>', 'use-lite'];
  const r = result(models);
  const labels = pointLabels(mapFigure(r, LIGHT_THEME), r.tasks, '#123456');
  assert.equal(labels.length, models.length * r.tasks.length);
  const at = (model: string, task: string): Record<string, unknown> | undefined => {
    const point = r.points.find((p) => p.model === model && p.task === task)!;
    return labels.find((label) => label.x === point.x && label.y === point.y);
  };
  assert.equal(at('use-lite', 'STS')?.text, 'STS');
  assert.equal(at('use-lite', 'Base')?.text, 'Base · use-lite');
  assert.equal(at('<m&x>', 'Base')?.text, 'Base · &lt;m&amp;x&gt;');
  assert.ok(labels.every((label) => label.showarrow === false && (label.font as { color: string }).color === '#123456'));
});
