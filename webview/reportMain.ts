/**
 * Script of report.html: reads the embedded AnalysisResult and draws the figures with the shared chart code.
 * When done, <body data-rendered="true"> (or data-rendered="error") tells automated checks the page is ready.
 */
import type { AnalysisResult } from '../src/engine/types';
import { type ChartTheme, DEFAULT_COLORWAY, displacementFigure, heatmapFigure, mapFigure, renderFigure } from './charts';
import { evaluationView } from './evaluationCharts';
import { drawReportEvaluation } from './reportEvaluation';

function themeFromCss(): ChartTheme {
  const style = getComputedStyle(document.documentElement);
  const value = (name: string): string => style.getPropertyValue(name).trim();
  return {
    foreground: value('--fg'),
    background: value('--bg'),
    gridColor: value('--grid'),
    font: value('--font'),
    colorway: DEFAULT_COLORWAY,
  };
}

async function main(): Promise<void> {
  const data = document.getElementById('result-data');
  if (!data?.textContent) throw new Error('the report has no embedded results');
  const result = JSON.parse(data.textContent) as AnalysisResult;
  const theme = themeFromCss();
  await Promise.all([
    renderFigure(document.getElementById('map'), mapFigure(result, theme)),
    renderFigure(document.getElementById('heatmap'), heatmapFigure(result, theme)),
    renderFigure(document.getElementById('displacement-chart'), displacementFigure(result, theme)),
    ...drawReportEvaluation(evaluationView(result), theme),
  ]);
}

main().then(
  () => {
    document.body.dataset.rendered = 'true';
  },
  (error: unknown) => {
    const message = document.createElement('p');
    message.id = 'render-error';
    message.textContent = `The charts could not be drawn: ${error instanceof Error ? error.message : String(error)}`;
    document.querySelector('main')?.prepend(message);
    document.body.dataset.rendered = 'error';
  },
);
