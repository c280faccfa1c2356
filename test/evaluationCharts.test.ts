/**
 * The evaluation charts (webview/evaluationCharts.ts) on a small hand-checked set of rows: interval bars, Base lines,
 * significance and home marks, the scatter's points and the correlation sentence.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIGHT_THEME } from '../webview/charts';
import {
  correlationSentence,
  deltaMatrixFigure,
  displacementVsPerformanceFigure,
  type EvaluationView,
  evaluatedKinds,
  performanceFigure,
  scoreSummary,
} from '../webview/evaluationCharts';
import type { EvaluationRow } from '../src/engine/evaluation/types';

function row(model: string, task: string, kind: EvaluationRow['kind'], value: number, base: number, extra: Partial<EvaluationRow> = {}): EvaluationRow {
  const metric = kind === 'retrieval' ? 'nDCG@10' : 'spearman';
  return { model, task, kind, metric, value, base, delta: value - base, ciLow: value - 0.05, ciHigh: value + 0.04, deltaCiLow: value - base - 0.01, deltaCiHigh: value - base + 0.01, home: false, n: 20, ...extra };
}

const view: EvaluationView = {
  models: ['m1', '__proto__'],
  tasks: ['Base', 'Retrieval', 'STS'],
  evaluation: [
    row('m1', 'Base', 'retrieval', 0.5, 0.5, { deltaCiLow: 0, deltaCiHigh: 0 }),
    row('m1', 'Retrieval', 'retrieval', 0.6, 0.5, { home: true }),
    row('m1', 'STS', 'retrieval', 0.495, 0.5),
    { ...row('m1', 'Retrieval', 'retrieval', 0.7, 0.6), metric: 'MRR@10', ciLow: null, ciHigh: null, deltaCiLow: null, deltaCiHigh: null },
    row('__proto__', 'Base', 'retrieval', 0.4, 0.4, { deltaCiLow: 0, deltaCiHigh: 0 }),
    row('__proto__', 'Retrieval', 'retrieval', 0.3, 0.4, { home: true }),
    row('__proto__', 'STS', 'retrieval', 0.41, 0.4),
    row('m1', 'Base', 'sts', 0.7, 0.7, { deltaCiLow: 0, deltaCiHigh: 0 }),
    row('m1', 'STS', 'sts', 0.8, 0.7, { home: true }),
  ],
  displacement: [
    { model: 'm1', task: 'Retrieval', meanCosineDistance: 0.1, medianCosineDistance: 0, p90CosineDistance: 0, trajectoryLength: 0, shiftFraction: 0, neighbourOverlap: 1, meanCosineDistanceCiLow: 0, meanCosineDistanceCiHigh: 0 },
    { model: 'm1', task: 'STS', meanCosineDistance: 0.3, medianCosineDistance: 0, p90CosineDistance: 0, trajectoryLength: 0, shiftFraction: 0, neighbourOverlap: 1, meanCosineDistanceCiLow: 0, meanCosineDistanceCiHigh: 0 },
    { model: '__proto__', task: 'Retrieval', meanCosineDistance: 0.2, medianCosineDistance: 0, p90CosineDistance: 0, trajectoryLength: 0, shiftFraction: 0, neighbourOverlap: 1, meanCosineDistanceCiLow: 0, meanCosineDistanceCiHigh: 0 },
    { model: '__proto__', task: 'STS', meanCosineDistance: 0.4, medianCosineDistance: 0, p90CosineDistance: 0, trajectoryLength: 0, shiftFraction: 0, neighbourOverlap: 1, meanCosineDistanceCiLow: 0, meanCosineDistanceCiHigh: 0 },
  ],
  displacementVsPerformance: [{ kind: 'retrieval', metric: 'nDCG@10', spearman: -0.2, n: 4 }],
};

describe('evaluation charts', () => {
  it('kinds in protocol order, only those with rows', () => {
    assert.deepEqual(evaluatedKinds(view), ['retrieval', 'sts']);
  });

  it('performance: main metric per task and model, asymmetric interval bars, Base line, star on significant deltas', () => {
    const figure = performanceFigure(view, 'retrieval', LIGHT_THEME);
    const bars = figure.data.filter((trace) => trace.meta.kind === 'scores');
    assert.equal(bars.length, 2);
    const [m1] = bars;
    assert.deepEqual(m1.x, ['<b>Retrieval</b>', 'STS']);
    assert.deepEqual(m1.y, [0.6, 0.495]);
    const errors = m1.error_y as { array: number[]; arrayminus: number[] };
    assert.ok(Math.abs(errors.array[0] - 0.04) < 1e-12 && Math.abs(errors.arrayminus[0] - 0.05) < 1e-12);
    // Retrieval's delta interval (0.09..0.11) excludes 0; STS's (-0.015..0.005) does not.
    assert.deepEqual(m1.text, ['*', '']);
    const baseLines = figure.data.filter((trace) => trace.meta.kind === 'baseLine');
    assert.deepEqual(baseLines.map((trace) => trace.y), [[0.5, 0.5], [0.4, 0.4]]);
    assert.equal(bars[1].name, '__proto__');
  });

  it('cross matrix: tasks x kinds of deltas, home cells bracketed, empty where a kind has no row', () => {
    const figure = deltaMatrixFigure(view, 'm1', LIGHT_THEME);
    const [heatmap] = figure.data;
    const z = heatmap.z as (number | null)[][];
    assert.deepEqual(z.map((r) => r.map((v) => (v === null ? null : Math.round(v * 1e6) / 1e6))), [[0, 0], [0.1, null], [-0.005, 0.1]]);
    assert.deepEqual(heatmap.text, [['+0.0000', '+0.0000'], ['[+0.1000*]', ''], ['-0.0050', '[+0.1000*]']]);
    assert.equal(heatmap.zmid, 0);
  });

  it('scatter: one point per (model, non-Base task) with displacement and delta, titled by its kind', () => {
    const figure = displacementVsPerformanceFigure(view, 'retrieval', LIGHT_THEME);
    assert.deepEqual(figure.data.map((trace) => trace.x), [[0.1, 0.3], [0.2, 0.4]]);
    const deltas = figure.data.map((trace) => (trace.y as number[]).map((v) => Math.round(v * 1e6) / 1e6));
    assert.deepEqual(deltas, [[0.1, -0.005], [-0.1, 0.01]]);
    assert.equal((figure.layout.title as { text: string }).text, 'Does moving more mean helping more? (retrieval)');
  });

  it('sentences and summaries', () => {
    assert.equal(
      correlationSentence({ kind: 'sts', metric: 'spearman', spearman: 0.5, n: 7 }),
      'On sts, instructions that move queries more help more: ρ = 0.5000, n = 7',
    );
    assert.equal(correlationSentence({ kind: 'sts', metric: 'spearman', spearman: null, n: 2 }), 'On sts, the correlation is undefined (n = 2)');
    assert.equal(scoreSummary(view.evaluation[1]), 'nDCG@10 0.6000 (+0.1000, 95% +0.0900..+0.1100)');
  });
});
