/**
 * "VAE: Export Metrics": one CSV row per epoch with the study's numbers for train and test, the
 * aggregate view and the prior fit (−ELBO at C = 1 every epoch; the diagnostics on the epochs that
 * have them, empty cells elsewhere), and a JSON file with the same scalars plus every per-dimension
 * statistic. Both are built from metricsRecord, the one place that names and reads the columns.
 * Several runs export to one CSV whose rows start with the run's id and name, and one JSON with
 * each run's record in turn.
 */
import type { EpochEvent, RunEvent, SplitMetrics } from '../../shared/events';
import { activeAggregateVariance, activeDimensions, DEFAULT_HEALTH_SETTINGS, epochHistory, type HealthSettings } from '../../shared/health';
import { perDimensionStatistics, PRIOR_FIT_SCALARS } from '../../shared/priorFit';
import type { RunInfo } from '../../shared/run';

const SPLIT_KEYS: (keyof SplitMetrics)[] = ['loss', 'reconstruction', 'kl', 'meanMu', 'meanSigma'];
const SPLIT_COLUMNS: Record<keyof SplitMetrics, string> = {
  loss: 'loss', reconstruction: 'reconstruction', kl: 'kl', meanMu: 'mean_mu', meanSigma: 'mean_sigma',
};

type Column = readonly [name: string, read: (e: EpochEvent, s: HealthSettings) => number | null | undefined];

/**
 * Every column, in order: its name and how it reads an epoch. Active units and the aggregate
 * variance count with the user's threshold (vaeLens.warnings.activeVarianceThreshold), as every
 * view does; the prior-fit columns are the shared list every view shows.
 */
const COLUMNS: readonly Column[] = [
  ['epoch', (e) => e.epoch],
  ...(['train', 'test'] as const).flatMap((split) => SPLIT_KEYS.map((k): Column => [`${split}_${SPLIT_COLUMNS[k]}`, (e) => e[split][k]])),
  ['active_units', (e, s) => activeDimensions(e, s).length],
  ['active_threshold', (_, s) => s.activeVarianceThreshold],
  ['dimz', (e) => e.dims.varMu.length],
  ['aggregate_variance_active', (e, s) => activeAggregateVariance(e, s)],
  ['kl_weight', (e) => e.klWeight],
  ['samples_per_second', (e) => e.samplesPerSecond],
  ['seconds_per_epoch', (e) => e.secondsPerEpoch],
  ...PRIOR_FIT_SCALARS.map((p): Column => [p.column, p.read]),
];

export const METRICS_CSV_HEADER: readonly string[] = COLUMNS.map(([name]) => name);

/** One epoch's scalars by column, in column order (null or undefined: the epoch has no such number). */
export function metricsRecord(e: EpochEvent, s: HealthSettings = DEFAULT_HEALTH_SETTINGS): Record<string, number | null | undefined> {
  return Object.fromEntries(COLUMNS.map(([name, read]) => [name, read(e, s)]));
}

/** Numbers in full precision; missing, NaN and ∞ (null in JSON) as empty cells so spreadsheets read them as missing. */
function cell(x: unknown): string {
  return typeof x === 'number' && Number.isFinite(x) ? String(x) : '';
}

export function metricsCsvRow(e: EpochEvent, s: HealthSettings = DEFAULT_HEALTH_SETTINGS): string {
  const record = metricsRecord(e, s);
  return METRICS_CSV_HEADER.map((k) => cell(record[k])).join(',');
}

/** CSV text (RFC 4180, LF line ends) of a run's epochs; a resumed run's repeated epoch appears once. */
export function metricsCsv(events: RunEvent[], s: HealthSettings = DEFAULT_HEALTH_SETTINGS): string {
  return [METRICS_CSV_HEADER.join(','), ...epochHistory(events).map((e) => metricsCsvRow(e, s))].join('\n') + '\n';
}

/**
 * A text cell per RFC 4180 (quoted when it holds a comma, quote or line break), with a leading
 * apostrophe when a spreadsheet would read it as a formula (a run name is user text).
 */
function textCell(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export interface ExportedRun {
  info: Pick<RunInfo, 'id' | 'name' | 'config'>;
  events: RunEvent[];
}

/** One CSV for several runs: run_id and run_name, then the single-run columns; each run's epochs in turn. */
export function metricsCsvOfRuns(runs: readonly ExportedRun[], s: HealthSettings = DEFAULT_HEALTH_SETTINGS): string {
  const rows = runs.flatMap(({ info, events }) => epochHistory(events).map((e) => `${textCell(info.id)},${textCell(info.name)},${metricsCsvRow(e, s)}`));
  return [['run_id', 'run_name', ...METRICS_CSV_HEADER].join(','), ...rows].join('\n') + '\n';
}

/** A finite number, or null (JSON has no NaN, and a missing measure is null rather than absent). */
function jsonNumber(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/**
 * The JSON export: the run's identity and configuration, then per epoch the CSV's scalars (same
 * names, null where the CSV has an empty cell) and the per-dimension statistics (mean μ_d, Var(μ_d),
 * E[σ_d²], KL_d, the aggregate variance, and the prior-fit moment term per dimension and per
 * eigenvalue where the epoch has diagnostics).
 */
function runRecord({ info, events }: ExportedRun, s: HealthSettings) {
  const epochs = epochHistory(events).map((e) => {
    const record = metricsRecord(e, s);
    return {
      scalars: Object.fromEntries(METRICS_CSV_HEADER.map((k) => [k, jsonNumber(record[k])])),
      perDimension: perDimensionStatistics(e),
    };
  });
  return { run: { id: info.id, name: info.name, config: info.config }, epochs };
}

export function metricsJson(info: Pick<RunInfo, 'id' | 'name' | 'config'>, events: RunEvent[], s: HealthSettings = DEFAULT_HEALTH_SETTINGS): string {
  return JSON.stringify({ format: 'vae-lens-metrics', version: 1, ...runRecord({ info, events }, s) }, null, 1) + '\n';
}

/** The JSON export of several runs: `runs`, each with the single-run file's `run` and `epochs`. */
export function metricsJsonOfRuns(runs: readonly ExportedRun[], s: HealthSettings = DEFAULT_HEALTH_SETTINGS): string {
  return JSON.stringify({ format: 'vae-lens-metrics-runs', version: 1, runs: runs.map((r) => runRecord(r, s)) }, null, 1) + '\n';
}
