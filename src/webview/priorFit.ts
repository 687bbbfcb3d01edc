/**
 * The prior fit in the panels: whether images decoded from z ~ N(0, I) will look like data, and how
 * good the model is. A summary beside the gauges (the latest epoch with diagnostics: one sentence and
 * a table), charts on the curves tab (every epoch's −ELBO at C = 1, the diagnostics where taken),
 * and the rows the compare panel's final-metrics table adds. The numbers are read by the shared
 * rules of src/shared/priorFit.ts, the same the export writes.
 */
import type { EpochDiagnostics, EpochEvent } from '../shared/events';
import { informationAtCeiling, informationCeiling, latestDiagnostics, testNegElbo } from '../shared/priorFit';
import { isLiveStatus, type RunInfo } from '../shared/run';
import { legendEntry } from './curves';
import { h } from './dom';
import { formatNumber } from './format';
import { LineChart, type LineSeries } from './lineChart';
import { plotly, type PlotData, type PlotLayout } from './plotly';
import { PlotView } from './plotView';
import { baseLayout, type ChartTheme } from './theme';
import { epochTickStep, ticksThatFit } from './ticks';

type Measured = EpochEvent & { diagnostics: EpochDiagnostics };

export function formatNats(x: number): string {
  return `${formatNumber(x, 2)} nats`;
}

/** A share as a percentage with one decimal: 0.0123 → "1.2%". */
export function formatPercent(share: number): string {
  return `${formatNumber(share * 100, 1)}%`;
}

/** ln N as the panels write it, N the images the estimate used: "ln 2,000 = 7.60". */
function lnImages(d: EpochDiagnostics): string {
  return `ln ${d.images.toLocaleString('en-US')} = ${informationCeiling(d).toFixed(2)}`;
}

export const PRIOR_FIT_LABELS = {
  'neg-elbo': '−ELBO at C = 1 (test)',
  'iw-nll': 'IW-NLL (test)',
  information: 'I(x; z), a lower estimate',
  'mean-kl': 'mean KL(q(z|x) ‖ p(z))',
  'marginal-kl': 'marginal KL(q(z) ‖ p(z))',
  moment: 'moment part',
  'non-gaussian': 'non-Gaussian part',
  'hole-rate': 'prior hole rate',
  'fixed-noise-hole-rate': 'fixed-noise hole rate',
} as const;
export type PriorFitRowId = keyof typeof PRIOR_FIT_LABELS;

/** The rows the compare panel's final-metrics table adds, in order. */
export const COMPARE_PRIOR_FIT_ROWS: readonly PriorFitRowId[] = ['neg-elbo', 'iw-nll', 'information', 'marginal-kl', 'moment', 'non-gaussian', 'hole-rate'];

export interface PriorFitRow {
  id: PriorFitRowId;
  label: string;
  value: string;
  /** What the number is, or why to read it with care. */
  note: string;
}

function row(id: PriorFitRowId, value: string, note: string): PriorFitRow {
  return { id, label: PRIOR_FIT_LABELS[id], value, note };
}

/** −ELBO at C = 1 of any epoch (every epoch has it). */
export function negElboRow(e: EpochEvent): PriorFitRow {
  return row('neg-elbo', formatNats(testNegElbo(e)),
    e.klWeight === 1 ? 'reconstruction + KL on the test set: the test loss' : `reconstruction + KL on the test set; the test loss weighs the KL by C = ${e.klWeight}`);
}

/** The diagnostics of an epoch, one row per measure. */
export function diagnosticRows(d: EpochDiagnostics): PriorFitRow[] {
  const atCeiling = informationAtCeiling(d);
  const iw = d.iwNll;
  return [
    iw
      ? row('iw-nll', `${formatNats(iw.value)} (k = ${iw.k})`, `importance-weighted, ${iw.k} samples per image on the first ${iw.images.toLocaleString('en-US')} test images`)
      : row('iw-nll', '–', 'not measured in this run (iwSamples 0)'),
    row('information', `≥ ${formatNats(d.mutualInformation)}${atCeiling ? ` (at ${lnImages(d)})` : ''}`,
      atCeiling
        ? `cannot exceed ln N = ${lnImages(d)}, N the images used: the information may be higher, and the marginal KL and its non-Gaussian part lower`
        : `information the codes carry about the first ${d.images.toLocaleString('en-US')} test images`),
    row('mean-kl', formatNats(d.meanKl), 'the KL term at C = 1 = I(x; z) + marginal KL'),
    row('marginal-kl', formatNats(d.marginalKl), 'mean KL − I(x; z): the KL spent on prior mismatch, not on information'),
    row('moment', formatNats(d.moments.total),
      `q(z)'s mean and covariance against N(0, I): mean shift ${formatNumber(d.moments.meanShift, 2)}, correlations ${formatNumber(d.moments.correlation, 2)}`),
    row('non-gaussian', formatNats(d.nonGaussian), 'what no mean or covariance explains: the holes'),
    row('hole-rate', formatPercent(d.holeRate), `of ${d.priorSamples.toLocaleString('en-US')} samples z ~ N(0, I)`),
    row('fixed-noise-hole-rate', formatPercent(d.fixedNoiseHoleRate), 'of the run\'s fixed prior noise: the z its prior-sample images decode'),
  ];
}

