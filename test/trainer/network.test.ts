/**
 * Networks built from layer lists (model custom): every layer type's output shape against the
 * plan, its gradients against finite differences (on cpu, whose kernels tfjs ships, and on wasm,
 * where the convolutions' filter gradients are VAE Lens's own), the study net written in the
 * language against its preset, the likelihoods' formulas, and short real trainings of a conv VAE and
 * a Gaussian-likelihood VAE on MNIST.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { selectBackend } from '../../src/trainer/backend';
import { PRESET_ARCHITECTURES, planNetwork, presetOfLayers, type Architecture, type LayerSpec, type Likelihood } from '../../src/shared/architecture';
import { defaultConfig, validateConfig } from '../../src/shared/config';
import { createModel, createStudyModel } from '../../src/trainer/model';
import { createNetworkModel } from '../../src/trainer/model/network';
import { continuousBernoulliLogNorm, continuousBernoulliMean } from '../../src/trainer/model/likelihoods';
import { vaeLoss } from '../../src/trainer/loss';
import { readRun } from '../../src/node/runFolder';
import { startRun } from '../../src/trainer/train';
import { collectingOutput, epochsOf, tempRunsDir } from './support';

const BERNOULLI: Likelihood = { type: 'bernoulli' };

/** A tiny network around one layer under test, on 6×6×2 images with dimz 3. */
function tinyNet(layer: LayerSpec, where: 'encoder' | 'decoder'): Architecture {
  if (where === 'encoder') return { encoder: [{ type: 'conv2d', filters: 3, kernel: 3, stride: 1 }, layer], decoder: [{ type: 'dense', units: 5 }] };
  return { encoder: [{ type: 'dense', units: 4 }], decoder: [{ type: 'dense', units: 3 * 3 * 4 }, { type: 'reshape', shape: [3, 3, 4] }, layer] };
}

const LAYERS: Array<{ layer: LayerSpec; where: 'encoder' | 'decoder' }> = [
  { layer: { type: 'dense', units: 5 }, where: 'encoder' },
  { layer: { type: 'conv2d', filters: 4, kernel: 3, stride: 2, padding: 'same' }, where: 'encoder' },
  { layer: { type: 'conv2d', filters: 2, kernel: 2, stride: 1, padding: 'valid' }, where: 'encoder' },
  { layer: { type: 'conv2dTranspose', filters: 3, kernel: 4, stride: 2, padding: 'same' }, where: 'decoder' },
  { layer: { type: 'conv2dTranspose', filters: 2, kernel: 2, stride: 2, padding: 'valid' }, where: 'decoder' },
  { layer: { type: 'batchNorm' }, where: 'encoder' },
  { layer: { type: 'layerNorm' }, where: 'encoder' },
  ...(['tanh', 'relu', 'leakyRelu', 'elu', 'softplus', 'sigmoid', 'gelu'] as const).map((fn) => ({ layer: { type: 'activation', fn } as LayerSpec, where: 'encoder' as const })),
  { layer: { type: 'activation', fn: 'elu', alpha: 0.5 }, where: 'encoder' },
  { layer: { type: 'dropout', rate: 0.3 }, where: 'encoder' },
  { layer: { type: 'flatten' }, where: 'encoder' },
  { layer: { type: 'reshape', shape: [108] }, where: 'encoder' },
];

const SHAPE = [6, 6, 2] as const;
const DIMZ = 3;

