/**
 * A linear layer for the fast steps, laid out for XNNPACK on wasm.
 *
 * Activations are kept feature-major (features × batch), so every product has a weight as its
 * first (A) operand: XNNPACK packs the second (B) operand into a cached operator per tensor, which
 * costs 1–2 ms for a weight that changes every step, and would be stale for one updated in place.
 * Here B is always an activation made this step, and no product is transposed (tfjs on wasm runs
 * transposed products through a plain loop at a tenth of XNNPACK's speed).
 *
 *   forward   yᵀ[out,N]  = Wᵀ[out,in] · xᵀ[in,N]           (+ b, added by the caller's loop)
 *   backward  dWᵀ[out,in] = dyᵀ[out,N] · x[N,in]
 *             dxᵀ[in,N]  = W[in,out] · dyᵀ[out,N]           (only when the input needs a gradient)
 *
 * Wᵀ is the master copy that Adam updates in place on the wasm heap; W (natural layout) is a copy
 * refreshed after each update, kept only for layers whose input gradient is needed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AdamState } from './adam';
import { heapView } from './wasmHeap';

/** Adam's moments of a layer's W and b, in the model's [in, out] layout. */
export interface DenseSlots {
  mW: Float32Array;
  vW: Float32Array;
  mB: Float32Array;
  vB: Float32Array;
}

export class DenseT {
  /** Wᵀ, [out, in], master weights (A operand of the forward product). */
  readonly wT: tf.Tensor2D;
  /** W, [in, out], copy of the weights for the input gradient (A operand), or null. */
  w: tf.Tensor2D | null;
  readonly b: Float32Array;
  /** Adam's moments of Wᵀ, on the wasm heap beside it (the SIMD update reads all four there). */
  readonly mW: tf.Tensor;
  readonly vW: tf.Tensor;
  readonly mB: Float32Array;
  readonly vB: Float32Array;
  /** This step's gradients: dWᵀ as a tensor (kernel output), db in JS. */
  gradWT: tf.Tensor | null = null;
  readonly gradB: Float32Array;

  constructor(
    readonly nIn: number,
    readonly nOut: number,
    readonly needsInputGrad: boolean,
  ) {
    this.wT = tf.zeros([nOut, nIn]);
    this.w = needsInputGrad ? tf.zeros([nIn, nOut]) : null;
    this.b = new Float32Array(nOut);
    this.mW = tf.zeros([nOut * nIn]);
    this.vW = tf.zeros([nOut * nIn]);
    this.mB = new Float32Array(nOut);
    this.vB = new Float32Array(nOut);
    this.gradB = new Float32Array(nOut);
  }

  /** Loads weights given in the model's [in, out] layout. */
  setWeights(wInOut: Float32Array, b: Float32Array): void {
    transposeInto(wInOut, this.nIn, this.nOut, heapView(this.wT));
    if (this.w !== null) heapView(this.w).set(wInOut);
    this.b.set(b);
  }

  /** Weights in the model's [in, out] layout. */
  getWeights(): Float32Array {
    const out = new Float32Array(this.nIn * this.nOut);
    transposeInto(heapView(this.wT), this.nOut, this.nIn, out);
    return out;
  }

  forward(xT: tf.Tensor): tf.Tensor {
    return tf.matMul(this.wT, xT as tf.Tensor2D);
  }

  /**
   * Computes dWᵀ (kept for the update) and db from dyᵀ; returns dxᵀ when the layer has W.
   * `x` is this layer's input in batch-major layout [N, in].
   */
  backward(dyT: tf.Tensor, x: tf.Tensor): tf.Tensor | null {
    this.gradWT?.dispose();
    this.gradWT = tf.matMul(dyT as tf.Tensor2D, x as tf.Tensor2D);
    rowSums(heapView(dyT), this.nOut, dyT.shape[1] as number, this.gradB);
    return this.w !== null ? tf.matMul(this.w, dyT as tf.Tensor2D) : null;
  }

  /** Adam on Wᵀ (in place on the heap) and b, then remakes W. */
  applyAdam(adam: AdamState): void {
    if (this.gradWT === null) throw new Error('VAE Lens fast step: update before backward');
    adam.updateTensors(this.wT, this.gradWT, null, this.mW, this.vW);
    adam.update(this.b, this.gradB, this.mB, this.vB);
    this.refreshW();
    this.dropGradients();
  }

  /**
   * Remakes W from Wᵀ after an update (layers with an input gradient), with the backend's
   * Transpose kernel: ≈ 0.12 ms for chainer-mlp's 784 × 500 decoder weight against ≈ 0.6 ms for
   * the JavaScript loop. A new tensor each step is fine for W, which is only ever an A operand.
   */
  refreshW(): void {
    if (this.w === null) return;
    this.w.dispose();
    this.w = tf.transpose(this.wT);
  }

  dropGradients(): void {
    this.gradWT?.dispose();
    this.gradWT = null;
  }

  /** Moment slots in the model's [in, out] layout (for checkpoints). */
  getSlots(): DenseSlots {
    const mW = new Float32Array(this.mW.size);
    const vW = new Float32Array(this.vW.size);
    transposeInto(heapView(this.mW), this.nOut, this.nIn, mW);
    transposeInto(heapView(this.vW), this.nOut, this.nIn, vW);
    return { mW, vW, mB: this.mB.slice(), vB: this.vB.slice() };
  }

  setSlots(s: DenseSlots): void {
    transposeInto(s.mW, this.nIn, this.nOut, heapView(this.mW));
    transposeInto(s.vW, this.nIn, this.nOut, heapView(this.vW));
    this.mB.set(s.mB);
    this.vB.set(s.vB);
  }

  dispose(): void {
    this.wT.dispose();
    this.w?.dispose();
    this.mW.dispose();
    this.vW.dispose();
    this.gradWT?.dispose();
    this.gradWT = null;
  }
}

/** dst[c, r] = src[r, c] for a rows × cols matrix; blocked so both sides stay in cache. */
export function transposeInto(src: ArrayLike<number>, rows: number, cols: number, dst: Float32Array): void {
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(r0 + B, rows);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(c0 + B, cols);
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[base + c];
      }
    }
  }
}

export function rowSums(src: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) s += src[base + c];
    out[r] = s;
  }
}

/** A tensor holding the transpose of a tensor's data (batch-major copy of a feature-major one). */
export function transposedTensor(t: tf.Tensor, scratch: Float32Array): tf.Tensor2D {
  const [rows, cols] = t.shape as [number, number];
  const dst = scratch.length === rows * cols ? scratch : new Float32Array(rows * cols);
  transposeInto(heapView(t), rows, cols, dst);
  return tf.tensor2d(dst, [cols, rows]);
}
