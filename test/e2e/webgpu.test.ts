// Training on the webgpu backend from the real VS Code (code-server + Chromium): vaeLens.backend
// "webgpu" reaches the trainer the extension forks, the run trains on the machine's WebGPU adapter
// (Mesa's software Vulkan driver where there is no GPU, installed by the test support), and the
// run panel's header names the adapter.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeWorkspace } from '../support/codeServer';
import { ensureWebGpuDriver } from '../support/vulkan';
import { E2E_TIMEOUT_MS, withWorkbench } from '../support/workbench';
import { openFromTree } from '../support/runsView';

const RUNS = '.vae-runs';
/** No backend of its own, so the vaeLens.backend setting applies. Small: llvmpipe is slow. */
const gpuRun = { name: 'gpu', model: 'chainer-mlp', dimz: 4, epochs: 1, trainLimit: 300, testLimit: 100 };

interface RunJson { status: string; config: { backend: string }; environment?: { backend: string; device: string; adapter?: { name: string } } }

test('a run with vaeLens.backend "webgpu" trains on the WebGPU adapter and its panel header names the adapter', { timeout: E2E_TIMEOUT_MS }, async (t) => {
  ensureWebGpuDriver();
  const workspace = makeWorkspace({ 'gpu.vae.json': JSON.stringify(gpuRun, null, 2) + '\n' });
  await withWorkbench(t, { workspace, settings: { 'vaeLens.backend': 'webgpu' } }, async (wb) => {
    await wb.openView('VAE');
    const pane = await wb.viewPane('VAE Runs');
    await wb.runCommand('VAE: Train');
    await wb.pickQuickItem('gpu.vae.json');
    const row = pane.locator('.monaco-list-row').filter({ has: wb.page.locator('.label-name', { hasText: /^\s*gpu\s*$/ }) });
    await wb.expectVisible(row.filter({ has: wb.page.locator('.label-description', { hasText: /^completed/ }) }), 'the webgpu run completed in the VAE Runs view', 240_000);

    const runDir = readdirSync(join(workspace, RUNS)).map((d) => join(workspace, RUNS, d)).find((d) => existsSync(join(d, 'run.json')));
    assert.ok(runDir, 'the run folder');
    const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunJson;
    assert.equal(info.config.backend, 'webgpu', 'the setting reaches the run config');
    assert.equal(info.environment?.backend, 'webgpu', `trained on webgpu: ${JSON.stringify(info.environment)}`);
    assert.ok(info.environment?.adapter?.name, 'run.json names the adapter');

    const device = (await openFromTree(wb, 'gpu')).getByTestId('run-device');
    const header = `webgpu · ${info.environment!.device}`;
    assert.match(header, /^webgpu · .+ \((Vulkan|Metal|D3D12)\)$/);
    await wb.expectVisible(device.filter({ hasText: header }), `the panel header "${header}"`, 30_000);
    await wb.screenshot('webgpu-run-panel');
  });
});
