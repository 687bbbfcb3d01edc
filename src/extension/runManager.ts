/**
 * Run lifecycle in this window: a queue bounded by vaeLens.maxConcurrentRuns, forking trainers,
 * a cancellable notification while a run starts (data download included), Stop and Resume.
 * Runs from other windows or the CLI are seen through the run store (the folder is the truth);
 * they are stopped through their run folder, never by a signal: only trainers forked here are.
 */
import * as vscode from 'vscode';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainConfig } from '../shared/config';
import { isLiveStatus } from '../shared/run';
import { trainerLiveness } from '../shared/liveness';
import type { ProgressMessage } from '../shared/events';
import { interruptedInfo, type RunStore } from './model/runStore';
import { readRunInfo } from '../node/runFolder';
import { recordInterrupted, writeStopRequest } from './model/runWriter';
import { stopRun, type Signaller, type StopOutcome } from './model/stopRun';
import type { QueuedRun } from './model/treeModel';
import { TrainerProcess, signalGroup, type TrainerJob } from './trainerProcess';
import { maxConcurrentRuns, trainerEnvironment } from './settings';

export interface StartRequest {
  config?: TrainConfig;
  runsDir?: string;
  /** A run folder to continue from its checkpoint. */
  resume?: string;
  /** Working directory of the trainer (relative idx: folders resolve against it). */
  cwd?: string;
}

interface Queued extends QueuedRun {
  request: StartRequest;
}