/** The run panel's table: an epoch with diagnostics. */
export function priorFitRows(e: Measured): PriorFitRow[] {
  return [negElboRow(e), ...diagnosticRows(e.diagnostics)];
}

/** "12.3% of prior samples land where no test image's posterior puts mass." */
export function holeSentence(d: EpochDiagnostics): string {
  return `${formatPercent(d.holeRate)} of prior samples land where no test image's posterior puts mass.`;
}

/**
 * Why a run has no diagnostics to show. The trainer measures every diagnosticsEvery epochs and at
 * the last, so a finished run without any that got past its first was trained before VAE Lens
 * measured them (its run.json reads with today's defaults, so the config cannot tell).
 */
function absentNote(info: RunInfo, epochs: readonly EpochEvent[]): string {
  const every = info.config.diagnosticsEvery;
  if (every === 0) return 'This run does not measure the prior fit (diagnosticsEvery is 0).';
  const first = Math.min(every, info.config.epochs);
  if (isLiveStatus(info.status)) return `The first prior-fit measures come after epoch ${first}, then every ${every} epochs and at the last.`;
  const done = epochs[epochs.length - 1]?.epoch ?? 0;
  if (done < first) return `The run stopped before its first prior-fit measures (after epoch ${first}).`;
  return 'This run has no prior-fit measures: it was trained before VAE Lens took them.';
}

/** The run panel's summary beside the gauges: the latest epoch with diagnostics. */
export class PriorFitSummary {
  readonly el: HTMLElement;
  private readonly heading = h('h2', { id: 'prior-fit-heading' }, 'Prior fit');
  private readonly body = h('div', { class: 'prior-fit-body' });

  constructor() {
    this.el = h('section', { class: 'prior-fit', 'aria-labelledby': 'prior-fit-heading', 'data-testid': 'prior-fit' }, this.heading, this.body);
  }

  set(info: RunInfo, epochs: readonly EpochEvent[]): void {
    const e = latestDiagnostics(epochs);
    this.el.dataset.epoch = e ? String(e.epoch) : '';
    if (!e) {
      this.heading.textContent = 'Prior fit';
      this.body.replaceChildren(h('p', { class: 'prior-fit-note', 'data-testid': 'prior-fit-absent' }, absentNote(info, epochs)));
      return;
    }
    this.heading.textContent = `Prior fit at epoch ${e.epoch}`;
    const rows = priorFitRows(e).map((r) =>
      h('tr', { 'data-row': r.id },
        h('th', { scope: 'row' }, r.label),
        h('td', { class: 'prior-fit-value' }, r.value),
        h('td', { class: 'prior-fit-detail' }, r.note),
      ),
    );
    this.body.replaceChildren(
      h('p', { class: 'prior-fit-sentence', 'data-testid': 'prior-fit-sentence' }, holeSentence(e.diagnostics)),
      h('table', { class: 'kv prior-fit-table', 'data-testid': 'prior-fit-table' }, h('tbody', {}, ...rows)),
    );
  }
}

interface ChartSpec {
  id: string;
  title: string;
  yTitle: string;
  series: Array<Omit<LineSeries, 'source'> & { source: 'all' | 'diagnostics' | 'iw' }>;
}

const SOURCES = ['all', 'diagnostics', 'iw'] as const;

/** d! for series read from epochs filtered to those with diagnostics. */
const diag = (e: EpochEvent): EpochDiagnostics => e.diagnostics as EpochDiagnostics;

