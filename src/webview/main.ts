/**
 * The panels' browser code: the run panel and the compare panel, inside VS Code (acquireVsCodeApi)
 * or in the static HTML report (a shim with the embedded snapshot). It says `ready`, draws the
 * snapshot it gets back, and extends the charts with each `append`. The run panel's Latent tab gets
 * the decode service's answers (latent* messages) the host relays.
 */
import { parseUiState, type PanelState } from '../shared/panelState';
import { parseHealthSettings, type SnapshotMessage, type ToWebviewMessage } from '../shared/protocol';
import { ComparePanelView } from './compareView';
import { h } from './dom';
import { detectHost, type PanelHost } from './host';
import { RunPanelView } from './runView';
import { readTheme, watchTheme } from './theme';

type View = RunPanelView | ComparePanelView;

class App {
  private view: View | undefined;
  private viewKey = '';
  /** Messages are handled one at a time, so an append never races the snapshot before it. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly root: HTMLElement,
    private readonly host: PanelHost,
  ) {
    host.onMessage((m) => {
      this.queue = this.queue.then(() => this.handle(m)).catch((e: unknown) => this.fail(e));
    });
    watchTheme(() => {
      this.queue = this.queue.then(() => this.view?.setTheme(readTheme())).catch((e: unknown) => this.fail(e));
    });
    window.addEventListener('error', (e) => this.fail(e.error ?? e.message));
    host.post({ type: 'ready' });
  }

  private async handle(message: ToWebviewMessage): Promise<void> {
    const started = performance.now();
    if (message.type === 'snapshot') await this.snapshot(message);
    else if (message.type === 'append') await this.view?.append(message);
    // The Latent tab's answers go to the run panel; the compare panel has no Latent tab.
    else if (this.view instanceof RunPanelView) this.view.latentMessage(message);
    // When the page first drew its runs, by the wall clock: how soon a panel shows is measured from it (test/e2e/reload.test.ts).
    if (message.type === 'snapshot') this.root.dataset.drawnAt ??= String(Date.now());
    this.root.dataset.renders = String(Number(this.root.dataset.renders ?? 0) + 1);
    this.root.dataset.lastRenderMs = (performance.now() - started).toFixed(1);
    this.root.dispatchEvent(new CustomEvent('vae-lens-rendered', { detail: { type: message.type, ms: performance.now() - started } }));
  }

  private async snapshot(message: SnapshotMessage): Promise<void> {
    const key = `${message.panel}:${message.runs.map((r) => r.dir).join('|')}`;
    const health = parseHealthSettings(message.health);
    if (this.view && key === this.viewKey) {
      if (this.view instanceof RunPanelView) {
        this.view.setFolderGone(message.runs[0]?.gone === true);
        await this.view.setSnapshot(message.runs[0], health);
      } else await this.view.setSnapshot(message.runs, health);
      return;
    }
    // The views are built from @vscode-elements controls, loaded as a module after this script.
    await Promise.race([customElements.whenDefined('vscode-tabs'), new Promise((resolve) => setTimeout(resolve, 3000))]);
    const saved = this.host.getState() as { ui?: unknown } | undefined;
    // The host's copy of the view first (VS Code may not have written the page's state before a reload).
    const ui = parseUiState(message.ui ?? saved?.ui);
    const theme = readTheme();
    this.viewKey = key;
    this.root.dataset.panel = message.panel;
    if (message.runs.length === 0) throw new Error('The host sent no run to show.');
    // The state names the panel's runs: VS Code hands it back to restore the panel after a reload,
    // so it is saved as soon as the panel shows its runs, not only when the user changes the view.
    const state: PanelState = { panel: message.panel, dirs: message.runs.map((r) => r.dir), ui };
    this.host.setState(state);
    if (message.panel === 'run') {
      this.view = new RunPanelView(this.root, this.host, message.runs[0], health, message.interactive, ui, theme);
      this.view.setFolderGone(message.runs[0]?.gone === true);
    } else {
      this.view = new ComparePanelView(this.root, this.host, message.runs, health, message.interactive, ui, theme);
    }
  }

  private fail(error: unknown): void {
    const text = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
    this.host.post({ type: 'error', message: text });
    const box = document.getElementById('fatal') ?? h('div', { id: 'fatal', class: 'warning', 'data-severity': 'error', role: 'alert' });
    box.textContent = `VAE Lens could not draw this panel: ${error instanceof Error ? error.message : String(error)}`;
    this.root.prepend(box);
  }
}

const root = document.getElementById('app');
if (root) new App(root, detectHost());
