/**
 * Guards for what the fast steps take from TensorFlow.js internals (src/trainer/fast/wasmHeap.ts):
 * the exact versions, the heap layout of wasm tensors, the backend's WebAssembly.Memory, the SIMD
 * Adam compiled against it, and XNNPACK's caching of the B operand (the reason weights are only
 * ever A operands). An upgrade that changes any of them fails here, by name.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../../src/trainer/backend';
import { PINNED_TFJS_VERSION, checkWasmInternals, heapView, wasmMemory } from '../../src/trainer/fast/wasmHeap';
import { AdamState, DEFAULT_ADAM } from '../../src/trainer/fast/adam';
import { simdAdamFor } from '../../src/trainer/fast/simdAdam';

before(async () => {
  await selectBackend('wasm', { threads: 1 });
});

test('TensorFlow.js core and wasm backend are the pinned version', () => {
  assert.equal(tf.version_core, PINNED_TFJS_VERSION, 'tfjs-core upgraded: re-check src/trainer/fast/wasmHeap.ts and update PINNED_TFJS_VERSION');
  assert.equal(version_wasm, PINNED_TFJS_VERSION, 'tfjs-backend-wasm upgraded: re-check src/trainer/fast/wasmHeap.ts');
});

test('wasm tensor memory is reachable and shared with kernels both ways', () => {
  assert.equal(checkWasmInternals(), null);
  const t = tf.tensor2d([1, 2, 3, 4], [2, 2]);
  const v = heapView(t);
  assert.deepEqual(Array.from(v), [1, 2, 3, 4]);
  assert.equal(v.buffer, wasmMemory().buffer, 'heap views lie in the backend memory');
  t.dispose();
});

test('the SIMD Adam compiles against the backend memory and equals tf.train.adam bit for bit', () => {
  assert.ok(simdAdamFor(wasmMemory()), 'WebAssembly SIMD Adam did not compile');
  const n = 4096;
  const p0 = new Float32Array(n).map((_, i) => Math.sin(i));
  const g = tf.tensor1d(new Float32Array(n).map((_, i) => Math.cos(i * 0.7) * 10 ** ((i % 9) - 8)));
  const p = tf.tensor1d(p0);
  const m = tf.zeros([n]);
  const v = tf.zeros([n]);
  const adam = new AdamState(DEFAULT_ADAM);
  assert.ok(adam.usesSimd);
  const ref = tf.variable(tf.tensor1d(p0));
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  for (let s = 0; s < 5; s++) {
    adam.updateTensors(p, g, null, m, v);
    adam.advance();
    opt.applyGradients([{ name: ref.name, tensor: g }]);
  }
  assert.deepEqual(Array.from(heapView(p)), Array.from(ref.dataSync()));
  tf.dispose([p, g, m, v, ref]);
  opt.dispose();
});

test('XNNPACK caches a matMul B operand per tensor: writing a used B in place gives stale products', () => {
  // The fast steps rely on this being exactly the hazard it is: they never write into a tensor
  // after it served as B. If an upgrade stops caching, the layout notes in dense.ts are stale (and
  // the B-repacking cost they avoid may be gone); if it caches A too, the in-place Adam is wrong.
  const a = tf.tensor2d([1, 0, 0, 1], [2, 2]);
  const b = tf.tensor2d([1, 2, 3, 4], [2, 2]);
  const first = tf.matMul(a, b);
  heapView(b).set([10, 20, 30, 40]);
  const second = tf.matMul(a, b);
  assert.deepEqual(Array.from(second.dataSync()), Array.from(first.dataSync()), 'B operand no longer cached: revisit src/trainer/fast/dense.ts');
  heapView(a).set([2, 0, 0, 2]);
  const third = tf.matMul(a, b);
  assert.deepEqual(Array.from(third.dataSync()), [2, 4, 6, 8], 'A operand must be read fresh each product');
  tf.dispose([a, b, first, second, third]);
});
