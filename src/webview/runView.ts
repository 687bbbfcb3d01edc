/**
 * The run panel: header with Stop/Resume, the convergence gauges and the prior fit beside them,
 * warnings, and tabs with the curves (the study's and the prior fit's), the per-dimension heat map,
 * the image grids, the latent explorer (latentView.ts) and the configuration.
 */
import type { EpochEvent } from '../shared/events';
import type { HealthSettings } from '../shared/health';
import { HEATMAP_METRICS, RUN_TABS, type HeatmapMetric, type UiState } from '../shared/panelState';
import type { AppendMessage, RunView } from '../shared/protocol';
import type { ToLatentTabMessage } from '../shared/latentService';
import { mergeAppendedEpochs } from '../shared/runRules';
import { activeFindings, imageEpochs, imageUrl, progressText, renderWarnings } from './common';
import { canResume, canStop } from '../shared/runRules';
import { CurveSet } from './curves';
import { append, h } from './dom';
import { formatConfigValue } from './format';
import { Gauge, GAUGES } from './gauges';
import { DimensionHeatmap, HEATMAP_LABELS } from './heatmap';
import type { PanelHost } from './host';
import { EpochImages } from './images';
import { LatentExplorer } from './latentView';
import { PriorFitCharts, PriorFitSummary } from './priorFit';
import type { ChartTheme } from './theme';

export const TAB_TITLES: Record<(typeof RUN_TABS)[number], string> = { curves: 'Curves', dimensions: 'Latent dimensions', images: 'Images', latent: 'Latent space', config: 'Configuration' };

interface SelectLike extends HTMLElement {
  value: string;
}

/** The parts of @vscode-elements' vscode-button used here (its properties reflect to attributes). */
interface ButtonLike extends HTMLElement {
  disabled: boolean;
  secondary: boolean;
}

/**
 * Enables or disables a header action. The `disabled` property is set (not only the attribute), and
 * a disabled action is drawn secondary: vscode-button dims a disabled button to 40% opacity only,
 * and a primary (blue) button at 40% still reads as the panel's live action, which is how a
 * completed run came to show an apparently enabled Stop. Only an action that applies is primary.
 */
function setAction(button: ButtonLike, enabled: boolean, primary: boolean): void {
  button.disabled = !enabled;
  button.toggleAttribute('disabled', !enabled);
  button.secondary = !(enabled && primary);
  button.toggleAttribute('secondary', !(enabled && primary));
  button.setAttribute('aria-disabled', String(!enabled));
}

export class RunPanelView {
  private run: RunView;
  private readonly gauges = GAUGES.map((g) => new Gauge(g));
  private readonly curves: CurveSet;
  private readonly priorFitCharts: PriorFitCharts;
  private readonly priorFit = new PriorFitSummary();
  private readonly heatmap: DimensionHeatmap;
  private readonly images: EpochImages;
  private readonly latent: LatentExplorer;
  private readonly header = {
    name: h('h1', { class: 'run-name', 'data-testid': 'run-name' }),
    status: h('span', { class: 'status-badge', 'data-testid': 'run-status' }),
    device: h('span', { class: 'run-device', 'data-testid': 'run-device' }),
    epoch: h('span', { 'data-testid': 'run-epoch' }),
    rate: h('span', { 'data-testid': 'run-rate' }),
    left: h('span', { 'data-testid': 'run-left' }),
  };
  private readonly stopButton = h('vscode-button', { 'data-testid': 'stop', 'aria-label': 'Stop training' }, 'Stop') as ButtonLike;
  private readonly resumeButton = h('vscode-button', { secondary: true, 'data-testid': 'resume', 'aria-label': 'Resume training' }, 'Resume') as ButtonLike;
  private readonly warnings = h('div', { class: 'warnings', 'data-testid': 'warnings' });
  private readonly folderGoneBanner = h('div', { class: 'warning', 'data-severity': 'warning', role: 'alert', 'data-testid': 'folder-gone', hidden: true });
  private folderGone = false;
  private readonly configEl = h('div', { class: 'config' });
  private readonly tabPanels = new Map<string, HTMLElement>();

  constructor(
    private readonly root: HTMLElement,
    private readonly host: PanelHost,
    run: RunView,
    private health: HealthSettings,
    private readonly interactive: boolean,
    private ui: UiState,
    theme: ChartTheme,
  ) {
    this.run = run;
    const epochs = () => [this.run.epochs];
    this.curves = new CurveSet([{ label: '' }], epochs, { theme, smoothing: ui.smoothing, logY: ui.logY }, (change) => this.saveUi(change));
    this.priorFitCharts = new PriorFitCharts(() => this.run.epochs, () => this.run.info, theme);
    this.heatmap = new DimensionHeatmap(h('div', { class: 'chart heatmap', 'data-chart': 'heatmap' }), () => this.run.epochs, { theme, metric: ui.heatmapMetric });
    this.images = new EpochImages(
      [
        {
          caption: 'Prior samples: decoded from the same z ~ N(0, I) every epoch',
          src: (epoch) => imageUrl(this.run, this.epochAt(epoch)?.images?.samples),
          alt: (epoch) => `Images decoded from prior samples at epoch ${epoch}`,
        },
        {
          caption: 'Reconstructions: test images, each above its reconstruction',
          src: (epoch) => imageUrl(this.run, this.epochAt(epoch)?.images?.recon),
          alt: (epoch) => `Test images and their reconstructions at epoch ${epoch}`,
        },
      ],
      ui.imageEpoch,
      (epoch) => this.saveUi({ imageEpoch: epoch }),
    );
    this.latent = new LatentExplorer(host, run.dir, interactive, theme);
    this.build();
    this.update(run.epochs, true);
    this.saveUi({});
  }

