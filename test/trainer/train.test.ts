import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs-core';
import { readRun } from '../../src/node/runFolder';
import type { EpochEvent, SplitMetrics } from '../../src/shared/events';
import { startRun } from '../../src/trainer/train';
import { selectBackend } from '../../src/trainer/backend';
import { loadDataset } from '../../src/trainer/data';
import { createStudyModel } from '../../src/trainer/model';
import { TapeTrainStep } from '../../src/trainer/tapeStep';
import { readCheckpoint } from '../../src/trainer/checkpoint';
import { Rng } from '../../src/trainer/rng';
import { defaultConfig } from '../../src/shared/config';
import { gridSize } from '../../src/trainer/images';
import { collectingOutput, epochsOf, tempRunsDir } from './support';

function assertFiniteMetrics(m: SplitMetrics, where: string): void {
  for (const key of ['loss', 'reconstruction', 'kl', 'meanMu', 'meanSigma'] as const) {
    assert.ok(Number.isFinite(m[key]), `${where}.${key} = ${m[key]}`);
  }
  assert.ok(m.meanSigma > 0, `${where}.meanSigma > 0`);
  assert.ok(Math.abs(m.loss - (m.reconstruction + m.kl)) < 1e-3 * m.loss, `${where}: loss = rec + C·KL with C = 1`);
}

function assertCompleteEpoch(e: EpochEvent, dimz: number): void {
  assertFiniteMetrics(e.train, 'train');
  assertFiniteMetrics(e.test, 'test');
  for (const key of ['meanMu', 'varMu', 'meanSigmaSq', 'kl'] as const) {
    assert.equal(e.dims[key].length, dimz, `dims.${key} has dimz entries`);
    assert.ok(e.dims[key].every(Number.isFinite), `dims.${key} finite`);
  }
  assert.ok(e.dims.varMu.every((v) => v >= 0) && e.dims.meanSigmaSq.every((v) => v > 0) && e.dims.kl.every((v) => v >= -1e-6));
  assert.equal(e.aggregateVariance.length, dimz);
  e.aggregateVariance.forEach((v, d) => assert.ok(Math.abs(v - (e.dims.varMu[d] + e.dims.meanSigmaSq[d])) < 1e-9));
  assert.equal(e.activeUnits, e.dims.varMu.filter((v) => v > 0.01).length);
  // KL per image equals Σ_d KL_d (the loss's KL and the statistics come from the same pass).
  assert.ok(Math.abs(e.test.kl - e.dims.kl.reduce((a, b) => a + b, 0)) < 1e-3 * Math.max(1, e.test.kl));
  assert.ok(e.samplesPerSecond > 0 && Number.isFinite(e.samplesPerSecond));
  assert.ok(e.secondsPerEpoch > 0 && Number.isFinite(e.secondsPerEpoch));
  assert.equal(e.klWeight, 1);
}

