/**
 * The compare panel (2–6 runs): one colour per run everywhere (legend, curves, images, tables);
 * every curve overlaid; prior samples side by side at the same epoch (same noise when the runs
 * share a seed, as the study compared its two experiments); the configuration differences only;
 * final metrics side by side, with each run's latest prior fit.
 */
import { architectureOf, CONFIG_FIELDS, type TrainConfig } from '../shared/config';
import { describeLayer, describeLikelihood, diffLines, type DiffLine } from '../shared/architecture';
import type { EpochEvent } from '../shared/events';
import type { HealthLevel, HealthSettings } from '../shared/health';
import type { UiState } from '../shared/panelState';
import type { AppendMessage, RunView } from '../shared/protocol';
import { mergeAppendedEpochs } from '../shared/runRules';
import { activeFindings, imageEpochs, imageUrl, progressText, renderWarnings } from './common';
import { CurveSet } from './curves';
import { h } from './dom';
import { formatConfigValue, formatNumber, formatRate } from './format';
import { GAUGES } from './gauges';
import type { PanelHost } from './host';
import { EpochImages, swatch } from './images';
import { COMPARE_PRIOR_FIT_ROWS, diagnosticRows, negElboRow, PRIOR_FIT_LABELS } from './priorFit';
import { latestDiagnostics } from '../shared/priorFit';
import type { ChartTheme } from './theme';

/** Shown elsewhere: the run name is each run's identity; the layer lists and the likelihood have their own diff (networkDifferences). */
const NOT_IN_CONFIG_TABLE: ReadonlySet<string> = new Set(['name', 'encoder', 'decoder', 'likelihood']);

/** Config keys whose values differ between the runs, apart from those shown elsewhere. */
export function configDifferences(configs: TrainConfig[]): (keyof TrainConfig)[] {
  const keys = Object.keys(CONFIG_FIELDS) as (keyof TrainConfig)[];
  return keys.filter((k) => !NOT_IN_CONFIG_TABLE.has(k) && new Set(configs.map((c) => JSON.stringify(c[k] ?? null))).size > 1);
}

export interface NetworkDiff {
  encoder: DiffLine[];
  decoder: DiffLine[];
  /** The likelihood of each run when they differ. */
  likelihood: [string, string] | null;
  /** Whether anything differs. */
  differs: boolean;
}

/**
 * How run b's network differs from run a's: each layer list as readable lines ("conv2d 32 filters,
 * 4×4, stride 2, same"), diffed line by line; presets are written in the same layer language.
 */
export function networkDifferences(a: TrainConfig, b: TrainConfig): NetworkDiff {
  const [na, nb] = [architectureOf(a), architectureOf(b)];
  const lines = (layers: typeof na.encoder) => layers.map(describeLayer);
  const encoder = diffLines(lines(na.encoder), lines(nb.encoder));
  const decoder = diffLines(lines(na.decoder), lines(nb.decoder));
  // Runs recorded before likelihoods were configurable have none in run.json: Bernoulli.
  const [la, lb] = [a, b].map((c) => describeLikelihood(c.likelihood ?? { type: 'bernoulli' }));
  const likelihood: [string, string] | null = la === lb ? null : [la, lb];
  const differs = likelihood !== null || [...encoder, ...decoder].some((l) => l.kind !== 'same');
  return { encoder, decoder, likelihood, differs };
}

interface FinalMetric {
  label: string;
  /** `measured`: the run's epochs (the gauges judge prior holes by the latest diagnostics among them). */
  read: (e: EpochEvent, s: HealthSettings, measured: readonly EpochEvent[]) => { text: string; level?: HealthLevel };
}

const FINAL_METRICS: FinalMetric[] = [
  { label: 'test loss', read: (e) => ({ text: formatNumber(e.test.loss, 2) }) },
  { label: 'test reconstruction', read: (e) => ({ text: formatNumber(e.test.reconstruction, 2) }) },
  { label: 'test KL', read: (e) => ({ text: formatNumber(e.test.kl, 2) }) },
  { label: 'train loss', read: (e) => ({ text: formatNumber(e.train.loss, 2) }) },
  // The convergence numbers, read and judged exactly as the run panel's gauges show them.
  ...GAUGES.map((g): FinalMetric => ({ label: g.label, read: g.read })),
  { label: 'samples/s', read: (e) => ({ text: formatRate(e.samplesPerSecond) }) },
];

export class ComparePanelView {
  private readonly curves: CurveSet;
  private readonly images: EpochImages;
  private readonly legend = h('ul', { class: 'run-legend', 'data-testid': 'run-legend' });
  private readonly finalTable = h('div', { class: 'table-wrap' });
  private readonly diffTable = h('div', { class: 'table-wrap' });
  private readonly networkDiff = h('div', { class: 'network-diff', 'data-testid': 'network-diff' });
  private readonly warnings = h('div', { class: 'warnings', 'data-testid': 'warnings' });
  private readonly findings = h('details', { class: 'findings' });

