/**
 * The per-epoch diagnostics against the training they accompany, with the trainer's own code:
 *
 * 1. Cost of each part of an epoch's end — per-dimension latent statistics, the two PNG grids,
 *    the checkpoint — measured directly, set against a full-MNIST epoch (60,000 training images
 *    through the fast step, the 10,000-image test pass with k = 10): their share of epoch time.
 * 2. A real 20-epoch run through startRun (the training loop, fast step via createTrainStep) on a
 *    data subset: tf.memory().numTensors and RSS at every epoch event.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { defaultConfig, type PresetModel } from '../../src/shared/config';
import type { TrainerMessage } from '../../src/shared/events';
import { LatentStatsAccumulator } from '../../src/shared/stats';
import { loadDataset } from '../../src/trainer/data';
import { evaluateTestSet, EVAL_CHUNK } from '../../src/trainer/evaluate';
import { writePriorSamples, writeReconstructions } from '../../src/trainer/images';
import { writeCheckpoint } from '../../src/trainer/checkpoint';
import { createStudyModel } from '../../src/trainer/model';
import { priorNoise, Rng } from '../../src/trainer/rng';
import { createTrainStep } from '../../src/trainer/stepFactory';
import { startRun } from '../../src/trainer/train';
import { fmt, median } from './stats';

/** A full garbage collection before reading RSS, so the figure tracks what is kept, not GC timing. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const FULL_TRAIN = 60_000;
const FULL_TEST = 10_000;

function timeMs(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

async function timeMsAsync(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function overheadShare(name: PresetModel, quick: boolean): Promise<void> {
  const config = { ...defaultConfig(name), trainLimit: 2000, testLimit: 500 };
  const data = await loadDataset(config);
  const model = createStudyModel(name, data.pixels, config.dimz, 1);
  const step = createTrainStep(model, config, 'wasm');
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-bench-'));
  try {
    // Training: median step time (after warm-up) × 600 batches.
    const B = config.batchSize;
    const stepMs: number[] = [];
    for (let i = 0; i < (quick ? 10 : 18); i++) {
      const b = i % Math.floor(data.trainCount / B);
      const eps = Rng.fromKey(1, 3, 0, i).fillNormal(new Float32Array(B * config.dimz));
      const ms = await timeMsAsync(async () => void (await step.step(data.train.subarray(b * B * data.pixels, (b + 1) * B * data.pixels), B, eps, 1)));
      if (i >= 3) stepMs.push(ms);
    }
    step.sync();
    const trainEpoch = (median(stepMs) * FULL_TRAIN) / B;
    // The test pass (loss with k = 10 and the statistics), scaled to 10,000 images.
    await evaluateTestSet(model, data.test, Math.min(200, data.testCount), config.testSamples, 1, 1);
    const evalMs: number[] = [];
    for (let i = 0; i < 2; i++) evalMs.push(await timeMsAsync(async () => void (await evaluateTestSet(model, data.test, data.testCount, config.testSamples, 1, 1))));
    const testPass = (median(evalMs) * FULL_TEST) / data.testCount;
    // Per-dimension statistics alone: the accumulator fed 10,000 images' μ and ln σ² in the pass's chunks.
    const mu = Rng.fromKey(2).fillNormal(new Float32Array(EVAL_CHUNK * config.dimz));
    const lnVar = Rng.fromKey(3).fillNormal(new Float32Array(EVAL_CHUNK * config.dimz), 0.1);
    const statsMs = median([0, 1, 2].map(() => timeMs(() => {
      const acc = new LatentStatsAccumulator(config.dimz);
      for (let i = 0; i < FULL_TEST / EVAL_CHUNK; i++) acc.add(mu, lnVar, EVAL_CHUNK);
      acc.summary();
    })));
    // The two PNG grids.
    const noise = priorNoise(1, config.dimz);
    const imagesMs = median(await Promise.all([0, 1, 2].map(async (i) => timeMsAsync(async () => {
      await writePriorSamples(model, noise, data.width, data.height, join(dir, `s${i}.png`));
      await writeReconstructions(model, data.test, data.testCount, data.width, data.height, join(dir, `r${i}.png`));
    }))));
    // The checkpoint: sync, read parameters and optimizer state, write atomically.
    const record = (vars: Record<string, tf.Variable>) => Object.fromEntries(Object.entries(vars).map(([n, v]) => [n, { shape: v.shape, values: v.dataSync() as Float32Array }]));
    const ckptMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      ckptMs.push(await timeMsAsync(async () => {
        step.sync();
        await writeCheckpoint(dir, {
          config, epochsCompleted: 1, position: { epoch: 2, batch: 0 }, progress: { train: { n: 0, sums: {} }, trainSeconds: 0 },
          parameters: record(model.variables), modelState: record(model.state), optimizer: await step.getOptimizerState(),
        });
      }));
    }
    const checkpointMs = median(ckptMs);
    const diagnostics = statsMs + imagesMs + checkpointMs;
    const epoch = trainEpoch + testPass + diagnostics;
    console.log(
      `${name} full-MNIST epoch (fast step ${fmt(median(stepMs), 1)} ms/batch): training ${fmt(trainEpoch / 1000, 1)} s, test pass (k = 10) ${fmt(testPass / 1000, 2)} s; ` +
        `diagnostics: per-dimension statistics ${fmt(statsMs, 1)} ms, images ${fmt(imagesMs, 0)} ms, checkpoint ${fmt(checkpointMs, 0)} ms = ` +
        `${fmt((100 * diagnostics) / epoch, 2)}% of the epoch (target ≤ 5%)`,
    );
  } finally {
    step.dispose();
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function twentyEpochs(name: PresetModel, quick: boolean): Promise<void> {
  const runsDir = mkdtempSync(join(tmpdir(), 'vae-lens-bench-runs-'));
  const epochs = quick ? 6 : 20;
  // Small subsets keep the 20 epochs short; what is measured (tensors, RSS) does not depend on them.
  const limits = name === 'deep-bn' ? { train: 500, test: 200 } : { train: 1000, test: 200 };
  const rows: { epoch: number; tensors: number; rss: number }[] = [];
  const output = {
    send(m: TrainerMessage) {
      if (m.type === 'appended' && m.kind === 'epoch' && m.epoch !== undefined) {
        collectGarbage();
        rows.push({ epoch: m.epoch, tensors: tf.memory().numTensors, rss: process.memoryUsage().rss });
      }
    },
    log() {},
  };
  try {
    const t0 = performance.now();
    const outcome = await startRun(
      { config: { name: `bench ${name}`, model: name, epochs, trainLimit: limits.train, testLimit: limits.test, backend: 'wasm', seed: 1 }, runsDir },
      { output },
    );
    if (outcome.status !== 'completed') throw new Error(`bench run ${outcome.status}: ${outcome.message ?? ''}`);
    const from2 = rows.filter((r) => r.epoch >= 2);
    const tensors = new Set(from2.map((r) => r.tensors));
    const rss = from2.map((r) => r.rss);
    const rssSpread = (Math.max(...rss) - Math.min(...rss)) / Math.min(...rss);
    const mb = (b: number) => fmt(b / 2 ** 20, 0);
    console.log(
      `${name} ${epochs}-epoch run (${limits.train} train / ${limits.test} test images, ${fmt((performance.now() - t0) / 1000, 1)} s): numTensors from epoch 2: ${[...tensors].join(', ')} ` +
        `(${tensors.size === 1 ? 'flat' : 'NOT flat'}); RSS epoch 2 → ${epochs}: ${mb(from2[0].rss)} → ${mb(from2[from2.length - 1].rss)} MiB, ` +
        `spread ${fmt(100 * rssSpread, 1)}% of the smallest, after a full GC at each epoch (target ≤ 10%)`,
    );
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
}

export async function runDiagnosticsBench(quick: boolean): Promise<void> {
  console.log('\n== diagnostics (the trainer\'s loop, fast step) ==');
  for (const name of ['chainer-mlp', 'deep-bn'] as const) await overheadShare(name, quick);
  for (const name of ['chainer-mlp', 'deep-bn'] as const) await twentyEpochs(name, quick);
}