function inputs(rows: number): { x: tf.Tensor2D; eps: Float32Array } {
  const n = rows * SHAPE[0] * SHAPE[1] * SHAPE[2];
  return { x: tf.tensor2d(Float32Array.from({ length: n }, (_, i) => (Math.sin(i * 1.7) + 1) / 2), [rows, n / rows]), eps: Float32Array.from({ length: rows * DIMZ }, (_, i) => Math.cos(i * 2.3)) };
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`on ${backend}: every layer type has the planned output shape and gradients that match finite differences`, async () => {
    await selectBackend(backend, { threads: 1 });
    for (const { layer, where } of LAYERS) {
      const arch = tinyNet(layer, where);
      const planned = planNetwork(arch, SHAPE, DIMZ, BERNOULLI);
      assert.ok(planned.ok, JSON.stringify(layer));
      const model = createNetworkModel('custom', arch, SHAPE, DIMZ, BERNOULLI, 7);
      const label = `${backend} ${where} ${JSON.stringify(layer)}`;
      try {
        const { x, eps } = inputs(4);
        // The layer's own output shape, through the network's activations: the encoder's heads see the planned size.
        const encoded = model.encode(x, true);
        assert.deepEqual(encoded.mu.shape, [4, DIMZ], label);
        assert.deepEqual(model.decode(encoded.mu, false).shape, [4, model.pixels], label);
        const layerPlan = planned.plan[where][planned.plan[where].length - 1];
        assert.equal(layerPlan.layer, layer);
        // Dropout draws a new mask per call: compare gradients with it at evaluation (identity).
        const training = layer.type !== 'dropout' && layer.type !== 'batchNorm';
        const lossOf = (): tf.Scalar => vaeLoss(model, x, eps, 1, training).loss;
        const vars = Object.entries(model.variables);
        const { grads } = tf.variableGrads(lossOf, vars.map(([, v]) => v));
        let checked = 0;
        let kinks = 0;
        for (const [name, v] of vars) {
          // The layer under test and its neighbours: a few entries of each parameter.
          const g = (await grads[v.name].data()) as Float32Array;
          const values = (await v.data()) as Float32Array;
          for (const i of [0, Math.floor(values.length / 2), values.length - 1]) {
            const h = 3e-3;
            const at = (delta: number): number => {
              const copy = values.slice();
              copy[i] += delta;
              v.assign(tf.tensor(copy, v.shape));
              return tf.tidy(() => lossOf().dataSync()[0]);
            };
            const [below, middle, above] = [at(-h), at(0), at(h)];
            v.assign(tf.tensor(values, v.shape));
            const numeric = (above - below) / (2 * h);
            const tolerance = 2e-2 * Math.max(1, Math.abs(numeric));
            // A relu's kink within ±h makes finite differences meaningless there: the slopes left and right disagree.
            if (Math.abs((above - middle) / h - (middle - below) / h) > tolerance) {
              kinks++;
              continue;
            }
            assert.ok(Math.abs(g[i] - numeric) < tolerance, `${label}: d loss / d ${name}[${i}] = ${g[i]}, finite differences ${numeric}`);
            checked++;
          }
        }
        assert.ok(checked >= 6 * 3 && kinks <= checked / 3, `${label}: ${checked} entries checked, ${kinks} beside a kink`);
        tf.dispose(Object.values(grads));
      } finally {
        model.dispose();
      }
    }
  });
}

test('chainer-mlp written in the layer language computes what the preset computes, with the same weights', async () => {
  await selectBackend('cpu');
  const preset = createStudyModel('chainer-mlp', 784, 20, 3);
  const general = createNetworkModel('custom', PRESET_ARCHITECTURES['chainer-mlp'], [28, 28, 1], 20, BERNOULLI, 3);
  try {
    const names: Record<string, string> = { 'encoder/0': 'le1', mu: 'le2_mu', ln_var: 'le2_ln_var', 'decoder/0': 'ld1', output: 'ld2' };
    for (const [from, to] of Object.entries(names)) {
      for (const p of ['W', 'b']) general.variables[`${from}/${p}`].assign(preset.variables[`${to}/${p}`]);
    }
    assert.equal(Object.keys(general.variables).length, Object.keys(preset.variables).length);
    const x = tf.randomUniform([5, 784], 0, 1, 'float32', 1) as tf.Tensor2D;
    const eps = Float32Array.from({ length: 5 * 20 }, (_, i) => Math.sin(i));
    const a = vaeLoss(preset, x, eps, 1, true).loss.dataSync()[0];
    const b = vaeLoss(general, x, eps, 1, true).loss.dataSync()[0];
    assert.ok(Math.abs(a - b) < 1e-4 * Math.abs(a), `${a} vs ${b}`);
  } finally {
    preset.dispose();
    general.dispose();
  }
});

