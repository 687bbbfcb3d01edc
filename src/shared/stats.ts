/**
 * Latent statistics over a data set, accumulated batch by batch in the same pass as the test loss.
 * For each latent dimension d: E[μ_d], Var(μ_d) (over images), E[σ_d²], KL_d; from them the active
 * units (Var(μ_d) > 0.01, Burda et al. 2015) and the aggregate-posterior variance
 * Var(μ_d) + E[σ_d²], which is ≈ 1 when the encoder's posteriors, taken together, match N(0, I).
 */
import type { DimensionStats } from './events';

export const ACTIVE_UNIT_THRESHOLD = 0.01;

export interface LatentSummary {
  dims: DimensionStats;
  activeUnits: number;
  aggregateVariance: number[];
  /** μ and σ averaged over images and dimensions (the study's numbers). */
  meanMu: number;
  meanSigma: number;
  /** Σ_d KL_d: KL per image. */
  kl: number;
  count: number;
}

/**
 * Per-dimension running statistics in float64. Var(μ_d) uses Welford's update, which stays
 * accurate when the mean is large against the spread (a dimension that drifted away from 0).
 */
export class LatentStatsAccumulator {
  private n = 0;
  private readonly muMean: Float64Array;
  private readonly muM2: Float64Array;
  private readonly sigmaSqSum: Float64Array;
  private readonly klSum: Float64Array;
  private sigmaSum = 0;

  constructor(readonly dimz: number) {
    this.muMean = new Float64Array(dimz);
    this.muM2 = new Float64Array(dimz);
    this.sigmaSqSum = new Float64Array(dimz);
    this.klSum = new Float64Array(dimz);
  }

  /** Adds `rows` images' posteriors: mu and lnVar are rows × dimz, row-major. */
  add(mu: ArrayLike<number>, lnVar: ArrayLike<number>, rows: number): void {
    const dimz = this.dimz;
    if (mu.length < rows * dimz || lnVar.length < rows * dimz) {
      throw new Error(`LatentStatsAccumulator.add: expected ${rows}×${dimz} values, got ${mu.length} and ${lnVar.length}`);
    }
    for (let r = 0; r < rows; r++) {
      this.n++;
      const base = r * dimz;
      for (let d = 0; d < dimz; d++) {
        const m = mu[base + d];
        const lv = lnVar[base + d];
        const s2 = Math.exp(lv);
        const delta = m - this.muMean[d];
        this.muMean[d] += delta / this.n;
        this.muM2[d] += delta * (m - this.muMean[d]);
        this.sigmaSqSum[d] += s2;
        this.sigmaSum += Math.sqrt(s2);
        this.klSum[d] += 0.5 * (m * m + s2 - lv - 1);
      }
    }
  }

  get count(): number {
    return this.n;
  }

  summary(): LatentSummary {
    const n = Math.max(this.n, 1);
    const meanMu = Array.from(this.muMean);
    const varMu = Array.from(this.muM2, (m2) => m2 / n);
    const meanSigmaSq = Array.from(this.sigmaSqSum, (s) => s / n);
    const kl = Array.from(this.klSum, (s) => s / n);
    return {
      dims: { meanMu, varMu, meanSigmaSq, kl },
      activeUnits: varMu.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length,
      aggregateVariance: varMu.map((v, d) => v + meanSigmaSq[d]),
      meanMu: meanMu.reduce((a, b) => a + b, 0) / this.dimz,
      meanSigma: this.sigmaSum / (n * this.dimz),
      kl: kl.reduce((a, b) => a + b, 0),
      count: this.n,
    };
  }
}

/** Image-weighted means of per-batch values (loss, reconstruction, KL …) over an epoch. */
export class MeanAccumulator {
  private readonly sums = new Map<string, number>();
  private n = 0;

  /** Adds a batch's per-image means, weighted by its number of images. */
  add(values: Record<string, number>, images: number): void {
    for (const [k, v] of Object.entries(values)) this.sums.set(k, (this.sums.get(k) ?? 0) + v * images);
    this.n += images;
  }

  /** Adds a batch's sums over its elements (e.g. Σμ over images and dimensions), divided later by `per`. */
  addSum(key: string, sum: number): void {
    this.sums.set(key, (this.sums.get(key) ?? 0) + sum);
  }

  get count(): number {
    return this.n;
  }

  mean(key: string, per = 1): number {
    return (this.sums.get(key) ?? 0) / (Math.max(this.n, 1) * per);
  }

  /** For checkpoints: a mid-epoch stop resumes with the epoch's partial sums. */
  toJSON(): { n: number; sums: Record<string, number> } {
    return { n: this.n, sums: Object.fromEntries(this.sums) };
  }

  static fromJSON(value: { n: number; sums: Record<string, number> }): MeanAccumulator {
    const acc = new MeanAccumulator();
    acc.n = value.n;
    for (const [k, v] of Object.entries(value.sums)) acc.sums.set(k, v);
    return acc;
  }
}
