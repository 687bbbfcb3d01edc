/**
 * The VAE objective of Chainer's example, in nats per image:
 *   reconstruction = E_q[−log p(x|z)], with the model's likelihood (model/likelihoods.ts; Chainer's
 *                    is Bernoulli on logits, Σ_pixels softplus(l) − x·l),
 *                    averaged over k samples z = μ + exp(ln σ²/2)·ε;
 *   KL             = ½ Σ_d (μ² + σ² − ln σ² − 1)  (q(z|x) against N(0, I));
 *   loss           = reconstruction + C·KL.
 * With free bits λ (Kingma et al. 2016) the objective the gradients come from is
 *   reconstruction + C·Σ_d max(λ, KL_d), KL_d averaged over the batch,
 * while the reported loss stays reconstruction + C·KL, comparable with runs without.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { VaeModel } from './model';

/** Per image: Σ over pixels of softplus(l) − x·l (= −log Bernoulli(x; sigmoid(l)) for x in {0, 1}). */
export function bernoulliNll(x: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.sub(tf.softplus(logits), tf.mul(x, logits)), 1);
}

/** Per image: KL(N(μ, σ²) ‖ N(0, I)) summed over latent dimensions. */
export function gaussianKl(mu: tf.Tensor2D, lnVar: tf.Tensor2D): tf.Tensor1D {
  return tf.mul(tf.sum(tf.sub(tf.sub(tf.add(tf.square(mu), tf.exp(lnVar)), lnVar), 1), 1), 0.5);
}

/** Σ_d max(λ, KL_d) with KL_d = KL(q(z_d|x) ‖ N(0, 1)) averaged over the batch. */
export function freeBitsKl(mu: tf.Tensor2D, lnVar: tf.Tensor2D, freeBits: number): tf.Scalar {
  const perDim = tf.mean(tf.mul(tf.sub(tf.sub(tf.add(tf.square(mu), tf.exp(lnVar)), lnVar), 1), 0.5), 0);
  return tf.sum(tf.maximum(perDim, freeBits)) as tf.Scalar;
}

/** The reparameterisation z = μ + σ·ε, σ = exp(ln σ² / 2). */
export function sampleLatent(mu: tf.Tensor2D, lnVar: tf.Tensor2D, eps: tf.Tensor2D): tf.Tensor2D {
  return tf.add(mu, tf.mul(tf.exp(tf.mul(lnVar, 0.5)), eps));
}

export interface VaeLoss {
  /** Scalars: means over the batch, nats per image. */
  loss: tf.Scalar;
  reconstruction: tf.Scalar;
  kl: tf.Scalar;
  mu: tf.Tensor2D;
  lnVar: tf.Tensor2D;
  /** What training minimises: `loss`, or with free bits the objective above. */
  objective: tf.Scalar;
}

/**
 * The loss of one batch. `eps` holds k × batch × dimz standard-normal values (k samples per image),
 * given from outside so that every implementation of a step sees the same noise.
 */
export function vaeLoss(model: VaeModel, x: tf.Tensor2D, eps: Float32Array, klWeight: number, training: boolean, freeBits = 0): VaeLoss {
  const batch = x.shape[0];
  const k = eps.length / (batch * model.dimz);
  if (!Number.isInteger(k) || k < 1) {
    throw new Error(`vaeLoss: eps has ${eps.length} values, not a multiple of batch ${batch} × dimz ${model.dimz}`);
  }
  const { mu, lnVar } = model.encode(x, training);
  let recSum: tf.Tensor | null = null;
  for (let l = 0; l < k; l++) {
    const e = tf.tensor2d(eps.subarray(l * batch * model.dimz, (l + 1) * batch * model.dimz), [batch, model.dimz]);
    const nll = tf.sum(model.likelihood.nll(x, model.decode(sampleLatent(mu, lnVar, e), training)));
    recSum = recSum ? tf.add(recSum, nll) : nll;
  }
  const reconstruction = tf.div(recSum as tf.Tensor, k * batch) as tf.Scalar;
  const kl = tf.div(tf.sum(gaussianKl(mu, lnVar)), batch) as tf.Scalar;
  const loss = tf.add(reconstruction, tf.mul(kl, klWeight)) as tf.Scalar;
  const objective = freeBits > 0 ? (tf.add(reconstruction, tf.mul(freeBitsKl(mu, lnVar, freeBits), klWeight)) as tf.Scalar) : loss;
  return { loss, reconstruction, kl, mu, lnVar, objective };
}
