/**
 * Keeps one run folder's events in memory for a panel and reports what is appended: events.jsonl
 * is tailed incrementally (the extension's EventTail), run.json re-read when it changes. Change
 * detection is fs.watch on the folder plus a slow poll, because watching is unreliable on some file
 * systems (network drives, some containers) and a run may be written by a CLI on another machine.
 */
import { watch, promises as fs, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type * as vscode from 'vscode';
import type { RunEvent } from '../../shared/events';
import { readRunInfo } from '../../node/runFolder';
import { localProcessProbe } from '../../node/processProbe';
import { RUN_FILE, type RunInfo } from '../../shared/run';
import { EventTail } from '../model/eventTail';
import { FileStamp } from '../model/fileStamp';
import { trainerIsGone } from '../../shared/liveness';

export interface RunUpdate {
  /** Events appended since the last update (after a reset: everything). */
  events: RunEvent[];
  /** events.jsonl was replaced or truncated: the panel needs a fresh snapshot. */
  reset: boolean;
  infoChanged: boolean;
}

/**
 * A run that says it is live but whose trainer on this machine is gone was interrupted (crash, kill,
 * reboot). Judged by the run store's rule, so the panel and the tree never disagree about a run.
 */
export function effectiveInfo(info: RunInfo, now = new Date()): RunInfo {
  if (!trainerIsGone(info, localProcessProbe, now)) return info;
  return { ...info, status: 'interrupted', message: info.message ?? 'The trainer process is no longer running.' };
}

export class RunWatcher implements vscode.Disposable {
  readonly events: RunEvent[] = [];
  info: RunInfo | undefined;
  private readonly tail: EventTail;
  /** run.json is replaced by rename, possibly within one mtime tick of the last write (see FileStamp). */
  private readonly infoStamp = new FileStamp();
  private infoText: string | undefined;
  private status: string | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private disposed = false;
  /** Resolves after the first complete read. */
  readonly ready: Promise<void>;

  constructor(
    readonly dir: string,
    private readonly onUpdate: (update: RunUpdate) => void,
    private readonly onError: (error: Error) => void,
    pollMs = 1000,
  ) {
    this.tail = new EventTail(dir);
    this.ready = this.check(true);
    try {
      this.watcher = watch(dir, () => this.schedule());
      this.watcher.on('error', () => undefined);
    } catch {
      // No watcher on this file system: the poll below still sees every change.
    }
    this.timer = setInterval(() => this.schedule(0), pollMs);
  }

  private schedule(delay = 50): void {
    if (this.disposed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.running = this.running.then(() => this.check(false));
    }, delay);
  }

  private async check(first: boolean): Promise<void> {
    if (this.disposed) return;
    try {
      let infoChanged = false;
      const stat = await fs.stat(join(this.dir, RUN_FILE)).catch(() => undefined);
      if (stat && this.infoStamp.needsRead(stat)) {
        const readAt = Date.now();
        const info = await readRunInfo(this.dir);
        this.infoStamp.recordRead(stat, readAt);
        const text = JSON.stringify(info);
        if (text !== this.infoText) {
          this.infoText = text;
          this.info = info;
          infoChanged = true;
        }
      } else if (!stat && first) {
        this.info = await readRunInfo(this.dir);
      }
      const status = this.info ? effectiveInfo(this.info).status : undefined;
      if (status !== this.status) {
        infoChanged = infoChanged || this.status !== undefined;
        this.status = status;
      }
      const read = await this.tail.read();
      if (read.reset) this.events.length = 0;
      this.events.push(...read.events);
      if (!first && (read.events.length > 0 || read.reset || infoChanged)) {
        this.onUpdate({ events: read.events, reset: read.reset, infoChanged });
      }
    } catch (e) {
      if (first) throw e;
      this.onError(e as Error);
    }
  }

  dispose(): void {
    this.disposed = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
  }
}
