/**
 * Direct access to the memory behind TensorFlow.js wasm tensors.
 *
 * The fast training steps do their elementwise work and Adam in JavaScript, reading and writing
 * the wasm heap in place instead of issuing one kernel (and one allocation) per operation. That
 * relies on internals of @tensorflow/tfjs-backend-wasm (`backend.dataIdMap`, `memoryOffset`,
 * `backend.wasm.HEAPU8`), so it is pinned to the exact version below and `checkWasmInternals`
 * fails loudly (test/trainer/fastInternals.test.ts) when an upgrade changes them.
 *
 * Rules that keep this safe:
 * - A heap view is only valid until the next TensorFlow.js call: any kernel may grow the wasm
 *   memory, which detaches the old ArrayBuffer. `heapView` makes a fresh view each call.
 * - XNNPACK caches the packed B (second) operand of a matMul per tensor id. A tensor whose memory
 *   is written in place must never be a matMul's B operand, or the product uses stale packed data.
 *   The fast steps only write in place into tensors that are A operands (weights) or that have not
 *   yet been used by any kernel.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The one version whose internals this file was written against. */
export const PINNED_TFJS_VERSION = '4.22.0';

/**
 * The WebAssembly API as far as VAE Lens uses it. The trainer's TypeScript config has no DOM lib,
 * and @types/node does not declare the global, so it is typed here and read from globalThis.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
export interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
export const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

interface WasmModule {
  HEAPU8: Uint8Array;
  asm: { memory: WasmMemory };
}
interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: string;
}
interface WasmBackendInternals {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): WasmTensorData | undefined };
}

function wasmBackend(): WasmBackendInternals {
  const backend = tf.backend() as unknown as WasmBackendInternals;
  return backend;
}

/** A Float32Array over the tensor's own wasm memory (no copy). Valid until the next tfjs call. */
export function heapView(t: tf.Tensor): Float32Array {
  const backend = wasmBackend();
  const data = backend.dataIdMap.get(t.dataId);
  if (data === undefined) throw new Error('VAE Lens fast step: tensor is not on the wasm backend (disposed?)');
  return new Float32Array(backend.wasm.HEAPU8.buffer, data.memoryOffset, t.size);
}

/** The byte offset of the tensor's data in the wasm memory (for the SIMD kernels). */
export function heapOffset(t: tf.Tensor): number {
  const data = wasmBackend().dataIdMap.get(t.dataId);
  if (data === undefined) throw new Error('VAE Lens fast step: tensor is not on the wasm backend (disposed?)');
  return data.memoryOffset;
}

/** The backend's WebAssembly.Memory (the SIMD kernels import it). */
export function wasmMemory(): WasmMemory {
  return wasmBackend().wasm.asm.memory;
}

/**
 * Verifies that the running TensorFlow.js is the pinned version with the internals used here.
 * Returns null when usable, else the reason (the fast step then stays off and the stock step runs).
 */
export function checkWasmInternals(): string | null {
  if (tf.version_core !== PINNED_TFJS_VERSION) {
    return `tfjs-core ${tf.version_core} is not the pinned ${PINNED_TFJS_VERSION}`;
  }
  if (tf.getBackend() !== 'wasm') return `backend is ${tf.getBackend()}, not wasm`;
  const backend = wasmBackend();
  if (backend.wasm?.HEAPU8 === undefined || typeof backend.dataIdMap?.get !== 'function') {
    return 'wasm backend internals (wasm.HEAPU8, dataIdMap) not found';
  }
  if (!(backend.wasm.asm?.memory instanceof webAssembly.Memory) || backend.wasm.asm.memory.buffer !== backend.wasm.HEAPU8.buffer) {
    return 'wasm backend memory (wasm.asm.memory) not found';
  }
  // Round trip: what a kernel writes must be visible through the view, and a write through the
  // view must be seen by the next kernel.
  const t = tf.tensor1d([1, 2, 3]);
  const u = tf.add(t, 1);
  try {
    const v = heapView(u);
    if (v.length !== 3 || v[0] !== 2 || v[2] !== 4) return 'heap view does not show kernel output';
    v[1] = 10;
    const w = tf.mul(u, 2);
    const got = w.dataSync();
    w.dispose();
    if (got[1] !== 20) return 'write through heap view not seen by the next kernel';
  } finally {
    t.dispose();
    u.dispose();
  }
  return null;
}
