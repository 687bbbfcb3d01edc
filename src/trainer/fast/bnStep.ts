/**
 * The fast training step for `deep-bn` on wasm: encoder pixels→600→600 and decoder dimz→600→600,
 * each Linear → batch normalization (batch statistics, Chainer's eps 2e-5 and moving decay 0.9
 * with the unbiased variance) → softplus, with Linear heads and output; the same numbers as the
 * stock tape step (test/trainer/fastStep.test.ts). One sample of z per image (k = 1): the tape
 * step normalises each of k decodes separately, which this step does not reproduce, so
 * createFastStep keeps k > 1 on the tape step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StepResult, TrainStep } from '../step';
import { BN_DECAY, BN_EPS } from '../../shared/architecture';
import { DEFAULT_ADAM, type AdamHyper, type AdamState } from './adam';
import {
  addRowBias, bernoulliLossAndGrad, loadHead, putHeadSlots, putLayerSlots, readVariable,
  resultFromSums, setHeadSlots, setLayerSlots, storeHead, writeVariable,
  type BatchSums, type FastModel,
} from './common';
import { DenseT, transposeInto, transposedTensor } from './dense';
import { FastStepBase, LatentSample } from './latent';
import { heapView } from './wasmHeap';
import type { Timer } from './timer';

const HIDDEN = 600;
/** The model's μ and lnVar layers, which this step runs as one head layer. */
const HEAD_MU = 'enc_mu';
const HEAD_LV = 'enc_ln_var';

/** Linear → batch normalization → softplus, feature-major. */
class BnBlock {
  readonly lin: DenseT;
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly movingMean: Float32Array;
  readonly movingVar: Float32Array;
  readonly gradGamma: Float32Array;
  readonly gradBeta: Float32Array;
  private readonly slots: Float32Array[];
  // Forward caches for the backward pass.
  private xhat = new Float32Array(0);
  private readonly inv: Float64Array;
  private sig: tf.Tensor | null = null;
  private n = 0;

  constructor(readonly name: string, nIn: number, needsInputGrad: boolean) {
    this.lin = new DenseT(nIn, HIDDEN, needsInputGrad);
    const f = () => new Float32Array(HIDDEN);
    this.gamma = f();
    this.beta = f();
    this.movingMean = f();
    this.movingVar = f();
    this.gradGamma = f();
    this.gradBeta = f();
    this.slots = [f(), f(), f(), f()];
    this.inv = new Float64Array(HIDDEN);
  }

  load(model: FastModel): void {
    const n = this.name;
    this.lin.setWeights(readVariable(model, `${n}/W`, [this.lin.nIn, HIDDEN]), readVariable(model, `${n}/b`, [HIDDEN]));
    this.gamma.set(readVariable(model, `${n}/gamma`, [HIDDEN]));
    this.beta.set(readVariable(model, `${n}/beta`, [HIDDEN]));
    this.movingMean.set(readVariable(model, `${n}/mean`, [HIDDEN]));
    this.movingVar.set(readVariable(model, `${n}/var`, [HIDDEN]));
  }

  store(model: FastModel): void {
    const n = this.name;
    writeVariable(model, `${n}/W`, this.lin.getWeights());
    writeVariable(model, `${n}/b`, this.lin.b);
    writeVariable(model, `${n}/gamma`, this.gamma);
    writeVariable(model, `${n}/beta`, this.beta);
    writeVariable(model, `${n}/mean`, this.movingMean);
    writeVariable(model, `${n}/var`, this.movingVar);
  }

  /** hᵀ [600, N] = softplus(BN(Wᵀ·xᵀ + b)); updates the moving statistics. */
  forward(xT: tf.Tensor, timer: Timer): tf.Tensor {
    const A = this.lin.forward(xT);
    timer.lap('matmul');
    const N = A.shape[1] as number;
    this.n = N;
    if (this.xhat.length !== HIDDEN * N) this.xhat = new Float32Array(HIDDEN * N);
    const xhat = this.xhat;
    const av = heapView(A);
    const b = this.lin.b;
    const unbiased = N > 1 ? N / (N - 1) : 1;
    for (let f = 0; f < HIDDEN; f++) {
      const base = f * N;
      const bf = b[f];
      let sum = 0;
      for (let i = 0; i < N; i++) sum += av[base + i] + bf;
      const mean = sum / N;
      let sq = 0;
      for (let i = 0; i < N; i++) {
        const d = av[base + i] + bf - mean;
        sq += d * d;
      }
      const variance = sq / N;
      const inv = 1 / Math.sqrt(variance + BN_EPS);
      this.inv[f] = inv;
      const g = this.gamma[f];
      const be = this.beta[f];
      for (let i = 0; i < N; i++) {
        const xh = (av[base + i] + bf - mean) * inv;
        xhat[base + i] = xh;
        av[base + i] = g * xh + be;
      }
      this.movingMean[f] = BN_DECAY * this.movingMean[f] + (1 - BN_DECAY) * mean;
      this.movingVar[f] = BN_DECAY * this.movingVar[f] + (1 - BN_DECAY) * unbiased * variance;
    }
    timer.lap('elementwise');
    this.sig?.dispose();
    this.sig = tf.sigmoid(A);
    const H = tf.softplus(A);
    A.dispose();
    timer.lap('elementwise');
    return H;
  }

