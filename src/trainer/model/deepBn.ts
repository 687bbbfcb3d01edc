import * as tf from '@tensorflow/tfjs-core';
import type { VaeModel } from './types';
import type { Likelihood, Shape } from '../../shared/architecture';
import { ParameterSet, applyBatchNorm, applyLinear, batchNorm, linear, type BatchNorm, type Linear } from './layers';

const HIDDEN = 600;

/**
 * The study's Experiment 2: "a deeper network with batch normalization". Its source was never
 * published, so this is an honest reconstruction, not a copy: encoder pixels→600→600, each
 * Linear + BatchNormalization + softplus, then Linear heads for μ and ln σ²; the decoder mirrors
 * it (dimz→600→600, then Linear(600→pixels) giving Bernoulli logits). Batch normalization follows
 * Chainer's defaults (eps 2e-5, moving-average decay 0.9); Linear layers use L.Linear's default
 * initialisation. Default dimz 100, as in the study.
 */
export function createDeepBn(shape: Shape, dimz: number, likelihood: Likelihood, seed: number): VaeModel {
  const pixels = shape[0] * shape[1] * shape[2];
  const params = new ParameterSet(seed);
  const block = (name: string, fanIn: number): { lin: Linear; bn: BatchNorm } => ({
    lin: linear(params, name, fanIn, HIDDEN),
    bn: batchNorm(params, name, HIDDEN),
  });
  const applyBlock = (b: { lin: Linear; bn: BatchNorm }, x: tf.Tensor2D, training: boolean): tf.Tensor2D =>
    tf.softplus(applyBatchNorm(b.bn, applyLinear(b.lin, x), training));

  const enc1 = block('enc1', pixels);
  const enc2 = block('enc2', HIDDEN);
  const encMu = linear(params, 'enc_mu', HIDDEN, dimz);
  const encLnVar = linear(params, 'enc_ln_var', HIDDEN, dimz);
  const dec1 = block('dec1', dimz);
  const dec2 = block('dec2', HIDDEN);
  const decOut = linear(params, 'dec_out', HIDDEN, pixels);
  return params.model('deep-bn', dimz, shape, likelihood, {
    encode(x, training) {
      const h = applyBlock(enc2, applyBlock(enc1, x, training), training);
      return { mu: applyLinear(encMu, h), lnVar: applyLinear(encLnVar, h) };
    },
    decode(z, training) {
      return applyLinear(decOut, applyBlock(dec2, applyBlock(dec1, z, training), training));
    },
  });
}