  constructor(
    private readonly root: HTMLElement,
    private readonly host: PanelHost,
    private runs: RunView[],
    private health: HealthSettings,
    private readonly interactive: boolean,
    private ui: UiState,
    private theme: ChartTheme,
  ) {
    const sources = runs.map((r, i) => ({ label: r.info.name, colour: (t: ChartTheme) => t.runs[i % t.runs.length] }));
    this.curves = new CurveSet(sources, () => this.runs.map((r) => r.epochs), { theme, smoothing: ui.smoothing, logY: ui.logY }, (change) => this.saveUi(change));
    this.images = new EpochImages(
      runs.map((r, i) => ({
        caption: `${r.info.name}: prior samples`,
        swatch: theme.runs[i % theme.runs.length],
        src: (epoch: number) => imageUrl(this.runs[i], this.runs[i].epochs.find((e) => e.epoch === epoch)?.images?.samples),
        alt: (epoch: number) => `${r.info.name}: images decoded from prior samples at epoch ${epoch}`,
      })),
      ui.imageEpoch,
      (epoch) => this.saveUi({ imageEpoch: epoch }),
    );
    this.root.replaceChildren(
      h('header', { class: 'compare-header' }, h('h1', {}, `Comparing ${runs.length} runs`), this.legend),
      this.findings,
      h('section', { 'aria-labelledby': 'final-heading' }, h('h2', { id: 'final-heading' }, 'Final metrics'), this.finalTable),
      h('section', { 'aria-labelledby': 'diff-heading' }, h('h2', { id: 'diff-heading' }, 'Configuration differences'), this.diffTable),
      h('section', { 'aria-labelledby': 'network-heading' }, h('h2', { id: 'network-heading' }, 'Network differences'), this.networkDiff),
      h('section', { 'aria-labelledby': 'curves-heading' }, h('h2', { id: 'curves-heading' }, 'Curves'), this.curves.el),
      h('section', { 'aria-labelledby': 'samples-heading' }, h('h2', { id: 'samples-heading' }, 'Prior samples at the same epoch'), this.images.el),
    );
    this.update();
    this.saveUi({});
    void this.curves.render();
  }

  private saveUi(change: Partial<UiState>): void {
    this.ui = { ...this.ui, ...change };
    this.host.setState({ panel: 'compare', dirs: this.runs.map((r) => r.dir), ui: this.ui });
  }

  private colour(i: number): string {
    return this.theme.runs[i % this.theme.runs.length];
  }

  private runHeading(r: RunView, i: number): HTMLElement {
    return h('th', { scope: 'col' }, swatch(this.colour(i)), r.info.name);
  }

  private update(): void {
    this.legend.replaceChildren(
      ...this.runs.map((r, i) => {
        const progress = progressText(r.info, r.epochs);
        const open = this.interactive ? h('vscode-button', { secondary: true, 'data-testid': 'open-run', 'aria-label': `Open run ${r.info.name}` }, 'Open') : null;
        open?.addEventListener('click', () => this.host.post({ type: 'openRun', dir: r.dir }));
        return h('li', { 'data-run': i }, swatch(this.colour(i)), h('span', { class: 'run-name' }, r.info.name),
          h('span', { class: 'status-badge', 'data-status': r.info.status }, r.info.status), h('span', { class: 'meta' }, progress.epoch), open);
      }),
    );
    const findings = this.runs.flatMap((r) => activeFindings(r.epochs, r.warnings, this.health).map((f) => ({ ...f, run: r.info.name })));
    renderWarnings(this.warnings, findings);
    const worst = findings.some((f) => f.severity === 'error') ? 'error' : findings.some((f) => f.severity === 'warning') ? 'warning' : 'info';
    this.findings.replaceChildren(h('summary', { 'data-severity': worst }, `${findings.length} health finding${findings.length === 1 ? '' : 's'} across ${this.runs.length} runs`), this.warnings);
    this.findings.hidden = findings.length === 0;

    const last = this.runs.map((r) => r.epochs[r.epochs.length - 1]);
    const head = h('tr', {}, h('th', { scope: 'col' }, 'metric (last epoch)'), ...this.runs.map((r, i) => this.runHeading(r, i)));
    const epochRow = h('tr', {}, h('th', { scope: 'row' }, 'epoch'), ...this.runs.map((r) => h('td', {}, progressText(r.info, r.epochs).epoch)));
    const rows = FINAL_METRICS.map((m) =>
      h('tr', {}, h('th', { scope: 'row' }, m.label), ...last.map((e, i) => {
        if (!e) return h('td', {}, '–');
        const { text, level } = m.read(e, this.health, this.runs[i].epochs);
        return h('td', { 'data-level': level }, text);
      })),
    );
    this.finalTable.replaceChildren(h('table', { class: 'grid', 'data-testid': 'final-metrics' }, h('thead', {}, head), h('tbody', {}, epochRow, ...rows, ...this.priorFitRows())));

    const diffs = configDifferences(this.runs.map((r) => r.info.config));
    const diffHead = h('tr', {}, h('th', { scope: 'col' }, 'setting'), ...this.runs.map((r, i) => this.runHeading(r, i)));
    const diffRows = diffs.map((k) => h('tr', { 'data-key': k }, h('th', { scope: 'row', title: CONFIG_FIELDS[k].description }, k), ...this.runs.map((r) => h('td', {}, formatConfigValue(r.info.config[k])))));
    this.diffTable.replaceChildren(
      diffs.length
        ? h('table', { class: 'grid', 'data-testid': 'config-diff' }, h('thead', {}, diffHead), h('tbody', {}, ...diffRows))
        : h('p', { 'data-testid': 'config-diff' }, 'The runs have the same configuration (apart from their names).'),
    );
    this.renderNetworkDiff();
    const epochs = [...new Set(this.runs.flatMap((r) => imageEpochs(r, 'samples')))].sort((a, b) => a - b);
    this.images.setEpochs(epochs);
  }

