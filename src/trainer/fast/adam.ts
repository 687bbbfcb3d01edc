/**
 * Adam as TensorFlow.js 4.22 computes it (tfjs-core src/optimizers/adam_optimizer.ts), in one pass
 * over each parameter array instead of ~10 kernels and allocations per variable:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   θ ← θ − α · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
 * where β1ᵗ, β2ᵗ are kept as float32 running products like tfjs's accBeta1/accBeta2 variables.
 */

export interface AdamHyper {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** Slot names of the running β powers, as the tape step (src/trainer/tapeStep.ts) writes them. */
export const ACC_BETA1 = 'adam/accBeta1';
export const ACC_BETA2 = 'adam/accBeta2';

export const DEFAULT_ADAM: AdamHyper = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

import { simdAdamFor, type SimdAdamFn } from './simdAdam';
import { heapOffset, heapView, wasmMemory } from './wasmHeap';
import type * as tf from '@tensorflow/tfjs-core';

export class AdamState {
  /** The SIMD kernel on the backend's memory, or null (then the JS loop runs). */
  private readonly simd: SimdAdamFn | null;

  /** Number of updates applied so far. */
  step = 0;
  private accBeta1: number;
  private accBeta2: number;

  constructor(readonly hyper: AdamHyper, useSimd = true) {
    this.simd = useSimd ? simdAdamFor(wasmMemory()) : null;
    this.accBeta1 = Math.fround(hyper.beta1);
    this.accBeta2 = Math.fround(hyper.beta2);
  }

  /**
   * Restores a checkpoint: the step count and, when saved, the exact running β powers (the tape
   * step saves them as the slots `adam/accBeta1|2`); else they are recomputed as tfjs's
   * setWeights does.
   */
  restore(step: number, slots: Record<string, Float32Array>): void {
    this.step = step;
    const a1 = slots[ACC_BETA1];
    const a2 = slots[ACC_BETA2];
    this.accBeta1 = a1 !== undefined ? a1[0] : Math.fround(Math.pow(this.hyper.beta1, step + 1));
    this.accBeta2 = a2 !== undefined ? a2[0] : Math.fround(Math.pow(this.hyper.beta2, step + 1));
  }

  /** The running β powers as checkpoint slots (the tape step's names). */
  saveSlots(slots: Record<string, Float32Array>): void {
    slots[ACC_BETA1] = Float32Array.of(this.accBeta1);
    slots[ACC_BETA2] = Float32Array.of(this.accBeta2);
  }

  /** Coefficients for this step; call `advance()` after every array of the step is updated. */
  coefficients(): { c1: number; c2: number } {
    return { c1: Math.fround(1 - this.accBeta1), c2: Math.fround(1 - this.accBeta2) };
  }

  advance(): void {
    this.step++;
    this.accBeta1 = Math.fround(this.accBeta1 * Math.fround(this.hyper.beta1));
    this.accBeta2 = Math.fround(this.accBeta2 * Math.fround(this.hyper.beta2));
  }

  /**
   * Updates tensors on the wasm heap in place (param, moments) from a gradient tensor, plus a
   * second one when given (another replica's): the SIMD kernel when the length is a multiple of 4,
   * else the JS loop on heap views.
   */
  updateTensors(param: tf.Tensor, grad: tf.Tensor, grad2: tf.Tensor | null, m: tf.Tensor, v: tf.Tensor): void {
    const n = param.size;
    const { learningRate, beta1, beta2, epsilon } = this.hyper;
    const { c1, c2 } = this.coefficients();
    if (this.simd !== null && n % 4 === 0) {
      const g2 = grad2 === null ? 0 : heapOffset(grad2);
      this.simd(heapOffset(param), heapOffset(grad), g2, heapOffset(m), heapOffset(v), n, beta1, beta2, 1 - beta1, 1 - beta2, c1, c2, -learningRate, epsilon);
      return;
    }
    let g = heapView(grad);
    if (grad2 !== null) {
      const o = heapView(grad2);
      g = g.map((x, i) => x + o[i]);
    }
    this.update(heapView(param), g, heapView(m), heapView(v));
  }

  /**
   * `updateTensors` on the elements [start, start + count) of flat tensors only (one replica's
   * shard of a parameter in the two-thread step). The caller calls `advance()` once per step.
   */
  updateRange(param: tf.Tensor, grad: tf.Tensor, grad2: tf.Tensor, m: tf.Tensor, v: tf.Tensor, start: number, count: number): void {
    if (count <= 0) return;
    const { learningRate, beta1, beta2, epsilon } = this.hyper;
    if (this.simd !== null && count % 4 === 0) {
      const { c1, c2 } = this.coefficients();
      const at = (t: tf.Tensor) => heapOffset(t) + 4 * start;
      this.simd(at(param), at(grad), at(grad2), at(m), at(v), count, beta1, beta2, 1 - beta1, 1 - beta2, c1, c2, -learningRate, epsilon);
      return;
    }
    const part = (t: tf.Tensor) => heapView(t).subarray(start, start + count);
    const o = part(grad2);
    this.update(part(param), part(grad).map((x, i) => x + o[i]), part(m), part(v));
  }

  get usesSimd(): boolean {
    return this.simd !== null;
  }

  /**
   * Updates `param` in place from `grad`. `gradScale` multiplies the gradient first (1 normally;
   * lets a caller pass an unnormalised sum).
   */
  update(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, gradScale = 1): void {
    const { learningRate, beta1, beta2, epsilon } = this.hyper;
    const { c1, c2 } = this.coefficients();
    const b1 = Math.fround(beta1);
    const b2 = Math.fround(beta2);
    const o1 = Math.fround(1 - beta1);
    const o2 = Math.fround(1 - beta2);
    const lr = -learningRate;
    const n = param.length;
    for (let i = 0; i < n; i++) {
      const g = grad[i] * gradScale;
      const mi = b1 * m[i] + o1 * g;
      const vi = b2 * v[i] + o2 * (g * g);
      m[i] = mi;
      v[i] = vi;
      param[i] += (lr * (mi / c1)) / (Math.sqrt(vi / c2) + epsilon);
    }
  }
}
