/**
 * What the extension host knows about every run folder it can see: run.json, and what it has
 * tailed of events.jsonl (the recent epochs, warnings, the last status and error). The folders are
 * the truth (DESIGN.md); this store is a cache that a file watcher and a poll keep in step, so a run
 * started from the CLI or another window appears and updates too.
 *
 * No vscode import: it is unit-tested and benchmarked under plain Node.
 */
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { RUN_FILE, isLiveStatus, type RunInfo } from '../../shared/run';
import type { EpochEvent, ErrorEvent, RunEvent, StatusEvent, WarningEvent } from '../../shared/events';
import type { SkippedLines } from '../../shared/protocol';
import { DEFAULT_HEALTH_SETTINGS, evaluateHealth, type HealthFinding, type HealthSettings } from '../../shared/health';
import { listRunDirs, readRunInfo } from '../../node/runFolder';
import { recordInterrupted } from './runWriter';
import { localProcessProbe } from '../../node/processProbe';
import { PID_GRACE_MS, trainerLiveness, type ProcessProbe } from '../../shared/liveness';
import { foldEpochInto } from '../../shared/runRules';
import { EventTail } from '../../node/eventTail';
import { FileStamp } from './fileStamp';

/** A place runs are read from: a workspace folder's runs directory (or a shared absolute one). */
export interface RunsRoot {
  /** Shown as the group label in a multi-root workspace. */
  label: string;
  runsDir: string;
}

export interface RunState {
  dir: string;
  id: string;
  root: RunsRoot;
  /** undefined when run.json could not be read (see `problem`). */
  info?: RunInfo;
  problem?: string;
  /** The most recent epochs (bounded), in epoch order, one per epoch. */
  recentEpochs: EpochEvent[];
  latest?: EpochEvent;
  lastStatus?: StatusEvent;
  lastError?: ErrorEvent;
  /** Every warning event seen in events.jsonl (the ones written by any window). */
  warnings: WarningEvent[];
  /** Conditions that hold at the latest epoch, worst first. */
  findings: HealthFinding[];
  /** A sticky divergence (its epoch may have dropped out of recentEpochs). */
  divergence?: HealthFinding;
  /** Only the end of a large events.jsonl was read. */
  partial: boolean;
  /** Bumped whenever anything above changed (tree items and panels compare it). */
  version: number;
}

/** What changed in one refresh, for listeners (warnings, status bar, panels). */
export interface StoreChange {
  /** Runs whose state changed (new, updated). */
  changed: RunState[];
  removed: string[];
  /** Runs seen for the first time in this refresh (a subset of changed). */
  added: string[];
  /** New epoch events per run dir, in order (warnings are evaluated on each). */
  newEpochs: Map<string, EpochEvent[]>;
  /** Run dirs whose events.jsonl grew in this refresh (any kind of event). */
  appended: Set<string>;
  /**
   * The runs folders (workspace folders, vaeLens.runsDirectory) changed since the last full scan:
   * the tree regroups even when no run changed (an empty folder was added, a folder was renamed).
   */
  rootsChanged?: boolean;
}

export interface RunStoreOptions {
  health?: HealthSettings;
  /** Epochs kept per run: enough for every rule's window. */
  keepEpochs?: number;
  /** On the first read of a large events.jsonl, read only this many bytes from its end. */
  initialWindowBytes?: number;
  /** Debounce of scheduled refreshes. */
  debounceMs?: number;
  /** What this machine tells about processes (tests give their own). */
  probe?: ProcessProbe;
}

/** What a dead trainer's run becomes: interrupted, resumable from its last checkpoint. */
export function interruptedInfo(info: RunInfo, now: Date, why = 'the trainer process ended without finishing (a crash, a kill or a reboot)'): RunInfo {
  return { ...info, status: 'interrupted', pid: undefined, host: undefined, processStart: undefined, updated: now.toISOString(), message: `Interrupted: ${why}. Resume continues from the last checkpoint.` };
}

interface Entry {
  state: RunState;
  /** run.json as on disk (state.info may be a view of it: interrupted in memory, see markInterrupted). */
  diskInfo?: RunInfo;
  tail: EventTail;
  runJson: FileStamp;
  /** run.json as last read (serialised), so a re-read that finds the same content changes nothing. */
  runJsonText?: string;
  /** Every event of events.jsonl, kept while a panel follows the run (see follow). */
  history?: RunEvent[];
  /** The next read is the full re-read that builds `history`: its events are not news (no warnings for old epochs). */
  rebuilding?: boolean;
}

