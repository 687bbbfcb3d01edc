/**
 * Pieces shared by the fast steps: the model contract they read and write, the loss head
 * (Bernoulli NLL on logits, reparameterisation, KL) and fast elementwise math.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StepResult } from '../step';
import type { DenseT } from './dense';

/** The part of the trainer's VaeModel the fast steps use (structural, so either side can evolve). */
export interface FastModel {
  name: string;
  dimz: number;
  pixels: number;
  /** Trainable weights, [in, out] layout, named as in DESIGN ("le1/W", "enc1/gamma", …). */
  variables: Record<string, tf.Variable>;
  /** Non-trainable state (batch-norm moving statistics). */
  state: Record<string, tf.Variable>;
  /** p(x|z): the fast steps implement the Bernoulli one. */
  likelihood: { spec: { type: string } };
}

export interface OptimizerStateLike {
  step: number;
  slots: Record<string, Float32Array>;
}

export function readVariable(model: FastModel, name: string, expected: number[]): Float32Array {
  const v = model.variables[name] ?? model.state[name];
  if (v === undefined) throw new Error(`VAE Lens fast step: model ${model.name} has no variable ${name}`);
  if (v.shape.length !== expected.length || v.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`VAE Lens fast step: ${name} has shape [${v.shape}], expected [${expected}]`);
  }
  return v.dataSync() as Float32Array;
}

export function writeVariable(model: FastModel, name: string, data: Float32Array): void {
  const v = model.variables[name] ?? model.state[name];
  if (v === undefined) throw new Error(`VAE Lens fast step: model ${model.name} has no variable ${name}`);
  tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
}

/** The step's checkpoint slot `key`; a missing one is an error naming it. */
export function slotGetter(state: OptimizerStateLike): (key: string) => Float32Array {
  return (key) => {
    const a = state.slots[key];
    if (a === undefined) throw new Error(`optimizer state lacks ${key}`);
    return a;
  };
}

/** Adds a layer's Adam moments to checkpoint slots under the model's names (`<prefix>/W/m`, …). */
export function putLayerSlots(out: Record<string, Float32Array>, prefix: string, layer: DenseT): void {
  const s = layer.getSlots();
  Object.assign(out, { [`${prefix}/W/m`]: s.mW, [`${prefix}/W/v`]: s.vW, [`${prefix}/b/m`]: s.mB, [`${prefix}/b/v`]: s.vB });
}

export function setLayerSlots(layer: DenseT, prefix: string, get: (key: string) => Float32Array): void {
  layer.setSlots({ mW: get(`${prefix}/W/m`), vW: get(`${prefix}/W/v`), mB: get(`${prefix}/b/m`), vB: get(`${prefix}/b/v`) });
}

/**
 * The model's μ and lnVar layers (`mu`, `lv`: their variable prefixes) run as one DenseT `head`
 * of 2·dz outputs, μ's columns first, so the encoder makes one product for both. These move its
 * weights and Adam moments to and from the model's two layers.
 */
export function loadHead(model: FastModel, head: DenseT, mu: string, lv: string): void {
  const rows = head.nIn;
  const z = head.nOut / 2;
  const part = (name: string): HeadPart => ({ w: readVariable(model, `${name}/W`, [rows, z]), b: readVariable(model, `${name}/b`, [z]) });
  const joined = joinHead(part(mu), part(lv), rows, z);
  head.setWeights(joined.w, joined.b);
}

export function storeHead(model: FastModel, head: DenseT, mu: string, lv: string): void {
  const [m, l] = splitHead({ w: head.getWeights(), b: head.b }, head.nIn, head.nOut / 2);
  writeVariable(model, `${mu}/W`, m.w);
  writeVariable(model, `${lv}/W`, l.w);
  writeVariable(model, `${mu}/b`, m.b);
  writeVariable(model, `${lv}/b`, l.b);
}

export function putHeadSlots(out: Record<string, Float32Array>, head: DenseT, mu: string, lv: string): void {
  const s = head.getSlots();
  const rows = head.nIn;
  const z = head.nOut / 2;
  const [mMu, mLv] = splitHead({ w: s.mW, b: s.mB }, rows, z);
  const [vMu, vLv] = splitHead({ w: s.vW, b: s.vB }, rows, z);
  Object.assign(out, {
    [`${mu}/W/m`]: mMu.w, [`${mu}/W/v`]: vMu.w, [`${lv}/W/m`]: mLv.w, [`${lv}/W/v`]: vLv.w,
    [`${mu}/b/m`]: mMu.b, [`${mu}/b/v`]: vMu.b, [`${lv}/b/m`]: mLv.b, [`${lv}/b/v`]: vLv.b,
  });
}