test('a custom network whose layers are a preset\'s trains as that preset, with its fast step, and the log says so', async () => {
  const mlp = PRESET_ARCHITECTURES['chainer-mlp'];
  const deep = PRESET_ARCHITECTURES['deep-bn'];
  assert.equal(presetOfLayers({ encoder: [{ type: 'flatten' }, ...mlp.encoder], decoder: mlp.decoder }), 'chainer-mlp');
  assert.equal(presetOfLayers({ encoder: deep.encoder.map((l) => (l.type === 'batchNorm' ? { type: 'batchNorm', eps: 2e-5, decay: 0.9 } : l)), decoder: deep.decoder }), 'deep-bn');
  assert.equal(presetOfLayers({ encoder: [{ type: 'dense', units: 400 }, { type: 'activation', fn: 'tanh' }], decoder: mlp.decoder }), undefined);
  assert.equal(presetOfLayers({ encoder: deep.encoder.map((l) => (l.type === 'batchNorm' ? { type: 'batchNorm', eps: 1e-3 } : l)), decoder: deep.decoder }), undefined);
  const output = collectingOutput();
  const run = await startRun(
    {
      config: { model: 'custom', encoder: [{ type: 'flatten' }, ...mlp.encoder], decoder: mlp.decoder, dimz: 8, epochs: 1, trainLimit: 300, testLimit: 100, batchSize: 50, backend: 'wasm', threads: 1, diagnosticsEvery: 0, iwSamples: 0 },
      runsDir: tempRunsDir(),
    },
    { output },
  );
  assert.equal(run.status, 'completed', run.message);
  const logs = output.logs.join('\n');
  assert.match(logs, /the network's layers are the chainer-mlp preset's/);
  assert.match(logs, /training step: fast chainer-mlp step on wasm/);
  const recorded = (await readRun(run.runDir)).info?.config;
  assert.equal(recorded?.model, 'chainer-mlp', 'the run records the preset it trained');
});

