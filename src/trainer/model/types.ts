import type * as tf from '@tensorflow/tfjs-core';
import type { ModelName } from '../../shared/config';
import type { Shape } from '../../shared/architecture';
import type { PixelLikelihood } from './likelihoods';

/**
 * A VAE as the trainer sees it. Parameter names (keys of `variables` and `state`) are a contract:
 * checkpoints store them, and faster training steps for a backend look weights up by them.
 * Weights are laid out [in, out]: y = x·W + b.
 */
export interface VaeModel {
  readonly name: ModelName;
  readonly dimz: number;
  /** Values per image: height × width × channels of `shape`. */
  readonly pixels: number;
  /** The images' [height, width, channels]; an image is laid out row-major with channels interleaved. */
  readonly shape: Shape;
  /** p(x|z) given the decoder's output: the loss's reconstruction term and the mean images shown. */
  readonly likelihood: PixelLikelihood;
  /** Trainable parameters by canonical name. */
  readonly variables: Record<string, tf.Variable>;
  /** Non-trainable state by canonical name (batch normalization's moving statistics). */
  readonly state: Record<string, tf.Variable>;
  /** q(z|x): mean and ln σ², batch × dimz. `training` selects batch statistics (and updates moving ones). */
  encode(x: tf.Tensor2D, training: boolean): { mu: tf.Tensor2D; lnVar: tf.Tensor2D };
  /** The likelihood's parameters per image value (Bernoulli logits for the presets), batch × pixels. */
  decode(z: tf.Tensor2D, training: boolean): tf.Tensor2D;
  dispose(): void;
}
