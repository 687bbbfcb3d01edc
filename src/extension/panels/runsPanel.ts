/**
 * What the run and compare panels share: the webview page under a strict CSP, validation of every
 * message before acting on it, and the snapshot / append protocol (a complete snapshot when the
 * webview says ready or becomes visible again; appends only while it is visible, since a hidden
 * webview drops messages). A panel reads nothing itself: it follows its runs in the run store (the
 * host's one reader of run folders), which keeps their whole history while the panel is open.
 */
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { EpochEvent, RunEvent, WarningEvent } from '../../shared/events';
import { makeNonce, renderLinkedPanelHtml, webviewCsp } from '../../shared/panelHtml';
import type { PanelKind, UiState } from '../../shared/panelState';
import { parseFromWebviewMessage, toRunView, type FromWebviewMessage, type RunView, type ToWebviewMessage } from '../../shared/protocol';
import type { RunFeedUpdate, RunStore } from '../model/runStore';
import type { OpenPanels } from './openPanels';
import { healthSettings, SECTION } from '../settings';
import type { LatentSessions } from '../../node/latentSessions';

/**
 * How long a visible panel's page may take to run its first script (it says `loading`, before its
 * bundles load) before it is loaded again, and how often. A page whose files fail to load says so
 * at once (`loadFailed`); this is the fallback for a page that says nothing. A page that runs is
 * never reloaded: on a busy machine its bundles may take long to load.
 */
const PAGE_START_MS = 8000;
const MAX_PAGE_LOADS = 3;
/**
 * A panel restored after a reload whose page has not run within this is replaced by a new panel at
 * once: setting such a page again does not make it run (measured in code-server: three loads 8 s
 * apart, then a new panel, so both panels showed 25 s after activation instead of 2–3 s). Restored
 * pages that run do so 0.3–1.9 s after they are set there (over 46 measured on a 2-core machine); one
 * replaced too early only shows about a second later, at the end of its group's tabs.
 */
const RESTORED_PAGE_START_MS = 2000;
/** How long after a failed load the page is loaded again (VS Code's resource loader is then ready). */
const PAGE_RELOAD_DELAY_MS = 250;

export interface PanelContext {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  store: RunStore;
  /** Which runs the open panels show, for restoring a panel whose page saved no state. */
  openPanels: OpenPanels;
  /** Opens (or reveals) the run panel of one run: the compare panel's "Open". */
  openRun(dir: string): void;
  /** The Latent tab's decode services, one per run (released when the run's panel closes). */
  latent: LatentSessions;
  /** Opens a new panel of this kind on these runs in this editor column (a stuck panel's replacement). */
  reopen(kind: PanelKind, dirs: readonly string[], viewColumn: vscode.ViewColumn, ui?: UiState): void;
}

/** Only what the page loads: the bundles, the CSS, and the shown runs' own folders (nothing else of the disk). */
export function localResourceRoots(extensionUri: vscode.Uri, dirs: readonly string[]): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media'), ...dirs.map((d) => vscode.Uri.file(d))];
}

export function webviewOptions(extensionUri: vscode.Uri, dirs: readonly string[]): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: localResourceRoots(extensionUri, dirs) };
}

