/**
 * Latent dimensions × epochs heat map of σ_d, KL_d or Var(μ_d), dimensions sorted by KL_d at the
 * latest epoch (most informative first), so unused dimensions gather at the bottom.
 *
 * Drawn by the panel itself, not by Plotly: Plotly paints heat-map cells into an off-screen canvas
 * and shows them as an <image> with a data: URL, which the panels' Content-Security-Policy blocks
 * (img-src allows only the webview's own resources), so the cells never showed in VS Code. Here the
 * cells are pixels of a small canvas (one pixel per epoch and dimension) scaled up without smoothing
 * onto the visible <canvas>; the axes, ticks and colour bar are SVG, coloured by the theme's CSS
 * variables. Nothing is loaded, so no policy relaxation is needed. A full draw of 100 dimensions ×
 * 1,000 epochs is a 100,000-pixel image, cheap enough that a new epoch simply redraws it.
 */
import type { EpochEvent } from '../shared/events';
import type { HeatmapMetric } from '../shared/panelState';
import { dimsByKl } from '../shared/latent';
import { clear, h, svg } from './dom';
import { formatNumber } from './format';
import { VisibleView } from './plotView';
import type { ChartTheme } from './theme';
import { epochTickStep, niceStep, ticksThatFit, ticksWithin } from './ticks';

export const HEATMAP_LABELS: Record<HeatmapMetric, string> = {
  sigma: 'σ_d = √E[σ_d²]',
  kl: 'KL_d (nats)',
  varMu: 'Var(μ_d)',
};

export function dimensionValues(e: EpochEvent, metric: HeatmapMetric): number[] {
  switch (metric) {
    case 'sigma':
      return e.dims.meanSigmaSq.map(Math.sqrt);
    case 'kl':
      return e.dims.kl;
    case 'varMu':
      return e.dims.varMu;
  }
}

/** Dimension indices, largest KL_d first (ties by index, so the order is stable). */
export function orderByKl(e: EpochEvent | undefined): number[] {
  return e ? dimsByKl(e.dims.kl) : [];
}

/** What the heat map shows: values[i][r] is epoch epochs[i], dimension dims[r] (top row first). */
export interface HeatmapFigure {
  epochs: number[];
  dims: string[];
  values: number[][];
  /** The colour scale's ends: the smallest and largest finite value. */
  min: number;
  max: number;
}

/** The heat map's element; `figure` is what it drew last (read by tests and benchmarks). */
export interface HeatmapElement extends HTMLElement {
  figure?: HeatmapFigure;
}

export function heatmapFigure(epochs: readonly EpochEvent[], metric: HeatmapMetric): HeatmapFigure {
  const order = orderByKl(epochs[epochs.length - 1]);
  let min = Infinity;
  let max = -Infinity;
  const values = epochs.map((e) => {
    const v = dimensionValues(e, metric);
    return order.map((d) => {
      const x = v[d];
      if (Number.isFinite(x)) {
        if (x < min) min = x;
        if (x > max) max = x;
      }
      return x;
    });
  });
  return { epochs: epochs.map((e) => e.epoch), dims: order.map((d) => `z${d + 1}`), values, min, max };
}

type Rgba = [number, number, number, number];

/** A CSS colour as RGBA bytes, resolved by the browser (any syntax a theme variable may hold). */
function parseColour(css: string, probe: CanvasRenderingContext2D): Rgba {
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = '#000';
  probe.fillStyle = css;
  probe.fillRect(0, 0, 1, 1);
  const d = probe.getImageData(0, 0, 1, 1).data;
  return [d[0], d[1], d[2], d[3]];
}

/** Maps t in [0, 1] through the theme's colour stops, linearly in RGB. */
function scaleColours(stops: Array<[number, Rgba]>): (t: number) => Rgba {
  return (t) => {
    const x = Math.min(1, Math.max(0, t));
    let i = 1;
    while (i < stops.length - 1 && stops[i][0] < x) i++;
    const [t0, c0] = stops[i - 1];
    const [t1, c1] = stops[i];
    const f = t1 > t0 ? (x - t0) / (t1 - t0) : 0;
    return [0, 1, 2, 3].map((k) => Math.round(c0[k] + (c1[k] - c0[k]) * f)) as Rgba;
  };
}

const MARGIN = { l: 66, r: 96, t: 34, b: 42 };
const BAR = { gap: 14, width: 14 };
let nextGradient = 0;

