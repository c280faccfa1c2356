/**
 * A figure as an exported image: its title drawn in (an image has no page heading), on the theme's background or a
 * transparent one (for slides and documents). Its texts name the theme's font as resolved from VS Code's CSS
 * variable (baseLayout), so an SVG keeps its fonts where no such variable exists. PNG at twice the size: sharp on
 * high-density screens and in slides.
 */
import type { ImageBackground, ImageFormat } from '../src/protocol';
import type { ChartTheme, Figure } from './charts';
import { fitFigure } from './fit';

export const PNG_SCALE = 2;
/** Fully transparent: the PNG's background pixels get alpha 0. */
const TRANSPARENT = 'rgba(0,0,0,0)';

export interface PlotlyImageApi {
  toImage(figure: HTMLElement | Figure, options: { format: ImageFormat; width: number; height: number; scale?: number }): Promise<string>;
}

export interface ImageOptions {
  format: ImageFormat;
  background: ImageBackground;
  theme: ChartTheme;
  /** CSS pixels; the height follows the figure's shape. */
  width: number;
}

/** The figure laid out for an image (pure: also what the tests check). */
export function imageFigure(figure: Figure, options: Omit<ImageOptions, 'format'>): { figure: Figure; height: number } {
  const fitted = fitFigure(figure, { width: options.width, height: Math.max(500, Math.round(options.width * 0.62)), title: 'inline' });
  const background = options.background === 'transparent' ? TRANSPARENT : options.theme.background;
  const layout = { ...fitted.layout, paper_bgcolor: background, plot_bgcolor: background };
  return { figure: { data: fitted.data, layout }, height: fitted.height };
}

/** Draws the figure as an image with Plotly.toImage; resolves with its data: URL. */
export function renderFigureImage(plotly: PlotlyImageApi, figure: Figure, options: ImageOptions): Promise<string> {
  const image = imageFigure(figure, options);
  return plotly.toImage(image.figure, {
    format: options.format,
    width: options.width,
    height: image.height,
    scale: options.format === 'png' ? PNG_SCALE : 1,
  });
}