test('the likelihoods: continuous Bernoulli normalises to 1 and has the stated mean; Gaussian NLL is the formula; both gradients are the derivatives', async () => {
  await selectBackend('cpu');
  const logits = [-8, -2, -0.3, -1e-4, 0, 2e-4, 0.7, 3, 9];
  const logC = continuousBernoulliLogNorm(tf.tensor1d(logits)).dataSync();
  const mean = continuousBernoulliMean(tf.tensor1d(logits)).dataSync();
  logits.forEach((l, i) => {
    // ∫₀¹ C λ^x (1−λ)^(1−x) dx = 1 and E[x], by the midpoint rule.
    const lambda = 1 / (1 + Math.exp(-l));
    let integral = 0;
    let first = 0;
    const n = 20000;
    for (let k = 0; k < n; k++) {
      const x = (k + 0.5) / n;
      const p = Math.exp(logC[i] + x * Math.log(lambda) + (1 - x) * Math.log(1 - lambda));
      integral += p / n;
      first += (x * p) / n;
    }
    assert.ok(Math.abs(integral - 1) < 1e-4, `l ${l}: ∫ p = ${integral}`);
    assert.ok(Math.abs(first - mean[i]) < 1e-4, `l ${l}: mean ${mean[i]}, numeric ${first}`);
  });
  // The gradients, against the derivatives written by hand: d/dl [softplus(l) − x·l − log C(l)] =
  // sigmoid(l) − x − (1/l − 1/sinh l), and d/dm of the Gaussian's NLL = (m − x)/σ², d/d(log σ) = 1 − ((x − m)/σ)².
  const x = 0.3;
  const cb = createModel({ ...defaultConfig(), likelihood: { type: 'continuous-bernoulli' } }, [3, 3, 1]);
  try {
    const grads = tf.grad((out: tf.Tensor) => tf.sum(cb.likelihood.nll(tf.fill([1, logits.length], x) as tf.Tensor2D, out as tf.Tensor2D)))(tf.tensor2d([logits])).dataSync();
    logits.forEach((l, i) => {
      const logNormSlope = Math.abs(l) < 1e-3 ? l / 6 : 1 / l - 1 / Math.sinh(l);
      const expected = 1 / (1 + Math.exp(-l)) - x - logNormSlope;
      assert.ok(Math.abs(grads[i] - expected) < 1e-5, `continuous Bernoulli d/dl at l ${l}: ${grads[i]}, expected ${expected}`);
    });
  } finally {
    cb.dispose();
  }
  for (const sigma of [0.1, 'shared', 'per-pixel'] as const) {
    const model = createModel({ ...defaultConfig(), likelihood: { type: 'gaussian', sigma } }, [2, 2, 1]);
    try {
      const xs = [0.1, 0.5, 0.9, 0.2];
      const ms = [0.2, 0.5, 0.4, 0.0];
      const x = tf.tensor2d([xs]);
      const out = tf.tensor2d([ms]);
      const s = typeof sigma === 'number' ? sigma : 1;
      const expected = xs.map((xv, i) => ms[i] - xv).reduce((a, d) => a + 0.5 * (d / s) ** 2 + Math.log(s) + 0.5 * Math.log(2 * Math.PI), 0);
      assert.ok(Math.abs(model.likelihood.nll(x, out).dataSync()[0] - expected) < 1e-4, `${sigma}`);
      const learned = model.variables['likelihood/log_sigma'];
      assert.equal(learned?.size, sigma === 'per-pixel' ? 4 : sigma === 'shared' ? 1 : undefined);
      const dOut = tf.grad((o: tf.Tensor) => tf.sum(model.likelihood.nll(x, o as tf.Tensor2D)))(out).dataSync();
      xs.forEach((xv, i) => assert.ok(Math.abs(dOut[i] - (ms[i] - xv) / s ** 2) < 1e-3 * Math.max(1, 1 / s ** 2), `${sigma}: d/dm ${dOut[i]}`));
      if (learned) {
        const { grads } = tf.variableGrads(() => tf.sum(model.likelihood.nll(x, out)) as tf.Scalar, [learned]);
        const g = grads[learned.name].dataSync();
        const perValue = xs.map((xv, i) => 1 - (xv - ms[i]) ** 2);
        const expected = sigma === 'shared' ? [perValue.reduce((a, b) => a + b, 0)] : perValue;
        expected.forEach((e, i) => assert.ok(Math.abs(g[i] - e) < 1e-4, `${sigma}: d/dlog σ ${g[i]}, expected ${e}`));
      }
    } finally {
      model.dispose();
    }
  }
});

