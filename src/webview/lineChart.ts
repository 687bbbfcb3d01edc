/**
 * One Plotly line chart against epoch, fed by epoch events. New epochs are appended with
 * Plotly.extendTraces (no full redraw, no flicker); a full react() happens only for a snapshot or a
 * change of smoothing or theme. With smoothing on, each series has its raw trace (faint, still
 * visible) and its smoothed trace (solid) in the same colour. The epoch axis ticks whole epochs
 * only (Plotly's own ticks would put 0.5 and 1.5 on a short run): a fixed step chosen for the shown
 * range, chosen again when epochs are added or the user zooms.
 */
import type { EpochEvent } from '../shared/events';
import { plotly, type PlotData, type PlotElement } from './plotly';
import { PlotView } from './plotView';
import { Ema } from './series';
import { baseLayout, type ChartTheme } from './theme';
import { epochTickStep, ticksThatFit } from './ticks';

export interface LineSeries {
  name: string;
  /** Which of the chart's sources (runs) this series reads. */
  source: number;
  colour: (theme: ChartTheme) => string;
  dash: 'solid' | 'dot';
  /** Marks each point too (a measure taken every few epochs, whose points matter more than the line). */
  markers?: boolean;
  value: (e: EpochEvent) => number;
}

/** A series' mode: a single point is drawn as a marker (a line needs two), then as a line (with markers when asked). */
function lineMode(series: LineSeries, points: number): string {
  if (points === 1) return 'markers';
  return series.markers ? 'lines+markers' : 'lines';
}

export interface LineChartOptions {
  title: string;
  yTitle: string;
  /** Dashed horizontal line: where the curve should end up (mean μ → 0, mean σ → 1). */
  target?: number;
  /** Whether the log-y toggle applies. */
  logCapable: boolean;
  series: LineSeries[];
}

export class LineChart extends PlotView {
  private emas: Ema[] = [];
  /** Per series: how many of its source's epochs the traces hold. */
  private shown: number[] = [];

  constructor(
    el: PlotElement,
    readonly options: LineChartOptions,
    private readonly sources: () => readonly EpochEvent[][],
    private view: { theme: ChartTheme; smoothing: number; logY: boolean },
  ) {
    super(el);
  }

  /** Traces per series: raw, plus smoothed when smoothing is on. */
  get tracesPerSeries(): number {
    return this.view.smoothing > 0 ? 2 : 1;
  }

  protected figure(): { data: PlotData[]; layout: Record<string, unknown> } {
    const { theme } = this.view;
    const base = baseLayout(theme);
    const shapes = this.options.target === undefined ? [] : [{
      type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y', y0: this.options.target, y1: this.options.target,
      line: { color: theme.muted, width: 1, dash: 'dash' },
    }];
    const layout = {
      ...base,
      title: { text: this.options.title, font: { size: theme.fontSize, color: theme.foreground }, x: 0.02, xanchor: 'left' },
      xaxis: { ...(base.xaxis as object), tickmode: 'linear', tick0: 0, dtick: this.tickStep(this.epochRange()) },
      yaxis: { ...(base.yaxis as object), title: { text: this.options.yTitle }, type: this.options.logCapable && this.view.logY ? 'log' : 'linear' },
      shapes,
      // One HTML legend serves every chart (CurveSet): a Plotly legend per chart costs a third of each redraw.
      showlegend: false,
      uirevision: 'keep',
    };
    return { data: this.traces(), layout };
  }

  /** First and last epoch over every series' source. */
  private epochRange(): [number, number] {
    let lo = Infinity;
    let hi = -Infinity;
    for (const epochs of this.sources()) {
      if (epochs.length === 0) continue;
      lo = Math.min(lo, epochs[0].epoch);
      hi = Math.max(hi, epochs[epochs.length - 1].epoch);
    }
    return Number.isFinite(lo) ? [lo, hi] : [0, 1];
  }

  private tickStep([lo, hi]: readonly number[]): number {
    return epochTickStep(hi - lo, ticksThatFit(this.el.clientWidth - 80, 60));
  }

