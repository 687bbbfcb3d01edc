/**
 * The few Plotly calls the panels make, typed. Plotly's basic bundle (scatter charts, no eval) is loaded
 * by its own nonce'd <script> before the webview bundle and sets window.Plotly.
 */
export type PlotData = Record<string, unknown>;
export type PlotLayout = Record<string, unknown>;

export interface PlotlyStatic {
  newPlot(el: HTMLElement, data: PlotData[], layout: PlotLayout, config?: Record<string, unknown>): Promise<unknown>;
  react(el: HTMLElement, data: PlotData[], layout: PlotLayout, config?: Record<string, unknown>): Promise<unknown>;
  extendTraces(el: HTMLElement, update: Record<string, unknown[][]>, indices: number[]): Promise<unknown>;
  relayout(el: HTMLElement, update: PlotLayout): Promise<unknown>;
  restyle(el: HTMLElement, update: Record<string, unknown>, indices?: number[]): Promise<unknown>;
  purge(el: HTMLElement): void;
  Plots: { resize(el: HTMLElement): Promise<unknown> | void };
}

/** The element Plotly draws into, with the figure it keeps there. */
export interface PlotElement extends HTMLElement {
  data?: Array<{ x?: ArrayLike<unknown>; y?: ArrayLike<unknown>; z?: ArrayLike<unknown>; name?: string }>;
  layout?: PlotLayout;
  /** Plotly's event subscription, added by newPlot. */
  on?(event: string, handler: (update: Record<string, unknown>) => void): void;
}

export function plotly(): PlotlyStatic {
  const p = (globalThis as { Plotly?: PlotlyStatic }).Plotly;
  if (!p) throw new Error('Plotly did not load (dist/media/plotly.min.js); the charts cannot be drawn.');
  return p;
}

export const PLOT_CONFIG: Record<string, unknown> = {
  displaylogo: false,
  responsive: true,
  modeBarButtonsToRemove: ['toImage', 'select2d', 'lasso2d', 'autoScale2d'],
};
