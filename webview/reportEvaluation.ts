/** The report's evaluation charts: fills the containers that src/report/evaluationSection.ts lays out. */
import type { ChartTheme, Figure } from './charts';
import {
  deltaMatrixFigure,
  displacementVsPerformanceFigure,
  type EvaluationView,
  evaluatedKinds,
  performanceFigure,
} from './evaluationCharts';

/** `drawIn` draws a figure into an element the way the report draws all its figures (fitted to the element's width). */
export function drawReportEvaluation(
  view: EvaluationView,
  theme: ChartTheme,
  drawIn: (el: HTMLElement, figure: Figure) => Promise<unknown>,
): Promise<unknown>[] {
  const kinds = evaluatedKinds(view);
  const draw = (attribute: string, figureAt: (index: number) => Figure): Promise<unknown>[] =>
    [...document.querySelectorAll<HTMLElement>(`[data-${attribute}]`)].map((el) =>
      drawIn(el, figureAt(Number(el.getAttribute(`data-${attribute}`)))),
    );
  return [
    ...draw('performance', (k) => performanceFigure(view, kinds[k], theme)),
    ...draw('scatter', (k) => displacementVsPerformanceFigure(view, kinds[k], theme)),
    ...draw('delta-matrix', (m) => deltaMatrixFigure(view, view.models[m], theme)),
  ];
}
