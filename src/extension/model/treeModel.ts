/**
 * What a run looks like in the "VAE Runs" view: label, description, icon, context value, badge and
 * tooltip, as plain data (the tree provider turns it into vscode.TreeItem). Pure, unit-tested.
 */
import { warningsMuted } from '../../shared/runRules';
import { formatNumber } from '../../shared/format';
import { displayedEpoch, type RunStatus } from '../../shared/run';
import type { TrainConfig } from '../../shared/config';
import type { SplitMetrics } from '../../shared/events';
import {
  activeAggregateVariance, activeDimensions, DEFAULT_HEALTH_SETTINGS, type HealthFinding, type HealthLevel, type HealthSettings, worstLevel,
} from '../../shared/health';
import type { RunState, RunsRoot } from './runStore';
import { formatDuration, shownSecondsLeft } from '../../shared/progress';

/** Re-exported for the status bar; the panels use the same one. */
export { formatDuration };

/** A run that waits for a free slot (vaeLens.maxConcurrentRuns); it has no folder yet when new. */
export interface QueuedRun {
  key: string;
  name: string;
  config: TrainConfig;
  /** Set when the queued job resumes an existing run folder. */
  resumeDir?: string;
  /** Where a new run's folder will be created. */
  runsDir?: string;
}

export interface RunItemModel {
  /** Stable id: the run folder (or `queued:<key>`). */
  id: string;
  label: string;
  description: string;
  status: RunStatus | 'invalid';
  /** Codicon id and theme colour id. */
  icon: { id: string; color?: string };
  contextValue: string;
  /** Worst active finding (undefined: healthy or no epoch yet). */
  health?: HealthLevel;
  badge?: { text: string; tooltip: string; color?: string };
  tooltip: string;
}

const STATUS_ICONS: Record<RunStatus | 'invalid', { id: string; color?: string }> = {
  queued: { id: 'clock', color: 'descriptionForeground' },
  starting: { id: 'loading~spin' },
  running: { id: 'sync~spin', color: 'charts.blue' },
  completed: { id: 'pass', color: 'testing.iconPassed' },
  stopped: { id: 'debug-stop', color: 'descriptionForeground' },
  failed: { id: 'error', color: 'errorForeground' },
  interrupted: { id: 'debug-disconnect', color: 'list.warningForeground' },
  invalid: { id: 'warning', color: 'list.warningForeground' },
};

export function statusIcon(status: RunStatus | 'invalid'): { id: string; color?: string } {
  return STATUS_ICONS[status];
}


/** Epochs completed of N: from the latest epoch event, else from run.json. */
export function epochProgress(run: RunState): { epoch: number; epochs: number } | undefined {
  if (run.latest) return { epoch: run.latest.epoch, epochs: run.info?.config.epochs ?? run.latest.epochs };
  if (run.info) return { epoch: run.info.epochsCompleted, epochs: run.info.config.epochs };
  return undefined;
}

/** Seconds left, by the shared rule the panels use too (shownSecondsLeft: live runs only). */
export function secondsLeft(run: RunState): number | undefined {
  const p = epochProgress(run);
  return p && run.info ? shownSecondsLeft(run.info.status, run.recentEpochs, p.epoch, p.epochs) : undefined;
}

export function runStatus(run: RunState): RunStatus | 'invalid' {
  return run.info ? run.info.status : 'invalid';
}

/** The x/N shown by the shared rule (displayedEpoch): the epoch in progress while running, else epochs completed. */
export function shownEpoch(run: RunState): { epoch: number; epochs: number } | undefined {
  const p = epochProgress(run);
  if (!p) return undefined;
  const status = runStatus(run);
  return { epoch: status === 'invalid' ? p.epoch : displayedEpoch(status, p.epoch, p.epochs), epochs: p.epochs };
}

export function runDescription(run: RunState): string {
  const status = runStatus(run);
  if (status === 'invalid') return 'unreadable run.json';
  const parts: string[] = [status];
  const p = epochProgress(run);
  const shown = shownEpoch(run);
  if (p && shown && (p.epoch > 0 || status !== 'queued')) parts.push(`epoch ${shown.epoch}/${shown.epochs}`);
  if (run.latest) parts.push(`test loss ${formatNumber(run.latest.test.loss, 1)}`);
  return parts.join(' · ');
}

/** Context value driving the view/item/context menus (see package.json "menus"). */
export function runContextValue(status: RunStatus | 'invalid'): string {
  return `vaeRun-${status}`;
}

export function worstFinding(findings: HealthFinding[]): HealthFinding | undefined {
  const level = worstLevel(findings.map((f) => f.severity));
  return level === 'good' ? undefined : findings.find((f) => f.severity === level);
}

export function healthBadge(findings: HealthFinding[]): RunItemModel['badge'] {
  const worst = worstFinding(findings);
  if (!worst) return undefined;
  const tooltip = findings.map((f) => f.message).join('\n');
  switch (worst.severity) {
    case 'error':
      return { text: '!', tooltip, color: 'list.errorForeground' };
    case 'warning':
      return { text: '⚠', tooltip, color: 'list.warningForeground' };
    default:
      return { text: 'i', tooltip };
  }
}

