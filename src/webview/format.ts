/** Number formatting for the panels (durations: src/shared/progress.ts, shared with the VAE Runs view). */

export function formatNumber(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return '–';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  // Near-zero values read as 0.000 (a gauge heading for 0 is there); only huge ones need exponents.
  if (a >= 1e5) return x.toExponential(2);
  if (a >= 100) return x.toFixed(1);
  return x.toFixed(digits);
}

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