export class DimensionHeatmap extends VisibleView<HeatmapElement> {
  private readonly canvas = h('canvas', { class: 'heatmap-cells', role: 'img', 'data-testid': 'heatmap-cells' });
  private readonly axes = svg('svg', { class: 'heatmap-axes', 'aria-hidden': 'true' });
  private readonly tooltip = h('div', { class: 'heatmap-tooltip', 'aria-hidden': 'true', hidden: true });
  private readonly gradientId = `heatmap-scale-${nextGradient++}`;
  private readonly probe: CanvasRenderingContext2D;
  private cell = { w: 0, h: 0 };

  constructor(
    el: HTMLElement,
    private readonly epochs: () => readonly EpochEvent[],
    private view: { theme: ChartTheme; metric: HeatmapMetric },
  ) {
    super(el);
    el.append(this.canvas, this.axes, this.tooltip);
    const probe = h('canvas', { width: 1, height: 1 }).getContext('2d', { willReadFrequently: true });
    if (!probe) throw new Error('This browser gives no 2D canvas; the heat map cannot be drawn.');
    this.probe = probe;
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
  }

  protected drawAll(): void {
    const figure = heatmapFigure(this.epochs(), this.view.metric);
    this.el.figure = figure;
    const width = this.el.clientWidth;
    const height = this.el.clientHeight;
    const plot = { x: MARGIN.l, y: MARGIN.t, w: Math.max(10, width - MARGIN.l - MARGIN.r), h: Math.max(10, height - MARGIN.t - MARGIN.b) };
    this.drawCells(figure, plot);
    this.drawAxes(figure, plot, width, height);
    const label = HEATMAP_LABELS[this.view.metric];
    const last = figure.epochs[figure.epochs.length - 1];
    this.canvas.setAttribute('aria-label', figure.epochs.length
      ? `Heat map of ${label} for ${figure.dims.length} latent dimensions over epochs ${figure.epochs[0]} to ${last}, sorted by KL_d at epoch ${last}; values from ${formatNumber(figure.min)} to ${formatNumber(figure.max)}.`
      : `Heat map of ${label}: no epochs yet.`);
  }

  protected resized(): void {
    this.drawAll();
  }

  protected extend(): void {
    this.drawAll();
  }

  private colourOf(figure: HeatmapFigure): (v: number) => Rgba {
    const scale = scaleColours(this.view.theme.heatScale.map(([t, c]) => [t, parseColour(c, this.probe)]));
    const span = figure.max - figure.min;
    return (v) => (Number.isFinite(v) ? scale(span > 0 ? (v - figure.min) / span : 0.5) : [0, 0, 0, 0]);
  }

  private drawCells(figure: HeatmapFigure, plot: { x: number; y: number; w: number; h: number }): void {
    const dpr = window.devicePixelRatio || 1;
    const { canvas } = this;
    canvas.style.left = `${plot.x}px`;
    canvas.style.top = `${plot.y}px`;
    canvas.style.width = `${plot.w}px`;
    canvas.style.height = `${plot.h}px`;
    canvas.width = Math.round(plot.w * dpr);
    canvas.height = Math.round(plot.h * dpr);
    const ctx = canvas.getContext('2d');
    const cols = figure.epochs.length;
    const rows = figure.dims.length;
    this.cell = { w: cols ? plot.w / cols : 0, h: rows ? plot.h / rows : 0 };
    if (!ctx || cols === 0 || rows === 0) return;
    // One pixel per cell, then scaled up without smoothing: crisp cells at any size.
    const cells = h('canvas', { width: cols, height: rows });
    const cellCtx = cells.getContext('2d');
    if (!cellCtx) return;
    const image = cellCtx.createImageData(cols, rows);
    const colour = this.colourOf(figure);
    for (let i = 0; i < cols; i++) {
      const column = figure.values[i];
      for (let r = 0; r < rows; r++) image.data.set(colour(column[r]), (r * cols + i) * 4);
    }
    cellCtx.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(cells, 0, 0, canvas.width, canvas.height);
  }

