/**
 * One forked trainer (dist/trainer.js). Forked detached, in its own process group, so a window
 * reload does not end training: the run folder carries the run on, and a reloaded window finds it
 * by its pid in run.json. IPC carries only ephemeral progress and nudges: the trainer appended an
 * event (the run store reads it from the run folder), or could not start a run (and why).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, promises as fs } from 'node:fs';
import type { AppendedMessage, ProgressMessage, TrainerCommand, TrainerMessage, TrainerRequest } from '../shared/events';
import { isValidPid } from '../shared/liveness';
import type { Signaller } from './model/stopRun';

/** How long a trainer asked to stop may take before it is sent SIGTERM (its batch, its checkpoint, a download). */
export const STOP_GRACE_MS = 60_000;
/** How long after SIGTERM a trainer is killed. */
export const KILL_GRACE_MS = 10_000;

/** What the trainer is asked to do: its one argument (see src/trainer/main.ts). */
export type TrainerJob = TrainerRequest;

export interface TrainerCallbacks {
  onStarted?(runId: string, runDir: string): void;
  onProgress?(p: ProgressMessage): void;
  /** The trainer appended an event to its run folder. */
  onAppended?(m: AppendedMessage): void;
  /** The trainer could not start a run (nothing was written). */
  onNotStarted?(message: string): void;
  onStderr?(line: string): void;
  onExit?(code: number | null, signal: NodeJS.Signals | null): void;
}

export type TrainerState = 'starting' | 'running' | 'stopping' | 'exited';