/** What a follower of one run (a panel) is told: what was appended, or that it needs a new snapshot. */
export type RunFeedUpdate =
  /** Events appended to events.jsonl (possibly none, when only run.json or the shown status changed). */
  | { kind: 'appended'; events: RunEvent[] }
  /** events.jsonl was replaced, or the folder came back: take a new snapshot. */
  | { kind: 'reset' }
  /** The run folder is gone (deleted, or its runs folder is no longer watched). */
  | { kind: 'gone' };

/** A followed run as it is now: run.json (as shown) and every event, or why it cannot be shown. */
export interface RunHistory {
  dir: string;
  info?: RunInfo;
  events: RunEvent[];
  problem?: string;
  /** The folder no longer exists (the panel says so and waits for it to come back). */
  gone: boolean;
  /** Lines of events.jsonl that could not be used (the panel says how many, and why). */
  skipped?: SkippedLines;
}

export class RunStore {
  private roots: RunsRoot[] = [];
  /** setRoots changed the roots and no full scan has emitted since. */
  private rootsDirty = false;
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(c: StoreChange) => void>();
  private health: HealthSettings;
  private readonly keepEpochs: number;
  private readonly initialWindowBytes: number;
  private readonly debounceMs: number;
  readonly probe: ProcessProbe;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pendingDirs: Set<string> | 'all' = new Set();
  /** Refreshes run one at a time: two at once would both see a new folder as new. */
  private queue: Promise<unknown> = Promise.resolve();
  private loaded = false;
  /** Runs shown as interrupted without writing (untrusted workspace): dir → the run.json text that was judged. */
  private readonly presumedInterrupted = new Map<string, { text: string; info: RunInfo }>();
  /** Panels following a run: they get its whole history and every append (the host's only reader of run folders). */
  private readonly followers = new Map<string, Set<(update: RunFeedUpdate) => void>>();

  constructor(opts: RunStoreOptions = {}) {
    this.health = opts.health ?? { ...DEFAULT_HEALTH_SETTINGS };
    this.keepEpochs = opts.keepEpochs ?? 64;
    this.initialWindowBytes = opts.initialWindowBytes ?? 256 * 1024;
    this.debounceMs = opts.debounceMs ?? 150;
    this.probe = opts.probe ?? localProcessProbe;
  }

