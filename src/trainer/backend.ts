/**
 * Chooses the TensorFlow.js backend: WebGPU on a hardware adapter, native TensorFlow (GPU, then
 * CPU) when its optional package is installed, else WebAssembly, else plain JavaScript. A forced
 * backend that cannot load is an error that says why, never a silent fallback.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import './gradients';
// Importing a binding (not a bare import) keeps the module, whose loading registers the backend.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { BackendChoice } from '../shared/config';
import type { RunEnvironment } from '../shared/run';
import { startWebGpu } from './webgpu';

export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}

type Concrete = Exclude<BackendChoice, 'auto'>;
/** `auto` skips a software WebGPU adapter (slower than wasm); asking for webgpu by name uses it. */
const AUTO_ORDER: Concrete[] = ['webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendOptions {
  /** wasm threads; 0 = the backend's default. */
  threads?: number;
  /** Human-readable log lines (the trainer sends them to stderr). */
  log?: (line: string) => void;
}

const NATIVE_PACKAGE: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/** Runs fn while collecting what TensorFlow.js prints with console.warn, so it can be logged or reported. */
async function capturingWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ').trim());
  };
  try {
    return { result: await fn(), warnings };
  } finally {
    console.warn = original;
  }
}

/** Environment variable naming a folder (a project, or its node_modules) to load native TensorFlow from. */
export const NATIVE_MODULES_ENV = 'VAE_LENS_NATIVE_MODULES';

/**
 * Requires a native backend package from VAE Lens's own install, then from the folder that
 * VAE_LENS_NATIVE_MODULES names: never from the folder the trainer runs in, where a cloned
 * repository's node_modules would run its code inside the trainer. tfjs-core keeps its engine and
 * kernel registry in a global, so a backend registered by the package's own copy of tfjs-core is
 * visible to the trainer's.
 */
function loadNative(choice: 'tensorflow-gpu' | 'tensorflow'): string {
  const pkg = NATIVE_PACKAGE[choice];
  const named = process.env[NATIVE_MODULES_ENV];
  const requirers: NodeJS.Require[] = [require];
  if (named) requirers.push(createRequire(join(resolve(named), 'noop.js')));
  for (const req of requirers) {
    try {
      req(pkg);
      return (req(`${pkg}/package.json`) as { version: string }).version;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(pkg)) {
        continue;
      }
      throw new BackendError(`${pkg} could not be loaded: ${err.message}`);
    }
  }
  throw new BackendError(
    `${pkg} is not installed with VAE Lens${named ? ` nor in ${NATIVE_MODULES_ENV}=${named}` : ''}. It is an optional dependency whose install downloads the TensorFlow library; ` +
      `install it where the internet is reachable (npm install ${pkg}@${tf.version_core} in VAE Lens's folder ${dirname(__dirname)}, or in a folder you name with ${NATIVE_MODULES_ENV}), ` +
      'or choose backend "webgpu" or "wasm".',
  );
}