export function setHeadSlots(head: DenseT, mu: string, lv: string, get: (key: string) => Float32Array): void {
  const rows = head.nIn;
  const z = head.nOut / 2;
  const moment = (t: 'm' | 'v') =>
    joinHead({ w: get(`${mu}/W/${t}`), b: get(`${mu}/b/${t}`) }, { w: get(`${lv}/W/${t}`), b: get(`${lv}/b/${t}`) }, rows, z);
  const m = moment('m');
  const v = moment('v');
  head.setSlots({ mW: m.w, vW: v.w, mB: m.b, vB: v.b });
}

/** A weight [rows, z] and bias [z] of one of the two head layers (or a moment of them). */
interface HeadPart {
  w: Float32Array;
  b: Float32Array;
}

/** Splits [rows, 2z] weights and [2z] bias into μ's and lnVar's halves. */
function splitHead(src: HeadPart, rows: number, z: number): [HeadPart, HeadPart] {
  const mu = { w: new Float32Array(rows * z), b: src.b.slice(0, z) };
  const lv = { w: new Float32Array(rows * z), b: src.b.slice(z, 2 * z) };
  for (let r = 0; r < rows; r++) {
    mu.w.set(src.w.subarray(r * 2 * z, r * 2 * z + z), r * z);
    lv.w.set(src.w.subarray(r * 2 * z + z, (r + 1) * 2 * z), r * z);
  }
  return [mu, lv];
}

function joinHead(mu: HeadPart, lv: HeadPart, rows: number, z: number): HeadPart {
  const w = new Float32Array(rows * 2 * z);
  for (let r = 0; r < rows; r++) {
    w.set(mu.w.subarray(r * z, (r + 1) * z), r * 2 * z);
    w.set(lv.w.subarray(r * z, (r + 1) * z), r * 2 * z + z);
  }
  const b = new Float32Array(2 * z);
  b.set(mu.b);
  b.set(lv.b, z);
  return { w, b };
}

/**
 * Bernoulli NLL on logits and its gradient, on feature-major arrays: lT [P, K·B] logits (column
 * k·B + b is sample k of image b), sT = σ(lT) from the backend's SIMD kernel, xT [P, B].
 * lT is overwritten with dLoss/dlogits = (σ(l) − x)·gradScale (1/(K·B) for a whole batch).
 * Returns Σ over images of the mean over samples of Σ_pixels softplus(l) − x·l.
 *
 * softplus(l) = l − log σ(l) for l > 0 and −log(1 − σ(l)) otherwise: both log arguments lie in
 * [½, 1], so their logs are summed as the log of running products of 32 factors (one Math.log
 * per 32 pixels instead of an exp and a log per pixel).
 */
export function bernoulliLossAndGrad(
  lT: Float32Array,
  sT: Float32Array,
  xT: Float32Array,
  pixels: number,
  batch: number,
  samples: number,
  gradScale: number,
): number {
  const n = samples * batch;
  const scale = gradScale;
  let linear = 0;
  let logSum = 0;
  let prod = 1;
  let count = 0;
  for (let p = 0; p < pixels; p++) {
    const lrow = p * n;
    const xrow = p * batch;
    for (let k = 0; k < samples; k++) {
      const base = lrow + k * batch;
      for (let b = 0; b < batch; b++) {
        const i = base + b;
        const l = lT[i];
        const s = sT[i];
        const x = xT[xrow + b];
        if (l > 0) {
          linear += l - x * l;
          prod *= s;
        } else {
          linear -= x * l;
          prod *= 1 - s;
        }
        if (++count === 32) {
          logSum += Math.log(prod);
          prod = 1;
          count = 0;
        }
        lT[i] = (s - x) * scale;
      }
    }
  }
  logSum += Math.log(prod);
  return (linear - logSum) / samples;
}

/**
 * z = μ + exp(lnVar/2)·ε into zT [dz, K·B] and the batch-major copy z [K·B, dz].
 */
