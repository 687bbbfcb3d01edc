// Checks the E2E harness itself on what the other E2E tests rely on: user settings (a light
// theme), workspace trust left on (restricted mode), the two-iframe path into a webview (the
// built-in Markdown preview), notification toasts with actions (a test-only extension), and
// commands run right after a window reload.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeWorkspace, repoRoot } from '../support/codeServer';
import { E2E_TIMEOUT_MS, withWorkbench } from '../support/workbench';

test('harness: light theme, restricted mode, webview content, notification actions, reload', { timeout: E2E_TIMEOUT_MS }, (t) =>
  withWorkbench(
    t,
    {
      workspace: makeWorkspace({ 'notes.md': '# Prior holes\n\nSamples from N(0, I) land off the data manifold.\n' }),
      theme: 'Default Light Modern',
      workspaceTrust: true,
      extraExtensions: [join(repoRoot(), 'test', 'support', 'fixtures', 'harness-probe')],
    },
    async (wb) => {
      await wb.expectVisible(wb.page.locator('.monaco-workbench.vs'), 'the workbench in a light theme (class "vs")');
      await wb.expectVisible(wb.page.locator('#workbench\\.parts\\.statusbar').getByText('Restricted Mode'), 'the "Restricted Mode" status-bar item');

      await wb.openFile('notes.md');
      await wb.runCommand('Markdown: Open Preview');
      const preview = wb.webviewFrame();
      await wb.expectVisible(preview.locator('h1', { hasText: 'Prior holes' }), 'the heading inside the Markdown preview webview');
      assert.match((await preview.locator('body').innerText()) ?? '', /off the data manifold/);
      await wb.screenshot('light-restricted-markdown-preview');

      await wb.runCommand('Harness Probe: Show Probe Notification');
      const toast = await wb.waitForNotification('Harness probe: a notification with an action');
      await wb.screenshot('notification');
      await wb.clickNotificationAction('Harness probe: a notification with an action', 'Acknowledge');
      await wb.expectHidden(toast, 'the probe notification after its action was clicked');
      await wb.expectLog('Harness Probe', /probe choice: Acknowledge/);

      // Right after a window reload the palette is tried before the extension's commands are back.
      await wb.reload();
      await wb.runCommand('VAE: Show Log');
      assert.match(await wb.readOutputChannel('VAE Lens'), /VAE Lens \d+\.\d+\.\d+ activated/);
    },
  ),
);
