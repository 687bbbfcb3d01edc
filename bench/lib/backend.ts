/** Loads the wasm backend for the benchmark (and the fast-step tests), from dist/wasm or node_modules. */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function wasmDir(): string {
  const candidates = [join(__dirname, 'wasm'), join(process.cwd(), 'dist', 'wasm'), join(process.cwd(), 'node_modules/@tensorflow/tfjs-backend-wasm/dist')];
  const dir = candidates.find((d) => existsSync(join(d, 'tfjs-backend-wasm-simd.wasm')));
  if (dir === undefined) throw new Error(`tfjs wasm binaries not found in ${candidates.join(', ')}`);
  return dir + '/';
}

export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  if (name === 'wasm') setWasmPaths(wasmDir());
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not load`);
  await tf.ready();
}

/** Referenced so the bundler keeps the cpu backend's registration. */
export const cpuVersion = version_cpu;
