/**
 * Stop, decided by who started the trainer. A trainer this extension host forked and still holds
 * (its ChildProcess) is stopped over IPC, and only it may be signalled (its own process group,
 * after a timeout). Any other run, whatever its run.json says, is stopped through its run folder:
 * a stop request the trainer reads between batches. A pid in run.json is never signalled: a
 * repository could name pid 1, or a process that is no trainer, and Stop would hit it.
 *
 * No vscode import: unit-tested under plain Node with the signalling function injected.
 */
import type { RunInfo } from '../../shared/run';
import { trainerLiveness, type ProcessProbe } from '../../shared/liveness';

/** Sends a signal to a process group this host started (trainerProcess.ts: signalGroup). */
export type Signaller = (pid: number, signal: NodeJS.Signals) => boolean;

/** A trainer this host forked and still holds. */
export interface HeldTrainer {
  readonly pid: number | undefined;
  /** IPC stop; the signaller is for its own group if it does not end in time. */
  stop(signal: Signaller): void;
}

export type StopOutcome =
  /** A queued run was taken off the queue. */
  | { kind: 'dequeued'; message: string }
  /** Our own trainer was asked over IPC. */
  | { kind: 'stopping'; message: string }
  /** A stop request was written to the run folder. */
  | { kind: 'requested'; message: string }
  /** The trainer was already gone: the run is now marked interrupted. */
  | { kind: 'interrupted'; message: string }
  | { kind: 'not-running'; message: string };

export interface StopTarget {
  dir: string;
  /** Shown in messages. */
  name: string;
  /** run.json as read just now; undefined when it cannot be read. */
  info: RunInfo | undefined;
  held?: HeldTrainer;
}

export interface StopDeps {
  probe: ProcessProbe;
  now?: Date;
  /** Handed to a held trainer only; nothing else here signals. */
  signal: Signaller;
  /** Writes the run folder's stop request (runWriter.writeStopRequest). */
  requestStop(dir: string): Promise<void>;
  /** Records this run (run.json as judged) as interrupted: runWriter.recordInterrupted. */
  markInterrupted(dir: string, info: RunInfo): Promise<void>;
}

export async function stopRun(run: StopTarget, deps: StopDeps): Promise<StopOutcome> {
  const name = `"${run.name}"`;
  if (run.held) {
    run.held.stop(deps.signal);
    return { kind: 'stopping', message: `${name} stops after its current batch (process ${run.held.pid ?? '?'}, started by this window), with a checkpoint.` };
  }
  if (!run.info) return { kind: 'not-running', message: `${name} has no readable run.json, so nothing says it is training; no stop was sent.` };
  const liveness = trainerLiveness(run.info, deps.probe, deps.now ?? new Date());
  switch (liveness.state) {
    case 'not-live':
      return { kind: 'not-running', message: `${name} is not running (it is ${run.info.status}).` };
    case 'gone':
      await deps.markInterrupted(run.dir, run.info);
      return { kind: 'interrupted', message: `${name} was not training: ${liveness.why}. It is now marked interrupted (there was nothing to stop); Resume continues it from its last checkpoint.` };
    case 'elsewhere':
      await deps.requestStop(run.dir);
      return { kind: 'requested', message: `${name} trains on ${liveness.host}; a stop request was written to its run folder, which it reads if it shares this folder.` };
    case 'starting':
      await deps.requestStop(run.dir);
      return { kind: 'requested', message: `${name} is starting and has not recorded its trainer process yet; a stop request was written to its run folder, and it stops after its first batch.` };
    case 'alive':
      await deps.requestStop(run.dir);
      return { kind: 'requested', message: `${name}: asked the trainer (process ${liveness.pid}) to stop after its current batch.` };
  }
}
