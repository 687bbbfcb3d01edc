import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { defaultConfig } from '../../src/shared/config';
import { readRun } from '../../src/node/runFolder';
import { createStudyModel } from '../../src/trainer/model';
import { WASM_HEAP_MAX, estimateMemory, largestWasmSide, memoryRefusal, parameterCount } from '../../src/trainer/memory';
import { encodeIdx } from '../../src/trainer/data/idx';
import { startRun } from '../../src/trainer/train';
import { collectingOutput, tempRunsDir } from './support';

test('parameterCount is the models\' real number of trainable parameters', async () => {
  await tf.setBackend('cpu');
  for (const model of ['chainer-mlp', 'deep-bn'] as const) {
    for (const [pixels, dimz] of [[784, 20], [64, 3]]) {
      const m = createStudyModel(model, pixels, dimz, 0);
      const real = Object.values(m.variables).reduce((n, v) => n + v.size, 0);
      m.dispose();
      assert.equal(parameterCount({ ...defaultConfig(model), dimz }, [1, pixels, 1]), real, `${model} ${pixels} ${dimz}`);
    }
  }
});

test('the wasm estimate admits the sizes that train (MNIST, 100×100, 150×150) and refuses 200×200 and up', () => {
  const mlp = defaultConfig('chainer-mlp');
  const bn = defaultConfig('deep-bn');
  for (const side of [28, 100, 150]) assert.equal(memoryRefusal(mlp, [side, side, 1], 70_000, 'wasm', 64e9), undefined, `${side}`);
  assert.equal(memoryRefusal(bn, [100, 100, 1], 70_000, 'wasm', 64e9), undefined);
  assert.ok(estimateMemory(mlp, [200, 200, 1], 0, 'wasm').backendBytes > WASM_HEAP_MAX);
  const side = largestWasmSide(mlp);
  assert.ok(side >= 150 && side < 200, `${side}`);
  // Native TensorFlow has no heap ceiling: 600×600 is judged against the machine's memory.
  assert.equal(memoryRefusal(mlp, [600, 600, 1], 5, 'tensorflow', 64e9), undefined);
  assert.match(memoryRefusal(mlp, [600, 600, 1], 5, 'tensorflow', 4e9) ?? '', /more than this machine's 4\.0 GB/);
});

test('a 600×600 IDX set on wasm is refused before training with the numbers and what to change', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'vae-lens-big-images-'));
  try {
    const folder = join(workspace, 'big');
    mkdirSync(folder);
    writeFileSync(join(folder, 'train-images-idx3-ubyte'), encodeIdx([3, 600, 600], new Uint8Array(3 * 600 * 600).fill(128)));
    writeFileSync(join(folder, 't10k-images-idx3-ubyte'), encodeIdx([2, 600, 600], new Uint8Array(2 * 600 * 600).fill(64)));
    const started = Date.now();
    const run = await startRun({ config: { dataset: `idx:${folder}`, backend: 'wasm', epochs: 1 }, runsDir: tempRunsDir() }, { output: collectingOutput() });
    assert.equal(run.status, 'failed');
    assert.ok(Date.now() - started < 60_000);
    const side = largestWasmSide(defaultConfig('chainer-mlp'));
    assert.match(
      run.message ?? '',
      new RegExp(
        `^This run does not fit in memory: chainer-mlp on 600×600 images has 360\\.\\d M parameters: about [\\d.]+ GB for them .*, and [\\d.]+ MB for 5 images\\. ` +
          `The wasm backend holds everything but the data in one WebAssembly memory of at most 4\\.3 GB, and this needs about [\\d.]+ GB\\. ` +
          `To train, use images of at most ${side}×${side} \\(downscale the data set\\), train and test on fewer images \\(trainLimit, testLimit\\), or train with native TensorFlow`,
      ),
    );
    assert.equal((await readRun(run.runDir)).info.status, 'failed');
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});

test('a custom network too large for wasm is refused with its numbers, and the first remedy is a smaller network', () => {
  const config = { ...defaultConfig(), model: 'custom' as const, encoder: [{ type: 'dense' as const, units: 60000 }], decoder: [{ type: 'dense' as const, units: 60000 }] };
  const message = memoryRefusal(config, [28, 28, 1], 70000, 'wasm') ?? '';
  assert.match(message, /^This run does not fit in memory: custom on 28×28 images has [\d.]+ M parameters: about [\d.]+ GB for them/);
  assert.match(message, /To train, make the network smaller \(fewer units or filters in its widest layers, or a stride-2 layer earlier\), use smaller images, /);
  assert.equal(memoryRefusal({ ...config, encoder: [{ type: 'dense', units: 500 }], decoder: [{ type: 'dense', units: 500 }] }, [28, 28, 1], 70000, 'wasm'), undefined);
});