/** Escapes text for a Markdown tooltip (run names and messages come from files). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (c) => `\\${c}`);
}

const CONFIG_KEYS: (keyof TrainConfig)[] = ['model', 'dimz', 'epochs', 'batchSize', 'learningRate', 'klWeight', 'klWarmupEpochs', 'klCycles', 'freeBits', 'dataset', 'trainLimit', 'testLimit', 'binarize', 'seed', 'backend'];

function metricsRows(train: SplitMetrics, test: SplitMetrics): string[] {
  const row = (name: string, key: keyof SplitMetrics, digits: number) => `| ${name} | ${formatNumber(train[key], digits)} | ${formatNumber(test[key], digits)} |`;
  return [
    '| | train | test |',
    '|:--|--:|--:|',
    row('loss', 'loss', 2),
    row('reconstruction', 'reconstruction', 2),
    row('KL', 'kl', 2),
    row('mean μ', 'meanMu', 3),
    row('mean σ', 'meanSigma', 3),
  ];
}

/** The tree item's tooltip; active units and the aggregate use the user's thresholds (`vaeLens.warnings`). */
export function runTooltip(run: RunState, health: HealthSettings = DEFAULT_HEALTH_SETTINGS): string {
  const lines: string[] = [];
  const name = run.info?.name ?? run.id;
  lines.push(`**${escapeMarkdown(name)}** — ${runStatus(run)}`, '');
  if (run.problem) lines.push(`$(warning) ${escapeMarkdown(run.problem)}`, '');
  if (run.info?.message && run.info.status !== 'running') lines.push(escapeMarkdown(run.info.message), '');
  const p = epochProgress(run);
  const latest = run.latest;
  if (p) {
    const speed = latest ? ` · ${formatNumber(latest.secondsPerEpoch, 1)} s/epoch · ${Math.round(latest.samplesPerSecond)} samples/s` : '';
    const left = secondsLeft(run);
    const shown = shownEpoch(run) ?? p;
    const done = shown.epoch !== p.epoch ? ` in progress, ${p.epoch} completed` : '';
    lines.push(`Epoch ${shown.epoch}/${shown.epochs}${done}${speed}${left !== undefined ? ` · ${formatDuration(left)} left` : ''}`, '');
  }
  if (latest) {
    lines.push(...metricsRows(latest.train, latest.test), '');
    const aggregate = activeAggregateVariance(latest, health);
    const active = activeDimensions(latest, health).length;
    lines.push(`Active units ${active} of ${latest.dims.varMu.length} (Var(μ_d) > ${health.activeVarianceThreshold}) · aggregate variance of active dimensions ${formatNumber(aggregate ?? undefined, 2)} (target 1)`, '');
  }
  for (const f of run.findings) {
    const icon = f.severity === 'error' ? '$(error)' : f.severity === 'warning' ? '$(warning)' : '$(info)';
    lines.push(`${icon} ${escapeMarkdown(f.message)}`, '');
  }
  if (run.info) {
    const c = run.info.config as unknown as Record<string, unknown>;
    lines.push(CONFIG_KEYS.filter((k) => c[k] !== undefined).map((k) => `${k} \`${String(c[k])}\``).join(' · '), '');
    const env = run.info.environment;
    if (env) lines.push(`${escapeMarkdown(env.backend)} · ${escapeMarkdown(env.device)}`, '');
  }
  lines.push(`\`${run.dir}\``);
  return lines.join('\n');
}

export function runItemModel(run: RunState, health: HealthSettings = DEFAULT_HEALTH_SETTINGS): RunItemModel {
  const status = runStatus(run);
  const badge = warningsMuted(run.warnings) ? undefined : healthBadge(run.findings);
  return {
    id: run.dir,
    label: run.info?.name ?? run.id,
    description: runDescription(run),
    status,
    icon: statusIcon(status),
    contextValue: runContextValue(status),
    health: worstFinding(run.findings)?.severity,
    badge,
    tooltip: runTooltip(run, health),
  };
}

export function queuedItemModel(q: QueuedRun, position: number): RunItemModel {
  return {
    id: `queued:${q.key}`,
    label: q.name,
    description: `queued · #${position} · ${q.config.model}, dimz ${q.config.dimz}, ${q.config.epochs} epochs`,
    status: 'queued',
    icon: statusIcon('queued'),
    contextValue: 'vaeRun-queued',
    tooltip: `**${escapeMarkdown(q.name)}** — queued (position ${position})\n\nStarts when a running run ends (setting \`vaeLens.maxConcurrentRuns\`).`,
  };
}

/** Newest first: run ids start with their creation time. */
export function sortRuns(runs: RunState[]): RunState[] {
  return [...runs].sort((a, b) => (b.info?.created ?? b.id).localeCompare(a.info?.created ?? a.id) || b.id.localeCompare(a.id));
}

export interface TreeGroup {
  root: RunsRoot;
  runs: RunState[];
}

/** One group per runs root in a multi-root workspace; a single root is shown flat. */
export function groupRuns(roots: readonly RunsRoot[], runs: RunState[]): { flat: boolean; groups: TreeGroup[] } {
  const groups = roots.map((root) => ({ root, runs: sortRuns(runs.filter((r) => r.root.runsDir === root.runsDir)) }));
  return { flat: roots.length <= 1, groups };
}