const CHARTS: ChartSpec[] = [
  {
    id: 'prior-fit-likelihood', title: 'Test −ELBO at C = 1 and IW-NLL', yTitle: 'nats per image',
    series: [
      { name: '−ELBO at C = 1', source: 'all', colour: (t) => t.test, dash: 'solid', value: testNegElbo },
      { name: 'IW-NLL', source: 'iw', colour: (t) => t.runs[2], dash: 'solid', markers: true, value: (e) => diag(e).iwNll?.value ?? NaN },
    ],
  },
  {
    id: 'prior-fit-information', title: 'Mean KL = I(x; z) + marginal KL', yTitle: 'nats per image',
    series: [
      { name: 'mean KL', source: 'diagnostics', colour: (t) => t.runs[0], dash: 'solid', markers: true, value: (e) => diag(e).meanKl },
      { name: 'I(x; z) ≥', source: 'diagnostics', colour: (t) => t.runs[2], dash: 'solid', markers: true, value: (e) => diag(e).mutualInformation },
      { name: 'marginal KL', source: 'diagnostics', colour: (t) => t.runs[4], dash: 'solid', markers: true, value: (e) => diag(e).marginalKl },
    ],
  },
  {
    id: 'prior-fit-gap', title: 'Marginal KL = moment part + non-Gaussian part', yTitle: 'nats',
    series: [
      { name: 'moment part', source: 'diagnostics', colour: (t) => t.runs[3], dash: 'solid', markers: true, value: (e) => diag(e).moments.total },
      { name: 'non-Gaussian part', source: 'diagnostics', colour: (t) => t.runs[5], dash: 'solid', markers: true, value: (e) => diag(e).nonGaussian },
    ],
  },
  {
    id: 'prior-fit-holes', title: 'Prior samples in holes of q(z)', yTitle: '% of prior samples',
    series: [
      { name: 'hole rate', source: 'diagnostics', colour: (t) => t.runs[1], dash: 'solid', markers: true, value: (e) => 100 * diag(e).holeRate },
      { name: 'fixed prior noise', source: 'diagnostics', colour: (t) => t.runs[1], dash: 'dot', markers: true, value: (e) => 100 * diag(e).fixedNoiseHoleRate },
    ],
  },
];

/**
 * The moment part of the latest epoch with diagnostics, split two ways: per latent dimension (what
 * each dimension's mean and variance add, correlations left out) and per eigenvalue of q(z)'s
 * covariance, largest first (correlations included). Redrawn when a newer epoch has diagnostics.
 */
export class MomentBars extends PlotView {
  private shownEpoch: number | undefined;

  constructor(
    el: HTMLElement,
    private readonly epochs: () => readonly EpochEvent[],
    private theme: ChartTheme,
  ) {
    super(el);
  }

  protected figure(): { data: PlotData[]; layout: PlotLayout } {
    const e = latestDiagnostics(this.epochs());
    this.shownEpoch = e?.epoch;
    const m = e?.diagnostics.moments;
    const index = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    const base = baseLayout(this.theme);
    const d = m?.perDimension.length ?? 0;
    // Whole-number ticks (dimension and eigenvalue numbers), as on the epoch axes; half the width each.
    const step = epochTickStep(Math.max(d - 1, 1), ticksThatFit(this.el.clientWidth / 2 - 60, 30));
    const axis = (domain: number[], title: string) => ({ ...(base.xaxis as object), domain, title: { text: title }, tickmode: 'linear', tick0: 1, dtick: step });
    return {
      data: m
        ? [
          { type: 'bar', name: 'per dimension', x: index(d), y: m.perDimension, xaxis: 'x', yaxis: 'y', marker: { color: this.theme.runs[3] }, hovertemplate: 'z%{x}: %{y:.3f} nats<extra></extra>' },
          { type: 'bar', name: 'per eigenvalue', x: index(m.perEigenvalue.length), y: m.perEigenvalue, xaxis: 'x2', yaxis: 'y', marker: { color: this.theme.runs[0] }, hovertemplate: 'eigenvalue %{x}: %{y:.3f} nats<extra></extra>' },
        ]
        : [],
      layout: {
        ...base,
        title: { text: e ? `Moment part at epoch ${e.epoch}: per dimension and per eigenvalue` : 'Moment part', font: { size: this.theme.fontSize, color: this.theme.foreground }, x: 0.02, xanchor: 'left' },
        xaxis: axis([0, 0.47], 'dimension'),
        xaxis2: { ...axis([0.53, 1], 'eigenvalue, largest first'), anchor: 'y' },
        yaxis: { ...(base.yaxis as object), title: { text: 'nats' } },
        showlegend: false,
        hovermode: 'closest',
      },
    };
  }