  private epochAt(epoch: number): EpochEvent | undefined {
    const list = this.run.epochs;
    // Epochs are dense and sorted in a normal run; fall back to a search for resumed or sparse ones.
    const guess = list[epoch - list[0]?.epoch];
    return guess?.epoch === epoch ? guess : list.find((e) => e.epoch === epoch);
  }

  private build(): void {
    // The guard matters for clicks that bypass pointer-events (keyboard shortcuts, scripts): a disabled action posts nothing.
    this.stopButton.addEventListener('click', () => {
      if (canStop(this.run.info)) this.host.post({ type: 'stop', dir: this.run.dir });
    });
    this.resumeButton.addEventListener('click', () => {
      if (canResume(this.run.info)) this.host.post({ type: 'resume', dir: this.run.dir });
    });
    const actions = this.interactive ? h('div', { class: 'actions' }, this.stopButton, this.resumeButton) : null;
    const header = h('header', { class: 'run-header' },
      h('div', { class: 'title-row' }, this.header.name, this.header.status),
      h('div', { class: 'meta' }, this.header.device, this.header.epoch, this.header.rate, this.header.left),
      actions,
    );
    const gaugeRow = h('div', { class: 'gauges', role: 'group', 'aria-label': 'Convergence to the prior' }, ...this.gauges.map((g) => g.el));
    const overview = h('div', { class: 'overview' }, gaugeRow, this.priorFit.el);

    const metricId = 'heatmap-metric';
    const metric = h('vscode-single-select', { id: metricId, label: 'Heat map quantity', 'aria-label': 'Heat map quantity', 'data-testid': 'heatmap-metric' }) as SelectLike;
    for (const m of HEATMAP_METRICS) metric.append(h('vscode-option', { value: m, selected: m === this.ui.heatmapMetric }, HEATMAP_LABELS[m]));
    metric.addEventListener('change', () => {
      const value = metric.value as HeatmapMetric;
      if (!HEATMAP_METRICS.includes(value)) return;
      void this.heatmap.setView({ metric: value });
      this.saveUi({ heatmapMetric: value });
    });

    const contents: Record<(typeof RUN_TABS)[number], HTMLElement> = {
      curves: h('div', { class: 'curves-tab' }, this.curves.el, this.priorFitCharts.el),
      dimensions: h('div', { class: 'dimensions' }, h('div', { class: 'toolbar' }, h('label', { for: metricId, class: 'toolbar-label' }, 'Show'), metric), this.heatmap.el),
      images: this.images.el,
      latent: this.latent.el,
      config: this.configEl,
    };
    const selected = RUN_TABS.indexOf(this.ui.tab);
    const tabs = h('vscode-tabs', { 'selected-index': selected, 'data-testid': 'tabs' });
    for (const tab of RUN_TABS) {
      tabs.append(h('vscode-tab-header', { slot: 'header', 'data-tab': tab }, TAB_TITLES[tab]));
      const panel = h('vscode-tab-panel', { 'data-tab': tab }, contents[tab]);
      this.tabPanels.set(tab, panel);
      tabs.append(panel);
    }
    tabs.addEventListener('vsc-tabs-select', (event) => {
      const index = (event as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
      const tab = RUN_TABS[index];
      if (tab) void this.selectTab(tab);
    });
    this.root.replaceChildren(header, this.folderGoneBanner, this.warnings, overview, tabs);
    void this.selectTab(this.ui.tab);
  }

  private async selectTab(tab: (typeof RUN_TABS)[number]): Promise<void> {
    this.saveUi({ tab });
    this.root.dataset.tab = tab;
    if (tab !== 'curves') {
      this.curves.hide();
      this.priorFitCharts.hide();
    }
    if (tab !== 'dimensions') this.heatmap.hide();
    if (tab === 'curves') await Promise.all([this.curves.show(), this.priorFitCharts.show()]);
    if (tab === 'dimensions') await this.heatmap.show();
    if (tab === 'latent') this.latent.show();
  }

  private saveUi(change: Partial<UiState>): void {
    this.ui = { ...this.ui, ...change };
    this.host.setState({ panel: 'run', dirs: [this.run.dir], ui: this.ui });
  }

  /** Header, gauges, warnings, images, config: the cheap parts, redone on every update. */
  private update(newEpochs: readonly EpochEvent[], full: boolean): void {
    const { info } = this.run;
    this.header.name.textContent = info.name;
    this.header.status.textContent = info.status;
    this.header.status.dataset.status = info.status;
    const env = info.environment;
    this.header.device.textContent = env ? `${env.backend} · ${env.device}` : `backend ${info.config.backend}`;
    const progress = progressText(info, this.run.epochs);
    this.header.epoch.textContent = progress.epoch;
    this.header.rate.textContent = progress.rate;
    this.header.left.textContent = progress.left;
    // Stop and Resume act through the run folder: without it neither can.
    const stop = !this.folderGone && canStop(info);
    setAction(this.stopButton, stop, true);
    setAction(this.resumeButton, !this.folderGone && canResume(info), !stop);
    for (const g of this.gauges) {
      if (full) g.setEpochs(this.run.epochs, this.health);
      else g.push(newEpochs, this.health);
    }
    this.priorFit.set(info, this.run.epochs);
    renderWarnings(this.warnings, activeFindings(this.run.epochs, this.run.warnings, this.health));
    this.images.setEpochs(imageEpochs(this.run, 'samples'));
    this.latent.setRunEpochs(info.epochsCompleted);
    if (full) this.renderConfig();
    if (info.message) {
      this.warnings.prepend(h('div', { class: 'warning', 'data-severity': info.status === 'failed' ? 'error' : 'info' }, info.message));
      this.warnings.hidden = false;
    }
    const skipped = this.run.skipped;
    if (skipped && skipped.count > 0) {
      const first = skipped.problems.map((p) => `line ${p.line}: ${p.reason}`).slice(0, 3).join('; ');
      this.warnings.append(h('div', { class: 'warning', 'data-severity': 'warning', 'data-testid': 'skipped-lines' },
        `${skipped.count} line${skipped.count === 1 ? '' : 's'} of events.jsonl could not be read and ${skipped.count === 1 ? 'is' : 'are'} not shown (${first}).`));
      this.warnings.hidden = false;
    }
  }

  private renderConfig(): void {
    const { config, environment } = this.run.info;
    const rows = Object.entries(config).map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, formatConfigValue(v))));
    const envRows = environment ? Object.entries(environment).map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, formatConfigValue(v)))) : [];
    this.configEl.replaceChildren();
    append(this.configEl, [
      h('table', { class: 'kv', 'data-testid': 'config-table' }, h('caption', {}, 'Training configuration'), h('tbody', {}, ...rows)),
      envRows.length ? h('table', { class: 'kv' }, h('caption', {}, 'Environment'), h('tbody', {}, ...envRows)) : null,
      h('p', { class: 'run-dir' }, 'Run folder: ', h('code', {}, this.run.dir)),
    ]);
  }

  /** The host's word on whether the run folder exists (RunView.gone). */
  setFolderGone(gone: boolean): void {
    if (gone === this.folderGone) return;
    this.folderGone = gone;
    this.folderGoneBanner.hidden = !gone;
    this.folderGoneBanner.replaceChildren(
      h('span', { class: 'codicon codicon-warning', 'aria-hidden': 'true' }),
      h('span', { class: 'warning-text' }, 'This run\'s folder ', h('code', {}, this.run.dir), ' no longer exists; the panel shows what was loaded and comes back when the folder does.'),
    );
    this.images.setUnavailable(gone ? 'The images are read from the run folder, which no longer exists.' : null);
    this.update([], false);
  }

  /** A complete snapshot: everything is redrawn from it. */
  async setSnapshot(run: RunView, health: HealthSettings): Promise<void> {
    this.run = run;
    this.health = health;
    this.update(run.epochs, true);
    await Promise.all([this.curves.render(), this.priorFitCharts.render(), this.heatmap.render()]);
  }

  /** New epochs of a live run: appended, never redrawn. */
  async append(message: AppendMessage): Promise<void> {
    if (message.dir !== this.run.dir) return;
    const merged = mergeAppendedEpochs(this.run.epochs, message.epochs);
    this.run.info = message.info;
    this.run.warnings.push(...message.warnings);
    if ('redraw' in merged) {
      await this.setSnapshot({ ...this.run, epochs: merged.redraw }, this.health);
      return;
    }
    const { fresh } = merged;
    this.run.epochs.push(...fresh);
    this.update(fresh, false);
    await Promise.all([this.curves.update(), this.priorFitCharts.update(), this.heatmap.update()]);
  }

  /** A message of the run's decode service for the Latent tab. */
  latentMessage(message: ToLatentTabMessage): void {
    this.latent.handle(message);
  }

  /** The charts keep the theme they draw with; the rest of the panel follows VS Code's CSS variables. */
  async setTheme(theme: ChartTheme): Promise<void> {
    this.latent.setTheme(theme);
    await Promise.all([this.curves.setView({ theme }), this.priorFitCharts.setTheme(theme), this.heatmap.setView({ theme })]);
  }
}