  /** Sets the tick step for the range the x axis shows now (after new epochs, a zoom, or a resize). */
  private async retick(): Promise<void> {
    const range = (this.el.layout?.xaxis as { range?: number[] } | undefined)?.range;
    const step = this.tickStep(range && range.length === 2 ? range : this.epochRange());
    if ((this.el.layout?.xaxis as { dtick?: number } | undefined)?.dtick !== step) await (await plotly()).relayout(this.el, { 'xaxis.dtick': step });
  }

  protected override async drawAll(): Promise<void> {
    const first = !this.drawn;
    await super.drawAll();
    if (!first) return;
    // A zoom or pan (or a double-click back to the full range) picks the step for the new range.
    this.el.on?.('plotly_relayout', (update) => {
      if (Object.keys(update).some((k) => k.startsWith('xaxis.range') || k === 'xaxis.autorange')) void this.enqueue(() => this.retick());
    });
  }

  protected override async resized(): Promise<void> {
    await super.resized();
    await this.retick();
  }

  private traces(): PlotData[] {
    const sources = this.sources();
    const smoothing = this.view.smoothing;
    this.emas = [];
    this.shown = [];
    const out: PlotData[] = [];
    for (const s of this.options.series) {
      const epochs = sources[s.source] ?? [];
      this.shown.push(epochs.length);
      const x = epochs.map((e) => e.epoch);
      const y = epochs.map(s.value);
      const colour = s.colour(this.view.theme);
      out.push({
        type: 'scatter', mode: lineMode(s, epochs.length), name: s.name, x, y, legendgroup: s.name,
        line: { color: colour, dash: s.dash, width: smoothing > 0 ? 1 : 1.6 }, marker: { color: colour, size: 6 },
        opacity: smoothing > 0 ? 0.35 : 1, hovertemplate: '%{y:.4g}',
      });
      const ema = new Ema(smoothing);
      this.emas.push(ema);
      if (smoothing > 0) {
        out.push({
          type: 'scatter', mode: 'lines', name: s.name, x: x.slice(), y: y.map((v) => ema.push(v)), legendgroup: s.name,
          line: { color: colour, dash: s.dash, width: 1.8 }, hovertemplate: '%{y:.4g} (smoothed)',
        });
      }
    }
    return out;
  }

  /** Appends each series' epochs that its traces do not hold yet. */
  protected async extend(): Promise<void> {
    const sources = this.sources();
    const x: number[][] = [];
    const y: number[][] = [];
    const indices: number[] = [];
    const per = this.tracesPerSeries;
    this.options.series.forEach((s, i) => {
      const epochs = sources[s.source] ?? [];
      const fresh = epochs.slice(this.shown[i]);
      if (fresh.length === 0) return;
      this.shown[i] = epochs.length;
      const xs = fresh.map((e) => e.epoch);
      const ys = fresh.map(s.value);
      indices.push(i * per);
      x.push(xs);
      y.push(ys);
      if (per === 2) {
        indices.push(i * per + 1);
        x.push(xs.slice());
        y.push(ys.map((v) => this.emas[i].push(v)));
      }
    });
    if (indices.length === 0) return;
    const wasSinglePoint = this.el.data?.some((t, i) => indices.includes(i) && (t.x?.length ?? 0) <= 1);
    await (await plotly()).extendTraces(this.el, { x, y }, indices);
    if (wasSinglePoint) {
      const raw = indices.filter((_, k) => per === 1 || k % 2 === 0);
      await (await plotly()).restyle(this.el, { mode: raw.map((t) => lineMode(this.options.series[Math.floor(t / per)], 2)) }, raw);
    }
    await this.retick();
  }

  async setView(view: Partial<{ theme: ChartTheme; smoothing: number; logY: boolean }>): Promise<void> {
    const onlyLog = view.logY !== undefined && view.smoothing === undefined && view.theme === undefined;
    this.view = { ...this.view, ...view };
    if (onlyLog && this.drawn && !this.stale) {
      if (this.options.logCapable) await this.enqueue(async () => void (await (await plotly()).relayout(this.el, { 'yaxis.type': this.view.logY ? 'log' : 'linear' })));
      return;
    }
    await this.render();
  }
}
