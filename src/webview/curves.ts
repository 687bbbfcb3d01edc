/**
 * The study's curves, shared by the run panel (train and test of one run) and the compare panel
 * (train and test of every run, one colour per run): loss, reconstruction and KL with a log-y
 * toggle, and mean μ and mean σ against epoch with their targets. Test is solid, train dotted.
 */
import type { EpochEvent, SplitMetrics } from '../shared/events';
import { h } from './dom';
import { LineChart, type LineSeries } from './lineChart';
import type { ChartTheme } from './theme';

interface CurveSpec {
  id: string;
  title: string;
  yTitle: string;
  target?: number;
  logCapable: boolean;
  value: (s: SplitMetrics) => number;
}

export const CURVES: CurveSpec[] = [
  { id: 'loss', title: 'Loss = reconstruction + C·KL', yTitle: 'nats per image', logCapable: true, value: (s) => s.loss },
  { id: 'reconstruction', title: 'Reconstruction loss', yTitle: 'nats per image', logCapable: true, value: (s) => s.reconstruction },
  { id: 'kl', title: 'KL(q(z|x) ‖ N(0, I))', yTitle: 'nats per image', logCapable: true, value: (s) => s.kl },
  { id: 'mean-mu', title: 'mean μ (target 0)', yTitle: 'mean μ', target: 0, logCapable: false, value: (s) => s.meanMu },
  { id: 'mean-sigma', title: 'mean σ (target 1)', yTitle: 'mean σ', target: 1, logCapable: false, value: (s) => s.meanSigma },
];

export interface CurveSource {
  /** Legend prefix ('' for the run panel's single run). */
  label: string;
  colour?: (theme: ChartTheme) => string;
}

/**
 * One entry of an HTML legend: a line sample in the series' colour and dash, then its name. The
 * colour is set through the element's style object (CSSOM), which the panels' CSP allows; a style
 * attribute would not be.
 */
export function legendEntry(colour: string, dash: 'solid' | 'dot', text: string): HTMLElement {
  const sample = h('span', { class: 'legend-line', 'aria-hidden': 'true' });
  sample.style.borderTopColor = colour;
  sample.style.borderTopStyle = dash === 'solid' ? 'solid' : 'dotted';
  return h('span', { class: 'legend-entry' }, sample, text);
}

export const SMOOTHING_CHOICES = [0, 0.6, 0.8, 0.9, 0.95];

interface Toggle extends HTMLElement {
  checked: boolean;
  value: string;
}

export class CurveSet {
  readonly el: HTMLElement;
  readonly charts: LineChart[] = [];
  private readonly legend: HTMLElement;
  private readonly sources: CurveSource[];

  /** Line samples for every series: colour per run (or per split for one run), solid test, dotted train. */
  private drawLegend(sources: CurveSource[], theme: ChartTheme): void {
    const entries: HTMLElement[] = [];
    for (const src of sources) {
      for (const split of ['test', 'train'] as const) {
        entries.push(legendEntry(src.colour ? src.colour(theme) : split === 'test' ? theme.test : theme.train, split === 'test' ? 'solid' : 'dot', `${src.label ? src.label + ' ' : ''}${split}`));
      }
    }
    this.legend.replaceChildren(...entries);
  }

  constructor(
    sources: CurveSource[],
    epochs: () => readonly EpochEvent[][],
    view: { theme: ChartTheme; smoothing: number; logY: boolean },
    onToggle: (change: { smoothing?: number; logY?: boolean }) => void,
  ) {
    const logY = h('vscode-checkbox', { label: 'Log scale for losses', checked: view.logY, 'data-testid': 'log-y' }) as Toggle;
    const smoothingId = `smoothing-${Math.random().toString(36).slice(2)}`;
    const smoothing = h('vscode-single-select', { id: smoothingId, label: 'Smoothing', 'aria-label': 'Smoothing', 'data-testid': 'smoothing' }) as Toggle;
    for (const w of SMOOTHING_CHOICES) {
      smoothing.append(h('vscode-option', { value: String(w), selected: w === view.smoothing }, w === 0 ? 'off (raw only)' : `EMA ${w}`));
    }
    logY.addEventListener('change', () => {
      void this.setView({ logY: logY.checked });
      onToggle({ logY: logY.checked });
    });
    smoothing.addEventListener('change', () => {
      const w = Number(smoothing.value);
      if (!Number.isFinite(w)) return;
      void this.setView({ smoothing: w });
      onToggle({ smoothing: w });
    });
    const grid = h('div', { class: 'chart-grid' });
    for (const curve of CURVES) {
      const series: LineSeries[] = [];
      sources.forEach((src, i) => {
        for (const split of ['test', 'train'] as const) {
          series.push({
            name: `${src.label ? src.label + ' ' : ''}${split}`,
            source: i,
            dash: split === 'test' ? 'solid' : 'dot',
            colour: src.colour ?? ((t) => (split === 'test' ? t.test : t.train)),
            value: (e) => curve.value(e[split]),
          });
        }
      });
      // A figure, not an image: Plotly puts focusable controls (the mode bar) inside the chart, which an image must not contain.
      const el = h('div', { class: 'chart', 'data-chart': curve.id, role: 'figure', 'aria-label': `${curve.title}, train and test against epoch` });
      grid.append(el);
      this.charts.push(new LineChart(el, { title: curve.title, yTitle: curve.yTitle, target: curve.target, logCapable: curve.logCapable, series }, epochs, view));
    }
    this.legend = h('div', { class: 'curve-legend', 'data-testid': 'curve-legend', 'aria-label': 'Legend' });
    this.drawLegend(sources, view.theme);
    this.sources = sources;
    this.el = h('div', { class: 'curves' },
      h('div', { class: 'toolbar' }, logY, h('label', { for: smoothingId, class: 'toolbar-label' }, 'Smoothing'), smoothing, this.legend),
      grid,
    );
  }

  async render(): Promise<void> {
    await Promise.all(this.charts.map((c) => c.render()));
  }

  /** New epochs are in the sources: extend every chart with them. */
  async update(): Promise<void> {
    await Promise.all(this.charts.map((c) => c.update()));
  }

  async setView(view: Partial<{ theme: ChartTheme; smoothing: number; logY: boolean }>): Promise<void> {
    if (view.theme) this.drawLegend(this.sources, view.theme);
    await Promise.all(this.charts.map((c) => c.setView(view)));
  }

  async show(): Promise<void> {
    await Promise.all(this.charts.map((c) => c.show()));
  }

  hide(): void {
    for (const c of this.charts) c.hide();
  }
}
