/**
 * The fast wasm steps give the stock tape step's numbers: from the same weights, real MNIST
 * batches and noise, their losses and updated weights agree within float tolerance over several
 * steps, for both study models, on one thread and on two; their optimizer state is interchangeable
 * with the tape step's (checkpoints written by one resume in the other).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { defaultConfig, type PresetModel } from '../../src/shared/config';
import { selectBackend } from '../../src/trainer/backend';
import { createStudyModel, type VaeModel } from '../../src/trainer/model';
import { Rng } from '../../src/trainer/rng';
import type { OptimizerState, TrainStep } from '../../src/trainer/step';
import { TapeTrainStep } from '../../src/trainer/tapeStep';
import { createFastStep, fastStepReady } from '../../src/trainer/fast';
import { FastMlpStep } from '../../src/trainer/fast/mlpStep';
import { FastDeepBnStep } from '../../src/trainer/fast/bnStep';
import { ParallelMlpStep, splitBatch } from '../../src/trainer/fast/parallel';
import { loadMnistTrain } from '../../bench/lib/mnist';
import { ROOT } from './support';

const WORKER = join(ROOT, 'dist', 'bench-fast-worker.js');
let images: Float32Array;
let pixels: number;

before(async () => {
  await selectBackend('wasm', { threads: 1 });
  ({ images, pixels } = loadMnistTrain(1000));
});

function noise(step: number, n: number): Float32Array {
  return Rng.fromKey(42, 3, 0, step).fillNormal(new Float32Array(n));
}

function batch(step: number, size: number): Float32Array {
  return images.subarray(step * size * pixels, (step + 1) * size * pixels);
}

interface WeightDiff {
  max: number;
  /** Elements differing by more than 1e-4. */
  off: number;
  size: number;
  /** ‖a − b‖ / ‖a‖. */
  rel: number;
}

/** Differences of every parameter and state variable of two models. */
function weightDiffs(a: VaeModel, b: VaeModel): Record<string, WeightDiff> {
  const out: Record<string, WeightDiff> = {};
  for (const [name, v] of [...Object.entries(a.variables), ...Object.entries(a.state)]) {
    const x = v.dataSync();
    const y = (b.variables[name] ?? b.state[name]).dataSync();
    let max = 0;
    let off = 0;
    let d2 = 0;
    let n2 = 0;
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i] - y[i]);
      max = Math.max(max, d);
      if (d > 1e-4) off++;
      d2 += d * d;
      n2 += x[i] * x[i];
    }
    out[name] = { max, off, size: x.length, rel: Math.sqrt(d2 / Math.max(n2, 1e-30)) };
  }
  return out;
}

/**
 * Runs the stock and the fast step side by side; asserts losses (relative 2e-6) and weights.
 *
 * Weights: Adam's first steps move every weight by about ±α·g/(|g| + 1e-8), so a weight whose
 * gradient happens to be within float rounding of zero moves in a direction set by that rounding
 * — by at most (1−β1)/√(1−β2)·α ≈ 3.2α per step, so two correct implementations can end
 * 2·3.2·α·steps apart on it. Every weight must stay within that bound; beyond it, at most 1 in
 * 10,000 elements of a parameter may differ by more than 1e-4, and the parameter as a whole must
 * agree to 5e-4 in relative L2 norm (a few such flipped elements of a 600×600 weight make ~1e-4). The exceptions (`noiseDriven`) are parameters whose true
 * gradient is zero everywhere, so all their elements follow rounding noise: the Linear biases right
 * before batch normalization, which the normalization cancels exactly (and the moving means,
 * which average those biases in).
 */