  /** forward, with the output also batch-major [N, 600] (the next layer's backward needs it). */
  forwardBoth(xT: tf.Tensor, timer: Timer): [tf.Tensor, tf.Tensor] {
    const HT = this.forward(xT, timer);
    const H = transposedTensor(HT, new Float32Array(HT.size));
    timer.lap('other');
    return [HT, H];
  }

  /**
   * From dLoss/dh (dHT, a fresh product output, overwritten in place) to the gradients of γ, β,
   * W, b; returns dxᵀ when the layer has an input gradient. `x` is the block's input, batch-major.
   */
  backward(dHT: tf.Tensor, x: tf.Tensor, timer: Timer): tf.Tensor | null {
    if (this.sig === null) throw new Error('BnBlock.backward before forward');
    const N = this.n;
    const dv = heapView(dHT);
    const sv = heapView(this.sig);
    const xhat = this.xhat;
    for (let f = 0; f < HIDDEN; f++) {
      const base = f * N;
      let dBeta = 0;
      let dGamma = 0;
      for (let i = 0; i < N; i++) {
        const dy = dv[base + i] * sv[base + i];
        dv[base + i] = dy;
        dBeta += dy;
        dGamma += dy * xhat[base + i];
      }
      this.gradBeta[f] = dBeta;
      this.gradGamma[f] = dGamma;
      const k = (this.gamma[f] * this.inv[f]) / N;
      for (let i = 0; i < N; i++) dv[base + i] = k * (N * dv[base + i] - dBeta - xhat[base + i] * dGamma);
    }
    this.sig.dispose();
    this.sig = null;
    timer.lap('elementwise');
    const dx = this.lin.backward(dHT, x);
    timer.lap('matmul');
    return dx;
  }

  applyAdam(adam: AdamState): void {
    this.lin.applyAdam(adam);
    adam.update(this.gamma, this.gradGamma, this.slots[0], this.slots[1]);
    adam.update(this.beta, this.gradBeta, this.slots[2], this.slots[3]);
  }

  getSlots(out: Record<string, Float32Array>): void {
    const n = this.name;
    putLayerSlots(out, n, this.lin);
    Object.assign(out, {
      [`${n}/gamma/m`]: this.slots[0].slice(), [`${n}/gamma/v`]: this.slots[1].slice(),
      [`${n}/beta/m`]: this.slots[2].slice(), [`${n}/beta/v`]: this.slots[3].slice(),
    });
  }

  setSlots(get: (key: string) => Float32Array): void {
    const n = this.name;
    setLayerSlots(this.lin, n, get);
    this.slots[0].set(get(`${n}/gamma/m`));
    this.slots[1].set(get(`${n}/gamma/v`));
    this.slots[2].set(get(`${n}/beta/m`));
    this.slots[3].set(get(`${n}/beta/v`));
  }

  dispose(): void {
    this.lin.dispose();
    this.sig?.dispose();
    this.sig = null;
  }
}

export class FastDeepBnStep extends FastStepBase implements TrainStep {
  /** enc1, enc2 (encoder) and dec1, dec2 (decoder), named as the model names them. */
  private readonly blocks: readonly [BnBlock, BnBlock, BnBlock, BnBlock];
  private readonly out: DenseT;

  constructor(model: FastModel, hyper: AdamHyper = DEFAULT_ADAM, freeBits = 0) {
    super(model, 'deep-bn', HIDDEN, hyper, freeBits);
    this.blocks = [
      new BnBlock('enc1', this.pixels, false),
      new BnBlock('enc2', HIDDEN, true),
      new BnBlock('dec1', this.dimz, true),
      new BnBlock('dec2', HIDDEN, true),
    ];
    this.out = new DenseT(HIDDEN, this.pixels, true);
    this.loadFromModel();
  }

