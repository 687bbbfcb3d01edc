/**
 * Axis ticks. Epochs are whole numbers, so an epoch axis steps by a whole number of epochs (never
 * 0.5); value axes (the heat map's colour bar) step by 1, 2 or 5 times a power of ten.
 */

/** The smallest step of 1, 2 or 5 × 10^k, at least `minStep`, that gives at most `maxCount` ticks over `span`. */
export function niceStep(span: number, maxCount: number, minStep = 0): number {
  const count = Math.max(1, Math.floor(maxCount));
  const raw = Math.max(span / count, minStep, Number.MIN_VALUE);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) {
    const step = m * power;
    if (step >= raw - 1e-12 * raw && step >= minStep) return step;
  }
  return 10 * power;
}

/** Ticks on an epoch axis spanning `span` epochs: a whole number of epochs apart. */
export function epochTickStep(span: number, maxCount: number): number {
  return niceStep(Math.max(span, 1), maxCount, 1);
}

/** The multiples of `step` from `lo` to `hi` (inclusive, with a little tolerance for rounding). */
export function ticksWithin(lo: number, hi: number, step: number): number[] {
  if (!(step > 0) || !Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) return [];
  const out: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  for (let k = first; k * step <= hi + step * 1e-9; k++) {
    // Rounded to the step's own precision, so 0.1 × 3 prints as 0.3.
    out.push(Number((k * step).toPrecision(12)));
    if (out.length > 1000) break;
  }
  return out;
}

/** How many ticks fit along `pixels` with `spacing` pixels per tick at least. */
export function ticksThatFit(pixels: number, spacing: number): number {
  return Math.max(2, Math.floor(pixels / spacing));
}
