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
import { architectureOf, type ModelName, type TrainConfig } from '../shared/config';
import { planNetwork, type NetworkPlan, type Shape } from '../shared/architecture';
import { formatBytes } from '../node/leftovers';

/** The wasm backend's heap ceiling (tfjs-backend-wasm's getHeapMax). */
export const WASM_HEAP_MAX = 4294901760;
/** Measured for the presets; a custom network is counted like chainer-mlp, the larger of the two. */
const WASM_BYTES_PER_PARAMETER: Record<ModelName, number> = { 'chainer-mlp': 135, 'deep-bn': 128, custom: 135 };
const NATIVE_BYTES_PER_PARAMETER = 16;
/** Rows of one test-pass chunk (evaluate.ts) and the backend's own start-up allocation. */
const EVAL_ROWS = 500;
const BASE_BYTES = 64 << 20;

type Network = Pick<TrainConfig, 'model' | 'encoder' | 'decoder' | 'dimz' | 'likelihood'>;

/** The network's plan on images of `shape`, or the reason it does not fit them. */
export function networkPlan(config: Network, shape: Shape): NetworkPlan {
  const result = planNetwork(architectureOf(config), shape, config.dimz, config.likelihood);
  if (!result.ok) throw new Error(`The network does not fit ${shape.join('×')} images: ${result.errors.join('; ')}`);
  return result.plan;
}

/** Trainable parameters of the network on images of `shape` (weights, biases, normalization scales and shifts, a learned σ). */
export function parameterCount(config: Network, shape: Shape): number {
  return networkPlan(config, shape).parameters;
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

type Sizing = Network & Pick<TrainConfig, 'batchSize' | 'trainSamples'>;

export function estimateMemory(config: Sizing, shape: Shape, images: number, backend: string): MemoryEstimate {
  const plan = networkPlan(config, shape);
  const pixels = shape[0] * shape[1] * shape[2];
  const parameters = plan.parameters;
  const modelBytes = parameters * (backend === 'wasm' ? WASM_BYTES_PER_PARAMETER[config.model] : NATIVE_BYTES_PER_PARAMETER);
  const rows = Math.max(config.batchSize * config.trainSamples, EVAL_ROWS);
  // Per row: the input, the output and their gradients (4 × pixels), and each hidden layer's values, kept for the backward pass, with their gradients and a temporary.
  const activationBytes = 4 * rows * (4 * pixels + 3 * (plan.activations - pixels));
  const dataBytes = images * pixels * 5;
  return { parameters, modelBytes, activationBytes, dataBytes, backendBytes: modelBytes + activationBytes + BASE_BYTES };
}

/** The largest square side (with the run's channels) that fits the wasm heap for this config, or 0 when none does or the network fixes its size. */
export function largestWasmSide(config: Sizing, channels = 1): number {
  const fits = (side: number): boolean => {
    try {
      return estimateMemory(config, [side, side, channels], 0, 'wasm').backendBytes <= WASM_HEAP_MAX;
    } catch {
      return false;
    }
  };
  let lo = 0;
  let hi = 4096;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Why this run cannot fit, with the numbers and what to change; undefined when it fits. `images`
 * counts the training and test images that will be loaded (after trainLimit/testLimit).
 */
export function memoryRefusal(config: Sizing, shape: Shape, images: number, backend: string, machineBytes = totalmem()): string | undefined {
  const [height, width, channels] = shape;
  const e = estimateMemory(config, shape, images, backend);
  const side = { width, height };
  const parts =
    `${config.model} on ${side.width}×${side.height}${channels === 3 ? ' RGB' : ''} images has ${(e.parameters / 1e6).toFixed(1)} M parameters: about ${formatBytes(e.modelBytes)} ` +
    `for them with their gradients and optimizer state, ${formatBytes(e.activationBytes)} of activations, and ${formatBytes(e.dataBytes)} for ${images} images`;
  const smaller = backend === 'wasm' && config.model !== 'custom' ? largestWasmSide(config, channels) : 0;
  const fixes = [
    ...(config.model === 'custom' ? ['make the network smaller (fewer units or filters in its widest layers, or a stride-2 layer earlier)'] : []),
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

/** The line a run logs before training: parameters, FLOPs per image and the memory estimate. */
export function describeNetwork(config: Sizing, shape: Shape, images: number, backend: string): string {
  const plan = networkPlan(config, shape);
  const e = estimateMemory(config, shape, images, backend);
  const flops = plan.flops >= 1e9 ? `${(plan.flops / 1e9).toFixed(2)} GFLOPs` : `${(plan.flops / 1e6).toFixed(2)} MFLOPs`;
  return (
    `${config.model} network: ${plan.parameters.toLocaleString('en-US')} parameters, ${flops} per image forward, ` +
    `about ${formatBytes(e.backendBytes)} for the backend and ${formatBytes(e.dataBytes)} for the data`
  );
}