test('config errors name the layer and the shapes that led to it', () => {
  const bad = validateConfig({
    encoder: [{ type: 'conv2d', filters: 8, kernel: 3, stride: 2 }, { type: 'conv2d', filters: 8, kernel: 15, stride: 1, padding: 'valid' }],
    decoder: [{ type: 'dense', units: 10 }],
  });
  assert.equal(bad.ok, false);
  const message = bad.ok ? '' : bad.errors.join('\n');
  assert.match(message, /^encoder\[1\]: conv2d with kernel 15 and padding "valid" does not fit a 14×14×8 input \(.*encoder\[0\] conv2d 8 filters, 3×3, stride 2, same → 14×14×8/);
  const decoderEnd = validateConfig({ encoder: [{ type: 'dense', units: 10 }], decoder: [{ type: 'dense', units: 49 }, { type: 'reshape', shape: [7, 7, 1] }, { type: 'conv2dTranspose', filters: 4, kernel: 3, stride: 2 }] });
  assert.match(decoderEnd.ok ? '' : decoderEnd.errors[0], /^decoder\[2\]: the decoder ends with 14×14×4, but the images are 28×28×1/);
  const fields = validateConfig({ model: 'custom', encoder: [{ type: 'dense' }, { type: 'activation', fn: 'swish' }, { type: 'conv2d', filters: 3, kernel: 3, dilation: 2 }], decoder: [{ type: 'pool' }] });
  assert.deepEqual(fields.ok ? [] : fields.errors, [
    'encoder[0]: dense needs "units" (an integer from 1 to 65536)',
    'encoder[1]: activation "fn" "swish" is not allowed; expected one of "tanh", "relu", "leakyRelu", "elu", "softplus", "sigmoid", "gelu"',
    'encoder[2]: conv2d has no field "dilation" (its fields: filters, kernel, stride, padding)',
    'decoder[0]: "type" "pool" is not a layer; use one of dense, conv2d, conv2dTranspose, batchNorm, layerNorm, activation, dropout, flatten, reshape',
  ]);
  assert.match((validateConfig({ model: 'custom' }) as { errors: string[] }).errors[0], /^"encoder": model custom needs its layers/);
  assert.match((validateConfig({ model: 'deep-bn', encoder: [{ type: 'flatten' }] }) as { errors: string[] }).errors[0], /model deep-bn is a preset/);
  assert.match((validateConfig({ likelihood: { type: 'gaussian', sigma: -1 } }) as { errors: string[] }).errors[0], /^"likelihood": sigma -1 is not allowed/);
  assert.match((validateConfig({ color: 'rgb' }) as { errors: string[] }).errors[0], /^"color": applies only to images:<folder> data sets/);
});

const CONV: Pick<ReturnType<typeof defaultConfig>, 'encoder' | 'decoder'> = {
  encoder: [
    { type: 'conv2d', filters: 8, kernel: 4, stride: 2 }, { type: 'activation', fn: 'relu' },
    { type: 'conv2d', filters: 16, kernel: 4, stride: 2 }, { type: 'activation', fn: 'relu' },
    { type: 'flatten' }, { type: 'dense', units: 64 }, { type: 'activation', fn: 'relu' },
  ],
  decoder: [
    { type: 'dense', units: 7 * 7 * 16 }, { type: 'activation', fn: 'relu' }, { type: 'reshape', shape: [7, 7, 16] },
    { type: 'conv2dTranspose', filters: 8, kernel: 4, stride: 2 }, { type: 'activation', fn: 'relu' },
    { type: 'conv2dTranspose', filters: 8, kernel: 4, stride: 2 }, { type: 'activation', fn: 'relu' },
  ],
};

for (const [label, extra] of [
  ['a conv VAE (Bernoulli)', { model: 'custom', ...CONV }],
  ['a Gaussian-likelihood VAE with a learned per-pixel σ', { model: 'chainer-mlp', likelihood: { type: 'gaussian', sigma: 'per-pixel' } }],
  ['a continuous-Bernoulli VAE', { model: 'chainer-mlp', likelihood: { type: 'continuous-bernoulli' } }],
] as const) {
  test(`${label} trains 2 epochs on MNIST on wasm with a decreasing loss, and says which step it used`, async () => {
    const output = collectingOutput();
    const run = await startRun(
      { config: { ...extra, dimz: 8, epochs: 2, trainLimit: 1000, testLimit: 200, batchSize: 50, backend: 'wasm', threads: 1, diagnosticsEvery: 0, iwSamples: 0 }, runsDir: tempRunsDir() },
      { output },
    );
    assert.equal(run.status, 'completed', run.message);
    const epochs = epochsOf((await readRun(run.runDir)).events);
    assert.equal(epochs.length, 2);
    assert.ok(epochs[1].train.loss < epochs[0].train.loss, `train loss ${epochs[0].train.loss} → ${epochs[1].train.loss}`);
    assert.ok(epochs[1].test.loss < epochs[0].test.loss, `test loss ${epochs[0].test.loss} → ${epochs[1].test.loss}`);
    assert.ok(output.logs.some((l) => /training step: general \(TensorFlow\.js gradients\) on wasm/.test(l)), output.logs.join('\n'));
    assert.ok(output.logs.some((l) => /network: [\d,]+ parameters, [\d.]+ MFLOPs per image forward, about/.test(l)), output.logs.join('\n'));
  });
}
