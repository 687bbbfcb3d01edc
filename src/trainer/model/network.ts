/**
 * A VAE built from an encoder and a decoder written as layer lists (shared/architecture.ts), with
 * the μ / ln σ² heads and the output layer VAE Lens adds. Tensors are [batch, n] when flat and
 * [batch, height, width, channels] when spatial; the encoder starts from the image as
 * height × width × channels, and a dense layer flattens a spatial input.
 *
 * Convolutions: the wasm backend has no kernel for a convolution's filter gradient
 * (Conv2DBackpropFilter). Where the backend lacks it, conv2d and conv2dTranspose compute that
 * gradient as a forward convolution instead: with the batch and channel axes swapped, the
 * filter gradient of a stride-s convolution is a stride-1 convolution of the padded input with the
 * output gradient dilated by s (the identity every framework's own kernel implements).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  LEAKY_RELU_ALPHA, LN_EPS, planNetwork, type Architecture, type LayerSpec, type Likelihood, type Padding, type Shape,
} from '../../shared/architecture';
import type { ModelName } from '../../shared/config';
import { ParameterSet, applyBatchNorm, applyLinear, batchNorm, linear, type BatchNorm, type Linear } from './layers';
import type { VaeModel } from './types';

type Apply = (x: tf.Tensor, training: boolean) => tf.Tensor;

/** TensorFlow's "same" padding on one axis: [before, after]. */
function samePads(input: number, output: number, kernel: number, stride: number): [number, number] {
  const total = Math.max((output - 1) * stride + kernel - input, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * dW[i, j, c, f] = Σ_{b, y, x} in[b, y·s + i, x·s + j, c] · g[b, y, x, f] for `in` [b, H, W, C] (padded
 * as the forward pass padded it) and g [b, OH, OW, F]: a forward convolution of in with channels and
 * batch swapped, the filter being g with batch and F as its in/out channels, dilated by s.
 */
export function convFilterGradient(input: tf.Tensor4D, grad: tf.Tensor4D, kernel: number, stride: number, padding: Padding): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = input.shape;
    const [, oh, ow] = grad.shape;
    let padded = input;
    if (padding === 'same') {
      padded = tf.pad(input, [[0, 0], samePads(h, oh, kernel, stride), samePads(w, ow, kernel, stride), [0, 0]]);
    }
    const x = tf.transpose(padded, [3, 1, 2, 0]); // [C, Hp, Wp, B]
    const f = tf.transpose(grad, [1, 2, 0, 3]); // [OH, OW, B, F]
    const out = tf.conv2d(x, f, 1, 'valid', 'NHWC', stride); // [C, Hp − (OH−1)s, Wp − (OW−1)s, F]
    const cropped = tf.slice(out, [0, 0, 0, 0], [-1, kernel, kernel, -1]);
    return tf.transpose(cropped, [1, 2, 0, 3]) as tf.Tensor4D; // [k, k, C, F]
  });
}

function backendHasFilterGradient(): boolean {
  try {
    return tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;
  } catch {
    return false;
  }
}

type GradFunc = Parameters<typeof tf.customGrad>[0];

function conv2d(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number, padding: Padding): tf.Tensor4D {
  if (backendHasFilterGradient()) return tf.conv2d(x, filter, stride, padding);
  const kernel = filter.shape[0];
  const fn = (xs: tf.Tensor4D, fs: tf.Tensor4D, save: tf.GradSaveFunc) => {
    save([xs, fs]);
    return {
      value: tf.conv2d(xs, fs, stride, padding),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xv, fv] = saved as [tf.Tensor4D, tf.Tensor4D];
        return [tf.conv2dTranspose(dy, fv, xv.shape, stride, padding), convFilterGradient(xv, dy, kernel, stride, padding)];
      },
    };
  };
  return tf.customGrad(fn as unknown as GradFunc)(x, filter) as tf.Tensor4D;
}

/** y = conv2dTranspose(x, W) with W [k, k, F, C]: the input gradient is conv2d(dy, W), the filter gradient as conv2d's with the roles of x and dy exchanged. */
function conv2dTranspose(x: tf.Tensor4D, filter: tf.Tensor4D, outShape: [number, number, number, number], stride: number, padding: Padding): tf.Tensor4D {
  if (backendHasFilterGradient()) return tf.conv2dTranspose(x, filter, outShape, stride, padding);
  const kernel = filter.shape[0];
  const fn = (xs: tf.Tensor4D, fs: tf.Tensor4D, save: tf.GradSaveFunc) => {
    save([xs, fs]);
    return {
      value: tf.conv2dTranspose(xs, fs, outShape, stride, padding),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xv, fv] = saved as [tf.Tensor4D, tf.Tensor4D];
        return [tf.conv2d(dy, fv, stride, padding), convFilterGradient(dy, xv, kernel, stride, padding)];
      },
    };
  };
  return tf.customGrad(fn as unknown as GradFunc)(x, filter) as tf.Tensor4D;
}

/** GELU, tanh form (Hendrycks & Gimpel 2016): built from ops every backend has, with their gradients. */
function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

