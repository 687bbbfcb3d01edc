/**
 * The webgpu backend on a real WebGPU adapter: the machine's GPU, or Mesa's software Vulkan driver
 * (installed by the test support) where there is none. These tests fail, never skip, when no
 * adapter can be had.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { readRun } from '../../src/node/runFolder';
import type { BackendChoice, ModelName } from '../../src/shared/config';
import type { EpochEvent, TrainerMessage } from '../../src/shared/events';
import { selectBackend } from '../../src/trainer/backend';
import { StopRequest, resumeRun, startRun, type RunOutcome } from '../../src/trainer/train';
import { webGpuBufferCount } from '../../src/trainer/webgpu';
import { ensureWebGpuDriver } from '../support/vulkan';
import { collectingOutput, epochsOf, tempRunsDir } from './support';

ensureWebGpuDriver();

/** The comparison: 2 epochs on 2,000 images, same seed on both backends. */
const RUN = { epochs: 2, trainLimit: 2000, testLimit: 200, seed: 3 };
const TOLERANCE = 1e-3;

interface MemoryAtEpoch {
  numTensors: number;
  numBytes: number;
  gpuBuffers: number | null;
}

interface Trained {
  outcome: RunOutcome;
  epochs: EpochEvent[];
  memory: MemoryAtEpoch[];
  dataSyncCalls: number;
  logs: string[];
}

/**
 * Runs the trainer in this process, noting tf.memory() and the webgpu backend's buffer count as
 * each epoch ends, and counting dataSync calls (which cannot work on webgpu under Node).
 */
async function train(config: Record<string, unknown>, options: { stopAfterEpoch?: number; resume?: { runDir: string; backend: BackendChoice } } = {}): Promise<Trained> {
  const output = collectingOutput();
  const stop = new StopRequest();
  const memory: MemoryAtEpoch[] = [];
  const send = output.send;
  output.send = (m: TrainerMessage) => {
    send(m);
    if (m.type === 'appended' && m.kind === 'epoch') {
      const mem = tf.memory();
      memory.push({ numTensors: mem.numTensors, numBytes: mem.numBytes, gpuBuffers: webGpuBufferCount() });
      if (m.epoch === options.stopAfterEpoch) stop.request('test: continue on the other backend');
    }
  };
  const original = tf.Tensor.prototype.dataSync;
  let dataSyncCalls = 0;
  tf.Tensor.prototype.dataSync = function <D extends tf.DataType>(this: tf.Tensor) {
    dataSyncCalls++;
    return original.call(this) as tf.DataTypeMap[D];
  };
  try {
    const outcome = options.resume
      ? await resumeRun(options.resume.runDir, { output, stop, backend: options.resume.backend })
      : await startRun({ config, runsDir: tempRunsDir() }, { output, stop });
    const run = await readRun(outcome.runDir);
    return { outcome, epochs: epochsOf(run.events), memory, dataSyncCalls, logs: output.logs };
  } finally {
    tf.Tensor.prototype.dataSync = original;
  }
}

/** The largest relative difference seen by the test running now (reported with t.diagnostic). */
let largest = 0;

function assertClose(actual: number, expected: number, what: string): void {
  const rel = Math.abs(actual - expected) / Math.abs(expected);
  largest = Math.max(largest, rel);
  assert.ok(rel <= TOLERANCE, `${what}: ${actual} vs ${expected} (relative difference ${rel.toExponential(2)} > ${TOLERANCE})`);
}

function assertSameLosses(actual: EpochEvent, expected: EpochEvent, what: string): void {
  assertClose(actual.train.loss, expected.train.loss, `${what} epoch ${expected.epoch} train loss`);
  assertClose(actual.test.loss, expected.test.loss, `${what} epoch ${expected.epoch} test loss`);
  assertClose(actual.test.reconstruction, expected.test.reconstruction, `${what} epoch ${expected.epoch} test reconstruction`);
  assertClose(actual.test.kl, expected.test.kl, `${what} epoch ${expected.epoch} test KL`);
}

/** Uninterrupted runs, kept for the resume test. */
const reference = new Map<string, Trained>();

