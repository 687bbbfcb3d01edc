/**
 * How the webgpu backend names adapters and checks Dawn's binary, without starting a GPU: the
 * naming rules on adapter infos as Dawn reports them, and the binary checks on real files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeAdapter, humanizeDeviceName } from '../../src/trainer/webgpu/adapter';
import { dawnCandidates, isNapiModule, loadDawn, runtimeName } from '../../src/trainer/webgpu/dawn';

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