async function compare(name: PresetModel, dimz: number, makeFast: (m: VaeModel) => TrainStep, opts: { steps: number; batchSize: number; k: number; noiseDriven?: RegExp; threads?: number; freeBits?: number }): Promise<void> {
  const config = { ...defaultConfig(name), dimz, trainSamples: opts.k, freeBits: opts.freeBits ?? 0 };
  const a = createStudyModel(name, pixels, dimz, 3);
  const b = createStudyModel(name, pixels, dimz, 3);
  const stock = new TapeTrainStep(a, config);
  const fast = makeFast(b);
  try {
    assert.equal(await fastStepReady(fast), opts.threads ?? 1, 'threads in use');
    for (let s = 0; s < opts.steps; s++) {
      const x = batch(s, opts.batchSize);
      const eps = noise(s, opts.k * opts.batchSize * dimz);
      const klWeight = s === 0 ? 0.5 : 1;
      const r1 = await stock.step(x, opts.batchSize, eps, klWeight);
      const r2 = await fast.step(x, opts.batchSize, eps, klWeight);
      // sumMu and sumSigma add batch × dimz values (10,000 for deep-bn), which the stock step sums
      // in float32: their tolerance is float32's accumulation error over that many terms (1e-5 of
      // the larger of the total and the term count, as μ's total may cancel), not 2e-6.
      const terms = opts.batchSize * dimz;
      for (const key of ['loss', 'reconstruction', 'kl', 'sumMu', 'sumSigma'] as const) {
        const tol = key.startsWith('sum') ? 1e-5 * Math.max(Math.abs(r1[key]), terms) : 2e-6 * Math.max(1, Math.abs(r1[key]));
        assert.ok(Math.abs(r1[key] - r2[key]) <= tol, `${name} step ${s} ${key}: stock ${r1[key]}, fast ${r2[key]}`);
      }
    }
    fast.sync();
    const diffs = weightDiffs(a, b);
    const bound = 2 * ((1 - config.beta1) / Math.sqrt(1 - config.beta2)) * config.learningRate * opts.steps;
    for (const [v, d] of Object.entries(diffs)) {
      assert.ok(d.max <= bound, `${name}: ${v} differs by ${d.max}, beyond Adam's bound ${bound}`);
      if (opts.noiseDriven?.test(v)) continue;
      assert.ok(d.off <= Math.max(1, d.size * 1e-4), `${name}: ${v} has ${d.off} of ${d.size} elements differing by more than 1e-4`);
      assert.ok(d.rel <= 5e-4, `${name}: ${v} differs by ${d.rel} in relative L2 norm`);
    }
    const worstRel = Object.entries(diffs).filter(([v]) => !opts.noiseDriven?.test(v)).sort((p, q) => q[1].rel - p[1].rel)[0];
    const offTotal = Object.entries(diffs).filter(([v]) => !opts.noiseDriven?.test(v)).reduce((n, [, d]) => n + d.off, 0);
    console.log(`${name} (${fast.constructor.name}, batch ${opts.batchSize}, k ${opts.k}): ${opts.steps} steps; largest relative L2 difference ${worstRel[1].rel.toExponential(2)} (${worstRel[0]}); elements off by > 1e-4 (besides noise-driven ones): ${offTotal}`);
  } finally {
    stock.dispose();
    fast.dispose();
    a.dispose();
    b.dispose();
  }
}

const hyper = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const BN_NOISE = /^(enc1|enc2|dec1|dec2)\/(b|mean)$/;

test('chainer-mlp: the fast step matches the tape step (losses and weights, 4 steps)', async () => {
  await compare('chainer-mlp', 20, (m) => new FastMlpStep(m, hyper), { steps: 4, batchSize: 100, k: 1 });
});

test('chainer-mlp: the fast step matches the tape step with k = 3 samples of z', async () => {
  await compare('chainer-mlp', 20, (m) => new FastMlpStep(m, hyper), { steps: 3, batchSize: 40, k: 3 });
});

test('chainer-mlp: the two-thread step matches the tape step (odd batch, split 21/16), and reports the worker\'s own timings', async () => {
  let step: ParallelMlpStep | null = null;
  await compare('chainer-mlp', 20, (m) => (step = new ParallelMlpStep(m, hyper, WORKER, 37, 1)), { steps: 4, batchSize: 37, k: 1, threads: 2 });
  // compare() disposed the step; what the worker published stays readable in the shared buffer.
  const w = (step as ParallelMlpStep | null)?.workerTimes();
  assert.ok(w !== undefined && w.steps >= 3 && w.steps <= 4, `worker steps counted: ${w?.steps}`);
  assert.ok(w.perStep.matmul > 0 && w.wakeMs >= 0, `worker timings: ${JSON.stringify(w)}`);
});

test('a batch splits so the worker gets a multiple of 8 images (XNNPACK tiles), this thread the rest', () => {
  assert.deepEqual(splitBatch(100), { bMain: 52, bWorker: 48 });
  assert.deepEqual(splitBatch(37), { bMain: 21, bWorker: 16 });
  assert.deepEqual(splitBatch(128), { bMain: 64, bWorker: 64 });
  assert.deepEqual(splitBatch(15), { bMain: 8, bWorker: 7 });
  assert.deepEqual(splitBatch(1), { bMain: 1, bWorker: 0 });
  for (let B = 1; B <= 300; B++) {
    const { bMain, bWorker } = splitBatch(B);
    assert.equal(bMain + bWorker, B);
    assert.ok(bWorker <= bMain && bMain - bWorker <= 15, `B ${B}: ${bMain}/${bWorker}`);
  }
});

