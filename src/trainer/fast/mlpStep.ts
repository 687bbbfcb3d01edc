/**
 * The fast training step for `chainer-mlp` on wasm (Chainer's examples/vae net):
 *   encoder  h = tanh(x·W1 + b1); μ = h·Wμ + bμ; lnσ² = h·Wv + bv
 *   decoder  d = tanh(z·Wd1 + bd1); logits = d·Wd2 + bd2
 * with a hand-written backward pass and Adam, giving the stock tape step's numbers (see
 * test/trainer/fastStep.test.ts). Products go through XNNPACK in the layout DenseT explains;
 * elementwise work runs as JavaScript loops directly on the wasm heap.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StepResult, TrainStep } from '../step';
import { DEFAULT_ADAM, type AdamHyper, type AdamState } from './adam';
import {
  addRowBias, bernoulliLossAndGrad, loadHead, putHeadSlots, putLayerSlots, readVariable,
  resultFromSums, setHeadSlots, setLayerSlots, storeHead, writeVariable,
  type BatchSums, type FastModel,
} from './common';
import { DenseT } from './dense';
import { FastStepBase, LatentSample } from './latent';
import { heapView } from './wasmHeap';
import type { Timer } from './timer';

const HIDDEN = 500;
/** The model's μ and lnVar layers, which this step runs as one head layer. */
const HEAD_MU = 'le2_mu';
const HEAD_LV = 'le2_ln_var';

/**
 * tanh(a + b) for a feature-major [rows, cols] product, through the backend's SIMD sigmoid
 * (the wasm Tanh kernel is a scalar loop): tanh(u) = 2·σ(2u) − 1. Consumes `a`.
 */
function biasTanh(a: tf.Tensor, bias: Float32Array, rows: number, cols: number): tf.Tensor {
  const av = heapView(a);
  for (let r = 0; r < rows; r++) {
    const br = bias[r];
    const base = r * cols;
    for (let c = 0; c < cols; c++) av[base + c] = 2 * (av[base + c] + br);
  }
  const s = tf.sigmoid(a);
  a.dispose();
  const sv = heapView(s);
  for (let i = 0; i < sv.length; i++) sv[i] = 2 * sv[i] - 1;
  return s;
}

/** dy ← dy·(1 − t²) where t = tanh output. */
function tanhBackward(dy: Float32Array, t: Float32Array): void {
  const n = dy.length;
  for (let i = 0; i < n; i++) dy[i] *= 1 - t[i] * t[i];
}

/**
 * tanh(x·W + b) of one layer for a feature-major input [nIn, cols]: the output in both layouts,
 * feature-major [nOut, cols] and batch-major [cols, nOut] (the input of the next layer's backward).
 */
function tanhLayer(layer: DenseT, inT: tf.Tensor, cols: number, t: Timer): [tf.Tensor, tf.Tensor] {
  const A = layer.forward(inT);
  t.lap('matmul');
  const HT = biasTanh(A, layer.b, layer.nOut, cols);
  t.lap('elementwise');
  const H = tf.transpose(HT);
  t.lap('other');
  return [HT, H];
}

export class FastMlpStep extends FastStepBase implements TrainStep {
  private readonly le1: DenseT;
  private readonly ld1: DenseT;
  private readonly ld2: DenseT;

  constructor(model: FastModel, hyper: AdamHyper = DEFAULT_ADAM, freeBits = 0) {
    super(model, 'chainer-mlp', HIDDEN, hyper, freeBits);
    this.le1 = new DenseT(this.pixels, HIDDEN, false);
    this.ld1 = new DenseT(this.dimz, HIDDEN, true);
    this.ld2 = new DenseT(HIDDEN, this.pixels, true);
    this.loadFromModel();
  }

  protected loadFromModel(): void {
    const m = this.model;
    const P = this.pixels;
    const Z = this.dimz;
    this.le1.setWeights(readVariable(m, 'le1/W', [P, HIDDEN]), readVariable(m, 'le1/b', [HIDDEN]));
    loadHead(m, this.head, HEAD_MU, HEAD_LV);
    this.ld1.setWeights(readVariable(m, 'ld1/W', [Z, HIDDEN]), readVariable(m, 'ld1/b', [HIDDEN]));
    this.ld2.setWeights(readVariable(m, 'ld2/W', [HIDDEN, P]), readVariable(m, 'ld2/b', [P]));
  }

  step(x: Float32Array, batchSize: number, eps: Float32Array, klWeight: number): StepResult {
    this.timer.begin();
    const sums = this.computeGradients(x, batchSize, eps, klWeight, batchSize);
    this.applyUpdate();
    this.timer.end();
    return resultFromSums(sums, batchSize, klWeight);
  }

  /** Adam's step count and β powers (the two-thread step updates shards of the layers with it). */
  get adamState(): AdamState {
    return this.adam;
  }

  /** The layers in a fixed order (the data-parallel step exchanges their gradients in it). */
  get layers(): DenseT[] {
    return [this.le1, this.head, this.ld1, this.ld2];
  }

