/** The report's evaluation charts: fills the containers that src/report/evaluationSection.ts lays out. */
import { type ChartTheme, renderFigure } from './charts';
import {
  deltaMatrixFigure,
  displacementVsPerformanceFigure,
  type EvaluationView,
  evaluatedKinds,
  performanceFigure,
} from './evaluationCharts';

export function drawReportEvaluation(view: EvaluationView, theme: ChartTheme): Promise<unknown>[] {
  const kinds = evaluatedKinds(view);
  const draw = (attribute: string, figureAt: (index: number) => Parameters<typeof renderFigure>[1]): Promise<unknown>[] =>
    [...document.querySelectorAll<HTMLElement>(`[data-${attribute}]`)].map((el) =>
      renderFigure(el, figureAt(Number(el.getAttribute(`data-${attribute}`)))),
    );
  return [
    ...draw('performance', (k) => performanceFigure(view, kinds[k], theme)),
    ...draw('scatter', (k) => displacementVsPerformanceFigure(view, kinds[k], theme)),
    ...draw('delta-matrix', (m) => deltaMatrixFigure(view, view.models[m], theme)),
  ];
}
