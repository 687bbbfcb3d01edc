/**
 * The part of the fast steps that both study models share: the μ / ln σ² head run as one
 * layer, z = μ + σ·ε from it, the backward pass through it with the KL term, and the fields
 * every fast step keeps (model, sizes, Adam, timer).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelName } from '../../shared/config';
import { AdamState, type AdamHyper } from './adam';
import { addRowBias, headGradAndKl, reparameterize, slotGetter, type FastModel, type OptimizerStateLike } from './common';
import { DenseT } from './dense';
import { heapView } from './wasmHeap';
import { Timer } from './timer';

/** What every fast step holds; the subclass builds its other layers from `model`. */
export abstract class FastStepBase {
  protected readonly adam: AdamState;
  /** The μ and ln σ² layers as one layer [hidden → 2·dimz]. */
  protected readonly head: DenseT;
  protected readonly dimz: number;
  protected readonly pixels: number;
  readonly timer = new Timer();

  /**
   * @param freeBits λ nats per latent dimension (0: off): a dimension whose KL, averaged over the
   *   batch, is below λ gets no KL gradient. The step must see the whole batch for that.
   */
  constructor(protected readonly model: FastModel, modelName: ModelName, hidden: number, hyper: AdamHyper, protected readonly freeBits = 0) {
    if (model.name !== modelName) throw new Error(`${new.target.name} is for ${modelName}, not ${model.name}`);
    this.dimz = model.dimz;
    this.pixels = model.pixels;
    this.adam = new AdamState(hyper);
    this.head = new DenseT(hidden, 2 * this.dimz, true);
  }

  /** Reads the parameters (and state) from the model's variables into the step's own copy. */
  protected abstract loadFromModel(): void;
  /** Puts every layer's Adam moments into `slots`, named as the model names the layers. */
  protected abstract putSlots(slots: Record<string, Float32Array>): void;
  /** Sets every layer's Adam moments from a checkpoint's slots. */
  protected abstract setSlots(get: (key: string) => Float32Array): void;

  getOptimizerState(): OptimizerStateLike {
    const slots: Record<string, Float32Array> = {};
    this.putSlots(slots);
    this.adam.saveSlots(slots);
    return { step: this.adam.step, slots };
  }

  /**
   * Restores a checkpoint's optimizer state. The trainer restores the parameters into the model's
   * variables first; the step keeps its own copy of them, so it re-reads them here.
   */
  setOptimizerState(state: OptimizerStateLike): void {
    this.loadFromModel();
    this.setSlots(slotGetter(state));
    this.adam.restore(state.step, state.slots);
  }
}

/**
 * The head's output for `batch` images (feature-major [2·dz, B], a fresh product the bias is
 * added to in place) and K = eps.length / (B·dz) samples of z from it, in both layouts.
 */
export class LatentSample {
  readonly muT: Float32Array;
  readonly lvT: Float32Array;
  readonly sigmaT: Float32Array;
  /** z feature-major [dz, K·B]. */
  readonly ZT: tf.Tensor2D;
  /** z batch-major [K·B, dz]. */
  readonly Zb: tf.Tensor2D;

  constructor(headOut: tf.Tensor, head: DenseT, private readonly eps: Float32Array, private readonly dimz: number, private readonly batch: number) {
    const Z = dimz;
    const B = batch;
    const K = eps.length / (B * Z);
    const N = K * B;
    const hv = heapView(headOut);
    addRowBias(hv, head.b, 2 * Z, B);
    this.muT = hv.slice(0, Z * B);
    this.lvT = hv.slice(Z * B, 2 * Z * B);
    this.sigmaT = new Float32Array(Z * B);
    const zTArr = new Float32Array(Z * N);
    const zArr = new Float32Array(N * Z);
    reparameterize(this.muT, this.lvT, eps, Z, B, K, zTArr, zArr, this.sigmaT);
    this.ZT = tf.tensor2d(zTArr, [Z, N]);
    this.Zb = tf.tensor2d(zArr, [N, Z]);
  }

  /**
   * From dLoss/dz (feature-major) to dLoss/d(head output) with the KL term's gradient scaled by
   * klScale (C over the images the loss averages) and free bits λ (headGradAndKl). Returns the
   * head's gradient tensor and the sums of KL, μ and σ over these images.
   */
  backward(dZT: tf.Tensor, klScale: number, freeBits = 0): { dHeadT: tf.Tensor2D; klSum: number; sumMu: number; sumSigma: number } {
    const Z = this.dimz;
    const B = this.batch;
    const K = this.eps.length / (B * Z);
    const headT = new Float32Array(2 * Z * B);
    const sums = headGradAndKl(heapView(dZT), this.muT, this.lvT, this.sigmaT, this.eps, Z, B, K, klScale, headT, freeBits);
    return { dHeadT: tf.tensor2d(headT, [2 * Z, B]), ...sums };
  }

  dispose(): void {
    tf.dispose([this.ZT, this.Zb]);
  }
}