  private drawAxes(figure: HeatmapFigure, plot: { x: number; y: number; w: number; h: number }, width: number, height: number): void {
    const { axes } = this;
    axes.setAttribute('width', String(width));
    axes.setAttribute('height', String(height));
    clear(axes);
    const text = (x: number, y: number, content: string, cls: string, extra: Record<string, string | number> = {}) => {
      const t = svg('text', { x: x.toFixed(1), y: y.toFixed(1), class: cls, ...extra });
      t.textContent = content;
      axes.append(t);
      return t;
    };
    const line = (x1: number, y1: number, x2: number, y2: number) => axes.append(svg('line', { x1, y1, x2, y2, class: 'heatmap-tick' }));
    const { metric, theme } = this.view;
    const last = figure.epochs[figure.epochs.length - 1];
    text(0.02 * width, 20, `${HEATMAP_LABELS[metric]} per latent dimension, sorted by KL_d at epoch ${last ?? '–'}`, 'heatmap-title');
    text(plot.x + plot.w / 2, height - 6, 'epoch', 'heatmap-axis-title', { 'text-anchor': 'middle' });
    text(14, plot.y + plot.h / 2, 'latent dimension', 'heatmap-axis-title', { 'text-anchor': 'middle', transform: `rotate(-90 14 ${(plot.y + plot.h / 2).toFixed(1)})` });
    axes.append(svg('rect', { x: plot.x, y: plot.y, width: plot.w, height: plot.h, class: 'heatmap-frame' }));
    if (figure.epochs.length === 0) return;

    // Epochs: whole numbers only, at the centre of their column.
    const first = figure.epochs[0];
    const step = epochTickStep(last - first, ticksThatFit(plot.w, 60));
    const column = new Map(figure.epochs.map((e, i) => [e, i]));
    for (const epoch of ticksWithin(first, last, step)) {
      const i = column.get(epoch);
      if (i === undefined) continue;
      const x = plot.x + (i + 0.5) * this.cell.w;
      line(x, plot.y + plot.h, x, plot.y + plot.h + 4);
      text(x, plot.y + plot.h + 17, String(epoch), 'heatmap-tick-label heatmap-x-tick', { 'text-anchor': 'middle' });
    }
    // Dimensions: every row when they fit, else every k-th.
    const every = Math.max(1, Math.ceil(13 / Math.max(this.cell.h, 1e-6)));
    figure.dims.forEach((d, r) => {
      if (r % every !== 0) return;
      text(plot.x - 6, plot.y + (r + 0.5) * this.cell.h + 4, d, 'heatmap-tick-label heatmap-y-tick', { 'text-anchor': 'end' });
    });

    // Colour bar: the theme's scale from the smallest value (bottom) to the largest (top).
    const barX = plot.x + plot.w + BAR.gap;
    const gradient = svg('linearGradient', { id: this.gradientId, x1: 0, y1: 1, x2: 0, y2: 0 });
    for (const [t, c] of theme.heatScale) gradient.append(svg('stop', { offset: t, 'stop-color': c }));
    const defs = svg('defs');
    defs.append(gradient);
    axes.append(defs, svg('rect', { x: barX, y: plot.y, width: BAR.width, height: plot.h, fill: `url(#${this.gradientId})`, class: 'heatmap-bar' }));
    const { min, max } = figure;
    if (Number.isFinite(min) && Number.isFinite(max)) {
      const span = max - min;
      const values = span > 0 ? ticksWithin(min, max, niceStep(span, ticksThatFit(plot.h, 40))) : [min];
      for (const v of values) {
        const y = plot.y + plot.h - (span > 0 ? (v - min) / span : 0.5) * plot.h;
        line(barX + BAR.width, y, barX + BAR.width + 3, y);
        text(barX + BAR.width + 5, y + 4, String(v), 'heatmap-tick-label heatmap-bar-tick');
      }
    }
  }

  private hover(e: MouseEvent): void {
    const figure = this.el.figure;
    if (!figure || this.cell.w <= 0 || this.cell.h <= 0) return;
    const box = this.canvas.getBoundingClientRect();
    const i = Math.floor((e.clientX - box.left) / this.cell.w);
    const r = Math.floor((e.clientY - box.top) / this.cell.h);
    const value = figure.values[i]?.[r];
    if (value === undefined) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.textContent = `epoch ${figure.epochs[i]}, ${figure.dims[r]}: ${formatNumber(value, 4)}`;
    this.tooltip.hidden = false;
    const host = this.el.getBoundingClientRect();
    this.tooltip.style.left = `${e.clientX - host.left + 12}px`;
    this.tooltip.style.top = `${e.clientY - host.top + 12}px`;
  }

  async setView(view: Partial<{ theme: ChartTheme; metric: HeatmapMetric }>): Promise<void> {
    this.view = { ...this.view, ...view };
    await this.render();
  }
}
