// The foundation in the real VS Code: the installed .vsix contributes the "VAE" container with
// the "VAE Runs" view and its welcome content, and "VAE: Show Log" shows the "VAE Lens" log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeWorkspace } from '../support/codeServer';
import { E2E_TIMEOUT_MS, withWorkbench } from '../support/workbench';

test('the VAE container, the VAE Runs welcome content and VAE: Show Log work in a real VS Code', { timeout: E2E_TIMEOUT_MS }, (t) =>
  withWorkbench(t, { workspace: makeWorkspace({ 'README.md': '# a workspace without runs\n' }) }, async (wb) => {
    await wb.openView('VAE');
    const runs = await wb.viewPane('VAE Runs');
    await wb.expectVisible(runs.getByText('No VAE runs yet.', { exact: false }), 'the VAE Runs welcome content ("No VAE runs yet.")');
    await wb.expectVisible(runs.getByText('vaeLens.runsDirectory', { exact: false }), 'the welcome content naming the runs-folder setting');
    await wb.screenshot('vae-runs-welcome');

    await wb.runCommand('VAE: Show Log');
    const output = await wb.readOutputChannel('VAE Lens');
    assert.match(output, /\[info\] VAE Lens \d+\.\d+\.\d+ activated/, `the "VAE Lens" output channel shows the activation line; it showed:\n${output}`);
    await wb.expectLog('VAE Lens', /\[info\] VAE Lens \d+\.\d+\.\d+ activated/);
    await wb.screenshot('vae-lens-log');
  }),
);
