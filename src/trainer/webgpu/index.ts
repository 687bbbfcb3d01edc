/**
 * The webgpu backend: TensorFlow.js's WebGPU backend on Dawn (Metal on macOS, Vulkan on Linux,
 * D3D12 on Windows). Names the adapter, refuses a software adapter unless it was asked for by name,
 * and registers TensorFlow.js's backend on the very adapter it named.
 *
 * Under Node, TensorFlow.js cannot read a WebGPU tensor synchronously (`dataSync` needs an
 * OffscreenCanvas): everything on this path reads tensors with `await t.data()`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { describeAdapter, type AdapterDescription, type AdapterInfoLike } from './adapter';
import { DawnLoadError, loadDawn, type LoadedDawn } from './dawn';

export { DawnLoadError } from './dawn';
export { describeAdapter, type AdapterDescription } from './adapter';

export interface WebGpuStart {
  adapter: AdapterDescription;
  dawn: Pick<LoadedDawn, 'file' | 'runtime'>;
  /** The adapter's features that the backend enabled on its device (timestamp-query lets tf.profile time kernels). */
  features: string[];
}

/** Why the backend was not started, in words that say what to do. */
export class WebGpuUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebGpuUnavailable';
  }
}

let gpu: GPU | undefined;

/** navigator.gpu from Dawn, with Dawn's globals (GPUBufferUsage, …) installed for TensorFlow.js. */
function dawnGpu(dawn: LoadedDawn): GPU {
  if (gpu) return gpu;
  Object.assign(globalThis, dawn.module.globals);
  gpu = dawn.module.create([]);
  // Node ≥ 21 has a navigator without gpu; keep what it has and add Dawn's.
  const existing = (globalThis as { navigator?: object }).navigator ?? {};
  Object.defineProperty(globalThis, 'navigator', { value: Object.assign(Object.create(existing), { gpu }), configurable: true, writable: true });
  return gpu;
}

function noAdapterAdvice(platform: NodeJS.Platform): string {
  if (platform === 'linux') {
    // NVIDIA's Vulkan driver is libGLX_nvidia.so.0, which loads only beside libglvnd: a headless
    // server with the driver but without libglvnd has a Vulkan ICD that the loader cannot open.
    return 'Dawn found no Vulkan device: install the Vulkan loader (libvulkan1) and your GPU\'s Vulkan driver (NVIDIA\'s driver, or Mesa\'s mesa-vulkan-drivers); ' +
      'NVIDIA\'s Vulkan driver also needs libglvnd (Debian and Ubuntu: libglvnd0 libglx0 libegl1), which headless servers often lack; a software renderer needs Mesa 25 or later.';
  }
  if (platform === 'win32') return 'Dawn found no Direct3D 12 device: update the GPU driver.';
  return 'Dawn found no Metal device.';
}

/**
 * Starts TensorFlow.js's webgpu backend on the system's high-performance adapter. With
 * `allowSoftware` false (what `auto` passes), a software adapter is refused with WebGpuUnavailable
 * before any device is created.
 */
export async function startWebGpu(allowSoftware: boolean): Promise<WebGpuStart> {
  let dawn: LoadedDawn;
  try {
    dawn = loadDawn();
  } catch (e) {
    throw new WebGpuUnavailable((e as DawnLoadError).message);
  }
  const adapter = await dawnGpu(dawn).requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new WebGpuUnavailable(`No WebGPU adapter. ${noAdapterAdvice(process.platform)}`);
  // Dawn has GPUAdapter.info; the WebGPU type declarations TensorFlow.js pins predate it.
  const info = (adapter as GPUAdapter & { info: AdapterInfoLike & GPUAdapterInfo }).info;
  const described = describeAdapter(info, process.platform);
  if (described.software && !allowSoftware) {
    throw new WebGpuUnavailable(
      `The only WebGPU adapter is ${described.display}, a software renderer that trains slower than wasm; choose backend "webgpu" to use it anyway.`,
    );
  }
  // The same device TensorFlow.js's own factory would create, but on the adapter named above.
  const features = (['timestamp-query', 'bgra8unorm-storage'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  });
  // Loaded here, after navigator.gpu exists: the package registers its own factory on load only then,
  // and that one is replaced by a factory for the device above.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { WebGPUBackend: Backend } = require('@tensorflow/tfjs-backend-webgpu') as typeof import('@tensorflow/tfjs-backend-webgpu');
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new Backend(device, info), 3);
  if (!(await tf.setBackend('webgpu'))) throw new WebGpuUnavailable(`TensorFlow.js's webgpu backend did not start on ${described.display}.`);
  return { adapter: described, dawn: { file: dawn.file, runtime: dawn.runtime }, features };
}

/** GPU buffers the webgpu backend holds for live tensors (its buffer manager's count), or null on another backend. */
export function webGpuBufferCount(): number | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return (tf.backend() as WebGPUBackend).bufferManager.getNumUsedBuffers();
}