  /** Each run's network against the first run's: the layer lists as a line diff (− the first run's, + this run's). */
  private renderNetworkDiff(): void {
    const [first, ...others] = this.runs;
    const blocks = others.map((r, k) => ({ r, i: k + 1, diff: networkDifferences(first.info.config, r.info.config) })).filter((b) => b.diff.differs);
    if (blocks.length === 0) {
      this.networkDiff.replaceChildren(h('p', {}, 'The runs have the same network and likelihood.'));
      return;
    }
    const list = (name: string, lines: DiffLine[]) => {
      if (lines.every((l) => l.kind === 'same')) return h('p', { class: 'diff-same-list' }, `${name}: the same ${lines.length} layer${lines.length === 1 ? '' : 's'}`);
      return h('div', { class: 'diff-list' },
        h('h4', {}, name),
        h('ol', { class: 'diff', 'aria-label': `${name} layers` }, ...lines.map((l) =>
          h('li', { class: `diff-${l.kind}`, 'data-kind': l.kind },
            h('span', { class: 'diff-sign', 'aria-hidden': 'true' }, l.kind === 'added' ? '+' : l.kind === 'removed' ? '−' : ' '),
            l.kind === 'same' ? null : h('span', { class: 'sr-only' }, l.kind === 'added' ? 'added: ' : 'removed: '),
            l.text))));
    };
    this.networkDiff.replaceChildren(...blocks.map(({ r, i, diff }) =>
      h('div', { class: 'network-block', 'data-run': i },
        h('h3', {}, swatch(this.colour(0)), first.info.name, ' → ', swatch(this.colour(i)), r.info.name),
        diff.likelihood ? h('p', { class: 'diff-likelihood' }, `likelihood: ${diff.likelihood[0]} → ${diff.likelihood[1]}`) : null,
        list('encoder', diff.encoder),
        list('decoder', diff.decoder))));
  }

  /**
   * The prior fit of each run: −ELBO at C = 1 of its last epoch, the diagnostics of the latest epoch
   * that has them (which epoch that is has its own row); '–' for a run without them.
   */
  private priorFitRows(): HTMLElement[] {
    const measured = this.runs.map((r) => latestDiagnostics(r.epochs));
    const cells = this.runs.map((r, i) => {
      const last = r.epochs[r.epochs.length - 1];
      const m = measured[i];
      return new Map([...(last ? [negElboRow(last)] : []), ...(m ? diagnosticRows(m.diagnostics) : [])].map((row) => [row.id, row]));
    });
    const measuredRow = h('tr', { 'data-row': 'prior-fit-epoch' }, h('th', { scope: 'row' }, 'prior fit measured at'), ...measured.map((m) => h('td', {}, m ? `epoch ${m.epoch}` : 'not measured')));
    // −ELBO at C = 1 (of the last epoch, as the rows above) first, then the diagnostics and their epoch.
    const [negElbo, ...diagnostics] = COMPARE_PRIOR_FIT_ROWS.map((id) =>
      h('tr', { 'data-row': id }, h('th', { scope: 'row' }, PRIOR_FIT_LABELS[id]), ...cells.map((c) => {
        const row = c.get(id);
        return h('td', row ? { title: row.note } : {}, row?.value ?? '–');
      })),
    );
    return [negElbo, measuredRow, ...diagnostics];
  }

  async setSnapshot(runs: RunView[], health: HealthSettings): Promise<void> {
    this.runs = runs;
    this.health = health;
    this.update();
    await this.curves.render();
  }

  async append(message: AppendMessage): Promise<void> {
    const index = this.runs.findIndex((r) => r.dir === message.dir);
    if (index < 0) return;
    const run = this.runs[index];
    const merged = mergeAppendedEpochs(run.epochs, message.epochs);
    run.info = message.info;
    run.warnings.push(...message.warnings);
    if ('redraw' in merged) {
      run.epochs = merged.redraw;
      this.update();
      await this.curves.render();
      return;
    }
    run.epochs.push(...merged.fresh);
    this.update();
    await this.curves.update();
  }

  async setTheme(theme: ChartTheme): Promise<void> {
    this.theme = theme;
    this.update();
    await this.curves.setView({ theme });
  }
}