export class RunManager implements vscode.Disposable {
  private readonly queue: Queued[] = [];
  private readonly children = new Set<TrainerProcess>();
  private nextKey = 1;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly progressEmitter = new vscode.EventEmitter<ProgressMessage>();
  /** Batch-level progress of trainers forked by this window. */
  readonly onProgress = this.progressEmitter.event;
  private disposed = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly store: RunStore,
    private readonly log: vscode.LogOutputChannel,
    /** Signals a process group; used only on trainers forked here. */
    private readonly signal: Signaller = signalGroup,
  ) {}

  queued(): readonly QueuedRun[] {
    return this.queue;
  }

  /** Trainers forked here that have not exited. */
  active(): TrainerProcess[] {
    return [...this.children].filter((c) => c.state !== 'exited');
  }

  childFor(runDir: string): TrainerProcess | undefined {
    return this.active().find((c) => c.runDir === runDir);
  }

  /** Runs training on this machine now: ours (also while starting) and live runs seen on disk. */
  private runningCount(): number {
    const ours = this.active();
    const ourDirs = new Set(ours.map((c) => c.runDir).filter(Boolean));
    const others = this.store.runs().filter((r) => r.info && isLiveStatus(r.info.status) && !ourDirs.has(r.dir) && this.isLocalLive(r.dir));
    return ours.length + others.length;
  }

  private isLocalLive(dir: string): boolean {
    const info = this.store.get(dir)?.info;
    return !!info && trainerLiveness(info, this.store.probe, new Date()).state === 'alive';
  }

  /** Starts a run now or queues it; returns the queue position (0: started). */
  enqueue(request: StartRequest): number {
    const name = request.config?.name ?? this.store.get(request.resume ?? '')?.info?.name ?? 'run';
    const config = request.config ?? this.store.get(request.resume ?? '')?.info?.config;
    if (!config) throw new Error('Nothing to start: no config and no run to resume.');
    this.queue.push({ key: String(this.nextKey++), name, config, resumeDir: request.resume, runsDir: request.runsDir, request });
    this.pump();
    const position = this.queue.findIndex((q) => q.request === request);
    this.changed.fire();
    return position < 0 ? 0 : position + 1;
  }

  /** Removes a queued run (Stop on a queued item). */
  dequeue(key: string): boolean {
    const i = this.queue.findIndex((q) => q.key === key || q.resumeDir === key);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    this.changed.fire();
    return true;
  }

  isQueued(runDir: string): boolean {
    return this.queue.some((q) => q.resumeDir === runDir);
  }

  /** Starts queued runs while slots are free. */
  pump(): void {
    if (this.disposed) return;
    while (this.queue.length && this.runningCount() < maxConcurrentRuns()) {
      const next = this.queue.shift()!;
      this.launch(next.request);
      this.changed.fire();
    }
  }

  private launch(request: StartRequest): void {
    const env = trainerEnvironment();
    const data = { cacheDir: env.VAE_LENS_DATA_CACHE, baseUrl: env.VAE_LENS_FASHION_MNIST_URL, baseDir: request.cwd };
    const job: TrainerJob = request.resume
      ? { resume: request.resume, data }
      : { config: request.config!, runsDir: request.runsDir!, data };
    const trainerPath = join(this.context.extensionPath, 'dist', 'trainer.js');
    const logDir = this.context.logUri.fsPath;
    mkdirSync(logDir, { recursive: true });
    const stderrFile = join(logDir, `trainer-${Date.now()}-${this.nextKey++}.log`);
    const label = request.config?.name ?? this.store.get(request.resume ?? '')?.info?.name ?? 'run';
    this.log.info(`Starting trainer for "${label}"${request.resume ? ` (resume ${request.resume})` : ''}: ${trainerPath}`);
    let resolveStarted: () => void = () => undefined;
    const startedOrExited = new Promise<void>((r) => (resolveStarted = r));
    let report: ((p: { message?: string; increment?: number }) => void) | undefined;
    const child: TrainerProcess = new TrainerProcess(trainerPath, job, { cwd: request.cwd, env: { ...env, VAE_LENS_ROOT: this.context.extensionPath }, stderrFile }, {
      onStarted: (runId, runDir) => {
        this.log.info(`Run ${runId} started in ${runDir} (pid ${child.pid})`);
        this.store.schedule();
        this.changed.fire();
      },
      onProgress: (p) => {
        if (p.phase === 'training') resolveStarted();
        else report?.({ message: p.phase });
        this.progressEmitter.fire(p);
      },
      onAppended: (m) => {
        if (m.kind === 'epoch') resolveStarted();
        if (child.runDir) this.store.schedule(child.runDir);
      },
      onNotStarted: (message) => this.log.error(`The trainer for "${label}" did not start a run: ${message}`),
      onStderr: (line) => this.log.info(`[trainer ${child.pid ?? ''}] ${line}`),
      onExit: (code, signal) => {
        resolveStarted();
        this.log.info(`Trainer ${child.pid ?? ''} for "${label}" exited (${signal ?? `code ${code}`})`);
        this.children.delete(child);
        // A trainer that was killed cannot write its own last status: its run becomes interrupted.
        void this.store.refreshAll().then(() => this.store.markInterrupted({ persist: vscode.workspace.isTrusted })).catch((e) => this.log.error(`After the trainer exited: ${(e as Error).message}`));
        if (code === 1 && child.runDir) {
          const runDir = child.runDir;
          void this.store.refreshDirs([runDir]).then(async () => {
            const run = this.store.get(runDir);
            // A divergence has its own notification, with remedies (warnings.ts).
            if (run?.findings.some((f) => f.kind === 'diverged')) return;
            const info = run?.info;
            const a = await vscode.window.showErrorMessage(`VAE Lens: run "${label}" failed${info?.message ? `: ${info.message}` : ''}.`, 'Open Run', 'Show Log');
            if (a === 'Show Log') this.log.show(true);
            else if (a === 'Open Run') void vscode.commands.executeCommand('vaeLens.openRun', runDir);
          });
        } else if (code !== 0 && code !== null && !child.runDir) {
          void vscode.window.showErrorMessage(`VAE Lens: the trainer for "${label}" could not start (exit code ${code}). See the log for details.`, 'Show Log').then((a) => {
            if (a) this.log.show(true);
          });
        }
        this.changed.fire();
        // A finished run frees its slot.
        setTimeout(() => this.pump(), 50);
      },
    });
    this.children.add(child);
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `VAE Lens: starting "${label}"`, cancellable: true },
      async (progress, token) => {
        report = (p) => progress.report(p);
        progress.report({ message: 'starting the trainer' });
        token.onCancellationRequested(() => {
          this.log.info(`Start of "${label}" cancelled`);
          child.kill(undefined, this.signal);
        });
        await startedOrExited;
      },
    );
  }

  /**
   * Stop: a queued run leaves the queue; a trainer this window forked is asked over IPC (and only
   * it may be signalled, if it does not end); any other run is asked through its run folder
   * (model/stopRun.ts says which and what to tell the user).
   */
  async stop(runDir: string): Promise<StopOutcome> {
    const name = () => this.store.get(runDir)?.info?.name ?? runDir;
    if (this.dequeue(runDir)) return { kind: 'dequeued', message: `"${name()}" was taken off the queue.` };
    // run.json as it is now: the store's copy may be older, or shown as interrupted without being written.
    const info = await readRunInfo(runDir).catch(() => this.store.get(runDir)?.info);
    return stopRun({ dir: runDir, name: info?.name ?? name(), info, held: this.childFor(runDir) }, {
      probe: this.store.probe,
      signal: this.signal,
      requestStop: writeStopRequest,
      // This run only, as judged just now (the store marks the others on its own occasions).
      markInterrupted: async (dir, judged) => {
        await recordInterrupted(dir, interruptedInfo(judged, new Date()));
        await this.store.refreshDirs([dir]);
      },
    });
  }

  dispose(): void {
    this.disposed = true;
    // Trainers keep running past a reload or window close (the run folder carries them on).
    for (const c of this.children) c.detach();
    this.children.clear();
    this.changed.dispose();
    this.progressEmitter.dispose();
  }
}