  onDidChange(listener: (c: StoreChange) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  setRoots(roots: RunsRoot[]): void {
    // One absolute runs directory shared by several folders is listed once.
    const seen = new Set<string>();
    const next = roots.filter((r) => !seen.has(r.runsDir) && seen.add(r.runsDir));
    const key = (rs: RunsRoot[]) => JSON.stringify(rs.map((r) => [r.label, r.runsDir]));
    if (key(next) !== key(this.roots)) this.rootsDirty = true;
    this.roots = next;
    this.schedule();
  }

  getRoots(): readonly RunsRoot[] {
    return this.roots;
  }

  setHealthSettings(s: HealthSettings): void {
    this.health = s;
    for (const e of this.entries.values()) this.recomputeFindings(e.state);
    this.emit({ changed: [...this.entries.values()].map((e) => e.state), removed: [], added: [], newEpochs: new Map(), appended: new Set() });
  }

  get healthSettings(): HealthSettings {
    return this.health;
  }

  /** Whether the first full scan has finished. */
  get isLoaded(): boolean {
    return this.loaded;
  }

  runs(): RunState[] {
    return [...this.entries.values()].map((e) => e.state);
  }

  get(dir: string): RunState | undefined {
    return this.entries.get(dir)?.state;
  }

  runsIn(root: RunsRoot): RunState[] {
    return this.runs().filter((r) => r.root.runsDir === root.runsDir);
  }

  /**
   * Follows one run for a panel: from now on the store keeps the run's whole history (one full read
   * of events.jsonl, then only what is appended) and tells the listener about every change. The
   * panel takes its snapshot from history(). Disposing the last follower drops the history.
   */
  follow(dir: string, listener: (update: RunFeedUpdate) => void): { dispose(): void } {
    let set = this.followers.get(dir);
    if (!set) {
      set = new Set();
      this.followers.set(dir, set);
      const entry = this.entries.get(dir);
      if (entry && !entry.history) this.rebuildHistory(entry);
    }
    set.add(listener);
    return {
      dispose: () => {
        set.delete(listener);
        if (set.size > 0 || this.followers.get(dir) !== set) return;
        this.followers.delete(dir);
        const entry = this.entries.get(dir);
        if (entry) entry.history = undefined;
      },
    };
  }

  /** The whole history of a followed run, after any pending read; undefined for a run nobody follows. */
  async history(dir: string): Promise<RunHistory | undefined> {
    if (!this.followers.has(dir)) return undefined;
    const entry = this.entries.get(dir);
    if (!entry || entry.rebuilding || !entry.history) await this.refreshDirs([dir]);
    const now = this.entries.get(dir);
    if (!now) return { dir, events: [], gone: true };
    return { dir, info: now.state.info, events: now.history ?? [], problem: now.state.problem, gone: false, skipped: { count: now.tail.skippedLines, problems: [...now.tail.skippedProblems] } };
  }

  /** Every event of a run once (Export Metrics, the warnings' check against the file), read by the store like a panel's history. */
  async allEvents(dir: string): Promise<RunEvent[]> {
    const sub = this.follow(dir, () => undefined);
    try {
      return [...((await this.history(dir))?.events ?? [])];
    } finally {
      sub.dispose();
    }
  }

  /** Starts over reading a run's events from the first byte, so that history holds all of them. */
  private rebuildHistory(entry: Entry): void {
    entry.tail = new EventTail(entry.state.dir);
    entry.history = [];
    entry.rebuilding = true;
    clearEvents(entry.state);
    this.schedule(entry.state.dir);
  }

  private notify(dir: string, update: RunFeedUpdate): void {
    for (const listener of this.followers.get(dir) ?? []) {
      try {
        listener(update);
      } catch (e) {
        console.error('VAE Lens: a run follower failed', e);
      }
    }
  }

  /** Debounced refresh: of some run folders (a watcher saw them change) or of everything (rescan). */
  schedule(dir?: string): void {
    if (dir === undefined) this.pendingDirs = 'all';
    else if (this.pendingDirs !== 'all') this.pendingDirs.add(dir);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.debounceMs);
  }

  /**
   * Runs the pending refresh now and waits for any refresh in flight (tests, commands that need
   * fresh state): a command run right after activation sees the runs of the first scan, not an
   * empty store.
   */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pendingDirs;
    this.pendingDirs = new Set();
    if (pending === 'all' || !this.loaded) await this.refreshAll();
    else if (pending.size) await this.refreshDirs([...pending]);
    await this.queue;
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Full rescan: new folders appear, removed ones go, every known one is refreshed incrementally. */
  refreshAll(): Promise<StoreChange> {
    return this.serialize(() => this.doRefreshAll());
  }

  refreshDirs(dirs: string[]): Promise<StoreChange> {
    return this.serialize(() => this.doRefreshDirs(dirs));
  }

  private async doRefreshAll(): Promise<StoreChange> {
    const found = new Map<string, RunsRoot>();
    for (const root of this.roots) {
      for (const dir of listRunDirs(root.runsDir)) found.set(dir, root);
    }
    const removed = [...this.entries.keys()].filter((d) => !found.has(d));
    for (const d of removed) {
      this.entries.delete(d);
      this.notify(d, { kind: 'gone' });
    }
    const change: StoreChange = { changed: [], removed, added: [], newEpochs: new Map(), appended: new Set(), rootsChanged: this.rootsDirty };
    this.rootsDirty = false;
    await Promise.all([...found].map(([dir, root]) => this.refreshOne(dir, root, change)));
    this.loaded = true;
    this.emit(change);
    return change;
  }

  private async doRefreshDirs(dirs: string[]): Promise<StoreChange> {
    const change: StoreChange = { changed: [], removed: [], added: [], newEpochs: new Map(), appended: new Set() };
    await Promise.all(dirs.map(async (dir) => {
      const root = this.entries.get(dir)?.state.root ?? this.rootOf(dir);
      if (!root) return;
      try {
        await fs.stat(join(dir, RUN_FILE));
      } catch {
        if (this.entries.delete(dir)) {
          change.removed.push(dir);
          this.notify(dir, { kind: 'gone' });
        }
        return;
      }
      await this.refreshOne(dir, root, change);
    }));
    this.emit(change);
    return change;
  }