export abstract class RunsPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private recordedTitle: string | undefined;
  private webviewReady = false;
  /** The page's first script ran (it said `loading` or `ready`). */
  private pageRuns = false;
  private reloadScheduled = false;
  /** Runs whose folder is gone: shown as loaded, with a banner, until the folder comes back. */
  private readonly gone = new Set<string>();
  /** What was last shown of a gone run (the store forgets it with the folder). */
  private readonly lastSeen = new Map<string, RunView>();
  private wasVisible = true;
  private disposed = false;
  /** The shown runs' folder names, for the log. */
  private readonly label: string;
  private pageLoads = 0;
  /** When the current page was set (for the log line of a restored panel's start). */
  private pageLoadedAt = 0;
  private pageWatchdog: ReturnType<typeof setTimeout> | undefined;

  protected constructor(
    readonly panel: vscode.WebviewPanel,
    readonly kind: PanelKind,
    readonly dirs: readonly string[],
    protected readonly ctx: PanelContext,
    /** VS Code restored this panel after a reload (WebviewPanelSerializer). */
    private readonly restored = false,
    /** The panel's view as the host knows it: a restored panel's record, then the page's uiState messages. */
    private ui?: UiState,
  ) {
    const webview = panel.webview;
    this.label = dirs.map((d) => basename(d)).join(', ');
    ctx.log.debug(`VAE Lens panel ${this.label}: created (visible ${panel.visible})`);
    // Set again on every construction, restore included: the extension folder may have moved after an update.
    webview.options = webviewOptions(ctx.extensionUri, dirs);
    this.loadPage();
    this.disposables.push(
      ...dirs.map((dir) => ctx.store.follow(dir, (u) => this.onRunUpdate(dir, u))),
      webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      panel.onDidChangeViewState(() => {
        this.ctx.log.debug(`VAE Lens panel ${this.label}: view state visible=${panel.visible} active=${panel.active} ready=${this.webviewReady}`);
        const becameVisible = panel.visible && !this.wasVisible;
        this.wasVisible = panel.visible;
        // A hidden webview is discarded (no retainContextWhenHidden); its next page says ready again.
        // Should VS Code have kept it, it may have missed appends while hidden: send it everything.
        if (!panel.visible) this.webviewReady = false;
        else if (becameVisible && this.webviewReady) void this.sendSnapshot();
      }),
      panel.onDidDispose(() => this.dispose()),
      // The gauges and the banner judge by the user's thresholds: a change redraws them from a fresh snapshot.
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.warnings`) && this.webviewReady && panel.visible) void this.sendSnapshot();
      }),
    );
    void Promise.all(dirs.map((d) => ctx.store.history(d))).then(
      () => this.updateTitle(),
      (e: Error) => this.showProblem(e),
    );
  }

  /**
   * Sets the page. A page whose first script has not run within PAGE_START_MS while the panel is
   * visible gets its page again: a browser-hosted VS Code sometimes restores one of several panels
   * after a reload without ever running its script (the panel would stay on "Loading…").
   */
  private loadPage(): void {
    const webview = this.panel.webview;
    const nonce = makeNonce((n) => randomBytes(n));
    webview.html = renderLinkedPanelHtml({
      title: this.panel.title,
      panel: this.kind,
      nonce,
      csp: webviewCsp(webview.cspSource, nonce),
      url: (path) => webview.asWebviewUri(vscode.Uri.joinPath(this.ctx.extensionUri, ...path.split('/'))).toString(),
      page: this.pageLoads + 1,
    });
    this.pageLoads++;
    this.pageRuns = false;
    this.pageLoadedAt = Date.now();
    this.watchPageStart();
  }

  private watchPageStart(): void {
    if (this.pageWatchdog) clearTimeout(this.pageWatchdog);
    const restoredPage = this.restored && this.pageLoads === 1;
    const waitMs = restoredPage ? RESTORED_PAGE_START_MS : PAGE_START_MS;
    this.pageWatchdog = setTimeout(() => {
      this.pageWatchdog = undefined;
      if (this.disposed || this.pageRuns) return;
      // A hidden page starts when it is shown; check again later.
      if (!this.panel.visible) this.watchPageStart();
      else if (restoredPage) {
        this.ctx.log.info(`VAE Lens panel ${this.label}: its restored page did not run within ${waitMs / 1000} s (${this.where()}); opening it anew.`);
        this.replaceWithNewPanel();
      } else {
        this.ctx.log.info(`VAE Lens panel ${this.label}: its page did not run within ${waitMs / 1000} s; loading it again.`);
        this.reloadPage();
      }
    }, waitMs);
  }

  /** Where the panel is, for the log: its column, and whether it is the active editor. */
  private where(): string {
    return `column ${this.panel.viewColumn ?? '?'}, ${this.panel.active ? 'active' : 'not active'}`;
  }

  /** A new panel in the same place always starts: this one goes, a new one on the same runs comes. */
  private replaceWithNewPanel(): void {
    const column = this.panel.viewColumn ?? vscode.ViewColumn.Active;
    this.ctx.log.info(`VAE Lens panel ${this.label}: opening it anew in column ${column}${this.ui ? ` on its ${this.ui.tab} tab` : ''}.`);
    const { kind, dirs, ctx } = this;
    this.dispose();
    ctx.reopen(kind, dirs, column, this.ui);
  }

  private reloadPage(): void {
    if (this.pageLoads >= MAX_PAGE_LOADS) {
      this.ctx.log.info(`VAE Lens panel ${this.label}: its page did not start after ${this.pageLoads} loads.`);
      this.replaceWithNewPanel();
      return;
    }
    this.panel.reveal(undefined, true);
    this.loadPage();
  }

  protected abstract title(): string;

  private record(): void {
    this.ctx.openPanels.record({ kind: this.kind, title: this.recordedTitle ?? this.panel.title, dirs: [...this.dirs], ...(this.ui ? { ui: this.ui } : {}) });
  }

  private updateTitle(): void {
    if (this.disposed) return;
    const title = this.title();
    if (title !== this.recordedTitle) {
      this.recordedTitle = title;
      this.record();
    }
    this.panel.title = title;
  }

  protected infoOf(index: number) {
    const dir = this.dirs[index];
    return dir === undefined ? undefined : (this.ctx.store.get(dir)?.info ?? this.lastSeen.get(dir)?.info);
  }

  private showProblem(e: Error): void {
    // The problem page has no script: it never says ready, and must not be replaced by the page watchdog.
    if (this.pageWatchdog) clearTimeout(this.pageWatchdog);
    this.pageWatchdog = undefined;
    this.pageLoads = MAX_PAGE_LOADS;
    this.ctx.log.error(`VAE Lens panel: ${e.message}`);
    if (this.disposed) return;
    // The page would otherwise stay at "Loading…": say what is wrong where the user looks.
    const text = `VAE Lens cannot show this run: ${e.message}`.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    this.panel.webview.html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head><body><p role="alert">${text}</p></body></html>`;
  }

  protected post(message: ToWebviewMessage): void {
    if (this.disposed) return;
    void this.panel.webview.postMessage(message);
  }

  private imageBase(dir: string): string {
    return this.panel.webview.asWebviewUri(vscode.Uri.file(dir)).toString() + '/';
  }

  /** The complete state of every shown run, as the run store has it (what is on disk now). */
  async sendSnapshot(): Promise<void> {
    const runs: RunView[] = [];
    for (const dir of this.dirs) {
      const history = await this.ctx.store.history(dir);
      if (this.disposed) return;
      if (history?.info && !history.gone) {
        this.gone.delete(dir);
        const view = { ...toRunView({ dir, info: history.info, events: history.events }, this.imageBase(dir)), ...(history.skipped?.count ? { skipped: history.skipped } : {}) };
        this.lastSeen.set(dir, view);
        runs.push(view);
        continue;
      }
      const seen = this.lastSeen.get(dir);
      if (history?.gone || (!history?.info && seen)) {
        this.gone.add(dir);
        if (seen) {
          runs.push({ ...seen, gone: true });
          continue;
        }
      }
      this.showProblem(new Error(history?.gone ? `the run folder ${dir} does not exist (deleted, or outside the runs folders).` : history?.problem ?? `the run folder ${dir} is not a run.`));
      return;
    }
    this.updateTitle();
    this.post({ type: 'snapshot', v: 1, panel: this.kind, interactive: true, runs, health: healthSettings(), ...(this.ui ? { ui: this.ui } : {}) });
    this.ctx.log.debug(`VAE Lens panel ${this.label}: snapshot sent (${runs.map((r) => `${r.epochs.length} epochs`).join(', ')}, visible ${this.panel.visible})`);
  }

  private onRunUpdate(dir: string, update: RunFeedUpdate): void {
    this.updateTitle();
    if (!this.webviewReady || !this.panel.visible) return;
    if (update.kind !== 'appended' || this.gone.has(dir)) {
      void this.sendSnapshot();
      return;
    }
    const info = this.ctx.store.get(dir)?.info;
    if (!info) return;
    const epochs = update.events.filter((e: RunEvent): e is EpochEvent => e.type === 'epoch');
    const warnings = update.events.filter((e: RunEvent): e is WarningEvent => e.type === 'warning');
    this.post({ type: 'append', dir, info, epochs, warnings });
  }

  private onMessage(raw: unknown): void {
    const parsed = parseFromWebviewMessage(raw);
    if (!parsed.ok) {
      this.ctx.log.warn(`VAE Lens panel: ignored a malformed message from the webview (${parsed.error}).`);
      return;
    }
    void this.handle(parsed.message);
  }

  private async handle(message: FromWebviewMessage): Promise<void> {
    switch (message.type) {
      case 'loadFailed':
        // Only a failure of the current load, before the page started, and once per load.
        if (message.page !== this.pageLoads || this.webviewReady || this.reloadScheduled) return;
        this.ctx.log.info(`VAE Lens panel ${this.label}: its page could not load ${message.url}; loading it again.`);
        this.reloadScheduled = true;
        setTimeout(() => {
          this.reloadScheduled = false;
          if (!this.disposed && !this.webviewReady && message.page === this.pageLoads) this.reloadPage();
        }, PAGE_RELOAD_DELAY_MS);
        return;
      case 'loading':
        if (this.restored && this.pageLoads === 1) this.ctx.log.info(`VAE Lens panel ${this.label}: its restored page runs, ${Date.now() - this.pageLoadedAt} ms after it was set (${this.where()}).`);
        else this.ctx.log.debug(`VAE Lens panel ${this.label}: the page runs`);
        this.pageRuns = true;
        return;
      case 'ready':
        this.ctx.log.debug(`VAE Lens panel ${this.label}: the page is ready`);
        this.pageRuns = true;
        this.webviewReady = true;
        await this.sendSnapshot();
        return;
      case 'uiState':
        this.ui = message.ui;
        this.record();
        return;
      case 'error':
        this.ctx.log.error(`VAE Lens panel (webview): ${message.message}`);
        return;
      case 'latentOpen':
      case 'latentDecode':
      case 'latentTest':
        // Only a run panel has the Latent tab, and only for its own run.
        if (this.kind !== 'run' || !this.dirs.includes(message.dir)) {
          this.ctx.log.warn(`VAE Lens panel: ignored ${message.type} for a run this panel does not explore (${message.dir}).`);
          return;
        }
        await this.ctx.latent.handle(message, (reply) => this.post(reply));
        return;
      case 'stop':
      case 'resume':
      case 'openRun': {
        // A webview can only act on the runs it shows.
        if (!this.dirs.includes(message.dir)) {
          this.ctx.log.warn(`VAE Lens panel: ignored ${message.type} for a run this panel does not show (${message.dir}).`);
          return;
        }
        if (message.type === 'openRun') this.ctx.openRun(message.dir);
        else await vscode.commands.executeCommand(message.type === 'stop' ? 'vaeLens.stop' : 'vaeLens.resume', message.dir);
        return;
      }
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.pageWatchdog) clearTimeout(this.pageWatchdog);
    this.onDispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }

  protected abstract onDispose(): void;
}
