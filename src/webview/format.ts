/** Number formatting for the panels (durations: src/shared/progress.ts, shared with the VAE Runs view). */

export { formatNumber } from '../shared/format';

export function formatRate(samplesPerSecond: number): string {
  if (!Number.isFinite(samplesPerSecond)) return '–';
  return samplesPerSecond >= 1000 ? `${(samplesPerSecond / 1000).toFixed(1)}k samples/s` : `${Math.round(samplesPerSecond)} samples/s`;
}

/** A config value as text for tables (null → "all"). */
export function formatConfigValue(value: unknown): string {
  if (value === null) return 'null (all)';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
