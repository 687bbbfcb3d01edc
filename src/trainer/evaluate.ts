/**
 * The test pass at the end of an epoch: the loss with k = testSamples samples of z per image, and,
 * from the same encoder outputs, the per-dimension latent statistics (no second pass over the data).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SplitMetrics } from '../shared/events';
import { LatentStatsAccumulator, MeanAccumulator, type LatentSummary } from '../shared/stats';
import type { VaeModel } from './model';
import { vaeLoss } from './loss';
import { Rng, Stream } from './rng';

/** Test images per forward pass: large enough to be efficient, small enough for k × rows × pixels logits. */
export const EVAL_CHUNK = 500;

export interface TestResult {
  metrics: SplitMetrics;
  latent: LatentSummary;
  /** μ and ln σ² of the first `keepPosteriors` test images (rows × dimz), when asked for. */
  posteriors?: { mu: Float32Array; lnVar: Float32Array; rows: number };
}

/**
 * Evaluates in inference mode (batch normalization uses its moving statistics). The noise for
 * chunk i is keyed by (seed, i) and is the same every epoch, so epoch-to-epoch changes of the test
 * curves come from the model, not from resampling.
 */
export async function evaluateTestSet(model: VaeModel, test: Float32Array, testCount: number, testSamples: number, klWeight: number, seed: number, keepPosteriors = 0): Promise<TestResult> {
  const latent = new LatentStatsAccumulator(model.dimz);
  const keep = Math.min(keepPosteriors, testCount);
  const kept = keep > 0 ? { mu: new Float32Array(keep * model.dimz), lnVar: new Float32Array(keep * model.dimz), rows: keep } : undefined;
  const means = new MeanAccumulator();
  const chunk = Math.max(1, Math.floor(EVAL_CHUNK / Math.max(1, Math.ceil(testSamples / 10))));
  for (let start = 0, index = 0; start < testCount; start += chunk, index++) {
    const rows = Math.min(chunk, testCount - start);
    const eps = Rng.fromKey(seed, Stream.testNoise, index).fillNormal(new Float32Array(testSamples * rows * model.dimz));
    // Read with await data(): the webgpu backend cannot read synchronously under Node.
    const outputs = tf.tidy(() => {
      const x = tf.tensor2d(test.subarray(start * model.pixels, (start + rows) * model.pixels), [rows, model.pixels]);
      const parts = vaeLoss(model, x, eps, klWeight, false);
      return [tf.stack([parts.loss, parts.reconstruction, parts.kl]), parts.mu, parts.lnVar];
    });
    const [scalars, mu, lnVar] = (await Promise.all(outputs.map((t) => t.data()))) as Float32Array[];
    tf.dispose(outputs);
    if (kept && start < keep) {
      const n = (Math.min(keep, start + rows) - start) * model.dimz;
      kept.mu.set(mu.subarray(0, n), start * model.dimz);
      kept.lnVar.set(lnVar.subarray(0, n), start * model.dimz);
    }
    const out = { scalars, mu, lnVar };
    means.add({ loss: out.scalars[0], reconstruction: out.scalars[1], kl: out.scalars[2] }, rows);
    latent.add(out.mu, out.lnVar, rows);
  }
  const summary = latent.summary();
  return {
    metrics: {
      loss: means.mean('loss'),
      reconstruction: means.mean('reconstruction'),
      kl: means.mean('kl'),
      meanMu: summary.meanMu,
      meanSigma: summary.meanSigma,
    },
    latent: summary,
    ...(kept ? { posteriors: kept } : {}),
  };
}
