/** Number and time formatting for the panels. */

export function formatNumber(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return '–';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  // Near-zero values read as 0.000 (a gauge heading for 0 is there); only huge ones need exponents.
  if (a >= 1e5) return x.toExponential(2);
  if (a >= 100) return x.toFixed(1);
  return x.toFixed(digits);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const hours = Math.floor(m / 60);
  return `${hours} h ${m % 60} min`;
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