test('deep-bn: the fast step matches the tape step (losses, weights, batch-norm moving statistics)', async () => {
  await compare('deep-bn', 100, (m) => new FastDeepBnStep(m, hyper), { steps: 4, batchSize: 100, k: 1, noiseDriven: BN_NOISE });
});

/** KL_d averaged over a batch, per latent dimension, for a model's encoder at its current weights. */
function klPerDimension(m: VaeModel, x: Float32Array, batchSize: number): number[] {
  return tf.tidy(() => {
    const { mu, lnVar } = m.encode(tf.tensor2d(x.subarray(0, batchSize * pixels), [batchSize, pixels]), true);
    return Array.from(tf.mean(tf.mul(tf.sub(tf.sub(tf.add(tf.square(mu), tf.exp(lnVar)), lnVar), 1), 0.5), 0).dataSync());
  });
}

/**
 * λ in the widest gap between the dimensions' KL at the start, among the middle half of them, so
 * free bits hold back a good share of the dimensions and no dimension sits within float noise of λ.
 */
function splittingFreeBits(name: PresetModel, dimz: number): { freeBits: number; below: number } {
  const m = createStudyModel(name, pixels, dimz, 3);
  const kl = klPerDimension(m, batch(0, 100), 100).sort((p, q) => p - q);
  m.dispose();
  let best = dimz / 4;
  for (let i = dimz / 4; i < (3 * dimz) / 4; i++) if (kl[i] - kl[i - 1] > kl[best] - kl[best - 1]) best = i;
  const freeBits = (kl[best - 1] + kl[best]) / 2;
  return { freeBits, below: kl.filter((v) => v < freeBits).length };
}

test('free bits: the fast steps match the tape step, with a good share of the dimensions held back', async () => {
  // In deep-bn, dec1 batch-normalises its input's linear map, so the reconstruction's gradient
  // summed over the batch, which is what the μ head's bias gets, is zero but for float noise; so is
  // most of what a held-back dimension's ln σ² head gets. Without the KL term's gradient, Adam scales
  // that noise to full-size steps whose direction any two implementations pick differently. deep-bn
  // is compared on the step that decides: its numbers, and the weights after it with those
  // noise-driven ones set apart.
  for (const [name, dimz, make, steps, noiseDriven] of [
    ['chainer-mlp', 20, (m: VaeModel, fb: number) => new FastMlpStep(m, hyper, fb), 4, undefined],
    ['deep-bn', 100, (m: VaeModel, fb: number) => new FastDeepBnStep(m, hyper, fb), 1, /^(enc1|enc2|dec1|dec2)\/(b|mean)$|^enc_ln_var\/|^enc_mu\/b$/],
  ] as const) {
    const { freeBits, below } = splittingFreeBits(name, dimz);
    assert.ok(below >= dimz / 4 && below < (3 * dimz) / 4, `${name}: λ = ${freeBits} holds back ${below} of ${dimz} dimensions`);
    await compare(name, dimz, (m) => make(m, freeBits), { steps, batchSize: 100, k: 1, freeBits, noiseDriven });
  }
});

test('free bits change the training: a dimension below λ gets no KL gradient, the reported loss stays rec + C·KL', async () => {
  const { freeBits } = splittingFreeBits('chainer-mlp', 20);
  const x = batch(0, 100);
  const eps = noise(0, 100 * 20);
  const before = createStudyModel('chainer-mlp', pixels, 20, 3);
  const kl = klPerDimension(before, x, 100);
  const results = [];
  const models = [];
  for (const fb of [0, freeBits]) {
    const m = createStudyModel('chainer-mlp', pixels, 20, 3);
    const step = new FastMlpStep(m, hyper, fb);
    results.push(step.step(x, 100, eps, 1));
    step.sync();
    step.dispose();
    models.push(m);
  }
  assert.deepEqual(results[1], results[0], 'the same forward pass reports the same numbers');
  // The ln σ² head's weight column of a held-back dimension moves by the reconstruction's gradient
  // only: it differs from the update without free bits; a dimension above λ updates the same.
  const column = (m: VaeModel, d: number) => {
    const w = m.variables['le2_ln_var/W'].arraySync() as number[][];
    return w.map((row) => row[d]);
  };
  for (let d = 0; d < 20; d++) {
    const a = column(models[0], d);
    const b = column(models[1], d);
    const same = a.every((v, i) => Math.abs(v - b[i]) < 1e-7);
    assert.equal(same, kl[d] >= freeBits, `dimension ${d + 1} (KL ${kl[d].toFixed(4)}, λ ${freeBits.toFixed(4)}): updated ${same ? 'alike' : 'differently'}`);
  }
  for (const m of [before, ...models]) m.dispose();
});