/** Where the wasm binaries are: dist/wasm beside the bundle (an installed extension), else the package. */
export function findWasmDir(): string {
  const candidates = [join(__dirname, 'wasm')];
  if (process.env.VAE_LENS_ROOT) candidates.push(join(process.env.VAE_LENS_ROOT, 'dist', 'wasm'));
  try {
    candidates.push(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'));
  } catch {
    // Not in a development checkout: only dist/wasm can hold them.
  }
  const found = candidates.find((d) => existsSync(join(d, 'tfjs-backend-wasm.wasm')));
  if (!found) throw new BackendError(`The WebAssembly binaries (tfjs-backend-wasm.wasm) were not found in ${candidates.join(', ')}.`);
  return found;
}

/** The GPU's name from nvidia-smi, where it is installed (TensorFlow.js does not report the device). */
function gpuName(): string {
  try {
    const names = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { timeout: 3000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n').map((l) => l.trim()).filter(Boolean);
    if (names.length) return `${names[0]}${names.length > 1 ? ` (+${names.length - 1} more)` : ''} (CUDA)`;
  } catch {
    // No nvidia-smi: the name is unknown, the backend still works.
  }
  return 'GPU (CUDA)';
}

/** @param forced the backend was asked for by name: webgpu then runs on a software adapter too. */
async function activate(choice: Concrete, options: BackendOptions, forced: boolean): Promise<RunEnvironment> {
  const base = { tfjsVersion: tf.version_core, node: process.version, platform: `${process.platform}-${process.arch}`, hostname: hostname() };
  const cpuModel = cpus()[0]?.model?.trim() ?? 'CPU';
  if (choice === 'webgpu') {
    const started = await startWebGpu(forced).catch((e: Error) => {
      throw new BackendError(e.message);
    });
    const a = started.adapter;
    options.log?.(`webgpu: Dawn's dawn.node (N-API) loaded by ${started.dawn.runtime} from ${started.dawn.file}`);
    if (a.software) options.log?.(`webgpu: ${a.display} is a software renderer: expect training slower than the wasm backend.`);
    return {
      ...base,
      backend: 'webgpu',
      backendVersion: tf.version_core,
      device: a.display,
      adapter: { name: a.name, api: a.api, vendor: a.vendor, architecture: a.architecture, description: a.description, software: a.software },
    };
  }
  if (choice === 'tensorflow-gpu' || choice === 'tensorflow') {
    const version = loadNative(choice);
    const { result: ok, warnings } = await capturingWarnings(() =>
      tf.setBackend('tensorflow').catch((e: Error) => {
        throw new BackendError(`${NATIVE_PACKAGE[choice]} loaded but registered no TensorFlow backend (${e.message}); is it version ${tf.version_core}?`);
      }),
    );
    if (!ok) throw new BackendError(`${NATIVE_PACKAGE[choice]} loaded but its backend did not start: ${warnings.join(' ') || 'no reason given'}`);
    return {
      ...base,
      backend: 'tensorflow',
      backendVersion: version,
      device: choice === 'tensorflow-gpu' ? gpuName() : `${cpuModel} (TensorFlow native)`,
    };
  }
  if (choice === 'wasm') {
    const dir = findWasmDir();
    setWasmPaths(dir.endsWith('/') ? dir : dir + '/');
    if (options.threads && options.threads > 0) setThreadsCount(options.threads);
    const { result: ok, warnings } = await capturingWarnings(() => tf.setBackend('wasm'));
    if (!ok) throw new BackendError(`The WebAssembly backend did not start: ${warnings.join(' ') || 'no reason given'}`);
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = getThreadsCount();
    return {
      ...base,
      backend: 'wasm',
      backendVersion: version_wasm,
      device: `${cpuModel} (wasm${simd ? ', SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'})`,
      threads,
    };
  }
  const { result: ok, warnings } = await capturingWarnings(async () => {
    const started = await tf.setBackend('cpu');
    // The cpu backend greets on its first tensor; let that happen here, where it is captured.
    if (started) tf.tensor1d([0]).dispose();
    return started;
  });
  if (!ok) throw new BackendError(`The JavaScript cpu backend did not start: ${warnings.join(' ') || 'no reason given'}`);
  if (warnings.length) options.log?.('cpu backend: pure JavaScript, the slowest choice; the tensorflow (native) or wasm backends are much faster.');
  return { ...base, backend: 'cpu', backendVersion: version_cpu, device: `${cpuModel} (JavaScript)` };
}

/**
 * Activates the backend. `auto` tries webgpu (hardware adapters only), tensorflow-gpu, tensorflow,
 * wasm, cpu in order and logs why each skipped one did not load; a forced choice fails with its reason.
 */
export async function selectBackend(choice: BackendChoice, options: BackendOptions = {}): Promise<RunEnvironment> {
  if (choice !== 'auto') return activate(choice, options, true);
  const reasons: string[] = [];
  for (const candidate of AUTO_ORDER) {
    try {
      const env = await activate(candidate, options, false);
      // One short line per skipped backend: the full advice only matters when a backend is forced.
      for (const r of reasons) options.log?.(`backend: skipped ${r.split('. ')[0]}`);
      options.log?.(`backend: ${env.backend} on ${env.device}`);
      return env;
    } catch (e) {
      reasons.push(`${candidate}: ${(e as Error).message}`);
    }
  }
  throw new BackendError(`No TensorFlow.js backend could be loaded:\n${reasons.join('\n')}`);
}
