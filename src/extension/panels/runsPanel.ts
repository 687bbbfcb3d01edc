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
 * A page's first script runs as soon as VS Code writes the page into its frame (it is the first
 * thing in the page's head, before any file loads). In a browser-hosted VS Code, a webview frame
 * waits for the webview service worker before it writes its page, and one of several frames
 * created at once (the panels restored after a reload) can wait forever (measured in code-server:
 * setting such a page again does not help; a new panel does). A visible restored page that has not
 * run within its wait is therefore replaced by a new panel on the same runs and view, in the same
 * column, at most MAX_REPLACEMENTS times, each new panel waiting twice as long as the one before.
 *
 * A panel the user opened is one frame, which a busy machine may only be slow to start: after this
 * wait its page is set again in the same frame (which closes nothing), up to MAX_PAGE_LOADS times,
 * and only then replaced.
 */
const PAGE_START_MS = 8000;
/**
 * The wait of a panel VS Code restored after a reload, and the first wait of a replacement. Restored
 * pages that run do so 1.0–2.9 s after they are set (over 60 measured on a 2-core machine): each new
 * webview frame installs its own version of the service worker, one after the other. A page not
 * yet written has no file loads in flight, so closing it costs nothing; but a frame closed just as
 * its page is written leaves its file loads unanswered, and the service worker keeps every newer
 * frame waiting until they time out (30 s). The wait leaves a margin for that.
 */
const RESTORED_PAGE_START_MS = 3000;
const MAX_REPLACEMENTS = 4;
/** Loads of one page (files that failed to load, or a user-opened page that did not run) before it is replaced by a new panel. */
const MAX_PAGE_LOADS = 3;

/** How a panel came to be: opened by the user, restored by VS Code after a reload, or a replacement of a panel whose page did not run. */
export interface PanelStart {
  restored: boolean;
  /** How many panels before this one were replaced because their page did not run (0: none). */
  replacements: number;
}

export const OPENED: PanelStart = { restored: false, replacements: 0 };
export const RESTORED: PanelStart = { restored: true, replacements: 0 };

/** How long a page may take to run before its panel is replaced. */
function pageStartWaitMs(start: PanelStart): number {
  if (start.replacements > 0) return RESTORED_PAGE_START_MS * 2 ** (start.replacements - 1);
  return start.restored ? RESTORED_PAGE_START_MS : PAGE_START_MS;
}

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
  reopen(kind: PanelKind, dirs: readonly string[], viewColumn: vscode.ViewColumn, start: PanelStart, ui?: UiState): void;
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
  /** The current page takes messages: its boot script said `loading` (it holds them until the bundle listens). */
  private webviewReady = false;
  /** The current page's bundle runs (it said `ready`). */
  private bundleRuns = false;
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
    /** Opened, restored after a reload (WebviewPanelSerializer), or a replacement. */
    private readonly start: PanelStart = OPENED,
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
        // A hidden webview is discarded (no retainContextWhenHidden); its next page says loading again.
        // Should VS Code have kept it, it may have missed appends while hidden: send it everything.
        if (!panel.visible) this.webviewReady = this.bundleRuns = false;
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

  /** Sets the page, and watches that its first script runs. */
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
    this.webviewReady = false;
    this.bundleRuns = false;
    this.pageLoadedAt = Date.now();
    this.watchPageStart();
  }

  private watchPageStart(): void {
    if (this.pageWatchdog) clearTimeout(this.pageWatchdog);
    const waitMs = pageStartWaitMs(this.start);
    this.pageWatchdog = setTimeout(() => {
      this.pageWatchdog = undefined;
      if (this.disposed || this.pageRuns) return;
      // A hidden page starts when it is shown; check again later.
      if (!this.panel.visible) this.watchPageStart();
      else if (!this.start.restored && this.start.replacements === 0) {
        this.ctx.log.info(`VAE Lens panel ${this.label}: its page did not run within ${waitMs / 1000} s; loading it again.`);
        this.reloadPage();
      } else if (this.start.replacements >= MAX_REPLACEMENTS) {
        this.ctx.log.warn(`VAE Lens panel ${this.label}: VS Code did not start its page, nor those of ${MAX_REPLACEMENTS} new panels before it; close the panel and open the run again.`);
      } else {
        this.ctx.log.info(`VAE Lens panel ${this.label}: its ${this.describeStart()} page did not run within ${waitMs / 1000} s (${this.where()}); opening it anew.`);
        this.replaceWithNewPanel();
      }
    }, waitMs);
  }

  private describeStart(): string {
    return this.start.replacements > 0 ? `new (replacement ${this.start.replacements})` : this.start.restored ? 'restored' : 'new';
  }

  /** Where the panel is, for the log: its column, and whether it is the active editor. */
  private where(): string {
    return `column ${this.panel.viewColumn ?? '?'}, ${this.panel.active ? 'active' : 'not active'}`;
  }

  /** A new panel in the same place: this one goes, a new one on the same runs and view comes. */
  private replaceWithNewPanel(): void {
    const column = this.panel.viewColumn ?? vscode.ViewColumn.Active;
    this.ctx.log.info(`VAE Lens panel ${this.label}: opening it anew in column ${column}${this.ui ? ` on its ${this.ui.tab} tab` : ''}.`);
    const { kind, dirs, ctx } = this;
    const start = { restored: this.start.restored, replacements: this.start.replacements + 1 };
    this.dispose();
    ctx.reopen(kind, dirs, column, start, this.ui);
  }

  /** The same page again (its files failed to load, or it did not run), or a new panel after MAX_PAGE_LOADS. */
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
        if (message.page !== this.pageLoads || this.bundleRuns || this.reloadScheduled) return;
        this.ctx.log.info(`VAE Lens panel ${this.label}: its page could not load ${message.url}; loading it again.`);
        this.reloadScheduled = true;
        setTimeout(() => {
          this.reloadScheduled = false;
          if (!this.disposed && !this.bundleRuns && message.page === this.pageLoads) this.reloadPage();
        }, PAGE_RELOAD_DELAY_MS);
        return;
      case 'loading':
        if ((this.start.restored || this.start.replacements > 0) && this.pageLoads === 1) {
          this.ctx.log.info(`VAE Lens panel ${this.label}: its ${this.describeStart()} page runs, ${Date.now() - this.pageLoadedAt} ms after it was set (${this.where()}).`);
        } else this.ctx.log.debug(`VAE Lens panel ${this.label}: the page runs`);
        this.pageRuns = true;
        // The boot script holds the snapshot until the bundle listens: it goes now, while the page's files load.
        this.webviewReady = true;
        await this.sendSnapshot();
        return;
      case 'ready':
        this.ctx.log.debug(`VAE Lens panel ${this.label}: the page is ready`);
        this.pageRuns = true;
        this.bundleRuns = true;
        // A page that said no `loading` (or said it while hidden) gets its snapshot now.
        if (this.webviewReady) return;
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