  /** Dirs of runs whose trainer should be alive (polled: watchers miss appends on some file systems). */
  liveRunDirs(): string[] {
    return this.runs().filter((r) => r.info && isLiveStatus(r.info.status)).map((r) => r.dir);
  }

  /** The root a path under some runs directory belongs to. */
  rootOf(path: string): RunsRoot | undefined {
    return this.roots.find((r) => path === r.runsDir || path.startsWith(r.runsDir + '/') || path.startsWith(r.runsDir + '\\'));
  }

  /**
   * Runs marked starting/running whose trainer is gone (a crash, a reboot, a killed window host)
   * become 'interrupted', so they can be resumed (trainerIsGone says which). With `persist`, on
   * disk (run.json and a status event). Without it (an untrusted workspace: viewing must not modify
   * workspace files) only in memory, until run.json changes or a later call with `persist` writes
   * it (the workspace became trusted). Returns the runs newly marked.
   */
  async markInterrupted(opts: { persist: boolean; now?: Date; graceMs?: number }): Promise<RunState[]> {
    const now = opts.now ?? new Date();
    const written: RunState[] = [];
    /** Runs whose run.json changed since it was cached: read again, not marked. */
    const moved: string[] = [];
    const inMemory: RunState[] = [];
    for (const entry of this.entries.values()) {
      const info = entry.diskInfo;
      const liveness = info ? trainerLiveness(info, this.probe, now, opts.graceMs ?? PID_GRACE_MS) : undefined;
      if (!info || liveness?.state !== 'gone') continue;
      const dir = entry.state.dir;
      if (opts.persist) {
        // The cached run.json may be older than the trainer's last write: one that finished (or
        // stopped) and exited between that read and the probe above wrote its final status. The
        // probe found it gone, so it writes nothing more: read run.json again and judge that.
        const fresh = await readRunInfo(dir).catch(() => undefined);
        const still = fresh ? trainerLiveness(fresh, this.probe, now, opts.graceMs ?? PID_GRACE_MS) : undefined;
        if (!fresh || still?.state !== 'gone') {
          entry.runJson.invalidate();
          moved.push(dir);
          continue;
        }
        const updated = interruptedInfo(fresh, now, still.why);
        await recordInterrupted(dir, updated);
        this.presumedInterrupted.delete(dir);
        written.push(entry.state);
      } else if (this.presumedInterrupted.get(dir)?.text !== entry.runJsonText) {
        const presumed = { text: entry.runJsonText ?? '', info: interruptedInfo(info, now, liveness.why) };
        this.presumedInterrupted.set(dir, presumed);
        entry.state.info = presumed.info;
        entry.state.version++;
        inMemory.push(entry.state);
        this.notify(dir, { kind: 'appended', events: [] });
      }
    }
    if (written.length || moved.length) await this.refreshDirs([...written.map((m) => m.dir), ...moved]);
    if (inMemory.length) this.emit({ changed: inMemory, removed: [], added: [], newEpochs: new Map(), appended: new Set() });
    return [...written, ...inMemory];
  }

  /** run.json as read, or the in-memory interrupted view of it while that text has not changed. */
  private shownInfo(dir: string, info: RunInfo, text: string): RunInfo {
    const presumed = this.presumedInterrupted.get(dir);
    if (!presumed) return info;
    if (presumed.text === text) return presumed.info;
    // run.json moved on (resumed, or marked by a trusted window): it is the truth again.
    this.presumedInterrupted.delete(dir);
    return info;
  }

