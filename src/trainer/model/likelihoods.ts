/**
 * p(x|z) given the decoder's output (one value per image value): the negative log-likelihood in
 * nats per image, and the mean image E[x|z] that the sample grids, reconstructions and the latent
 * explorer show.
 *
 *   bernoulli             output = logits l:  −log p = Σ softplus(l) − x·l         mean = sigmoid(l)
 *   continuous-bernoulli  output = logits l:  −log p = Σ softplus(l) − x·l − log C(λ), λ = sigmoid(l),
 *                         C(λ) = 2 artanh(1 − 2λ) / (1 − 2λ) = l / tanh(l / 2) (Loaiza-Ganem &
 *                         Cunningham 2019); mean = λ / (2λ − 1) + 1 / (2 artanh(1 − 2λ)) = λ / tanh(l/2) − 1/l
 *   gaussian              output = mean m:    −log p = Σ ½((x − m)/σ)² + ln σ + ½ ln 2π, σ fixed or
 *                         learned as exp(log σ), one value or one per image value; mean = m, clipped to [0, 1]
 *
 * Near l = 0 the continuous Bernoulli's closed forms are 0/0; there their Taylor series are used
 * (log C ≈ ln 2 + l²/12, mean ≈ ½ + l/12), with the other branch fed a harmless value so that
 * the value sees no NaN; log C's gradient is written out (continuousBernoulliLogNorm).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Likelihood } from '../../shared/architecture';
import { bernoulliNll } from '../loss';

export interface PixelLikelihood {
  readonly spec: Likelihood;
  /** −log p(x | decoder output) per image: batch values. */
  nll(x: tf.Tensor2D, out: tf.Tensor2D): tf.Tensor1D;
  /** E[x | z] per image value, in [0, 1]. */
  mean(out: tf.Tensor2D): tf.Tensor2D;
}

/** Creates learned σ parameters through this callback (name, size, initial value). */
export type ParameterMaker = (name: string, size: number, value: number) => tf.Variable;

/** For likelihoods known to have no parameters of their own (Bernoulli, a fixed σ). */
export const noParameters: ParameterMaker = (name) => {
  throw new Error(`This likelihood has no parameter ${name}.`);
};

const SMALL_LOGIT = 1e-3;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log C(λ) of the continuous Bernoulli, from logits, stable at l = 0, with its derivative written
 * out: d/dl log(l / tanh(l/2)) = 1/l − 1/sinh(l) (series l/6 − 7l³/360 near 0). TensorFlow.js has
 * no gradient for the comparison that picks the branch, so the branches cannot be on the tape.
 */
export const continuousBernoulliLogNorm: (l: tf.Tensor) => tf.Tensor = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [l, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([l]);
  return {
    value: bySize(l, (safe) => tf.log(tf.div(safe, tf.tanh(tf.mul(safe, 0.5)))), (x) => tf.add(tf.mul(tf.square(x), 1 / 12), Math.LN2)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const derivative = bySize(
        saved[0],
        (safe) => tf.sub(tf.reciprocal(safe), tf.reciprocal(tf.sinh(safe))),
        (x) => tf.sub(tf.mul(x, 1 / 6), tf.mul(tf.mul(tf.square(x), x), 7 / 360)),
      );
      return [tf.mul(dy, derivative)];
    },
  };
}) as (l: tf.Tensor) => tf.Tensor;

/** The closed form where |l| ≥ SMALL_LOGIT (fed 1 elsewhere, so it makes no NaN), the series below. */
function bySize(l: tf.Tensor, closed: (safe: tf.Tensor) => tf.Tensor, series: (l: tf.Tensor) => tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const small = tf.less(tf.abs(l), SMALL_LOGIT);
    return tf.where(small, series(l), closed(tf.where(small, tf.onesLike(l), l)));
  });
}

/** E[x] of the continuous Bernoulli, from logits (for pictures: not differentiated). */
export function continuousBernoulliMean(l: tf.Tensor): tf.Tensor {
  return tf.clipByValue(
    bySize(l, (safe) => tf.sub(tf.div(tf.sigmoid(safe), tf.tanh(tf.mul(safe, 0.5))), tf.reciprocal(safe)), (x) => tf.add(tf.mul(x, 1 / 12), 0.5)),
    0,
    1,
  );
}

export function createLikelihood(spec: Likelihood, values: number, makeParameter: ParameterMaker): PixelLikelihood {
  switch (spec.type) {
    case 'bernoulli':
      return { spec, nll: bernoulliNll, mean: (out) => tf.sigmoid(out) };
    case 'continuous-bernoulli':
      return {
        spec,
        nll: (x, out) => tf.sub(bernoulliNll(x, out), tf.sum(continuousBernoulliLogNorm(out), 1)) as tf.Tensor1D,
        mean: (out) => continuousBernoulliMean(out) as tf.Tensor2D,
      };
    case 'gaussian': {
      const sigma = spec.sigma;
      // A learned σ starts at 1 (log σ = 0), a common, scale-free start.
      const logSigma: tf.Tensor | number =
        typeof sigma === 'number' ? Math.log(sigma) : makeParameter('likelihood/log_sigma', sigma === 'per-pixel' ? values : 1, 0);
      return {
        spec,
        nll: (x, out) =>
          tf.tidy(() => {
            const ls = typeof logSigma === 'number' ? tf.scalar(logSigma) : logSigma;
            const z = tf.mul(tf.sub(x, out), tf.exp(tf.neg(ls)));
            const perValue = tf.add(tf.add(tf.mul(tf.square(z), 0.5), ls), HALF_LOG_2PI);
            return tf.sum(perValue, 1) as tf.Tensor1D;
          }),
        mean: (out) => tf.clipByValue(out, 0, 1),
      };
    }
  }
}
