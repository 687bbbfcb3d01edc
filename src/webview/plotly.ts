/**
 * The few Plotly calls the panels make, typed. Plotly's basic bundle (scatter charts, no eval) is
 * loaded by its own nonce'd <script> and sets window.Plotly. In VS Code that script is async
 * (PLOTLY_SCRIPT_ID): the panel draws its header, gauges and images while Plotly (1.1 MB) still
 * loads, and each chart waits for it.
 */
import { PLOTLY_SCRIPT_ID } from '../shared/panelHtml';
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

let loading: Promise<PlotlyStatic> | undefined;

/** Plotly, once its script has run. */
export function plotly(): Promise<PlotlyStatic> {
  const loaded = () => (globalThis as { Plotly?: PlotlyStatic }).Plotly;
  const now = loaded();
  if (now) return Promise.resolve(now);
  loading ??= new Promise<PlotlyStatic>((resolve, reject) => {
    const fail = () => reject(new Error('Plotly did not load (dist/media/plotly.min.js); the charts cannot be drawn.'));
    const settle = () => {
      const p = loaded();
      if (p) resolve(p);
      else fail();
    };
    const script = document.getElementById(PLOTLY_SCRIPT_ID);
    if (document.readyState === 'complete') {
      settle();
      return;
    }
    // The script says when it has run; the window's load event, which waits for every script of the page, is the backstop.
    if (script instanceof HTMLScriptElement) {
      script.addEventListener('load', settle, { once: true });
      script.addEventListener('error', fail, { once: true });
    }
    window.addEventListener('load', settle, { once: true });
  });
  return loading;
}

export const PLOT_CONFIG: Record<string, unknown> = {
  displaylogo: false,
  responsive: true,
  modeBarButtonsToRemove: ['toImage', 'select2d', 'lasso2d', 'autoScale2d'],
};