/**
 * Trains `steps` steps with `first`, moves weights and optimizer state to `second`, trains on.
 * A two-thread step is given its worker first, so that the state crosses while both threads run.
 */
async function handOver(name: PresetModel, dimz: number, first: (m: VaeModel) => TrainStep, second: (m: VaeModel) => TrainStep): Promise<{ losses: number[]; state: OptimizerState }> {
  const m = createStudyModel(name, pixels, dimz, 9);
  const s1 = first(m);
  await fastStepReady(s1);
  const losses: number[] = [];
  for (let s = 0; s < 2; s++) losses.push((await s1.step(batch(s, 50), 50, noise(s, 50 * dimz), 1)).loss);
  s1.sync();
  const state = await s1.getOptimizerState();
  s1.dispose();
  // A resume: fresh model, parameters restored into it, then the optimizer state (the trainer's order).
  const m2 = createStudyModel(name, pixels, dimz, 123);
  for (const [k, v] of [...Object.entries(m.variables), ...Object.entries(m.state)]) (m2.variables[k] ?? m2.state[k]).assign(v);
  const s2 = second(m2);
  await fastStepReady(s2);
  await s2.setOptimizerState(state);
  for (let s = 2; s < 4; s++) losses.push((await s2.step(batch(s, 50), 50, noise(s, 50 * dimz), 1)).loss);
  s2.dispose();
  m.dispose();
  m2.dispose();
  return { losses, state };
}

for (const [name, dimz] of [['chainer-mlp', 20], ['deep-bn', 100]] as const) {
  test(`${name}: optimizer state moves between the tape and fast steps (checkpoint and resume)`, async () => {
    const config = { ...defaultConfig(name), dimz };
    const tape = (m: VaeModel) => new TapeTrainStep(m, config);
    const fast = (m: VaeModel) => createFastStep(m, config, 'wasm', { threads: 1 }) as TrainStep;
    const ref = await handOver(name, dimz, tape, tape);
    const fastToTape = await handOver(name, dimz, fast, tape);
    const tapeToFast = await handOver(name, dimz, tape, fast);
    assert.deepEqual(Object.keys(fastToTape.state.slots).sort(), Object.keys(ref.state.slots).sort(), 'same slot names as the tape step');
    assert.equal(fastToTape.state.step, ref.state.step);
    for (const run of [fastToTape, tapeToFast]) {
      run.losses.forEach((l, i) => assert.ok(Math.abs(l - ref.losses[i]) <= 2e-6 * Math.abs(ref.losses[i]), `${name} loss ${i}: ${l} vs ${ref.losses[i]}`));
    }
  });
}

test('chainer-mlp: the two-thread step checkpoints and resumes like the tape step (each thread holds half of Adam)', async () => {
  // Each thread keeps Adam's moments of only its half of every weight current; a checkpoint must
  // gather the worker's half, and a resume must give the worker the whole state.
  const config = defaultConfig('chainer-mlp');
  const tape = (m: VaeModel) => new TapeTrainStep(m, config);
  const par = (m: VaeModel) => new ParallelMlpStep(m, hyper, WORKER, 50, 1);
  const ref = await handOver('chainer-mlp', 20, tape, tape);
  const parToTape = await handOver('chainer-mlp', 20, par, tape);
  const tapeToPar = await handOver('chainer-mlp', 20, tape, par);
  assert.equal(parToTape.state.step, ref.state.step);
  assert.deepEqual(Object.keys(parToTape.state.slots).sort(), Object.keys(ref.state.slots).sort());
  for (const [key, want] of Object.entries(ref.state.slots)) {
    const got = parToTape.state.slots[key];
    let d2 = 0;
    let n2 = 0;
    for (let i = 0; i < want.length; i++) {
      d2 += (got[i] - want[i]) ** 2;
      n2 += want[i] ** 2;
    }
    assert.ok(Math.sqrt(d2 / Math.max(n2, 1e-30)) <= 1e-3, `slot ${key} differs from the tape step's by ${Math.sqrt(d2 / Math.max(n2, 1e-30))} (relative L2)`);
  }
  for (const run of [parToTape, tapeToPar]) {
    run.losses.forEach((l, i) => assert.ok(Math.abs(l - ref.losses[i]) <= 2e-6 * Math.abs(ref.losses[i]), `loss ${i}: ${l} vs ${ref.losses[i]}`));
  }
});

