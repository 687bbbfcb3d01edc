/** Pieces both views use: image URLs, warnings from the shared health rules, status text. */
import { warningsMuted } from '../shared/runRules';
import type { EpochEvent, WarningEvent } from '../shared/events';
import { evaluateHealth, type HealthFinding, type HealthSettings } from '../shared/health';
import { formatDuration, shownSecondsLeft } from '../shared/progress';
import type { RunView } from '../shared/protocol';
import { displayedEpoch, type RunInfo } from '../shared/run';
import { h } from './dom';
import { formatRate } from './format';

/** URL of an image given its path relative to the run folder, or undefined when it does not exist (report without it). */
export function imageUrl(run: RunView, relative: string | undefined): string | undefined {
  if (!relative) return undefined;
  if (run.images) return run.images[relative];
  return run.imageBase + relative.split('/').map(encodeURIComponent).join('/');
}

/** Epochs that have an image of this kind. */
export function imageEpochs(run: RunView, kind: 'samples' | 'recon'): number[] {
  return run.epochs.filter((e) => imageUrl(run, e.images?.[kind]) !== undefined).map((e) => e.epoch);
}

/**
 * The conditions that hold now, by the same rules as the VAE Runs view's warnings; none once a
 * user chose "Don't Warn for This Run" (runRules.warningsMuted: one meaning everywhere).
 */
export function activeFindings(epochs: readonly EpochEvent[], warnings: readonly WarningEvent[], health: HealthSettings): HealthFinding[] {
  return warningsMuted(warnings) ? [] : evaluateHealth(epochs as EpochEvent[], health);
}

const SEVERITY_ICON: Record<string, string> = { error: 'codicon-error', warning: 'codicon-warning', info: 'codicon-info' };

/** The warnings banner; a finding's `run` (compare panel) names the run it is about. */
export function renderWarnings(container: HTMLElement, findings: Array<HealthFinding & { run?: string }>): void {
  container.replaceChildren(
    ...findings.map((f) =>
      h('div', { class: 'warning', 'data-severity': f.severity, 'data-kind': f.kind, role: f.severity === 'info' ? 'status' : 'alert' },
        h('span', { class: `codicon ${SEVERITY_ICON[f.severity] ?? 'codicon-info'}`, 'aria-hidden': 'true' }),
        h('span', { class: 'warning-text' }, f.run ? `${f.run}: ` : '', h('strong', {}, `${f.kind.replace(/-/g, ' ')} (epoch ${f.epoch}): `), f.message),
      ),
    ),
  );
  container.hidden = findings.length === 0;
}

/** "Epoch 12 / 100 · 2.1k samples/s · 3 min left" from the latest epoch; the epoch by the tree's rule (displayedEpoch). */
export function progressText(info: RunInfo, epochs: readonly EpochEvent[]): { epoch: string; rate: string; left: string } {
  const last = epochs[epochs.length - 1];
  const total = info.config.epochs;
  const done = last?.epoch ?? info.epochsCompleted ?? 0;
  const seconds = shownSecondsLeft(info.status, epochs, done, total);
  const left = seconds !== undefined ? `${formatDuration(seconds)} left` : '';
  return { epoch: `epoch ${displayedEpoch(info.status, done, total)} / ${total}`, rate: last ? formatRate(last.samplesPerSecond) : '', left };
}

