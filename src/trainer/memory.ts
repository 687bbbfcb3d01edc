/**
 * How much memory a run will need, estimated before anything large is allocated, so that a data set
 * too large for the backend is refused at once with the numbers instead of failing minutes later
 * inside WebAssembly ("memory access out of bounds"). The image size is the lever: both models have
 * one weight matrix each way between every pixel and a hidden layer, so parameters grow with
 * width × height.
 *
 * The wasm backend's memory is a 32-bit WebAssembly heap of at most 4 GiB − 64 KiB for all tensors:
 * weights, gradients, Adam's moments, XNNPACK's packed copies, activations, and the heap's growth
 * slack. Measured high-water marks at 100×100 images (three training steps, batch 100, then a
 * test pass): chainer-mlp 129 bytes per parameter (131 at 150×150), deep-bn 122; 200×200 chainer-mlp (40 M
 * parameters) aborts. Native TensorFlow has no such ceiling; there the estimate counts weights,
 * gradients and Adam's two moments (16 bytes per parameter) against the machine's memory.
 */
import { totalmem } from 'node:os';
import type { ModelName, TrainConfig } from '../shared/config';
import { formatBytes } from '../node/leftovers';

/** The wasm backend's heap ceiling (tfjs-backend-wasm's getHeapMax). */
export const WASM_HEAP_MAX = 4294901760;
const WASM_BYTES_PER_PARAMETER: Record<ModelName, number> = { 'chainer-mlp': 135, 'deep-bn': 128 };
const NATIVE_BYTES_PER_PARAMETER = 16;
const HIDDEN: Record<ModelName, number> = { 'chainer-mlp': 500, 'deep-bn': 600 };
/** Rows of one test-pass chunk (evaluate.ts) and the backend's own start-up allocation. */
const EVAL_ROWS = 500;
const BASE_BYTES = 64 << 20;

/** Trainable parameters of a model for `pixels` inputs (weights and biases; batch-norm scales and shifts). */
export function parameterCount(model: ModelName, pixels: number, dimz: number): number {
  const linear = (i: number, o: number) => i * o + o;
  const H = HIDDEN[model];
  if (model === 'chainer-mlp') return linear(pixels, H) + 2 * linear(H, dimz) + linear(dimz, H) + linear(H, pixels);
  const block = (i: number) => linear(i, H) + 2 * H;
  return block(pixels) + block(H) + 2 * linear(H, dimz) + block(dimz) + block(H) + linear(H, pixels);
}

/** A run refused because it cannot fit in memory; the message has the numbers and the fixes. */
export class MemoryError extends Error {
  override readonly name = 'MemoryError';
}

export interface MemoryEstimate {
  parameters: number;
  /** Weights, gradients, optimizer state and working copies. */
  modelBytes: number;
  /** Largest activations: a training batch (× z samples) and a test-pass chunk. */
  activationBytes: number;
  /** The data set as 32-bit floats plus its decoded bytes while it is read (JavaScript memory). */
  dataBytes: number;
  /** What the backend's own memory must hold (model + activations + its start-up). */
  backendBytes: number;
}

type Sizing = Pick<TrainConfig, 'model' | 'dimz' | 'batchSize' | 'trainSamples'>;

export function estimateMemory(config: Sizing, pixels: number, images: number, backend: string): MemoryEstimate {
  const parameters = parameterCount(config.model, pixels, config.dimz);
  const modelBytes = parameters * (backend === 'wasm' ? WASM_BYTES_PER_PARAMETER[config.model] : NATIVE_BYTES_PER_PARAMETER);
  const rows = Math.max(config.batchSize * config.trainSamples, EVAL_ROWS);
  const activationBytes = 4 * rows * (4 * pixels + 6 * HIDDEN[config.model]);
  const dataBytes = images * pixels * 5;
  return { parameters, modelBytes, activationBytes, dataBytes, backendBytes: modelBytes + activationBytes + BASE_BYTES };
}

/** The largest square side that fits the wasm heap for this config, or 0 when none does. */
export function largestWasmSide(config: Sizing): number {
  let lo = 0;
  let hi = 4096;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (estimateMemory(config, mid * mid, 0, 'wasm').backendBytes <= WASM_HEAP_MAX) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Why this run cannot fit, with the numbers and what to change; undefined when it fits. `images`
 * counts the training and test images that will be loaded (after trainLimit/testLimit).
 */
export function memoryRefusal(config: Sizing, side: { width: number; height: number }, images: number, backend: string, machineBytes = totalmem()): string | undefined {
  const pixels = side.width * side.height;
  const e = estimateMemory(config, pixels, images, backend);
  const parts =
    `${config.model} on ${side.width}×${side.height} images has ${(e.parameters / 1e6).toFixed(1)} M parameters: about ${formatBytes(e.modelBytes)} ` +
    `for them with their gradients and optimizer state, ${formatBytes(e.activationBytes)} of activations, and ${formatBytes(e.dataBytes)} for ${images} images`;
  const smaller = backend === 'wasm' ? largestWasmSide(config) : 0;
  const fixes = [
    smaller > 0 ? `use images of at most ${smaller}×${smaller} (downscale the data set)` : 'use smaller images',
    'train and test on fewer images (trainLimit, testLimit)',
  ];
  if (backend === 'wasm' && e.backendBytes > WASM_HEAP_MAX) {
    fixes.push('or train with native TensorFlow, which has no 4 GB ceiling (backend "tensorflow", with the @tensorflow/tfjs-node package installed)');
    return `This run does not fit in memory: ${parts}. The wasm backend holds everything but the data in one WebAssembly memory of at most ${formatBytes(WASM_HEAP_MAX)}, and this needs about ${formatBytes(e.backendBytes)}. To train, ${fixes.join(', ')}.`;
  }
  const total = e.backendBytes + e.dataBytes;
  if (total > machineBytes) {
    return `This run does not fit in memory: ${parts}, about ${formatBytes(total)} in all, more than this machine's ${formatBytes(machineBytes)}. To train, ${fixes.join(', ')}.`;
  }
  return undefined;
}