test('a 2-epoch chainer-mlp run on 2,000 MNIST digits writes a complete run folder and its loss falls', async () => {
  const runsDir = tempRunsDir();
  const out = collectingOutput();
  await selectBackend('wasm');
  const tensorsBefore = tf.memory().numTensors;
  const started = Date.now();
  const outcome = await startRun({ config: { name: 'two epochs', epochs: 2, trainLimit: 2000, testLimit: 500, backend: 'wasm', seed: 1 }, runsDir }, { output: out });
  const seconds = (Date.now() - started) / 1000;
  assert.equal(outcome.status, 'completed', outcome.message);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'a finished run leaves no tensors behind');

  const run = await readRun(outcome.runDir);
  assert.equal(run.info.status, 'completed');
  assert.equal(run.info.epochsCompleted, 2);
  assert.equal(run.info.pid, undefined);
  assert.equal(run.info.environment?.backend, 'wasm');
  assert.match(run.info.environment?.device ?? '', /wasm/);
  assert.equal(run.skipped, 0);
  assert.deepEqual(run.events.filter((e) => e.type === 'status').map((e) => e.type === 'status' && e.status), ['starting', 'running', 'completed']);

  const epochs = epochsOf(run.events);
  assert.deepEqual(epochs.map((e) => e.epoch), [1, 2]);
  assert.deepEqual(run.events.flatMap((e) => (e.type === 'checkpoint' ? [e.epoch] : [])), [1, 2], 'a checkpoint event after each epoch');
  for (const e of epochs) assertCompleteEpoch(e, 20);
  assert.ok(epochs[1].train.loss < epochs[0].train.loss, `train loss falls: ${epochs[0].train.loss} → ${epochs[1].train.loss}`);
  assert.ok(epochs[1].test.loss < epochs[0].test.loss, `test loss falls: ${epochs[0].test.loss} → ${epochs[1].test.loss}`);
  assert.ok(epochs[1].test.loss < 250, `test loss after 2 epochs: ${epochs[1].test.loss}`);

  // Pictures: an 8×8 grid of 28×28 digits with 2-pixel borders, for both kinds, every epoch.
  const { width, height } = gridSize(8, 8, 28, 28);
  for (const e of epochs) {
    for (const rel of [e.images.samples, e.images.recon]) {
      const png = PNG.sync.read(readFileSync(join(outcome.runDir, rel)));
      assert.equal(png.width, width, rel);
      assert.equal(png.height, height, rel);
    }
  }
  // Samples are not blank: decoded prior noise has dark and bright pixels.
  const samples = PNG.sync.read(readFileSync(join(outcome.runDir, epochs[1].images.samples)));
  const greys = new Set<number>();
  for (let i = 0; i < samples.data.length; i += 4) greys.add(samples.data[i]);
  assert.ok(greys.size > 50, `samples have ${greys.size} grey levels`);

  // The parent saw the same events, and batch progress.
  assert.equal(out.messages[0].type, 'started');
  assert.equal(out.messages.filter((m) => m.type === 'appended' && m.kind === 'epoch').length, 2);
  assert.ok(out.messages.some((m) => m.type === 'progress' && m.phase === 'training' && m.batches === 20));

  const checkpoint = await readCheckpoint(outcome.runDir);
  assert.deepEqual(checkpoint?.position, { epoch: 3, batch: 0 });
  assert.equal(checkpoint?.optimizer.step, 40);
  assert.deepEqual(readdirSync(outcome.runDir).sort(), ['checkpoint', 'events.jsonl', 'recon', 'run.json', 'samples']);
  console.log(`2 epochs × 2,000 digits (+500 test, k = 10): ${seconds.toFixed(1)} s, ${Math.round(epochs[1].samplesPerSecond)} samples/s (wasm, the step createTrainStep chose)`);
});

test('deep-bn trains with batch statistics and evaluates with its moving statistics', async () => {
  const runsDir = tempRunsDir();
  const outcome = await startRun({ config: { model: 'deep-bn', epochs: 1, trainLimit: 500, testLimit: 200, backend: 'wasm' }, runsDir }, { output: collectingOutput() });
  assert.equal(outcome.status, 'completed', outcome.message);
  const [epoch] = epochsOf((await readRun(outcome.runDir)).events);
  assertCompleteEpoch(epoch, 100);
  const checkpoint = await readCheckpoint(outcome.runDir);
  assert.ok(checkpoint);
  assert.deepEqual(Object.keys(checkpoint.modelState).sort(), ['dec1/mean', 'dec1/var', 'dec2/mean', 'dec2/var', 'enc1/mean', 'enc1/var', 'enc2/mean', 'enc2/var']);
  assert.deepEqual(checkpoint.parameters['enc1/W'].shape, [784, 600]);
  assert.deepEqual(checkpoint.parameters['dec_out/W'].shape, [600, 784]);
  // The moving statistics moved away from their initial 0 / 1.
  assert.ok(checkpoint.modelState['enc1/mean'].values.some((v) => Math.abs(v) > 1e-3));
  assert.ok(checkpoint.modelState['enc1/var'].values.some((v) => Math.abs(v - 1) > 1e-3));
});

