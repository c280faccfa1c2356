/**
 * Script of report.html: reads the embedded AnalysisResult and draws the figures with the shared chart code.
 * When done, <body data-rendered="true"> (or data-rendered="error") tells automated checks the page is ready.
 */
import type { AnalysisResult } from '../src/engine/types';
import { type ChartTheme, DEFAULT_COLORWAY, displacementFigure, type Figure, heatmapFigure, mapFigure, renderFigure } from './charts';
import { evaluationView } from './evaluationCharts';
import { fitFigure } from './fit';
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
  const drawIn = (el: HTMLElement, figure: Figure): Promise<unknown> => {
    // Titles are drawn in the figure, wrapped to its width; narrow windows get legends under the plot.
    const fitted = fitFigure(figure, { width: el.clientWidth, height: el.clientWidth < 430 ? undefined : el.clientHeight || undefined, title: 'inline' });
    el.style.height = `${fitted.height}px`;
    return renderFigure(el, fitted);
  };
  const draw = (id: string, figure: Figure): Promise<unknown> => {
    const el = document.getElementById(id);
    if (!el) throw new Error(`the report has no #${id}`);
    return drawIn(el, figure);
  };
  await Promise.all([
    draw('map', mapFigure(result, theme)),
    draw('heatmap', heatmapFigure(result, theme)),
    draw('displacement-chart', displacementFigure(result, theme)),
    ...drawReportEvaluation(evaluationView(result), theme, drawIn),
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
