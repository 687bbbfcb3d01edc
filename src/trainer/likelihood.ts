/**
 * The test set's importance-weighted negative log-likelihood of a trained model (Burda et al.
 * 2015): for each test image, log p(x) ≈ log (1/k) Σ_s p(x|z_s) p(z_s) / q(z_s|x) with k samples
 * z_s ~ q(z|x). k = 1 is the ELBO at C = 1; the estimate tightens as k grows (k = 5,000 is the
 * literature's usual figure). With binarized images (`binarize: static` or `dynamic`) the number is
 * a likelihood comparable with published binarized-MNIST results; with grey pixels in [0, 1] the
 * Bernoulli decoder's "likelihood" is not a probability of the data and compares only with runs
 * like it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { importanceWeightedLogLikelihood, posteriorLogDensity, standardNormalLogDensity, type Posteriors } from '../shared/diagnostics';
import type { VaeModel } from './model';
import { Rng, Stream } from './rng';

/** Decoder rows (images × samples) per forward pass: bounds the logits to IW_CHUNK × pixels values. */
export const IW_CHUNK = 2000;

export interface ImportanceWeighted {
  k: number;
  images: number;
  /** −(1/N) Σ_i log p̂_k(x_i), nats per image: the IW estimate of the test NLL. */
  nll: number;
  /** −(1/N) Σ_i (1/k) Σ_s log w_is, the −ELBO at C = 1 from the same samples: ≥ nll image by image (Jensen). */
  negativeElbo: number;
}

/**
 * The IW-NLL of `count` test images (count × pixels). Image i's samples come from its own stream
 * keyed by (seed, i): they do not depend on how images are grouped into passes, and the first k
 * samples of a larger k are the same, so estimates for growing k differ only by the added samples.
 * log p(x|z) comes from the decoder in float32; log p(z), log q(z|x) and the log-mean-exp are in float64.
 */
export async function importanceWeightedNll(
  model: VaeModel, images: Float32Array, count: number, k: number, seed: number,
  onProgress?: (done: number, total: number) => void,
): Promise<ImportanceWeighted> {
  if (!Number.isInteger(k) || k < 1) throw new Error(`The number of importance samples k must be a positive integer, got ${k}.`);
  const { dimz, pixels } = model;
  const groupRows = Math.max(1, Math.floor(IW_CHUNK / k));
  let sumLogPx = 0;
  let sumMeanLogW = 0;
  for (let start = 0; start < count; start += groupRows) {
    const rows = Math.min(groupRows, count - start);
    const x = tf.tensor2d(images.subarray(start * pixels, (start + rows) * pixels), [rows, pixels]);
    try {
      const encoded = tf.tidy(() => {
        const { mu, lnVar } = model.encode(x, false);
        return [mu, lnVar];
      });
      const [mu, lnVar] = (await Promise.all(encoded.map((t) => t.data()))) as Float32Array[];
      tf.dispose(encoded);
      const post: Posteriors = { mu, lnVar, rows, dimz };
      const rngs = Array.from({ length: rows }, (_, r) => Rng.fromKey(seed, Stream.importance, start + r));
      const logW = new Float64Array(rows * k);
      const perPass = Math.min(k, Math.floor(IW_CHUNK / rows));
      for (let s0 = 0; s0 < k; s0 += perPass) {
        const samples = Math.min(perPass, k - s0);
        // Row r·samples + s holds image r's sample s0 + s.
        const z = new Float32Array(rows * samples * dimz);
        const which = new Int32Array(rows * samples);
        for (let r = 0; r < rows; r++) {
          for (let s = 0; s < samples; s++) {
            const row = r * samples + s;
            which[row] = r;
            for (let d = 0; d < dimz; d++) {
              const i = r * dimz + d;
              z[row * dimz + d] = mu[i] + Math.exp(0.5 * lnVar[i]) * rngs[r].normal();
            }
          }
        }
        const logPxGivenZ = tf.tidy(() => {
          const logits = model.decode(tf.tensor2d(z, [rows * samples, dimz]), false);
          return tf.neg(model.likelihood.nll(tf.gather(x, tf.tensor1d(which, 'int32')), logits));
        });
        const values = (await logPxGivenZ.data()) as Float32Array;
        logPxGivenZ.dispose();
        for (let row = 0; row < rows * samples; row++) {
          const r = which[row];
          const logPz = standardNormalLogDensity(z, dimz, row * dimz);
          const logQ = posteriorLogDensity(post, r, z, row * dimz);
          logW[r * k + s0 + (row - r * samples)] = values[row] + logPz - logQ;
        }
      }
      const logPx = importanceWeightedLogLikelihood(logW, rows, k);
      for (let r = 0; r < rows; r++) {
        sumLogPx += logPx[r];
        let mean = 0;
        for (let s = 0; s < k; s++) mean += logW[r * k + s];
        sumMeanLogW += mean / k;
      }
    } finally {
      x.dispose();
    }
    onProgress?.(start + rows, count);
  }
  return { k, images: count, nll: -sumLogPx / count, negativeElbo: -sumMeanLogW / count };
}