export function reparameterize(
  muT: Float32Array,
  lvT: Float32Array,
  eps: Float32Array,
  dimz: number,
  batch: number,
  samples: number,
  zT: Float32Array,
  z: Float32Array,
  sigmaT: Float32Array,
): void {
  const n = samples * batch;
  for (let d = 0; d < dimz; d++) {
    for (let b = 0; b < batch; b++) sigmaT[d * batch + b] = Math.exp(lvT[d * batch + b] * 0.5);
  }
  for (let k = 0; k < samples; k++) {
    for (let b = 0; b < batch; b++) {
      const col = k * batch + b;
      const e = (k * batch + b) * dimz;
      for (let d = 0; d < dimz; d++) {
        const v = muT[d * batch + b] + sigmaT[d * batch + b] * eps[e + d];
        zT[d * n + col] = v;
        z[col * dimz + d] = v;
      }
    }
  }
}

/**
 * Given dzT [dz, K·B] (gradient of the loss w.r.t. z), writes dLoss/dμ and dLoss/dlnVar into
 * headT [2·dz, B] (rows 0..dz−1 for μ, dz..2dz−1 for lnVar), adding the KL term's gradient
 * scaled by klScale (C/B for a whole batch). With free bits λ > 0 the KL term is
 * Σ_d max(λ, KL_d), KL_d averaged over these images (the whole batch): a dimension below λ gets
 * no KL gradient (as tf.maximum's gradient: it flows when KL_d ≥ λ). Returns Σ KL over these
 * images (the true KL, whatever λ), Σ μ and Σ σ.
 */
export function headGradAndKl(
  dzT: Float32Array,
  muT: Float32Array,
  lvT: Float32Array,
  sigmaT: Float32Array,
  eps: Float32Array,
  dimz: number,
  batch: number,
  samples: number,
  klScale: number,
  headT: Float32Array,
  freeBits = 0,
): { klSum: number; sumMu: number; sumSigma: number } {
  const n = samples * batch;
  let kl = 0;
  let sumMu = 0;
  let sumSigma = 0;
  for (let d = 0; d < dimz; d++) {
    let c = klScale;
    if (freeBits > 0) {
      let klD = 0;
      for (let b = 0; b < batch; b++) {
        const i = d * batch + b;
        klD += muT[i] * muT[i] + Math.exp(lvT[i]) - lvT[i] - 1;
      }
      if ((0.5 * klD) / batch < freeBits) c = 0;
    }
    for (let b = 0; b < batch; b++) {
      const i = d * batch + b;
      const mu = muT[i];
      const lv = lvT[i];
      const sigma = sigmaT[i];
      const ev = Math.exp(lv);
      kl += mu * mu + ev - lv - 1;
      sumMu += mu;
      sumSigma += sigma;
      let gMu = 0;
      let gLv = 0;
      for (let k = 0; k < samples; k++) {
        const g = dzT[d * n + k * batch + b];
        gMu += g;
        gLv += g * eps[(k * batch + b) * dimz + d];
      }
      headT[i] = gMu + c * mu;
      headT[dimz * batch + i] = gLv * 0.5 * sigma + c * 0.5 * (ev - 1);
    }
  }
  return { klSum: 0.5 * kl, sumMu, sumSigma };
}

/** Sums over the images of one (part of a) batch; replicas' sums add up. */
export interface BatchSums {
  recSum: number;
  klSum: number;
  sumMu: number;
  sumSigma: number;
}

export function addSums(a: BatchSums, b: BatchSums): BatchSums {
  return { recSum: a.recSum + b.recSum, klSum: a.klSum + b.klSum, sumMu: a.sumMu + b.sumMu, sumSigma: a.sumSigma + b.sumSigma };
}

export function resultFromSums(s: BatchSums, batch: number, klWeight: number): StepResult {
  const reconstruction = s.recSum / batch;
  const kl = s.klSum / batch;
  return { loss: reconstruction + klWeight * kl, reconstruction, kl, sumMu: s.sumMu, sumSigma: s.sumSigma };
}

/** a[r, c] += bias[r] on a feature-major [rows, cols] array. */
export function addRowBias(a: Float32Array, bias: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const br = bias[r];
    const base = r * cols;
    for (let c = 0; c < cols; c++) a[base + c] += br;
  }
}