  protected loadFromModel(): void {
    const m = this.model;
    const P = this.pixels;
    for (const b of this.blocks) b.load(m);
    loadHead(m, this.head, HEAD_MU, HEAD_LV);
    this.out.setWeights(readVariable(m, 'dec_out/W', [HIDDEN, P]), readVariable(m, 'dec_out/b', [P]));
  }

  step(x: Float32Array, batchSize: number, eps: Float32Array, klWeight: number): StepResult {
    this.timer.begin();
    const sums = this.computeGradients(x, batchSize, eps, klWeight);
    for (const b of this.blocks) b.applyAdam(this.adam);
    this.head.applyAdam(this.adam);
    this.out.applyAdam(this.adam);
    this.adam.advance();
    this.timer.lap('optimizer');
    this.timer.end();
    return resultFromSums(sums, batchSize, klWeight);
  }

  private computeGradients(x: Float32Array, batchSize: number, eps: Float32Array, klWeight: number): BatchSums {
    const B = batchSize;
    const P = this.pixels;
    const Z = this.dimz;
    const t = this.timer;
    if (x.length < B * P) throw new Error(`step: x holds ${x.length} values, batch needs ${B * P}`);
    if (eps.length !== B * Z) throw new Error(`deep-bn fast step: eps must hold 1 × ${B} × ${Z} values (k = 1), got ${eps.length}`);

    const xBatch = x.subarray(0, B * P);
    const xTArr = new Float32Array(P * B);
    transposeInto(xBatch, B, P, xTArr);
    const X = tf.tensor2d(xBatch, [B, P]);
    const XT = tf.tensor2d(xTArr, [P, B]);
    t.lap('other');

    const [enc1, enc2, dec1, dec2] = this.blocks;

    // Encoder.
    const [H1T, H1] = enc1.forwardBoth(XT, t);
    const [H2T, H2] = enc2.forwardBoth(H1T, t);
    const headOut = this.head.forward(H2T);
    t.lap('matmul');
    const latent = new LatentSample(headOut, this.head, eps, Z, B);
    t.lap('elementwise');

    // Decoder.
    const [D1T, D1] = dec1.forwardBoth(latent.ZT, t);
    const [D2T, D2] = dec2.forwardBoth(D1T, t);
    const LT = this.out.forward(D2T);
    t.lap('matmul');
    addRowBias(heapView(LT), this.out.b, P, B);
    const ST = tf.sigmoid(LT);
    const recSum = bernoulliLossAndGrad(heapView(LT), heapView(ST), xTArr, P, B, 1, 1 / B);
    t.lap('elementwise');

    // Backward.
    const dD2T = this.out.backward(LT, D2) as tf.Tensor;
    t.lap('matmul');
    const dD1T = dec2.backward(dD2T, D1, t) as tf.Tensor;
    const dZT = dec1.backward(dD1T, latent.Zb, t) as tf.Tensor;
    const { dHeadT, klSum, sumMu, sumSigma } = latent.backward(dZT, klWeight / B, this.freeBits);
    t.lap('elementwise');
    const dH2T = this.head.backward(dHeadT, H2) as tf.Tensor;
    t.lap('matmul');
    const dH1T = enc2.backward(dH2T, H1, t) as tf.Tensor;
    enc1.backward(dH1T, X, t);

    latent.dispose();
    tf.dispose([X, XT, H1T, H1, H2T, H2, headOut, D1T, D1, D2T, D2, LT, ST, dD2T, dD1T, dZT, dHeadT, dH2T, dH1T]);
    t.lap('other');
    return { recSum, klSum, sumMu, sumSigma };
  }

  sync(): void {
    const m = this.model;
    for (const b of this.blocks) b.store(m);
    storeHead(m, this.head, HEAD_MU, HEAD_LV);
    writeVariable(m, 'dec_out/W', this.out.getWeights());
    writeVariable(m, 'dec_out/b', this.out.b);
  }

  protected putSlots(slots: Record<string, Float32Array>): void {
    for (const b of this.blocks) b.getSlots(slots);
    putLayerSlots(slots, 'dec_out', this.out);
    putHeadSlots(slots, this.head, HEAD_MU, HEAD_LV);
  }

  protected setSlots(get: (key: string) => Float32Array): void {
    for (const b of this.blocks) b.setSlots(get);
    setLayerSlots(this.out, 'dec_out', get);
    setHeadSlots(this.head, HEAD_MU, HEAD_LV, get);
  }

  dispose(): void {
    for (const b of this.blocks) b.dispose();
    this.head.dispose();
    this.out.dispose();
  }
}