export class TrainerProcess {
  readonly child!: ChildProcess;
  state: TrainerState = 'starting';
  runId: string | undefined;
  runDir: string | undefined;
  lastProgress: ProgressMessage | undefined;
  /** Settles when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private stderrOffset = 0;
  private stderrPending = '';
  private stderrTimer: ReturnType<typeof setInterval> | undefined;
  private escalation: ReturnType<typeof setTimeout>[] = [];

  /**
   * @param stderrFile the trainer's stderr goes to this file, not a pipe: a pipe would break
   *   (EPIPE) when this window reloads, and the run must go on. It is followed into the log here.
   */
  constructor(trainerPath: string, job: TrainerJob, opts: { cwd?: string; env?: Record<string, string>; stderrFile: string }, private readonly cb: TrainerCallbacks) {
    const fd = openSync(opts.stderrFile, 'a');
    try {
      this.child = fork(trainerPath, [JSON.stringify(job)], {
        cwd: opts.cwd,
        env: { ...process.env, ...opts.env, VAE_LENS_PARENT: 'vscode' },
        detached: true,
        stdio: ['ignore', 'ignore', fd, 'ipc'],
        execArgv: [],
      });
    } finally {
      closeSync(fd);
    }
    if ('resume' in job) this.runDir = job.resume;
    this.stderrTimer = setInterval(() => void this.followStderr(opts.stderrFile), 300);
    this.child.on('message', (m: TrainerMessage) => {
      if (!m || typeof m !== 'object') return;
      switch (m.type) {
        case 'started':
          this.runId = m.runId;
          this.runDir = m.runDir;
          cb.onStarted?.(m.runId, m.runDir);
          break;
        case 'progress':
          this.lastProgress = m;
          if (m.phase === 'training' && this.state === 'starting') this.state = 'running';
          cb.onProgress?.(m);
          break;
        case 'appended':
          if (m.kind === 'epoch' && this.state === 'starting') this.state = 'running';
          cb.onAppended?.(m);
          break;
        case 'notStarted':
          if (typeof m.message === 'string') cb.onNotStarted?.(m.message);
          break;
      }
    });
    this.exited = new Promise((resolve) => {
      const done = async (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.state === 'exited') return;
        this.state = 'exited';
        this.clearEscalation();
        this.stopFollowing();
        while (this.following) await new Promise((r) => setTimeout(r, 20));
        await this.followStderr(opts.stderrFile);
        if (this.stderrPending.trim()) cb.onStderr?.(this.stderrPending);
        this.stderrPending = '';
        cb.onExit?.(code, signal);
        resolve({ code, signal });
      };
      this.child.on('exit', (code, signal) => void done(code, signal));
      this.child.on('error', (e) => {
        cb.onStderr?.(`Cannot start the trainer: ${e.message}`);
        void done(null, null);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Asks the trainer to stop after its current batch (it checkpoints and writes status 'stopped').
   * One that has not ended after `graceMs` gets SIGTERM, then SIGKILL: only this trainer's own
   * process group, through `signal`.
   */
  stop(signal: Signaller = signalGroup, graceMs = STOP_GRACE_MS): void {
    if (this.state === 'exited') return;
    this.state = 'stopping';
    const command: TrainerCommand = { type: 'stop' };
    if (this.child.connected) this.child.send(command);
    else this.signal(signal, 'SIGTERM');
    this.escalate(signal, [{ afterMs: graceMs, signal: 'SIGTERM' }, { afterMs: KILL_GRACE_MS, signal: 'SIGKILL' }]);
  }

  /**
   * Ends the trainer and anything it started (cancel during start): SIGTERM lets it abort a download
   * and record the stop; one that has not ended after `graceMs` is killed.
   */
  kill(graceMs = KILL_GRACE_MS, signal: Signaller = signalGroup): void {
    if (this.state === 'exited') return;
    this.state = 'stopping';
    this.signal(signal, 'SIGTERM');
    this.escalate(signal, [{ afterMs: graceMs, signal: 'SIGKILL' }]);
  }

  private signal(signal: Signaller, name: NodeJS.Signals): void {
    if (this.state !== 'exited' && this.child.pid !== undefined) signal(this.child.pid, name);
  }

  /** Signals sent in turn, each `afterMs` after the previous, while the trainer has not exited. */
  private escalate(signal: Signaller, steps: { afterMs: number; signal: NodeJS.Signals }[]): void {
    this.clearEscalation();
    let at = 0;
    for (const step of steps) {
      at += step.afterMs;
      this.escalation.push(setTimeout(() => this.signal(signal, step.signal), at));
    }
  }

  private clearEscalation(): void {
    for (const t of this.escalation) clearTimeout(t);
    this.escalation = [];
  }

  /** Lets the trainer outlive this window: no more IPC or log from it. */
  detach(): void {
    this.stopFollowing();
    this.clearEscalation();
    this.child.removeAllListeners('message');
    if (this.child.connected) this.child.disconnect();
    this.child.unref();
  }

  private stopFollowing(): void {
    if (this.stderrTimer) clearInterval(this.stderrTimer);
    this.stderrTimer = undefined;
  }

  private following = false;

  private async followStderr(file: string): Promise<void> {
    if (this.following) return;
    this.following = true;
    try {
      const handle = await fs.open(file, 'r');
      try {
        const { size } = await handle.stat();
        if (size <= this.stderrOffset) return;
        const buf = Buffer.alloc(size - this.stderrOffset);
        const { bytesRead } = await handle.read(buf, 0, buf.length, this.stderrOffset);
        this.stderrOffset += bytesRead;
        const lines = (this.stderrPending + buf.subarray(0, bytesRead).toString('utf8')).split('\n');
        this.stderrPending = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) this.cb.onStderr?.(l);
      } finally {
        await handle.close();
      }
    } catch {
      // The log file is a convenience; the run folder has what matters.
    } finally {
      this.following = false;
    }
  }
}

/**
 * Signals a detached trainer's whole process group (it leads one), falling back to the pid. Only
 * for a trainer this host forked; a pid that is not one process (≤ 1, negative, not an integer)
 * is refused: process.kill(-1) would signal every process of the user.
 */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals, kill: (pid: number, signal: NodeJS.Signals) => void = (p, sig) => process.kill(p, sig)): boolean {
  if (!isValidPid(pid)) return false;
  try {
    kill(-pid, signal);
    return true;
  } catch {
    try {
      kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}
