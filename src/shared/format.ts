/** Numbers as every view writes them (tree, status bar, panels, report), so one value reads the same everywhere. */

/** `digits` decimals; values of 100 and more with one decimal, huge ones with an exponent; '–' for nothing. */
export function formatNumber(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return '–';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  // Near-zero values read as 0.000 (a gauge heading for 0 is there); only huge ones need exponents.
  if (a >= 1e5) return x.toExponential(2);
  if (a >= 100) return x.toFixed(1);
  return x.toFixed(digits);
}