test('the stock step keeps tf.memory().numTensors flat and names parameters as the contract says', async () => {
  await selectBackend('wasm');
  const data = await loadDataset({ dataset: 'mnist', trainLimit: 300, testLimit: 1, binarize: 'none' });
  const model = createStudyModel('chainer-mlp', data.pixels, 20, 0);
  assert.deepEqual(Object.keys(model.variables).sort(), [
    'ld1/W', 'ld1/b', 'ld2/W', 'ld2/b', 'le1/W', 'le1/b', 'le2_ln_var/W', 'le2_ln_var/b', 'le2_mu/W', 'le2_mu/b',
  ]);
  assert.deepEqual(model.variables['le1/W'].shape, [784, 500]);
  // LeCun normal: std ≈ sqrt(1 / fan_in).
  const w = Array.from(model.variables['le1/W'].dataSync());
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std - Math.sqrt(1 / 784)) < 0.002, `le1/W std ${std}`);
  assert.ok(Array.from(model.variables['le1/b'].dataSync()).every((v) => v === 0));

  const step = new TapeTrainStep(model, defaultConfig());
  const counts: number[] = [];
  for (let b = 0; b < 3; b++) {
    const eps = Rng.fromKey(0, 99, b).fillNormal(new Float32Array(100 * 20));
    const r = await step.step(data.train.subarray(b * 100 * 784, (b + 1) * 100 * 784), 100, eps, 1);
    assert.ok(Number.isFinite(r.loss) && Math.abs(r.loss - (r.reconstruction + r.kl)) < 1e-3);
    counts.push(tf.memory().numTensors);
  }
  assert.equal(counts[1], counts[0], `numTensors ${counts}`);
  assert.equal(counts[2], counts[0], `numTensors ${counts}`);

  // Optimizer state round trip: named by canonical parameter names, restored exactly into a fresh step.
  const state = await step.getOptimizerState();
  assert.equal(state.step, 3);
  assert.ok(state.slots['le1/W/m'] && state.slots['le1/W/v'] && state.slots['ld2/b/m']);
  const other = createStudyModel('chainer-mlp', data.pixels, 20, 0);
  const restored = new TapeTrainStep(other, defaultConfig());
  await restored.setOptimizerState(state);
  const again = await restored.getOptimizerState();
  assert.equal(again.step, 3);
  for (const [name, values] of Object.entries(state.slots)) assert.deepEqual(again.slots[name], values, name);
  const before = tf.memory().numTensors;
  await restored.setOptimizerState(state);
  assert.equal(tf.memory().numTensors, before, 'setOptimizerState does not leak the previous state');
  for (const s of [step, restored]) s.dispose();
  model.dispose();
  other.dispose();
});

test('cyclical KL annealing trains with the scheduled C: each epoch records it, and the KL term follows it', async () => {
  const runsDir = tempRunsDir();
  const outcome = await startRun({ config: { name: 'cycles', epochs: 4, klCycles: 2, trainLimit: 1000, testLimit: 200, backend: 'wasm', seed: 3 }, runsDir }, { output: collectingOutput() });
  assert.equal(outcome.status, 'completed', outcome.message);
  const epochs = epochsOf((await readRun(outcome.runDir)).events);
  assert.deepEqual(epochs.map((e) => e.klWeight), [0, 1, 0, 1], '2 cycles of 2 epochs: C = 0, then 1, in each');
  // The training objective is reconstruction + C·KL: with C = 0 it is the reconstruction alone.
  for (const e of epochs) {
    assert.ok(Math.abs(e.test.loss - (e.test.reconstruction + e.klWeight * e.test.kl)) < 1e-3 * Math.abs(e.test.loss), `epoch ${e.epoch}: test loss = rec + C·KL`);
  }
  // Without the KL term the posteriors drift from the prior; the next epoch with C = 1 pulls the KL back down.
  assert.ok(epochs[1].test.kl < epochs[0].test.kl, `KL after a C = 1 epoch (${epochs[1].test.kl}) < after C = 0 (${epochs[0].test.kl})`);
});