  /**
   * Forward and backward on `batchSize` images, leaving the gradients in the layers. Gradients are
   * those of the loss averaged over `scaleBatch` images (the whole batch when several replicas
   * each take a part), so the replicas' gradients add up to the batch's. Returns sums over these
   * images.
   */
  computeGradients(x: Float32Array, batchSize: number, eps: Float32Array, klWeight: number, scaleBatch: number): BatchSums {
    const B = batchSize;
    const P = this.pixels;
    const Z = this.dimz;
    if (x.length < B * P) throw new Error(`step: x holds ${x.length} values, batch needs ${B * P}`);
    if (eps.length % (B * Z) !== 0 || eps.length === 0) throw new Error(`step: eps length ${eps.length} is not k × ${B} × ${Z}`);
    const K = eps.length / (B * Z);
    const N = K * B;
    const t = this.timer;

    // Inputs: both layouts, made from the typed array (never a slice of a data tensor). The
    // layout changes here and below go through the backend's Transpose kernel, several times
    // faster than a JavaScript loop.
    const X = tf.tensor2d(x.subarray(0, B * P), [B, P]);
    const XT = tf.transpose(X);
    t.lap('other');

    // Encoder.
    const [H1T, H1] = tanhLayer(this.le1, XT, B, t);
    const headOut = this.head.forward(H1T);
    t.lap('matmul');
    const latent = new LatentSample(headOut, this.head, eps, Z, B);
    t.lap('elementwise');

    // Decoder.
    const [D1T, D1] = tanhLayer(this.ld1, latent.ZT, N, t);
    const LT = this.ld2.forward(D1T);
    t.lap('matmul');

    // Loss and its gradient w.r.t. the logits (in place: LT becomes dLoss/dlogits).
    addRowBias(heapView(LT), this.ld2.b, P, N);
    const ST = tf.sigmoid(LT);
    const recSum = bernoulliLossAndGrad(heapView(LT), heapView(ST), heapView(XT), P, B, K, 1 / (K * scaleBatch));
    t.lap('elementwise');

    // Backward through the decoder.
    const dD1T = this.ld2.backward(LT, D1) as tf.Tensor;
    t.lap('matmul');
    tanhBackward(heapView(dD1T), heapView(D1T));
    t.lap('elementwise');
    const dZT = this.ld1.backward(dD1T, latent.Zb) as tf.Tensor;
    t.lap('matmul');
    const { dHeadT, klSum, sumMu, sumSigma } = latent.backward(dZT, klWeight / scaleBatch, this.freeBits);
    t.lap('elementwise');

    // Backward through the encoder.
    const dH1T = this.head.backward(dHeadT, H1) as tf.Tensor;
    t.lap('matmul');
    tanhBackward(heapView(dH1T), heapView(H1T));
    t.lap('elementwise');
    this.le1.backward(dH1T, X);
    t.lap('matmul');

    latent.dispose();
    tf.dispose([X, XT, H1T, H1, headOut, D1T, D1, LT, ST, dD1T, dZT, dHeadT, dH1T]);
    t.lap('other');
    return { recSum, klSum, sumMu, sumSigma };
  }

  /** Zero gradients (a replica that got no images this step). */
  zeroGradients(): void {
    for (const l of this.layers) {
      l.gradWT?.dispose();
      l.gradWT = tf.zeros([l.nOut, l.nIn]);
      l.gradB.fill(0);
    }
  }

  /** Adam on every layer. */
  applyUpdate(): void {
    for (const layer of this.layers) layer.applyAdam(this.adam);
    this.adam.advance();
    this.timer.lap('optimizer');
  }

  sync(): void {
    const m = this.model;
    writeVariable(m, 'le1/W', this.le1.getWeights());
    writeVariable(m, 'le1/b', this.le1.b);
    storeHead(m, this.head, HEAD_MU, HEAD_LV);
    writeVariable(m, 'ld1/W', this.ld1.getWeights());
    writeVariable(m, 'ld1/b', this.ld1.b);
    writeVariable(m, 'ld2/W', this.ld2.getWeights());
    writeVariable(m, 'ld2/b', this.ld2.b);
  }

  protected putSlots(slots: Record<string, Float32Array>): void {
    for (const [prefix, layer] of this.plainLayers) putLayerSlots(slots, prefix, layer);
    putHeadSlots(slots, this.head, HEAD_MU, HEAD_LV);
  }

  protected setSlots(get: (key: string) => Float32Array): void {
    for (const [prefix, layer] of this.plainLayers) setLayerSlots(layer, prefix, get);
    setHeadSlots(this.head, HEAD_MU, HEAD_LV, get);
  }

  /** The layers other than the head, with the model's names for them. */
  private get plainLayers(): [string, DenseT][] {
    return [['le1', this.le1], ['ld1', this.ld1], ['ld2', this.ld2]];
  }

  dispose(): void {
    for (const layer of this.layers) layer.dispose();
  }
}
