/**
 * How well the aggregate posterior fits the prior, and how good the model is, as every view reads it
 * from the epoch events: the run and compare panels show these numbers and Export Metrics writes
 * them, all through the one list below (names, units and the rule that reads each from an epoch).
 */
import type { EpochDiagnostics, EpochEvent } from './events';

/**
 * −ELBO at C = 1 on the test set, nats per image: reconstruction + KL whatever KL weight the epoch
 * trained with (the test loss uses the epoch's C, so with a KL weight ≠ 1, a warm-up or cycles it is
 * not comparable between runs; this is).
 */
export function testNegElbo(e: EpochEvent): number {
  return e.test.reconstruction + e.test.kl;
}

/**
 * The I(x; z) estimator (He et al. 2019) takes log q(z) as a mixture of the `images` posteriors, so
 * it cannot exceed ln(images); within this many nats of that ceiling the estimate says only
 * "at least this much", and the marginal KL and its non-Gaussian part are overstated by as much.
 */
export const INFORMATION_CEILING_MARGIN = 0.05;

/** ln(images): the most the I(x; z) estimate can be. */
export function informationCeiling(d: EpochDiagnostics): number {
  return Math.log(d.images);
}

export function informationAtCeiling(d: EpochDiagnostics): boolean {
  return d.mutualInformation >= informationCeiling(d) - INFORMATION_CEILING_MARGIN;
}

/** The latest epoch that has diagnostics, or undefined when none has (older runs, diagnosticsEvery 0). */
export function latestDiagnostics(epochs: readonly EpochEvent[]): (EpochEvent & { diagnostics: EpochDiagnostics }) | undefined {
  for (let i = epochs.length - 1; i >= 0; i--) {
    const e = epochs[i];
    if (e.diagnostics) return e as EpochEvent & { diagnostics: EpochDiagnostics };
  }
  return undefined;
}

export type PriorFitUnit = 'nats' | 'share' | 'count';

export interface PriorFitScalar {
  /** The export's column (CSV header, JSON key). */
  column: string;
  label: string;
  unit: PriorFitUnit;
  /** undefined on an epoch without the measure. */
  read: (e: EpochEvent) => number | undefined;
}

/** Every scalar of the prior fit, in the order the export writes them. */
export const PRIOR_FIT_SCALARS: readonly PriorFitScalar[] = [
  { column: 'test_neg_elbo_c1', label: '−ELBO at C = 1 (test)', unit: 'nats', read: testNegElbo },
  { column: 'iw_nll', label: 'importance-weighted NLL (test)', unit: 'nats', read: (e) => e.diagnostics?.iwNll?.value },
  { column: 'iw_k', label: 'IW-NLL samples per image (k)', unit: 'count', read: (e) => e.diagnostics?.iwNll?.k },
  { column: 'iw_images', label: 'IW-NLL test images', unit: 'count', read: (e) => e.diagnostics?.iwNll?.images },
  { column: 'diagnostics_images', label: 'test images of the aggregate posterior', unit: 'count', read: (e) => e.diagnostics?.images },
  { column: 'mutual_information', label: 'I(x; z), lower estimate', unit: 'nats', read: (e) => e.diagnostics?.mutualInformation },
  { column: 'mean_kl', label: 'mean KL(q(z|x) ‖ p(z))', unit: 'nats', read: (e) => e.diagnostics?.meanKl },
  { column: 'marginal_kl', label: 'marginal KL(q(z) ‖ p(z))', unit: 'nats', read: (e) => e.diagnostics?.marginalKl },
  { column: 'moment_kl', label: 'moment part', unit: 'nats', read: (e) => e.diagnostics?.moments.total },
  { column: 'moment_mean_shift', label: 'moment part: mean shift', unit: 'nats', read: (e) => e.diagnostics?.moments.meanShift },
  { column: 'moment_correlation', label: 'moment part: correlations', unit: 'nats', read: (e) => e.diagnostics?.moments.correlation },
  { column: 'non_gaussian_kl', label: 'non-Gaussian part', unit: 'nats', read: (e) => e.diagnostics?.nonGaussian },
  { column: 'hole_rate', label: 'prior hole rate', unit: 'share', read: (e) => e.diagnostics?.holeRate },
  { column: 'prior_samples', label: 'prior samples of the hole rate', unit: 'count', read: (e) => e.diagnostics?.priorSamples },
  { column: 'fixed_noise_hole_rate', label: 'hole rate of the fixed prior noise', unit: 'share', read: (e) => e.diagnostics?.fixedNoiseHoleRate },
];

/** The per-dimension and per-eigenvalue statistics of an epoch, by export name (null where the epoch has none). */
export function perDimensionStatistics(e: EpochEvent): Record<string, readonly number[] | null> {
  return {
    mean_mu: e.dims.meanMu,
    var_mu: e.dims.varMu,
    mean_sigma_sq: e.dims.meanSigmaSq,
    kl: e.dims.kl,
    aggregate_variance: e.aggregateVariance,
    moment_kl_per_dimension: e.diagnostics?.moments.perDimension ?? null,
    moment_kl_per_eigenvalue: e.diagnostics?.moments.perEigenvalue ?? null,
  };
}
