/**
 * The status-bar item while a run trains: "epoch x/N · loss · time left"; a click opens the run
 * panel. It follows our own trainer's batch progress when there is one, else the run folder
 * (a run from another window or the CLI).
 */
import * as vscode from 'vscode';
import { isLiveStatus } from '../shared/run';
import type { ProgressMessage } from '../shared/events';
import { statusBarText } from './model/statusText';
import type { RunState, RunStore } from './model/runStore';
import type { RunManager } from './runManager';

const STATUS_BAR_COMMAND = 'vaeLens.openStatusBarRun';

export class RunStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: { dispose(): void }[] = [];
  private readonly progress = new Map<string, ProgressMessage>();
  /** The run the item shows (what a click opens). */
  private shown: string | undefined;

  constructor(private readonly store: RunStore, private readonly manager: RunManager) {
    this.item = vscode.window.createStatusBarItem('vaeLens.run', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'VAE Lens run';
    this.subscriptions.push(vscode.commands.registerCommand(STATUS_BAR_COMMAND, () => {
      if (this.shown) void vscode.commands.executeCommand('vaeLens.openRun', this.shown);
    }));
    this.subscriptions.push(
      store.onDidChange(() => this.update()),
      manager.onDidChange(() => this.update()),
      manager.onProgress((p) => {
        const child = manager.active().find((c) => c.runId === p.runId);
        if (child?.runDir) this.progress.set(child.runDir, p);
        this.update();
      }),
    );
  }

  /** The run shown: the newest live run, preferring our own trainers. */
  private current(): RunState | undefined {
    const ours = new Set(this.manager.active().map((c) => c.runDir));
    const live = this.store.runs().filter((r) => r.info && isLiveStatus(r.info.status));
    live.sort((a, b) => Number(ours.has(b.dir)) - Number(ours.has(a.dir)) || (b.info!.created).localeCompare(a.info!.created));
    return live[0];
  }

  update(): void {
    // Progress can arrive before the run folder is scanned: keep it for our own trainers that still run.
    const ours = new Set(this.manager.active().map((c) => c.runDir));
    for (const dir of this.progress.keys()) if (!ours.has(dir)) this.progress.delete(dir);
    const run = this.current();
    if (!run) {
      this.shown = undefined;
      this.item.hide();
      return;
    }
    const more = this.store.runs().filter((r) => r.info && isLiveStatus(r.info.status)).length - 1;
    const queued = this.manager.queued().length;
    const progress = this.progress.get(run.dir);
    this.item.text = `$(sync~spin) VAE ${statusBarText(run, progress)}${more > 0 ? ` (+${more})` : ''}${queued ? ` · ${queued} queued` : ''}`;
    this.item.tooltip = `${run.info?.name ?? run.id}: ${run.info?.status}. Click to open the run.`;
    this.shown = run.dir;
    // A plain command id: a command object with arguments is re-registered on every update, and a
    // click on an item rendered a moment earlier would find its command gone.
    this.item.command = STATUS_BAR_COMMAND;
    this.item.show();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}
