/** The status-bar text of a training run (pure, unit-tested). */
import type { ProgressMessage } from '../../shared/events';
import { displayedEpoch } from '../../shared/run';
import type { RunState } from './runStore';
import { epochProgress, formatDuration, secondsLeft } from './treeModel';
import { formatNumber } from '../../shared/format';

/**
 * The status-bar text for a run; batch progress of the current epoch refines the epoch and time left.
 * The epoch is the tree's (displayedEpoch: the one in progress while running). Batch progress from
 * an epoch that has since completed is stale and is not shown; progress ahead of the run folder
 * (the store has not read the last epoch yet) is the fresher and wins.
 */
export function statusBarText(run: RunState, progress?: ProgressMessage): string {
  const p = epochProgress(run);
  const epochs = p?.epochs ?? progress?.epochs ?? 0;
  const shown = p ? displayedEpoch(run.info?.status ?? 'running', p.epoch, epochs) : 0;
  const current = progress?.phase === 'training' && progress.epoch >= shown && (!p || progress.epoch > p.epoch);
  let text: string;
  if (progress && progress.phase !== 'training') {
    // Start-up and loading phases come before any epoch; the test pass belongs to the epoch it ends.
    const evaluatingEpoch = progress.phase === 'evaluating' && progress.epoch > 0 && epochs > 0;
    text = evaluatingEpoch ? `epoch ${Math.min(progress.epoch, epochs)}/${epochs} evaluating` : progress.phase;
  } else if (progress && current) {
    const pct = progress.batches > 0 ? Math.floor((100 * progress.batch) / progress.batches) : 0;
    text = `epoch ${progress.epoch}/${epochs} (${pct}%)`;
  } else {
    text = `epoch ${shown}/${epochs}`;
  }
  const loss = run.latest?.test.loss ?? progress?.loss;
  if (loss !== undefined && Number.isFinite(loss)) text += ` · loss ${formatNumber(loss, 1)}`;
  let left = secondsLeft(run);
  if (left !== undefined && progress && current && progress.batches > 0 && run.latest) {
    // The current epoch is partly done.
    left = Math.max(0, left - (progress.batch / progress.batches) * run.latest.secondsPerEpoch);
  }
  if (left !== undefined) text += ` · ${formatDuration(left)} left`;
  return text;
}