test('webgpu names its adapter, records it in run.json, and auto skips a software adapter with its reason', async () => {
  const logs: string[] = [];
  const env = await selectBackend('webgpu', { log: (l) => logs.push(l) });
  assert.equal(env.backend, 'webgpu');
  assert.ok(env.adapter, 'the environment records the adapter');
  assert.match(env.device, /^.+ \((Vulkan|Metal|D3D12)\)$/, 'the device reads as "<adapter> (<API>)"');
  assert.equal(env.device, `${env.adapter.name} (${env.adapter.api})`);
  assert.ok(logs.some((l) => /dawn\.node \(N-API\) loaded by (Node|Electron) v?[\d.]+/.test(l)), logs.join('\n'));

  const autoLogs: string[] = [];
  const auto = await selectBackend('auto', { log: (l) => autoLogs.push(l) });
  if (env.adapter.software) {
    assert.notEqual(auto.backend, 'webgpu');
    assert.ok(autoLogs.some((l) => /skipped webgpu: .*software renderer.*choose backend "webgpu"/.test(l)), autoLogs.join('\n'));
  } else {
    assert.equal(auto.backend, 'webgpu', 'auto picks webgpu on a hardware adapter');
  }
});

for (const model of ['chainer-mlp', 'deep-bn'] as ModelName[]) {
  test(`${model}: 2 epochs on webgpu give wasm's per-epoch losses within 0.1%, with no dataSync and flat GPU memory`, async (t) => {
    largest = 0;
    const wasm = await train({ ...RUN, model, name: `${model} wasm`, backend: 'wasm' });
    const gpu = await train({ ...RUN, model, name: `${model} webgpu`, backend: 'webgpu' });
    reference.set(`${model}/wasm`, wasm);
    reference.set(`${model}/webgpu`, gpu);
    for (const r of [wasm, gpu]) assert.equal(r.outcome.status, 'completed', `${r.outcome.message}\n${r.logs.join('\n')}`);
    const run = await readRun(gpu.outcome.runDir);
    assert.equal(run.info.environment?.backend, 'webgpu');
    assert.ok(run.info.environment?.adapter?.name, 'run.json names the adapter');

    assert.equal(gpu.epochs.length, 2);
    gpu.epochs.forEach((e, i) => assertSameLosses(e, wasm.epochs[i], `${model} webgpu vs wasm`));
    assert.equal(gpu.dataSyncCalls, 0, 'the webgpu path reads tensors only with await data()');

    // Every epoch ends with the same tensors, bytes and GPU buffers in use.
    assert.equal(gpu.memory.length, 2);
    assert.ok(gpu.memory.every((m) => m.gpuBuffers !== null && m.gpuBuffers > 0), JSON.stringify(gpu.memory));
    assert.deepEqual(gpu.memory[1], gpu.memory[0], `memory after each epoch: ${JSON.stringify(gpu.memory)}`);
    t.diagnostic(`largest relative difference webgpu vs wasm: ${largest.toExponential(2)}; memory after each epoch ${JSON.stringify(gpu.memory)}`);
  });
}

test('a checkpoint written on one backend resumes on the other and continues with the same numbers', async (t) => {
  const model: ModelName = 'chainer-mlp';
  largest = 0;
  for (const [first, second] of [['webgpu', 'wasm'], ['wasm', 'webgpu']] as const) {
    const stopped = await train({ ...RUN, model, name: `${first} then ${second}`, backend: first }, { stopAfterEpoch: 1 });
    assert.equal(stopped.outcome.status, 'stopped', stopped.outcome.message);
    assert.equal(stopped.outcome.epochsCompleted, 1);
    const resumed = await train({}, { resume: { runDir: stopped.outcome.runDir, backend: second } });
    assert.equal(resumed.outcome.status, 'completed', `${resumed.outcome.message}\n${resumed.logs.join('\n')}`);
    const run = await readRun(resumed.outcome.runDir);
    assert.equal(run.info.environment?.backend, second, 'run.json records the backend the run finished on');
    assert.deepEqual(resumed.epochs.map((e) => e.epoch), [1, 2]);
    // Epoch 1 trained on `first`, epoch 2 on `second`: each matches the uninterrupted runs.
    for (const backend of [first, second]) {
      const ref = reference.get(`${model}/${backend}`);
      assert.ok(ref, `the uninterrupted ${backend} run (an earlier test) is needed`);
      resumed.epochs.forEach((e, i) => assertSameLosses(e, ref.epochs[i], `${first} → ${second} vs uninterrupted ${backend}`));
    }
  }
  t.diagnostic(`largest relative difference from the uninterrupted runs: ${largest.toExponential(2)}`);
});
