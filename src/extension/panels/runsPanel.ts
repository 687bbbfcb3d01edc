/**
 * What the run and compare panels share: the webview page under a strict CSP, validation of every
 * message before acting on it, run folders watched while the panel is open, and the snapshot /
 * append protocol (a complete snapshot when the webview says ready or becomes visible again;
 * appends only while it is visible, since a hidden webview drops messages).
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { EpochEvent, WarningEvent } from '../../shared/events';
import { makeNonce, renderLinkedPanelHtml, webviewCsp } from '../../shared/panelHtml';
import { parseFromWebviewMessage, toRunView, type FromWebviewMessage, type PanelKind, type ToWebviewMessage } from '../../shared/protocol';
import { healthSettings, SECTION } from '../settings';
import { runsDirectories } from './resourceRoots';
import { effectiveInfo, RunWatcher, type RunUpdate } from './runWatcher';

export interface PanelContext {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  /** Opens (or reveals) the run panel of one run: the compare panel's "Open". */
  openRun(dir: string): void;
}

/** Only what the page loads: the bundles, the CSS, and the folders that hold the shown runs. */
export function localResourceRoots(extensionUri: vscode.Uri, dirs: readonly string[]): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media'), ...runsDirectories(dirs).map((d) => vscode.Uri.file(d))];
}

export function webviewOptions(extensionUri: vscode.Uri, dirs: readonly string[]): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: localResourceRoots(extensionUri, dirs) };
}

export abstract class RunsPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly watchers: RunWatcher[];
  private webviewReady = false;
  private wasVisible = true;
  private disposed = false;

  protected constructor(
    readonly panel: vscode.WebviewPanel,
    readonly kind: PanelKind,
    readonly dirs: readonly string[],
    protected readonly ctx: PanelContext,
  ) {
    const webview = panel.webview;
    // Set again on every construction, restore included: the extension folder may have moved after an update.
    webview.options = webviewOptions(ctx.extensionUri, dirs);
    const nonce = makeNonce((n) => randomBytes(n));
    webview.html = renderLinkedPanelHtml({
      title: panel.title,
      panel: kind,
      nonce,
      csp: webviewCsp(webview.cspSource, nonce),
      url: (path) => webview.asWebviewUri(vscode.Uri.joinPath(ctx.extensionUri, ...path.split('/'))).toString(),
    });
    this.watchers = dirs.map((dir) => new RunWatcher(dir, (u) => this.onRunUpdate(dir, u), (e) => ctx.log.warn(`VAE Lens panel: ${dir}: ${e.message}`)));
    this.disposables.push(
      ...this.watchers,
      webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      panel.onDidChangeViewState(() => {
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
    void Promise.all(this.watchers.map((w) => w.ready)).then(
      () => this.updateTitle(),
      (e: Error) => this.showProblem(e),
    );
  }

  protected abstract title(): string;

  private updateTitle(): void {
    if (!this.disposed) this.panel.title = this.title();
  }

  protected infoOf(index: number) {
    return this.watchers[index]?.info;
  }

  private showProblem(e: Error): void {
    this.ctx.log.error(`VAE Lens panel: ${e.message}`);
    if (this.disposed) return;
    // The page would otherwise stay at "Loading…": say what is wrong where the user looks.
    const text = `VAE Lens cannot show this run: ${e.message}`.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    this.panel.webview.html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head><body><p role="alert">${text}</p></body></html>`;
  }

  private post(message: ToWebviewMessage): void {
    if (this.disposed) return;
    void this.panel.webview.postMessage(message);
  }

  /** The complete state of every shown run, read from the watchers (what is on disk now). */
  async sendSnapshot(): Promise<void> {
    try {
      await Promise.all(this.watchers.map((w) => w.ready));
    } catch (e) {
      this.showProblem(e as Error);
      return;
    }
    const webview = this.panel.webview;
    const runs = this.watchers.map((w) =>
      toRunView({ dir: w.dir, info: effectiveInfo(w.info!), events: w.events }, webview.asWebviewUri(vscode.Uri.file(w.dir)).toString() + '/'),
    );
    this.updateTitle();
    this.post({ type: 'snapshot', v: 1, panel: this.kind, interactive: true, runs, health: healthSettings() });
  }

  private onRunUpdate(dir: string, update: RunUpdate): void {
    this.updateTitle();
    if (!this.webviewReady || !this.panel.visible) return;
    if (update.reset) {
      void this.sendSnapshot();
      return;
    }
    const watcher = this.watchers.find((w) => w.dir === dir);
    if (!watcher?.info) return;
    const epochs = update.events.filter((e): e is EpochEvent => e.type === 'epoch');
    const warnings = update.events.filter((e): e is WarningEvent => e.type === 'warning');
    this.post({ type: 'append', dir, info: effectiveInfo(watcher.info), epochs, warnings });
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
      case 'ready':
        this.webviewReady = true;
        await this.sendSnapshot();
        return;
      case 'error':
        this.ctx.log.error(`VAE Lens panel (webview): ${message.message}`);
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
    this.onDispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }

  protected abstract onDispose(): void;
}
