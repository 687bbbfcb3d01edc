/**
 * Loads Dawn's Node binding (dawn.node, from the npm package `webgpu`), the WebGPU implementation
 * the webgpu backend runs on. A packaged VAE Lens carries its platform's binary in dist/dawn/;
 * a source checkout uses the package's own copy.
 *
 * Desktop VS Code forks the trainer with its Electron-built Node, whose ABI differs from Node's:
 * only an N-API module loads in both. The binary is checked for N-API's entry point before it is
 * loaded (loading a binary built for another ABI can crash the process instead of throwing), and
 * the log says which runtime loaded it.
 */
import { createRequire } from 'node:module';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** What dawn.node exports: `create(flags)` gives a `navigator.gpu`; `globals` are GPUBufferUsage & co. */
export interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

export interface LoadedDawn {
  module: DawnModule;
  file: string;
  /** e.g. "Node v20.20.2 (N-API 9)", "Electron 34.5.8 (Node v20.19.1, N-API 9)". */
  runtime: string;
}

export class DawnLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DawnLoadError';
  }
}

/** The folder name the package uses for this machine's binary: darwin-universal, linux-x64, win32-arm64, … */
export function dawnPlatformDir(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  return platform === 'darwin' ? 'darwin-universal' : `${platform}-${arch}`;
}

/** Where dawn.node may be, in order: beside the bundle (dist/dawn/…), VAE_LENS_ROOT's dist, the `webgpu` package. */
export function dawnCandidates(): string[] {
  const dir = dawnPlatformDir();
  const out = [join(__dirname, 'dawn', dir, 'dawn.node')];
  if (process.env.VAE_LENS_ROOT) out.push(join(process.env.VAE_LENS_ROOT, 'dist', 'dawn', dir, 'dawn.node'));
  try {
    out.push(join(dirname(require.resolve('webgpu/package.json')), 'dist', dir, 'dawn.node'));
  } catch {
    // Not a source checkout: only the packaged copy can exist.
  }
  return out;
}

/** The symbol every N-API module exports; modules built against one Node ABI export node_register_module_v<N> instead. */
const NAPI_ENTRY = Buffer.from('napi_register_module_v1');

/** True when the file contains N-API's registration symbol (read in chunks: the binary is ~20 MB). */
export function isNapiModule(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(1 << 20);
    const overlap = NAPI_ENTRY.length - 1;
    let carry = Buffer.alloc(0);
    for (let pos = 0; ; ) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n <= 0) return false;
      const window = Buffer.concat([carry, chunk.subarray(0, n)]);
      if (window.includes(NAPI_ENTRY)) return true;
      carry = window.subarray(Math.max(0, window.length - overlap));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** The JavaScript runtime of this process, as the log names it. */
export function runtimeName(versions: NodeJS.ProcessVersions = process.versions): string {
  const napi = versions.napi ? `N-API ${versions.napi}` : 'no N-API';
  return versions.electron ? `Electron ${versions.electron} (Node v${versions.node}, ${napi})` : `Node v${versions.node} (${napi})`;
}

let loaded: LoadedDawn | undefined;

/** Loads dawn.node once; throws DawnLoadError with the reason (never crashes) when it cannot be used. */
export function loadDawn(candidates: string[] = dawnCandidates()): LoadedDawn {
  if (loaded) return loaded;
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    throw new DawnLoadError(
      `Dawn's WebGPU binary for ${dawnPlatformDir()} is not part of this install (looked in ${candidates.join(', ')}). ` +
        'Install the VAE Lens package built for this platform, or choose backend "wasm".',
    );
  }
  if (statSync(file).size === 0 || !isNapiModule(file)) {
    throw new DawnLoadError(`${file} is not an N-API module, so it cannot be loaded safely by ${runtimeName()}; reinstall VAE Lens or choose backend "wasm".`);
  }
  let module: DawnModule;
  try {
    module = createRequire(__filename)(file) as DawnModule;
  } catch (e) {
    throw new DawnLoadError(`${file} could not be loaded by ${runtimeName()}: ${(e as Error).message}`);
  }
  if (typeof module.create !== 'function' || typeof module.globals !== 'object') {
    throw new DawnLoadError(`${file} loaded but does not export Dawn's create() and globals.`);
  }
  loaded = { module, file, runtime: runtimeName() };
  return loaded;
}
