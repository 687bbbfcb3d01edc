/**
 * Time left in a run, estimated and written one way for every place that shows it (the VAE Runs
 * tooltip, the status bar, the run and compare panels), so they never disagree about the same run.
 */
import { isLiveStatus, type RunStatus } from './run';

/** "1 h 05 min", "4 min 10 s", "12 s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * Seconds left: the mean duration of the last five epochs (ignoring unusable timings) × the epochs
 * still to run; undefined until an epoch has a usable timing.
 */
export function estimateSecondsLeft(epochs: readonly { secondsPerEpoch: number }[], remainingEpochs: number): number | undefined {
  const recent = epochs.slice(-5).map((e) => e.secondsPerEpoch).filter((x) => Number.isFinite(x) && x > 0);
  if (recent.length === 0) return undefined;
  return Math.max(0, remainingEpochs) * (recent.reduce((a, b) => a + b, 0) / recent.length);
}

/**
 * The time left that is shown for a run: only while it is live (starting or running) and has
 * epochs still to run; a stopped, failed or finished run shows none.
 */
export function shownSecondsLeft(
  status: RunStatus,
  epochs: readonly { secondsPerEpoch: number }[],
  epochsDone: number,
  epochsTotal: number,
): number | undefined {
  return isLiveStatus(status) && epochsDone < epochsTotal ? estimateSecondsLeft(epochs, epochsTotal - epochsDone) : undefined;
}