function activate(layer: Extract<LayerSpec, { type: 'activation' }>, x: tf.Tensor): tf.Tensor {
  switch (layer.fn) {
    case 'tanh':
      return tf.tanh(x);
    case 'relu':
      return tf.relu(x);
    case 'leakyRelu':
      return tf.leakyRelu(x, layer.alpha ?? LEAKY_RELU_ALPHA);
    case 'elu': {
      const alpha = layer.alpha ?? 1;
      // relu(x) + α(e^min(x,0) − 1): x above zero, α(eˣ − 1) below, with gradients from ops every backend differentiates.
      return alpha === 1 ? tf.elu(x) : tf.add(tf.relu(x), tf.mul(tf.sub(tf.exp(tf.minimum(x, 0)), 1), alpha));
    }
    case 'softplus':
      return tf.softplus(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'gelu':
      return gelu(x);
  }
}

const flat = (x: tf.Tensor): tf.Tensor2D => (x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [x.shape[0], -1]));

/** One layer's parameters and forward function; `name` prefixes its parameters (encoder/2/W). */
function buildLayer(params: ParameterSet, name: string, layer: LayerSpec, input: Shape, output: Shape, seed: number, dropouts: { count: number }): Apply {
  switch (layer.type) {
    case 'dense': {
      const lin: Linear = linear(params, name, input.reduce((a, b) => a * b, 1), layer.units);
      return (x) => applyLinear(lin, flat(x));
    }
    case 'conv2d': {
      const [, , c] = input;
      const W = params.lecunNormalShaped(`${name}/W`, layer.kernel * layer.kernel * c, [layer.kernel, layer.kernel, c, layer.filters]);
      const b = params.constant(`${name}/b`, layer.filters, 0, true);
      return (x) => tf.add(conv2d(x as tf.Tensor4D, W as tf.Tensor4D, layer.stride ?? 1, layer.padding ?? 'same'), b);
    }
    case 'conv2dTranspose': {
      const [, , c] = input;
      const [oh, ow, f] = output;
      const W = params.lecunNormalShaped(`${name}/W`, layer.kernel * layer.kernel * c, [layer.kernel, layer.kernel, f, c]);
      const b = params.constant(`${name}/b`, f, 0, true);
      return (x) => tf.add(conv2dTranspose(x as tf.Tensor4D, W as tf.Tensor4D, [x.shape[0], oh, ow, f], layer.stride ?? 1, layer.padding ?? 'same'), b);
    }
    case 'batchNorm': {
      const bn: BatchNorm = batchNorm(params, name, input[input.length - 1]);
      return (x, training) => applyBatchNorm(bn, x, training, layer.eps, layer.decay);
    }
    case 'layerNorm': {
      const size = input[input.length - 1];
      const gamma = params.constant(`${name}/gamma`, size, 1, true);
      const beta = params.constant(`${name}/beta`, size, 0, true);
      const eps = layer.eps ?? LN_EPS;
      return (x) => {
        const { mean, variance } = tf.moments(x, -1, true);
        return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta);
      };
    }
    case 'activation':
      return (x) => activate(layer, x);
    case 'dropout': {
      const index = dropouts.count++;
      let calls = 0;
      // Seeded masks: the k-th mask of this layer depends on (seed, layer, k) only, so runs repeat.
      return (x, training) => {
        if (!training || layer.rate === 0) return x;
        const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', seed * 7919 + index * 104729 + calls++), layer.rate), 'float32');
        return tf.div(tf.mul(x, keep), 1 - layer.rate);
      };
    }
    case 'flatten':
      return (x) => flat(x);
    case 'reshape':
      return (x) => tf.reshape(x, [x.shape[0], ...layer.shape]);
  }
}

/**
 * The model of an architecture on images of `shape` [height, width, channels]; throws an Error with
 * the layer-naming messages when the layers do not fit (a config is checked before this, except for
 * idx: data, whose size is known only once it is read).
 */
export function createNetworkModel(name: ModelName, arch: Architecture, shape: Shape, dimz: number, likelihood: Likelihood, seed: number): VaeModel {
  const result = planNetwork(arch, shape, dimz, likelihood);
  if (!result.ok) throw new Error(`The network does not fit ${shape.join('×')} images: ${result.errors.join('; ')}`);
  const { plan } = result;
  const params = new ParameterSet(seed);
  const dropouts = { count: 0 };
  const encoder = plan.encoder.map((p, i) => buildLayer(params, `encoder/${i}`, p.layer, p.input, p.output, seed, dropouts));
  const encOut = plan.heads.input.reduce((a, b) => a * b, 1);
  const mu = linear(params, 'mu', encOut, dimz);
  const lnVar = linear(params, 'ln_var', encOut, dimz);
  const decoder = plan.decoder.map((p, i) => buildLayer(params, `decoder/${i}`, p.layer, p.input, p.output, seed, dropouts));
  const output = buildLayer(params, 'output', plan.output.layer, plan.output.input, plan.output.output, seed, dropouts);
  const [h, w, c] = shape;
  return params.model(name, dimz, shape, likelihood, {
    encode(x, training) {
      let t: tf.Tensor = tf.reshape(x, [x.shape[0], h, w, c]);
      for (const layer of encoder) t = layer(t, training);
      const hidden = flat(t);
      return { mu: applyLinear(mu, hidden), lnVar: applyLinear(lnVar, hidden) };
    },
    decode(z, training) {
      let t: tf.Tensor = z;
      for (const layer of decoder) t = layer(t, training);
      return flat(output(t, training));
    },
  });
}
