/**
 * The latent diagnostics an epoch event carries every `diagnosticsEvery` epochs (and at the last):
 * the aggregate posterior of the first test images against the prior (src/shared/diagnostics.ts)
 * and the importance-weighted test NLL (likelihood.ts), from the test pass's own posteriors.
 */
import type { TrainConfig } from '../shared/config';
import type { EpochDiagnostics } from '../shared/events';
import { latentDiagnostics } from '../shared/diagnostics';
import type { VaeModel } from './model';
import { importanceWeightedNll } from './likelihood';
import { Rng, Stream } from './rng';

/** Test images whose posteriors the aggregate-posterior measures use (their cost grows with its square). */
export const DIAGNOSTICS_IMAGES = 2000;
/** Test images of the importance-weighted NLL (cost: images × k decoder passes). */
export const IW_IMAGES = 500;
/** Prior samples the hole rate counts. */
export const HOLE_PRIOR_SAMPLES = 5000;

export function isDiagnosticsEpoch(config: Pick<TrainConfig, 'diagnosticsEvery' | 'epochs'>, epoch: number): boolean {
  return config.diagnosticsEvery > 0 && (epoch % config.diagnosticsEvery === 0 || epoch === config.epochs);
}

/**
 * The diagnostics of `posteriors` (the first test images' μ and ln σ², as the test pass computed
 * them) and, with iwSamples > 0, the IW-NLL of the first IW_IMAGES test images. Samples are keyed
 * by the run's seed only, so two epochs' figures differ by the model, not by the noise. Returns
 * null, with the reason, when a figure is not finite (a covariance that is singular to float
 * precision): the epoch is then recorded without diagnostics.
 */
export async function measureEpochDiagnostics(
  model: VaeModel, test: Float32Array, testCount: number, config: Pick<TrainConfig, 'seed' | 'iwSamples'>,
  posteriors: { mu: Float32Array; lnVar: Float32Array; rows: number }, fixedNoise: Float32Array,
): Promise<{ diagnostics: EpochDiagnostics } | { skipped: string }> {
  const dimz = model.dimz;
  const rows = posteriors.rows;
  const eps = Rng.fromKey(config.seed, Stream.diagnostics, 0).fillNormal(new Float32Array(rows * dimz));
  const prior = Rng.fromKey(config.seed, Stream.diagnostics, 1).fillNormal(new Float32Array(HOLE_PRIOR_SAMPLES * dimz));
  const d = latentDiagnostics({ ...posteriors, dimz }, eps, prior, HOLE_PRIOR_SAMPLES, undefined, { samples: fixedNoise, count: fixedNoise.length / dimz });
  const iw = config.iwSamples > 0 ? await importanceWeightedNll(model, test, Math.min(IW_IMAGES, testCount), config.iwSamples, config.seed) : null;
  const diagnostics: EpochDiagnostics = {
    images: rows,
    mutualInformation: d.mutualInformation,
    meanKl: d.meanKl,
    marginalKl: d.marginalKl,
    moments: {
      total: d.moments.total,
      meanShift: d.moments.meanShift,
      correlation: d.moments.correlation,
      perDimension: d.moments.perDimension,
      perEigenvalue: d.moments.perEigenvalue,
    },
    nonGaussian: d.nonGaussian,
    holeRate: d.holes.rate,
    priorSamples: d.holes.samples,
    fixedNoiseHoleRate: d.otherHoles!.rate,
    ...(iw ? { iwNll: { k: iw.k, images: iw.images, value: iw.nll } } : {}),
  };
  const bad = nonFinite(diagnostics);
  return bad ? { skipped: `${bad} is not a finite number` } : { diagnostics };
}

/** The path of the first non-finite number in a diagnostics record, or null. */
function nonFinite(value: unknown, path = 'diagnostics'): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const bad = nonFinite(v, `${path}[${i}]`);
      if (bad) return bad;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const bad = nonFinite(v, `${path}.${k}`);
      if (bad) return bad;
    }
  }
  return null;
}