test('free bits: a real run trains with them, records them in run.json, and reports rec + C·KL as its loss', async () => {
  const runsDir = tempRunsDir();
  const outcome = await startRun({ config: { name: 'free bits', epochs: 2, freeBits: 0.5, trainLimit: 1000, testLimit: 200, backend: 'wasm', seed: 3 }, runsDir }, { output: collectingOutput() });
  assert.equal(outcome.status, 'completed', outcome.message);
  const run = await readRun(outcome.runDir);
  assert.equal(run.info.config.freeBits, 0.5);
  const epochs = epochsOf(run.events);
  for (const e of epochs) {
    assert.ok(Math.abs(e.train.loss - (e.train.reconstruction + e.klWeight * e.train.kl)) < 1e-3 * e.train.loss, `epoch ${e.epoch}: train loss = rec + C·KL`);
  }
  assert.ok(epochs[1].test.loss < epochs[0].test.loss, `it learns: test loss ${epochs[0].test.loss} → ${epochs[1].test.loss}`);
});

test('latent diagnostics every N epochs and at the last: consistent with the epoch\'s own numbers', async () => {
  const runsDir = tempRunsDir();
  const outcome = await startRun({ config: { name: 'diagnostics', epochs: 3, diagnosticsEvery: 2, iwSamples: 20, trainLimit: 2000, testLimit: 500, backend: 'wasm', seed: 2 }, runsDir }, { output: collectingOutput() });
  assert.equal(outcome.status, 'completed', outcome.message);
  const run = await readRun(outcome.runDir);
  assert.equal(run.skipped, 0, 'every line fits the event schema');
  const epochs = epochsOf(run.events);
  assert.deepEqual(epochs.map((e) => !!e.diagnostics), [false, true, true], 'every 2nd epoch and the last');
  for (const e of epochs.filter((x) => x.diagnostics)) {
    const d = e.diagnostics!;
    assert.equal(d.images, 500, 'all 500 test images (fewer than the 2,000 it takes at most)');
    // The same images and the same posteriors as the test pass: its KL term is the mean KL.
    assert.ok(Math.abs(d.meanKl - e.test.kl) < 1e-3 * e.test.kl, `mean KL ${d.meanKl} = the test KL ${e.test.kl}`);
    assert.ok(Math.abs(d.marginalKl - (d.meanKl - d.mutualInformation)) < 1e-9);
    assert.ok(d.mutualInformation > 0 && d.mutualInformation <= Math.log(500) + 1e-9, `0 < I(x;z) ${d.mutualInformation} ≤ ln 500`);
    const perEigen = d.moments.perEigenvalue.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(d.moments.total - (d.moments.meanShift + perEigen)) < 1e-6 * Math.max(1, d.moments.total), 'the moment term adds up');
    assert.ok(Math.abs(d.nonGaussian - (d.marginalKl - d.moments.total)) < 1e-9);
    assert.equal(d.moments.perDimension.length, 20);
    assert.ok(d.holeRate >= 0 && d.holeRate <= 1 && d.fixedNoiseHoleRate >= 0 && d.fixedNoiseHoleRate <= 1);
    assert.equal(d.priorSamples, 5000);
    // The IW bound is tighter than the ELBO at C = 1 (the test loss, C = 1 here).
    assert.ok(d.iwNll && d.iwNll.k === 20 && d.iwNll.images === 500);
    assert.ok(d.iwNll.value < e.test.reconstruction + e.test.kl, `IW-NLL ${d.iwNll.value} < −ELBO ${e.test.reconstruction + e.test.kl}`);
  }
  // Measured with the same noise each time: the model, not the samples, moves the figures.
  assert.notEqual(epochs[1].diagnostics!.mutualInformation, epochs[2].diagnostics!.mutualInformation);
});
