/**
 * The rules about a run that every view applies (tree, status bar, panels, report, CLI), in one
 * place so they cannot disagree. Liveness (is the trainer still there?) has its own module,
 * liveness.ts; time left and the "epoch x/N" wording live in progress.ts and run.ts.
 */
import type { EpochEvent, RunEvent, WarningEvent } from './events';
import { isLiveStatus, type RunInfo } from './run';

/**
 * Epoch events in epoch order, one per epoch: when an epoch was written twice (a resumed run
 * writes again the epoch it recovers), the later event wins. Nothing else is dropped.
 */
export function foldEpochs(events: readonly RunEvent[]): EpochEvent[] {
  const byEpoch = new Map<number, EpochEvent>();
  for (const e of events) if (e.type === 'epoch') byEpoch.set(e.epoch, e);
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** Folds one epoch event into a list kept by foldEpochs' rule (in place); returns the list. */
export function foldEpochInto(epochs: EpochEvent[], event: EpochEvent): EpochEvent[] {
  let i = epochs.length;
  while (i > 0 && epochs[i - 1].epoch > event.epoch) i--;
  if (i > 0 && epochs[i - 1].epoch === event.epoch) epochs[i - 1] = event;
  else epochs.splice(i, 0, event);
  return epochs;
}

/**
 * Folds an append's epochs into a run's list, by the same rule as splitRunEvents (the later event
 * for an epoch wins). Epochs that only extend the list come back as `fresh`, to be appended to the
 * charts; when a resumed run rewrote or back-filled an epoch, `redraw` is the merged, sorted list
 * and the panel redraws from it once.
 */
export function mergeAppendedEpochs(current: readonly EpochEvent[], incoming: readonly EpochEvent[]): { fresh: EpochEvent[] } | { redraw: EpochEvent[] } {
  const known = new Map(current.map((e) => [e.epoch, e]));
  const last = current[current.length - 1]?.epoch ?? 0;
  const rewritten = incoming.some((e) => known.has(e.epoch) && known.get(e.epoch)?.time !== e.time);
  const fresh = incoming.filter((e) => !known.has(e.epoch));
  if (!rewritten && fresh.every((e, i) => e.epoch > (i ? fresh[i - 1].epoch : last))) return { fresh };
  for (const e of incoming) known.set(e.epoch, e);
  return { redraw: [...known.values()].sort((a, b) => a.epoch - b.epoch) };
}

/** Every warning event, in file order. */
export function warningEvents(events: readonly RunEvent[]): WarningEvent[] {
  return events.filter((e): e is WarningEvent => e.type === 'warning');
}

/** Whether Stop applies: the run trains, starts, or waits in the queue. */
export function canStop(info: Pick<RunInfo, 'status'>): boolean {
  return isLiveStatus(info.status) || info.status === 'queued';
}

/** Whether Resume applies: the run ended early (stopped, interrupted, failed) with epochs left to train. */
export function canResume(info: Pick<RunInfo, 'status' | 'epochsCompleted' | 'config'>): boolean {
  return (info.status === 'stopped' || info.status === 'interrupted' || info.status === 'failed') && info.epochsCompleted < info.config.epochs;
}

/**
 * "Don't Warn for This Run": once a user dismissed one of a run's warnings (a warning event with
 * `dismissed`), the run's warnings no longer call for attention anywhere — no notification, no badge
 * on its row or on the VAE Runs view, no banner in its panel. The gauges keep their colours.
 */
export function warningsMuted(warnings: readonly WarningEvent[]): boolean {
  return warnings.some((w) => w.dismissed === true);
}

/** How many runs a comparison takes (compare panel, report, commands). */
export const MIN_COMPARE_RUNS = 2;
export const MAX_COMPARE_RUNS = 6;

/** Whether `count` different runs can be compared side by side. */
export function canCompare(count: number): boolean {
  return count >= MIN_COMPARE_RUNS && count <= MAX_COMPARE_RUNS;
}
