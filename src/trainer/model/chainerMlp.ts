import * as tf from '@tensorflow/tfjs-core';
import type { VaeModel } from './types';
import type { Likelihood, Shape } from '../../shared/architecture';
import { ParameterSet, applyLinear, linear } from './layers';

const HIDDEN = 500;

/**
 * Chainer's MNIST VAE example (examples/vae/net.py), the study's Experiment 1: encoder
 * Linear(pixels→500), tanh, two heads Linear(500→dimz) for μ and ln σ²; decoder Linear(dimz→500),
 * tanh, Linear(500→pixels) giving Bernoulli logits. L.Linear's default initialisation.
 */
export function createChainerMlp(shape: Shape, dimz: number, likelihood: Likelihood, seed: number): VaeModel {
  const pixels = shape[0] * shape[1] * shape[2];
  const params = new ParameterSet(seed);
  const le1 = linear(params, 'le1', pixels, HIDDEN);
  const le2Mu = linear(params, 'le2_mu', HIDDEN, dimz);
  const le2LnVar = linear(params, 'le2_ln_var', HIDDEN, dimz);
  const ld1 = linear(params, 'ld1', dimz, HIDDEN);
  const ld2 = linear(params, 'ld2', HIDDEN, pixels);
  return params.model('chainer-mlp', dimz, shape, likelihood, {
    encode(x) {
      const h = tf.tanh(applyLinear(le1, x));
      return { mu: applyLinear(le2Mu, h), lnVar: applyLinear(le2LnVar, h) };
    },
    decode(z) {
      return applyLinear(ld2, tf.tanh(applyLinear(ld1, z)));
    },
  });
}