test('a two-thread step runs on one thread until its worker is up, then hands its state over', async () => {
  // The worker loads in the background; steps before it is ready run whole on this thread, and the
  // first step after sends it the weights and Adam state so far. The numbers stay the tape step's.
  const config = defaultConfig('chainer-mlp');
  const a = createStudyModel('chainer-mlp', pixels, 20, 4);
  const b = createStudyModel('chainer-mlp', pixels, 20, 4);
  const stock = new TapeTrainStep(a, config);
  const par = new ParallelMlpStep(b, hyper, WORKER, 50, 1);
  try {
    const threads: number[] = [];
    for (let s = 0; s < 5; s++) {
      if (s === 2) assert.ok(await par.whenReady(), 'worker ready');
      const eps = noise(s, 50 * 20);
      const r1 = await stock.step(batch(s, 50), 50, eps, 1);
      const r2 = await par.step(batch(s, 50), 50, eps, 1);
      threads.push(par.threadsInUse);
      assert.ok(Math.abs(r1.loss - r2.loss) <= 2e-6 * r1.loss, `step ${s}: stock ${r1.loss}, fast ${r2.loss}`);
    }
    assert.deepEqual([threads[0], threads[2], threads[4]], [1, 2, 2], `threads per step: ${threads}`);
    par.sync();
    for (const [v, d] of Object.entries(weightDiffs(a, b))) assert.ok(d.rel <= 5e-4, `${v} differs by ${d.rel} (relative L2)`);
  } finally {
    stock.dispose();
    par.dispose();
    a.dispose();
    b.dispose();
  }
});

test('the fast steps leave tf.memory().numTensors flat across steps', () => {
  for (const name of ['chainer-mlp', 'deep-bn'] as const) {
    const dimz = name === 'deep-bn' ? 100 : 20;
    const m = createStudyModel(name, pixels, dimz, 1);
    const config = { ...defaultConfig(name), dimz };
    const step = createFastStep(m, config, 'wasm', { threads: 1 }) as TrainStep;
    step.step(batch(0, 50), 50, noise(0, 50 * dimz), 1);
    const n = tf.memory().numTensors;
    for (let s = 1; s < 6; s++) step.step(batch(s, 50), 50, noise(s, 50 * dimz), 1);
    assert.equal(tf.memory().numTensors, n, `${name}: tensors leaked`);
    step.dispose();
    m.dispose();
  }
});

test('createFastStep says when it does not apply', () => {
  const m = createStudyModel('deep-bn', pixels, 10, 1);
  const logs: string[] = [];
  assert.equal(createFastStep(m, { ...defaultConfig('deep-bn'), trainSamples: 2 }, 'wasm', { log: (l) => logs.push(l) }), null);
  assert.equal(createFastStep(m, defaultConfig('deep-bn'), 'cpu', { log: (l) => logs.push(l) }), null);
  const saved = process.env.VAE_LENS_STOCK_STEP;
  process.env.VAE_LENS_STOCK_STEP = '1';
  try {
    assert.equal(createFastStep(m, defaultConfig('deep-bn'), 'wasm', { log: (l) => logs.push(l) }), null);
  } finally {
    if (saved === undefined) delete process.env.VAE_LENS_STOCK_STEP;
    else process.env.VAE_LENS_STOCK_STEP = saved;
  }
  assert.match(logs[0], /k > 1/);
  assert.match(logs[1], /backend cpu/);
  assert.match(logs[2], /VAE_LENS_STOCK_STEP=1/);
  m.dispose();
  // Free bits judge each dimension over the whole batch: chainer-mlp's step keeps it on one thread, and says so.
  const mlp = createStudyModel('chainer-mlp', pixels, 20, 1);
  const step = createFastStep(mlp, { ...defaultConfig(), freeBits: 0.5 }, 'wasm', { threads: 2, workerScript: WORKER, log: (l) => logs.push(l) });
  assert.ok(step instanceof FastMlpStep, `free bits: ${step?.constructor.name}`);
  assert.match(logs[3], /one thread \(free bits need the whole batch's KL per dimension\)/);
  step.dispose();
  mlp.dispose();
});
