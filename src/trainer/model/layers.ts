/**
 * Parameters and layers shared by the models: seeded Chainer-style initialisation, a linear layer
 * and batch normalization with Chainer's conventions.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelName } from '../../shared/config';
import { Rng, Stream } from '../rng';
import type { VaeModel } from './types';
import { BN_DECAY, BN_EPS, type Likelihood, type Shape } from '../../shared/architecture';
import { createLikelihood } from './likelihoods';

let modelInstances = 0;

/** Hash of a parameter name, so each parameter's initial values depend on its name, not on list order. */
function nameKey(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/**
 * Creates the variables of one model. TensorFlow.js names variables globally, so each model
 * instance gets its own prefix; the canonical names (the record keys) stay the contract.
 */
export class ParameterSet {
  readonly variables: Record<string, tf.Variable> = {};
  readonly state: Record<string, tf.Variable> = {};
  private readonly prefix = `vae${++modelInstances}/`;

  constructor(private readonly seed: number) {}

  /** LeCun normal, Chainer's L.Linear default: N(0, 1/fan_in), seeded by (seed, name). */
  lecunNormal(name: string, fanIn: number, fanOut: number): tf.Variable {
    return this.lecunNormalShaped(name, fanIn, [fanIn, fanOut]);
  }

  /** LeCun normal N(0, 1/fan_in) of any shape (a convolution's kernel: fan_in = kernel² × input channels). */
  lecunNormalShaped(name: string, fanIn: number, shape: number[]): tf.Variable {
    const count = shape.reduce((a, b) => a * b, 1);
    const values = Rng.fromKey(this.seed, Stream.init, nameKey(name)).fillNormal(new Float32Array(count), Math.sqrt(1 / fanIn));
    return this.add(name, tf.tensor(values, shape), true);
  }

  constant(name: string, size: number, value: number, trainable: boolean): tf.Variable {
    return this.add(name, tf.fill([size], value), trainable);
  }

  private add(name: string, init: tf.Tensor, trainable: boolean): tf.Variable {
    const v = tf.variable(init, trainable, this.prefix + name);
    init.dispose();
    (trainable ? this.variables : this.state)[name] = v;
    return v;
  }

  dispose(): void {
    for (const v of [...Object.values(this.variables), ...Object.values(this.state)]) v.dispose();
  }

  /** The model over these parameters: each model file supplies only its network; the likelihood's own parameters (a learned σ) join them here. */
  model(name: ModelName, dimz: number, shape: Shape, likelihood: Likelihood, net: Pick<VaeModel, 'encode' | 'decode'>): VaeModel {
    const pixels = shape[0] * shape[1] * shape[2];
    const pixelLikelihood = createLikelihood(likelihood, pixels, (n, size, value) => this.constant(n, size, value, true));
    return {
      name, dimz, pixels, shape, likelihood: pixelLikelihood, variables: this.variables, state: this.state,
      encode: net.encode, decode: net.decode,
      dispose: () => this.dispose(),
    };
  }
}

export interface Linear {
  W: tf.Variable;
  b: tf.Variable;
}

export function linear(params: ParameterSet, name: string, fanIn: number, fanOut: number): Linear {
  return { W: params.lecunNormal(`${name}/W`, fanIn, fanOut), b: params.constant(`${name}/b`, fanOut, 0, true) };
}

export function applyLinear(layer: Linear, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(x, layer.W), layer.b);
}


export interface BatchNorm {
  gamma: tf.Variable;
  beta: tf.Variable;
  mean: tf.Variable;
  variance: tf.Variable;
}

export function batchNorm(params: ParameterSet, name: string, size: number): BatchNorm {
  return {
    gamma: params.constant(`${name}/gamma`, size, 1, true),
    beta: params.constant(`${name}/beta`, size, 0, true),
    mean: params.constant(`${name}/mean`, size, 0, false),
    variance: params.constant(`${name}/var`, size, 1, false),
  };
}

/**
 * Training: normalise with the batch's statistics and update the moving ones as Chainer does
 * (decay 0.9, the variance with the unbiased m/(m−1) correction). Evaluation: the moving ones.
 */
export function applyBatchNorm<T extends tf.Tensor>(bn: BatchNorm, h: T, training: boolean, eps = BN_EPS, decay = BN_DECAY): T {
  let mean: tf.Tensor;
  let variance: tf.Tensor;
  if (training) {
    // Statistics over every axis but the last (batch, and height and width of a spatial input).
    const axes = h.shape.slice(0, -1).map((_, i) => i);
    ({ mean, variance } = tf.moments(h, axes));
    const m = h.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const unbiased = m > 1 ? m / (m - 1) : 1;
    const newMean = tf.add(tf.mul(bn.mean, decay), tf.mul(mean, 1 - decay));
    const newVar = tf.add(tf.mul(bn.variance, decay), tf.mul(variance, (1 - decay) * unbiased));
    bn.mean.assign(newMean);
    bn.variance.assign(newVar);
  } else {
    mean = bn.mean;
    variance = bn.variance;
  }
  const normalised = tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normalised, bn.gamma), bn.beta) as T;
}
