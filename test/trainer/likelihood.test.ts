import { test } from 'node:test';
import { createLikelihood, noParameters } from '../../src/trainer/model/likelihoods';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/trainer/backend';
import { importanceWeightedNll } from '../../src/trainer/likelihood';
import { readRun } from '../../src/node/runFolder';
import { runLikelihood, type RunLikelihood } from '../../src/trainer/runMeasures';
import type { VaeModel } from '../../src/trainer/model';
import { startRun } from '../../src/trainer/train';
import { collectingOutput, runCli, tempRunsDir } from './support';

/**
 * A model whose encoder returns q(z|x) = N(0, I) = p(z) and whose decoder ignores z: every
 * importance weight equals p(x|·), so log p(x) is known exactly, Σ_pixels x·l − softplus(l).
 */
function decoderIgnoringZ(pixels: number, dimz: number, logits: Float32Array): VaeModel {
  return {
    name: 'chainer-mlp', dimz, pixels, shape: [1, pixels, 1], likelihood: createLikelihood({ type: 'bernoulli' }, pixels, noParameters), variables: {}, state: {},
    encode: (x) => ({ mu: tf.zeros([x.shape[0], dimz]), lnVar: tf.zeros([x.shape[0], dimz]) }),
    decode: (z) => tf.tile(tf.tensor2d(logits, [1, pixels]), [z.shape[0], 1]),
    dispose: () => undefined,
  };
}

test('the IW-NLL through the tensor path is exact for a decoder that ignores z, for every k', async () => {
  await selectBackend('wasm', { threads: 1 });
  const pixels = 12;
  const count = 7;
  const logits = Float32Array.from({ length: pixels }, (_, j) => Math.sin(j) * 3);
  const images = Float32Array.from({ length: count * pixels }, (_, i) => ((i * 7919) % 5 < 2 ? 1 : 0));
  let exact = 0;
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < pixels; j++) {
      const l = logits[j];
      exact += Math.log1p(Math.exp(l)) - images[i * pixels + j] * l;
    }
  }
  exact /= count;
  const model = decoderIgnoringZ(pixels, 3, logits);
  // k = 3000 spans two decoder passes per image (IW_CHUNK = 2000).
  for (const k of [1, 50, 3000]) {
    const r = await importanceWeightedNll(model, images, count, k, 5);
    assert.ok(Math.abs(r.nll - exact) < 1e-4, `k=${k}: ${r.nll} ≠ ${exact}`);
    assert.ok(Math.abs(r.negativeElbo - exact) < 1e-4, `k=${k}: −ELBO ${r.negativeElbo} ≠ ${exact}`);
    assert.equal(r.k, k);
    assert.equal(r.images, count);
  }
  await assert.rejects(importanceWeightedNll(model, images, count, 0, 5), /positive integer/);
});

test('a trained run: IW-NLL ≤ −ELBO, equal at k = 1, and falling toward log p(x) as k rises; vae-lens nll prints it', async () => {
  const runsDir = tempRunsDir();
  const run = await startRun(
    { config: { model: 'chainer-mlp', dimz: 8, epochs: 2, trainLimit: 1000, testLimit: 100, binarize: 'dynamic', backend: 'wasm', seed: 2, name: 'iw' }, runsDir },
    { output: collectingOutput() },
  );
  assert.equal(run.status, 'completed', run.message);
  const results: RunLikelihood[] = [];
  for (const k of [1, 10, 100]) results.push(await runLikelihood(run.runDir, { k }));
  const [one, ten, hundred] = results;
  for (const r of results) {
    assert.equal(r.images, 100);
    assert.equal(r.epochsCompleted, 2);
    assert.equal(r.batchesIntoEpoch, 0);
    assert.equal(r.binarize, 'dynamic');
    assert.ok(Number.isFinite(r.nll) && r.nll > 0, `nll ${r.nll}`);
    // Jensen, image by image: log mean w ≥ mean log w on the same samples.
    assert.ok(r.nll <= r.negativeElbo + 1e-9, `k=${r.k}: IW-NLL ${r.nll} > −ELBO ${r.negativeElbo}`);
  }
  // k = 1 is the −ELBO itself; the trainer's test loss (10 other samples, analytic KL) agrees within noise.
  assert.ok(Math.abs(one.nll - one.negativeElbo) < 1e-9);
  assert.ok(Math.abs(one.nll - one.testLoss) < 0.02 * one.testLoss, `k=1 ${one.nll} vs test loss ${one.testLoss}`);
  // More samples, a tighter bound: strictly below the −ELBO and falling with k.
  assert.ok(ten.nll < one.nll && hundred.nll < ten.nll, `IW-NLL by k: ${results.map((r) => r.nll).join(', ')}`);
  assert.ok(hundred.nll < hundred.testLoss, `IW-NLL ${hundred.nll} vs test −ELBO ${hundred.testLoss}`);
  assert.ok(hundred.negativeElbo - hundred.nll > 0.5, `gap at k=100: ${hundred.negativeElbo - hundred.nll}`);

  // The latent diagnostics measured afterwards are those the trainer recorded at its last epoch
  // (same weights, images and samples).
  const recorded = (await readRun(run.runDir)).events.filter((e) => e.type === 'epoch').at(-1);
  assert.ok(recorded?.type === 'epoch' && recorded.diagnostics, 'the last epoch has diagnostics');
  const { iwNll: _iw, ...expected } = recorded.diagnostics;
  assert.deepEqual(one.latent, expected);

  // The command line: the same number for the same k, as JSON and as text; a bad k is a usage error.
  const json = await runCli(['nll', run.runId, '--k', '10', '--runs-dir', runsDir, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const printed = JSON.parse(json.stdout) as RunLikelihood;
  assert.ok(Math.abs(printed.nll - ten.nll) < 1e-9, `CLI ${printed.nll} vs ${ten.nll}`);
  assert.equal(printed.k, 10);
  const text = await runCli(['nll', run.runDir, '--k', '10']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`IW-NLL, k = 10: ${ten.nll.toFixed(2)} nats per image`));
  assert.match(text.stdout, /binarize dynamic/);
  assert.match(text.stdout, new RegExp(`mean KL ${expected.meanKl.toFixed(2)} = I\\(x;z\\) ${expected.mutualInformation.toFixed(2)}`));
  assert.match(text.stdout, /prior holes: \d+\.\d% of 5000 samples of N\(0, I\)/);
  const firstFifty = JSON.parse((await runCli(['nll', run.runDir, '--k', '10', '--images', '50', '--json'])).stdout) as RunLikelihood;
  assert.equal(firstFifty.images, 50, '--images 50 measures the first 50 test images');
  assert.ok(Math.abs(firstFifty.nll - ten.nll) > 1e-6, 'a different figure from the whole test set\'s');
  assert.equal((await runCli(['nll', run.runDir, '--images', '0'])).code, 2, '--images 0 is a usage error');
  for (const bad of ['0', '2.5', 'many']) {
    const r = await runCli(['nll', run.runId, '--k', bad, '--runs-dir', runsDir]);
    assert.equal(r.code, 2, `--k ${bad}`);
    assert.match(r.stderr, /--k must be a positive whole number/);
  }
  const help = await runCli(['nll', '--help']);
  assert.match(help.stdout, /^vae-lens nll/);
});
