/**
 * Latent dimensions × epochs heat map of σ_d, KL_d or Var(μ_d), dimensions sorted by KL_d at the
 * latest epoch of the last full draw (most informative first), so unused dimensions gather at the
 * bottom. z is kept epoch-major with transpose: true, so a new epoch is one new z row for
 * extendTraces instead of one element in every row.
 */
import type { EpochEvent } from '../shared/events';
import type { HeatmapMetric } from '../shared/protocol';
import { plotly, type PlotData, type PlotElement } from './plotly';
import { PlotView } from './plotView';
import { baseLayout, type ChartTheme } from './theme';

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
  if (!e) return [];
  return e.dims.kl.map((kl, d) => ({ kl: Number.isFinite(kl) ? kl : -Infinity, d })).sort((a, b) => b.kl - a.kl || a.d - b.d).map((x) => x.d);
}

export class DimensionHeatmap extends PlotView {
  private order: number[] = [];
  /** How many epochs the figure holds. */
  private shown = 0;

  constructor(
    el: PlotElement,
    private readonly epochs: () => readonly EpochEvent[],
    private view: { theme: ChartTheme; metric: HeatmapMetric },
  ) {
    super(el);
  }

  protected figure(): { data: PlotData[]; layout: Record<string, unknown> } {
    const epochs = this.epochs();
    this.order = orderByKl(epochs[epochs.length - 1]);
    this.shown = epochs.length;
    const { theme, metric } = this.view;
    const z = epochs.map((e) => this.row(e));
    const base = baseLayout(theme);
    const layout = {
      ...base,
      title: { text: `${HEATMAP_LABELS[metric]} per latent dimension, sorted by KL_d at epoch ${epochs[epochs.length - 1]?.epoch ?? '–'}`, font: { size: theme.fontSize, color: theme.foreground }, x: 0.02, xanchor: 'left' },
      yaxis: { ...(base.yaxis as object), title: { text: 'latent dimension' }, type: 'category', autorange: 'reversed', showgrid: false },
      xaxis: { ...(base.xaxis as object), showgrid: false },
      hovermode: 'closest',
      uirevision: metric,
    };
    const data = [{
      type: 'heatmap', transpose: true, x: epochs.map((e) => e.epoch), y: this.order.map((d) => `z${d + 1}`), z,
      colorscale: theme.heatScale, colorbar: { title: { text: HEATMAP_LABELS[metric], side: 'right' }, tickfont: { color: theme.foreground }, outlinewidth: 0 },
      hovertemplate: 'epoch %{x}, %{y}: %{z:.4g}<extra></extra>', zsmooth: false,
    }];
    return { data, layout };
  }

  private row(e: EpochEvent): number[] {
    const v = dimensionValues(e, this.view.metric);
    return this.order.map((d) => v[d]);
  }

  protected async extend(): Promise<void> {
    const fresh = this.epochs().slice(this.shown);
    if (fresh.length === 0) return;
    this.shown += fresh.length;
    await plotly().extendTraces(this.el, { x: [fresh.map((e) => e.epoch)], z: [fresh.map((e) => this.row(e))] }, [0]);
  }

  async setView(view: Partial<{ theme: ChartTheme; metric: HeatmapMetric }>): Promise<void> {
    this.view = { ...this.view, ...view };
    await this.render();
  }
}
