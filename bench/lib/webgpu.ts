/**
 * `npm run bench:train -- --backend webgpu`: samples/s of the study's two models on the webgpu
 * backend (the tape step) at batch 100 and 1,000, beside the wasm fast step on one thread measured
 * in the same run on the same machine, with a per-step breakdown of the webgpu step: kernel
 * dispatches and queue submissions (counted on Dawn's own objects), kernel time in matMul,
 * elementwise and the optimizer (TensorFlow.js's profiler, timed with timestamp queries when the
 * adapter has them), and the host↔GPU reads.
 *
 * The backends are measured one after the other (switching backends between batches would measure
 * the switch): on a shared machine, compare the ratios of a run, not figures across runs. On a
 * software adapter (llvmpipe) the figures say nothing about a GPU; they show that the path runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/trainer/backend';
import { createFastStep } from '../../src/trainer/fast';
import { createStudyModel } from '../../src/trainer/model';
import { Rng } from '../../src/trainer/rng';
import type { TrainStep } from '../../src/trainer/step';
import { TapeTrainStep } from '../../src/trainer/tapeStep';
import { defaultConfig, type PresetModel } from '../../src/shared/config';
import { loadMnistTrain } from './mnist';
import { fmt, median } from './stats';

const BATCH_SIZES = [100, 1000];

interface Counters {
  dispatches: number;
  submits: number;
  /** Host→GPU writes: queue.writeBuffer calls (every dispatch's uniforms, tensor data) and staging buffers mapped for writing. */
  uploads: number;
  /** Buffers mapped for reading: GPU→host reads (await data()). */
  reads: number;
  /** Wall time with at least one read pending (overlapping reads count once). */
  readMs: number;
}

/** Counts dispatches, submissions, uploads and reads by wrapping Dawn's prototypes (installed as globals). */
function countDawnCalls(): Counters | null {
  const g = globalThis as unknown as Record<string, { prototype: Record<string, (...a: unknown[]) => unknown> } | undefined>;
  const pass = g.GPUComputePassEncoder?.prototype;
  const queue = g.GPUQueue?.prototype;
  const buffer = g.GPUBuffer?.prototype;
  if (!pass || !queue || !buffer) return null;
  const c: Counters = { dispatches: 0, submits: 0, uploads: 0, reads: 0, readMs: 0 };
  const READ = (globalThis as unknown as { GPUMapMode: { READ: number } }).GPUMapMode.READ;
  let pending = 0;
  let since = 0;
  const dispatch = pass.dispatchWorkgroups;
  const submit = queue.submit;
  const writeBuffer = queue.writeBuffer;
  const mapAsync = buffer.mapAsync;
  pass.dispatchWorkgroups = function (this: unknown, ...a: unknown[]) {
    c.dispatches++;
    return dispatch.apply(this, a);
  };
  queue.submit = function (this: unknown, ...a: unknown[]) {
    c.submits++;
    return submit.apply(this, a);
  };
  queue.writeBuffer = function (this: unknown, ...a: unknown[]) {
    c.uploads++;
    return writeBuffer.apply(this, a);
  };
  buffer.mapAsync = async function (this: unknown, ...a: unknown[]) {
    if (!((a[0] as number) & READ)) {
      c.uploads++;
      return mapAsync.apply(this, a);
    }
    c.reads++;
    if (pending++ === 0) since = performance.now();
    try {
      return await mapAsync.apply(this, a);
    } finally {
      if (--pending === 0) c.readMs += performance.now() - since;
    }
  };
  return c;
}

function batchOf(data: Float32Array, pixels: number, batch: number, i: number): Float32Array {
  const n = Math.floor(data.length / (batch * pixels));
  const b = i % n;
  return data.subarray(b * batch * pixels, (b + 1) * batch * pixels);
}

function noise(batch: number, dimz: number, i: number): Float32Array {
  return Rng.fromKey(7, 3, batch, i).fillNormal(new Float32Array(batch * dimz));
}

/**
 * Median ms per step over `steps` steps after one warm-up step (pipeline compilation, XNNPACK
 * packing); `measured` runs just before and after the measured steps (to count what they did).
 */
async function msPerStep(step: TrainStep, data: Float32Array, pixels: number, dimz: number, batch: number, steps: number, measured: (phase: 'start' | 'end') => void = () => undefined): Promise<number> {
  await step.step(batchOf(data, pixels, batch, 0), batch, noise(batch, dimz, 0), 1);
  measured('start');
  const ms: number[] = [];
  for (let i = 1; i <= steps; i++) {
    const t0 = performance.now();
    await step.step(batchOf(data, pixels, batch, i), batch, noise(batch, dimz, i), 1);
    ms.push(performance.now() - t0);
  }
  measured('end');
  return median(ms);
}

