/**
 * Warnings: the health rules (src/shared/health.ts) are evaluated by the run store on every new
 * epoch; here each kind is raised once per run — written to events.jsonl as a WarningEvent (so a
 * reopened run, another window and the panel show it; in a trusted workspace only) and, unless
 * informational or muted, shown as a notification with "Open Run" and "Don't Warn for This Run".
 */
import * as vscode from 'vscode';
import { appendWarning } from './model/runWriter';
import { EVENTS_SCHEMA_VERSION, type WarningEvent } from '../shared/events';
import { isLiveStatus } from '../shared/run';
import type { HealthFinding } from '../shared/health';
import type { RunState, RunStore, StoreChange } from './model/runStore';
import { notificationsEnabled } from './settings';
import { newFindings } from './model/warningState';
import { warningsMuted } from '../shared/runRules';

export const OPEN_RUN = 'Open Run';
export const DONT_WARN = "Don't Warn for This Run";

export class WarningNotifier implements vscode.Disposable {
  private readonly subscription: { dispose(): void };
  /** Kinds raised by this window, so a slow file system cannot make it raise one twice. */
  private readonly raised = new Map<string, Set<string>>();
  private busy = new Map<string, Promise<void>>();

  constructor(
    private readonly store: RunStore,
    private readonly log: vscode.LogOutputChannel,
    private readonly openRun: (runDir: string) => unknown,
  ) {
    this.subscription = store.onDidChange((c) => this.onChange(c));
  }

  private onChange(change: StoreChange): void {
    // New epochs, and other new events (a divergence arrives as an error event and a failed status).
    for (const dir of change.appended) {
      const run = this.store.get(dir);
      // Epochs that arrive while we watch, or a run found training: opening a folder of old runs
      // must not pop anything up.
      if (!run?.info || (change.added.includes(dir) && !isLiveStatus(run.info.status))) continue;
      const previous = this.busy.get(dir) ?? Promise.resolve();
      const next = previous.then(() => this.check(run)).catch((e) => this.log.error(`Warnings for ${dir}: ${(e as Error).message}`));
      this.busy.set(dir, next);
    }
  }

  /** Raises what is new for one run. Public for tests and for runs evaluated outside the store. */
  async check(run: RunState): Promise<void> {
    const raisedHere = this.raised.get(run.dir) ?? new Set<string>();
    this.raised.set(run.dir, raisedHere);
    let candidates = newFindings(run.findings, run.warnings).filter((f) => !raisedHere.has(f.kind));
    if (candidates.length === 0) return;
    // The store may hold only the end of a long events file, and another window may have just
    // written the same warning: the file itself decides.
    const onDisk = (await this.store.allEvents(run.dir)).filter((e): e is WarningEvent => e.type === 'warning');
    candidates = newFindings(candidates, onDisk);
    const muted = warningsMuted(onDisk);
    for (const f of candidates) {
      raisedHere.add(f.kind);
      const event: WarningEvent = { type: 'warning', v: EVENTS_SCHEMA_VERSION, time: new Date().toISOString(), kind: f.kind, severity: f.severity, epoch: f.epoch, message: f.message };
      await this.record(run.dir, event);
      this.log.info(`Run ${run.id}: ${f.severity} ${f.kind} at epoch ${f.epoch}: ${f.message}`);
      if (f.severity !== 'info' && !muted && notificationsEnabled()) void this.notify(run, f);
    }
    this.store.schedule(run.dir);
  }

  private async notify(run: RunState, f: HealthFinding): Promise<void> {
    const name = run.info?.name ?? run.id;
    const text = `VAE Lens — ${name}, epoch ${f.epoch}: ${f.message}`;
    const show = f.severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    const choice = await show(text, OPEN_RUN, DONT_WARN);
    if (choice === OPEN_RUN) this.openRun(run.dir);
    else if (choice === DONT_WARN) {
      const event: WarningEvent = { type: 'warning', v: EVENTS_SCHEMA_VERSION, time: new Date().toISOString(), kind: f.kind, severity: f.severity, epoch: f.epoch, message: f.message, dismissed: true };
      await this.record(run.dir, event);
      this.store.schedule(run.dir);
    }
  }

  /**
   * Writes a warning or a dismissal to the run folder. Not in an untrusted workspace (viewing
   * modifies no workspace file): there it is raised in this window only, once per run.
   */
  private async record(dir: string, event: WarningEvent): Promise<void> {
    if (vscode.workspace.isTrusted) await appendWarning(dir, event);
    else this.log.info(`Untrusted workspace: the ${event.kind} ${event.dismissed ? 'dismissal' : 'warning'} is not written to ${dir}`);
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
