/**
 * How the webgpu backend names adapters and checks Dawn's binary, without starting a GPU: the
 * naming rules on adapter infos as Dawn reports them, the binary checks on real files, and the
 * built trainer falling back when the binary beside it cannot be loaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeAdapter, humanizeDeviceName } from '../../src/trainer/webgpu/adapter';
import { dawnCandidates, dawnPlatformDir, isNapiModule, loadDawn, runtimeName } from '../../src/trainer/webgpu/dawn';
import { CLI_JS, ROOT, runCli } from './support';

test('adapters are named as users know them, with the API Dawn drives them through', () => {
  assert.equal(describeAdapter({ vendor: 'apple', architecture: 'metal-3', device: 'Apple M2', description: 'Metal driver on macOS Version 14.5' }, 'darwin').display, 'Apple M2 (Metal)');
  assert.equal(describeAdapter({ vendor: 'nvidia', architecture: 'hopper', device: 'nvidia-h200', description: 'NVIDIA: 550.54.15 550.54.15.0' }, 'linux').display, 'NVIDIA H200 (Vulkan)');
  assert.equal(describeAdapter({ vendor: 'nvidia', architecture: 'ada', device: 'NVIDIA GeForce RTX 4090', description: '' }, 'win32').display, 'NVIDIA GeForce RTX 4090 (D3D12)');
  assert.equal(humanizeDeviceName('nvidia-geforce-rtx-4090'), 'NVIDIA GeForce RTX 4090');
  assert.equal(humanizeDeviceName('apple-m2-pro'), 'Apple M2 Pro');
  // No device name: the description's first part, else vendor and architecture.
  assert.equal(describeAdapter({ vendor: 'amd', architecture: 'rdna-3', device: '', description: 'AMD Radeon RX 7900 XTX: 24.1' }, 'linux').name, 'AMD Radeon RX 7900 XTX');
  assert.equal(describeAdapter({ vendor: 'intel', architecture: 'gen-12lp', device: '', description: '' }, 'linux').name, 'Intel gen-12lp');
  for (const a of ['Apple M2', 'nvidia-h200']) assert.equal(describeAdapter({ device: a }, 'darwin').software, false);
});

test('software adapters are recognised by the fallback flag, the architecture or the renderer\'s name', () => {
  // What Dawn reports for Mesa 25's lavapipe (measured).
  const llvmpipe = describeAdapter(
    { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1', isFallbackAdapter: true },
    'linux',
  );
  assert.equal(llvmpipe.software, true);
  assert.equal(llvmpipe.display, 'llvmpipe Mesa 25.0.7, software (Vulkan)');
  assert.equal(describeAdapter({ vendor: 'google', architecture: '', device: 'SwiftShader Device (Subzero)', description: 'SwiftShader driver' }, 'linux').software, true);
  assert.equal(describeAdapter({ vendor: 'microsoft', device: 'Microsoft Basic Render Driver' }, 'win32').software, true);
  assert.equal(describeAdapter({ vendor: 'nvidia', device: 'x', isFallbackAdapter: true }, 'linux').software, true);
});

test('Dawn\'s binary is checked for N-API before it is loaded, and a missing or foreign one is refused with the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-dawn-'));
  const foreign = join(dir, 'dawn.node');
  // A module built against one Node ABI exports node_register_module_v<N>, not N-API's entry point.
  writeFileSync(foreign, Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(3 << 20), Buffer.from('node_register_module_v115')]));
  assert.equal(isNapiModule(foreign), false);
  assert.throws(() => loadDawn([foreign]), /is not an N-API module, so it cannot be loaded safely by Node v[\d.]+ \(N-API \d+\)/);
  assert.throws(() => loadDawn([join(dir, 'absent.node')]), /Dawn's WebGPU binary for \w+-\w+ is not part of this install .*choose backend "wasm"/);
  // The entry point across a read-chunk boundary is still found.
  const napi = join(dir, 'napi.node');
  writeFileSync(napi, Buffer.concat([Buffer.alloc((1 << 20) - 5), Buffer.from('napi_register_module_v1')]));
  assert.equal(isNapiModule(napi), true);
  // The real binary, as shipped.
  const real = dawnCandidates().find((f) => existsSync(f) && isNapiModule(f));
  assert.ok(real, `an N-API dawn.node in ${dawnCandidates().join(', ')}`);
  assert.equal(runtimeName({ ...process.versions, electron: '34.5.8', node: '20.19.1', napi: '9' }), 'Electron 34.5.8 (Node v20.19.1, N-API 9)');
});

/** The built CLI in a folder of its own, with `binary` as its platform's dawn.node (the layout of an installed package). */
function cliWithDawn(binary: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-install-'));
  copyFileSync(CLI_JS, join(dir, 'cli.js'));
  for (const asset of ['wasm', 'data']) symlinkSync(join(ROOT, 'dist', asset), join(dir, asset));
  mkdirSync(join(dir, 'dawn', dawnPlatformDir()), { recursive: true });
  writeFileSync(join(dir, 'dawn', dawnPlatformDir(), 'dawn.node'), binary);
  return dir;
}

test('a Dawn binary that cannot be loaded makes auto fall back with the reason, and fails a forced webgpu run without crashing', async () => {
  const args = ['train', '--epochs', '1', '--train-limit', '200', '--test-limit', '100', '--dimz', '4'];
  // Built for one Node ABI: refused before loading.
  const foreign = cliWithDawn(Buffer.concat([Buffer.from('\x7fELF'), Buffer.from('node_register_module_v115')]));
  const auto = await runCli([...args, '--runs-dir', join(foreign, 'runs')], foreign, {}, join(foreign, 'cli.js'));
  assert.equal(auto.code, 0, auto.stderr);
  assert.match(auto.stderr, /skipped webgpu: .*dawn\.node is not an N-API module, so it cannot be loaded safely by Node/);
  assert.match(auto.stderr, /backend: wasm/);
  // N-API's entry point but no loadable library: require() throws, the run fails with the reason.
  const broken = cliWithDawn(Buffer.from('not a shared library, but it names napi_register_module_v1'));
  const forced = await runCli([...args, '--backend', 'webgpu', '--runs-dir', join(broken, 'runs')], broken, {}, join(broken, 'cli.js'));
  assert.equal(forced.code, 1, forced.stderr);
  assert.match(forced.stderr, /dawn\.node could not be loaded by Node v[\d.]+ \(N-API \d+\): /);
});