  private async refreshOne(dir: string, root: RunsRoot, change: StoreChange): Promise<void> {
    let entry = this.entries.get(dir);
    const isNew = !entry;
    if (!entry) {
      const followed = this.followers.has(dir);
      entry = {
        state: { dir, id: basename(dir), root, recentEpochs: [], warnings: [], findings: [], partial: false, version: 0 },
        // A followed run (a panel is open on it) is read whole; others only from near their end.
        tail: new EventTail(dir, followed ? Infinity : this.initialWindowBytes),
        runJson: new FileStamp(),
        history: followed ? [] : undefined,
        rebuilding: followed,
      };
      this.entries.set(dir, entry);
      change.added.push(dir);
      // A followed folder that came back (restored, recreated): its panel takes a new snapshot.
      if (followed) this.notify(dir, { kind: 'reset' });
    }
    const state = entry.state;
    // The same folder under a root that changed its label (a renamed workspace folder).
    const rootMoved = state.root.label !== root.label || state.root.runsDir !== root.runsDir;
    state.root = root;
    let changed = isNew || rootMoved;
    const readInfo = async (): Promise<void> => {
      try {
        const st = await fs.stat(join(dir, RUN_FILE));
        if (!entry.runJson.needsRead(st)) return;
        const readAt = Date.now();
        const info = await readRunInfo(dir);
        entry.runJson.recordRead(st, readAt);
        const text = JSON.stringify(info);
        if (text !== entry.runJsonText || state.problem !== undefined) {
          entry.runJsonText = text;
          entry.diskInfo = info;
          state.info = this.shownInfo(dir, info, text);
          state.problem = undefined;
          changed = true;
        }
      } catch (e) {
        entry.runJson.invalidate();
        const message = (e as Error).message;
        if (state.problem !== message) {
          state.problem = message;
          changed = true;
        }
      }
    };
    await readInfo();
    const shownStatus = state.info?.status;
    let appended: RunEvent[] = [];
    let reset = false;
    try {
      const read = await entry.tail.read();
      if (read.reset) {
        clearEvents(state);
        if (entry.history) entry.history = [];
        reset = true;
        changed = true;
      }
      if (read.partial) state.partial = true;
      if (entry.rebuilding) state.partial = false;
      if (read.events.length) {
        const epochs = this.apply(state, read.events);
        entry.history?.push(...read.events);
        appended = read.events;
        // The full re-read for a panel is not news: old epochs must not raise warnings again.
        if (!entry.rebuilding) {
          if (epochs.length) change.newEpochs.set(dir, epochs);
          change.appended.add(dir);
        }
        changed = true;
        // The trainer rewrites run.json before it appends a status event: a status that run.json,
        // as read, does not show yet (the final 'stopped') means run.json must be read again.
        const last = [...read.events].reverse().find((e): e is StatusEvent => e.type === 'status');
        if (last && last.status !== state.info?.status) {
          entry.runJson.invalidate();
          await readInfo();
        }
      }
    } catch (e) {
      state.problem = `Cannot read events: ${(e as Error).message}`;
      changed = true;
    }
    const rebuilt = entry.rebuilding;
    entry.rebuilding = false;
    if (changed) {
      this.recomputeFindings(state);
      state.version++;
      change.changed.push(state);
    }
    if (isNew || rebuilt) return;
    if (reset) this.notify(dir, { kind: 'reset' });
    else if (appended.length || state.info?.status !== shownStatus || changed) this.notify(dir, { kind: 'appended', events: appended });
  }

  /** Folds new events into a run's state; returns the new epoch events. */
  private apply(state: RunState, events: RunEvent[]): EpochEvent[] {
    const epochs: EpochEvent[] = [];
    for (const e of events) {
      switch (e.type) {
        case 'epoch': {
          // A resumed run may write an epoch again: the later one replaces it (runRules.foldEpochInto).
          foldEpochInto(state.recentEpochs, e);
          if (state.recentEpochs.length > this.keepEpochs) state.recentEpochs.splice(0, state.recentEpochs.length - this.keepEpochs);
          state.latest = state.recentEpochs[state.recentEpochs.length - 1];
          epochs.push(e);
          break;
        }
        case 'status':
          state.lastStatus = e;
          break;
        case 'error':
          state.lastError = e;
          break;
        case 'warning':
          state.warnings.push(e);
          break;
      }
    }
    return epochs;
  }

  private recomputeFindings(state: RunState): void {
    const events: RunEvent[] = [...(state.lastError ? [state.lastError] : []), ...state.recentEpochs];
    const findings = evaluateHealth(events, this.health);
    const div = findings.find((f) => f.kind === 'diverged');
    if (div) state.divergence = div;
    else if (state.divergence) findings.unshift(state.divergence);
    state.findings = findings;
  }

  private emit(change: StoreChange): void {
    if (change.changed.length === 0 && change.removed.length === 0 && !change.rootsChanged) return;
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (e) {
        console.error('VAE Lens: a run store listener failed', e);
      }
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    this.followers.clear();
  }
}

/** Forgets what a run's events said (the file was replaced, or is about to be read again from the start). */
function clearEvents(state: RunState): void {
  state.recentEpochs = [];
  state.latest = undefined;
  state.lastStatus = undefined;
  state.lastError = undefined;
  state.warnings = [];
  state.divergence = undefined;
}
