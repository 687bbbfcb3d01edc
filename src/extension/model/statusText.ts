/** The status-bar text of a training run (pure, unit-tested). */
import type { ProgressMessage } from '../../shared/events';
import type { RunState } from './runStore';
import { epochProgress, formatDuration, formatNumber, secondsLeft } from './treeModel';

/** The status-bar text for a run; batch progress of the current epoch refines the epoch and time left. */
export function statusBarText(run: RunState, progress?: ProgressMessage): string {
  const p = epochProgress(run);
  const epochs = p?.epochs ?? progress?.epochs ?? 0;
  let text: string;
  if (progress && progress.phase !== 'training') {
    text = progress.phase;
  } else if (progress) {
    const pct = progress.batches > 0 ? Math.floor((100 * progress.batch) / progress.batches) : 0;
    text = `epoch ${progress.epoch}/${epochs} (${pct}%)`;
  } else {
    text = `epoch ${p?.epoch ?? 0}/${epochs}`;
  }
  const loss = run.latest?.test.loss ?? progress?.loss;
  if (loss !== undefined && Number.isFinite(loss)) text += ` · loss ${formatNumber(loss, 1)}`;
  let left = secondsLeft(run);
  if (left !== undefined && progress && progress.phase === 'training' && progress.batches > 0 && run.latest) {
    // The current epoch is partly done.
    left = Math.max(0, left - (progress.batch / progress.batches) * run.latest.secondsPerEpoch);
  }
  if (left !== undefined) text += ` · ${formatDuration(left)} left`;
  return text;
}

