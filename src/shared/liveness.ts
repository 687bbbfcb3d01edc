/**
 * The one liveness rule: is the trainer that run.json names still running, and may this machine
 * signal it? Used by the runs tree, the status bar, the panels, Stop, resume and the CLI's list and
 * report. Pure: what the machine can tell about processes comes in a ProcessProbe (node/processProbe.ts).
 *
 * A live run (starting/running) records its trainer in run.json: `pid`, `host` (os.hostname()) and
 * `processStart` (an id of the process's start that changes when the pid is reused, where the
 * platform can tell). The judgement:
 *   - not live status                          → 'not-live'
 *   - another host                             → 'elsewhere' (cannot be judged here; never 'gone')
 *   - no pid yet and run.json younger than the grace period → 'starting'
 *   - pid missing, ≤ 1 or not an integer       → 'gone' (no process of ours can be meant)
 *   - pid not running                          → 'gone'
 *   - start id recorded and different          → 'gone' (the pid now belongs to another process)
 *   - start id recorded and equal              → 'alive', verified
 *   - no start id to compare                   → 'alive', unverified
 * Only a verified trainer may be signalled by a process that did not start it; everything else is
 * stopped through the run folder (a stop request the trainer polls) or not at all.
 */
import { isLiveStatus, type RunInfo } from './run';

export interface TrainerProcess {
  pid: number;
  host: string;
  /** Id of the process's start; undefined where the platform cannot tell. */
  start?: string;
}

export interface ProcessProbe {
  hostname: string;
  isAlive(pid: number): boolean;
  startId(pid: number): string | undefined;
}

export type TrainerLiveness =
  | { state: 'not-live' }
  | { state: 'starting' }
  | { state: 'elsewhere'; host: string }
  | { state: 'gone'; why: string }
  | { state: 'alive'; pid: number; verified: boolean };

/** A live run with no pid this young is still starting (its trainer has not written the pid yet). */
export const PID_GRACE_MS = 60_000;

/** A pid that names one process: an integer above 1 (0, 1 and negative pids address groups or init). */
export function isValidPid(pid: unknown): pid is number {
  return typeof pid === 'number' && Number.isInteger(pid) && pid > 1;
}

export function trainerLiveness(info: Pick<RunInfo, 'status' | 'pid' | 'host' | 'processStart' | 'updated' | 'environment'>, probe: ProcessProbe, now: Date, graceMs = PID_GRACE_MS): TrainerLiveness {
  if (!isLiveStatus(info.status)) return { state: 'not-live' };
  const host = info.host ?? info.environment?.hostname;
  if (host && host !== probe.hostname) return { state: 'elsewhere', host };
  if (info.pid === undefined || info.pid === null) {
    const age = now.getTime() - Date.parse(info.updated);
    if (age < graceMs) return { state: 'starting' };
    return { state: 'gone', why: 'run.json names no trainer process' };
  }
  if (!isValidPid(info.pid)) return { state: 'gone', why: `run.json names no valid trainer process (pid ${String(info.pid)})` };
  if (!probe.isAlive(info.pid)) return { state: 'gone', why: `its trainer (process ${info.pid}) is no longer running` };
  if (info.processStart) {
    const start = probe.startId(info.pid);
    if (start !== undefined && start !== info.processStart) return { state: 'gone', why: `process ${info.pid} is no longer its trainer (the pid was reused)` };
    return { state: 'alive', pid: info.pid, verified: start !== undefined };
  }
  return { state: 'alive', pid: info.pid, verified: false };
}

/** Whether a run that run.json calls live has lost its trainer (and can be shown as interrupted). */
export function trainerIsGone(info: Parameters<typeof trainerLiveness>[0], probe: ProcessProbe, now: Date, graceMs = PID_GRACE_MS): boolean {
  return trainerLiveness(info, probe, now, graceMs).state === 'gone';
}

/** The status to show: a live status whose trainer is gone shows as 'interrupted'. */
export function effectiveStatus(info: Parameters<typeof trainerLiveness>[0], probe: ProcessProbe, now: Date, graceMs = PID_GRACE_MS): RunInfo['status'] {
  return trainerIsGone(info, probe, now, graceMs) ? 'interrupted' : info.status;
}
