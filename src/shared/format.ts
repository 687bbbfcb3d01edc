/** Numbers as every view writes them (tree, status bar, panels, report), so one value reads the same everywhere. */

/** `digits` decimals; values of 100 and more with one decimal, huge ones with an exponent; '–' for nothing. */
export function formatNumber(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return '–';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  // Near-zero values read as 0.000 (a gauge heading for 0 is there); only huge ones need exponents.
  if (a >= 1e5) return x.toExponential(2);
  const text = a >= 100 ? x.toFixed(1) : x.toFixed(digits);
  // A small negative value rounds to zero: no sign ("0.000", not "-0.000").
  return /^-[0.]+$/.test(text) ? text.slice(1) : text;
}