/** Kernel ms of a profiled call, grouped; kernels whose time the backend cannot give count as 0. */
async function profiled(fn: () => Promise<unknown>): Promise<{ kernels: number; matMul: number; other: number }> {
  const info = await tf.profile(async () => {
    await fn();
  });
  let matMul = 0;
  let other = 0;
  for (const k of info.kernels) {
    const ms = Number(k.kernelTimeMs) || 0;
    if (/MatMul/.test(k.name)) matMul += ms;
    else other += ms;
  }
  return { kernels: info.kernels.length, matMul, other };
}

/** The same Adam update on zero gradients of the model's shapes: the optimizer's share of a step. */
async function optimizerProfile(vars: tf.Variable[], config: ReturnType<typeof defaultConfig>): Promise<{ kernels: number; ms: number }> {
  const adam = tf.train.adam(config.learningRate, config.beta1, config.beta2, config.epsilon);
  const grads = Object.fromEntries(vars.map((v) => [v.name, tf.zerosLike(v)]));
  adam.applyGradients(grads);
  const p = await profiled(async () => adam.applyGradients(grads));
  tf.dispose(Object.values(grads));
  adam.dispose();
  return { kernels: p.kernels, ms: p.matMul + p.other };
}

export async function runWebGpuBench(models: PresetModel[], quick: boolean): Promise<void> {
  const steps = quick ? 1 : 4;
  const { images, pixels } = loadMnistTrain(2 * Math.max(...BATCH_SIZES));
  const wasm: Record<string, number> = {};
  const wasmEnv = await selectBackend('wasm', { threads: 1 });
  console.log(`wasm fast step, one thread, on ${wasmEnv.device}:`);
  for (const name of models) {
    const dimz = name === 'deep-bn' ? 100 : 20;
    for (const batch of BATCH_SIZES) {
      const model = createStudyModel(name, pixels, dimz, 5);
      const config = { ...defaultConfig(name), dimz, batchSize: batch };
      const fast = createFastStep(model, config, 'wasm', { threads: 1 });
      if (!fast) throw new Error(`no wasm fast step for ${name}`);
      const ms = await msPerStep(fast, images, pixels, dimz, batch, steps);
      wasm[`${name}/${batch}`] = (batch * 1000) / ms;
      console.log(`  ${name.padEnd(12)} batch ${String(batch).padStart(4)}: ${fmt((batch * 1000) / ms, 0).padStart(6)} samples/s (${fmt(ms, 1)} ms/step)`);
      fast.dispose();
      model.dispose();
    }
  }

  const logs: string[] = [];
  const env = await selectBackend('webgpu', { log: (l) => logs.push(l) });
  const counters = countDawnCalls();
  console.log(`\nwebgpu tape step on ${env.device}${env.adapter?.software ? ' — a software renderer: these figures say nothing about a GPU' : ''}`);
  for (const l of logs) console.log(`  ${l}`);
  for (const name of models) {
    const dimz = name === 'deep-bn' ? 100 : 20;
    for (const batch of BATCH_SIZES) {
      const model = createStudyModel(name, pixels, dimz, 5);
      const config = { ...defaultConfig(name), dimz, batchSize: batch };
      const step = new TapeTrainStep(model, config);
      // What the measured steps did, per step (profiling, below, adds submissions and reads of its own).
      let before: Counters | null = null;
      const perStep: Partial<Counters> = {};
      const ms = await msPerStep(step, images, pixels, dimz, batch, steps, (phase) => {
        if (!counters) return;
        if (phase === 'start') before = { ...counters };
        else for (const k of Object.keys(counters) as (keyof Counters)[]) perStep[k] = (counters[k] - before![k]) / steps;
      });
      const sps = (batch * 1000) / ms;
      const count = (k: keyof Counters) => (perStep[k] === undefined ? 'n/a' : fmt(perStep[k], k === 'readMs' ? 1 : 0));
      const kernels = await profiled(() => step.step(batchOf(images, pixels, batch, 2), batch, noise(batch, dimz, 2), 1));
      const adam = await optimizerProfile(Object.values(model.variables), config);
      const ratio = sps / wasm[`${name}/${batch}`];
      console.log(`  ${name.padEnd(12)} batch ${String(batch).padStart(4)}: ${fmt(sps, 0).padStart(6)} samples/s (${fmt(ms, 1)} ms/step), ×${fmt(ratio, 2)} the wasm fast step`);
      console.log(
        `    per step: ${count('dispatches')} kernel dispatches, ${count('submits')} queue submissions, ` +
          `${count('uploads')} host→GPU writes (each dispatch's uniforms, and tensor data), ${count('reads')} GPU→host reads, waited on for ${count('readMs')} ms (the wait includes the step's GPU work still queued)`,
      );
      console.log(
        `    kernel time (tf.profile, ${kernels.kernels} kernels): matMul ${fmt(kernels.matMul, 1)} ms, ` +
          `elementwise and other ${fmt(Math.max(0, kernels.other - adam.ms), 1)} ms, optimizer (Adam, ${adam.kernels} kernels) ${fmt(adam.ms, 1)} ms`,
      );
      step.dispose();
      model.dispose();
    }
  }
  console.log(`\ntf.memory() after the webgpu runs: ${JSON.stringify(tf.memory())}`);
}