  /** A newer epoch with diagnostics: its bars and title replace the old ones in place (a restyle, not a redraw). */
  protected async extend(): Promise<void> {
    const e = latestDiagnostics(this.epochs());
    if (e?.epoch === this.shownEpoch) return;
    const { data, layout } = this.figure();
    if ((this.el.data?.length ?? 0) !== data.length) {
      await this.drawAll();
      return;
    }
    await (await plotly()).restyle(this.el, { x: data.map((t) => t.x), y: data.map((t) => t.y) }, data.map((_, i) => i));
    await (await plotly()).relayout(this.el, { 'title.text': (layout.title as { text: string }).text });
  }

  async setTheme(theme: ChartTheme): Promise<void> {
    this.theme = theme;
    await this.render();
  }
}

/**
 * The curves tab's prior-fit charts. The −ELBO at C = 1 exists for every epoch of every run; the
 * diagnostics' charts are shown once an epoch has them (a note stands in for them before).
 */
export class PriorFitCharts {
  readonly el: HTMLElement;
  readonly charts: LineChart[] = [];
  private readonly moments: MomentBars;
  private readonly figures: HTMLElement[] = [];
  private readonly legends: HTMLElement[] = [];
  private readonly note = h('p', { class: 'prior-fit-note', 'data-testid': 'prior-fit-charts-absent' });
  private theme: ChartTheme;

  constructor(
    private readonly epochs: () => readonly EpochEvent[],
    private readonly info: () => RunInfo,
    theme: ChartTheme,
  ) {
    this.theme = theme;
    const sources = (): EpochEvent[][] => {
      const all = this.epochs() as EpochEvent[];
      const measured = all.filter((e) => e.diagnostics);
      return [all, measured, measured.filter((e) => e.diagnostics?.iwNll)];
    };
    const grid = h('div', { class: 'chart-grid' });
    for (const spec of CHARTS) {
      const el = h('div', { class: 'chart', 'data-chart': spec.id, role: 'figure', 'aria-label': `${spec.title}, against epoch` });
      const legend = h('div', { class: 'curve-legend prior-fit-legend', 'aria-label': `Legend: ${spec.title}` });
      const series = spec.series.map((s): LineSeries => ({ ...s, source: SOURCES.indexOf(s.source) }));
      this.charts.push(new LineChart(el, { title: spec.title, yTitle: spec.yTitle, logCapable: false, series }, sources, { theme, smoothing: 0, logY: false }));
      const figure = h('div', { class: 'prior-fit-figure', 'data-figure': spec.id }, el, legend);
      this.figures.push(figure);
      this.legends.push(legend);
      grid.append(figure);
    }
    const bars = h('div', { class: 'chart', 'data-chart': 'prior-fit-moments', role: 'figure', 'aria-label': 'Moment part of the marginal KL per latent dimension and per eigenvalue of the covariance, latest measured epoch' });
    this.moments = new MomentBars(bars, epochs, theme);
    const barsFigure = h('div', { class: 'prior-fit-figure', 'data-figure': 'prior-fit-moments' }, bars);
    this.figures.push(barsFigure);
    grid.append(barsFigure);
    this.el = h('section', { class: 'prior-fit-charts', 'aria-labelledby': 'prior-fit-charts-heading', 'data-testid': 'prior-fit-charts' },
      h('h2', { id: 'prior-fit-charts-heading' }, 'Prior fit and likelihood'), this.note, grid);
    this.drawLegends();
    this.sync();
  }

  private drawLegends(): void {
    CHARTS.forEach((spec, i) => this.legends[i].replaceChildren(...spec.series.map((s) => legendEntry(s.colour(this.theme), s.dash, s.name))));
  }

  /** Shows the diagnostics' charts once an epoch has them, the note until then. */
  private sync(): void {
    const measured = latestDiagnostics(this.epochs()) !== undefined;
    this.figures.forEach((f, i) => (f.hidden = i > 0 && !measured));
    this.note.hidden = measured;
    this.note.textContent = measured ? '' : absentNote(this.info(), this.epochs());
  }

  async render(): Promise<void> {
    this.sync();
    await Promise.all([...this.charts.map((c) => c.render()), this.moments.render()]);
  }

  async update(): Promise<void> {
    this.sync();
    await Promise.all([...this.charts.map((c) => c.update()), this.moments.update()]);
  }

  async setTheme(theme: ChartTheme): Promise<void> {
    this.theme = theme;
    this.drawLegends();
    await Promise.all([...this.charts.map((c) => c.setView({ theme })), this.moments.setTheme(theme)]);
  }

  async show(): Promise<void> {
    await Promise.all([...this.charts.map((c) => c.show()), this.moments.show()]);
  }

  hide(): void {
    for (const c of this.charts) c.hide();
    this.moments.hide();
  }
}
