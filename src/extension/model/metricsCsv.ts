/** "VAE: Export Metrics": one CSV row per epoch with the study's numbers for train and test, and the aggregate view. */
import type { EpochEvent, RunEvent, SplitMetrics } from '../../shared/events';
import { activeAggregateVariance, activeDimensions, DEFAULT_HEALTH_SETTINGS, epochHistory, type HealthSettings } from '../../shared/health';

const SPLIT_KEYS: (keyof SplitMetrics)[] = ['loss', 'reconstruction', 'kl', 'meanMu', 'meanSigma'];
const SPLIT_COLUMNS: Record<keyof SplitMetrics, string> = {
  loss: 'loss', reconstruction: 'reconstruction', kl: 'kl', meanMu: 'mean_mu', meanSigma: 'mean_sigma',
};

export const METRICS_CSV_HEADER = [
  'epoch',
  ...SPLIT_KEYS.map((k) => `train_${SPLIT_COLUMNS[k]}`),
  ...SPLIT_KEYS.map((k) => `test_${SPLIT_COLUMNS[k]}`),
  'active_units', 'active_threshold', 'dimz', 'aggregate_variance_active', 'kl_weight', 'samples_per_second', 'seconds_per_epoch',
];

/** Numbers in full precision; NaN/∞ (null in JSON) as empty cells so spreadsheets read them as missing. */
function cell(x: unknown): string {
  return typeof x === 'number' && Number.isFinite(x) ? String(x) : '';
}

/** One epoch's row; active units and the aggregate variance count with the user's threshold (vaeLens.warnings.activeVarianceThreshold), as every view does. */
export function metricsCsvRow(e: EpochEvent, s: HealthSettings = DEFAULT_HEALTH_SETTINGS): string {
  return [
    e.epoch,
    ...SPLIT_KEYS.map((k) => e.train[k]),
    ...SPLIT_KEYS.map((k) => e.test[k]),
    activeDimensions(e, s).length, s.activeVarianceThreshold, e.dims.varMu.length, activeAggregateVariance(e, s), e.klWeight, e.samplesPerSecond, e.secondsPerEpoch,
  ].map(cell).join(',');
}

/** CSV text (RFC 4180, LF line ends) of a run's epochs; a resumed run's repeated epoch appears once. */
export function metricsCsv(events: RunEvent[], s: HealthSettings = DEFAULT_HEALTH_SETTINGS): string {
  return [METRICS_CSV_HEADER.join(','), ...epochHistory(events).map((e) => metricsCsvRow(e, s))].join('\n') + '\n';
}
