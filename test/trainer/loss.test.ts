import { test } from 'node:test';
import { createLikelihood, noParameters } from '../../src/trainer/model/likelihoods';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

// The cpu backend's Node banner is noise in test output.
tf.env().set('IS_TEST', true);
import { bernoulliNll, gaussianKl, sampleLatent, vaeLoss } from '../../src/trainer/loss';
import type { VaeModel } from '../../src/trainer/model';

const close = (actual: number, expected: number, tol = 1e-5) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} ≠ ${expected} (±${tol})`);

test('Bernoulli NLL on logits: Σ softplus(l) − x·l, per image', async () => {
  await tf.setBackend('cpu');
  // Image 1: l = (0, 2, −1), x = (1, 0, 0.5):
  //   softplus(0) − 0 = ln 2 = 0.693147; softplus(2) − 0 = ln(1 + e²) = 2.126928;
  //   softplus(−1) + 0.5 = 0.313262 + 0.5; sum 3.633337.
  // Image 2: l = (10, −10, 0), x = (1, 0, 0): softplus(10) − 10 = 4.54e-5, softplus(−10) = 4.54e-5, ln 2.
  const nll = bernoulliNll(tf.tensor2d([[1, 0, 0.5], [1, 0, 0]]), tf.tensor2d([[0, 2, -1], [10, -10, 0]])).arraySync();
  close(nll[0], 3.633337);
  close(nll[1], 2 * 4.53989e-5 + 0.693147);
});

test('Gaussian KL against N(0, I): ½ Σ (μ² + σ² − ln σ² − 1), per image', () => {
  // Image 1: μ = (1, 0), ln σ² = (0, ln 4): ½(1 + 1 − 0 − 1) + ½(0 + 4 − 1.386294 − 1) = 0.5 + 0.806853.
  // Image 2: μ = 0, σ = 1: exactly 0.
  const kl = gaussianKl(tf.tensor2d([[1, 0], [0, 0]]), tf.tensor2d([[0, Math.log(4)], [0, 0]])).arraySync();
  close(kl[0], 1.306853);
  assert.equal(kl[1], 0);
});

test('reparameterisation z = μ + exp(ln σ²/2)·ε', () => {
  const z = sampleLatent(tf.tensor2d([[1, -2]]), tf.tensor2d([[Math.log(9), 0]]), tf.tensor2d([[0.5, -1]])).arraySync();
  close(z[0][0], 1 + 3 * 0.5);
  close(z[0][1], -2 - 1);
});

test('vaeLoss averages the reconstruction over k samples and adds C·KL, nats per image', () => {
  // A linear toy model: μ = x·1 (one latent), ln σ² = 0, logits = z repeated over 2 pixels.
  const model: VaeModel = {
    name: 'chainer-mlp', dimz: 1, pixels: 2, shape: [1, 2, 1], likelihood: createLikelihood({ type: 'bernoulli' }, 2, noParameters), variables: {}, state: {},
    encode: (x) => ({ mu: tf.sum(x, 1, true) as tf.Tensor2D, lnVar: tf.zeros([x.shape[0], 1]) as tf.Tensor2D }),
    decode: (z) => tf.concat([z, z], 1) as tf.Tensor2D,
    dispose: () => undefined,
  };
  const x = tf.tensor2d([[1, 0], [0, 0]]);
  // k = 2 samples for 2 images: ε = (1, 0) then (−1, 2).
  const eps = new Float32Array([1, 0, -1, 2]);
  const out = vaeLoss(model, x, eps, 0.5, true);
  const softplus = (v: number) => Math.log1p(Math.exp(v));
  const nll = (xs: number[], l: number) => xs.reduce((s, xi) => s + softplus(l) - xi * l, 0);
  // image 1: μ = 1 → z = 2 (ε 1) and 0 (ε −1); image 2: μ = 0 → z = 0 (ε 0) and 2 (ε 2).
  const rec = (nll([1, 0], 2) + nll([1, 0], 0) + nll([0, 0], 0) + nll([0, 0], 2)) / 4;
  const kl = (0.5 * 1 + 0) / 2;
  close(out.reconstruction.dataSync()[0], rec);
  close(out.kl.dataSync()[0], kl);
  close(out.loss.dataSync()[0], rec + 0.5 * kl);
});
