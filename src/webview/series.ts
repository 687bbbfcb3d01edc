/** Pure helpers over epoch series: smoothing that can be extended point by point, and thinning for sparklines. */

/**
 * Exponential moving average with TensorBoard's debiasing (the first points are not dragged towards
 * 0). Incremental, so a new epoch extends the smoothed trace without recomputing it.
 */
export class Ema {
  private acc = 0;
  private n = 0;
  constructor(readonly weight: number) {}

  push(value: number): number {
    if (!Number.isFinite(value)) return value;
    this.n++;
    this.acc = this.acc * this.weight + (1 - this.weight) * value;
    return this.acc / (1 - this.weight ** this.n);
  }
}

export function smooth(values: readonly number[], weight: number): number[] {
  const ema = new Ema(weight);
  return values.map((v) => ema.push(v));
}

/** At most `max` points, evenly spaced, always keeping the last. */
export function thin(values: readonly number[], max: number): number[] {
  if (values.length <= max) return values.slice();
  const out: number[] = [];
  const step = (values.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(values[Math.round(i * step)]);
  return out;
}
