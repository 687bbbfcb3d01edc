/** The VAE Runs view in the E2E tests: its rows, and opening a run's panel from it. */
import type { FrameLocator, Locator } from 'playwright-core';
import type { Workbench } from './workbench';

/** The row of the run labelled exactly `label` in a VAE Runs pane. */
export function treeRow(pane: Locator, label: string): Locator {
  return pane.locator('.monaco-list-row').filter({ has: pane.page().locator('.label-name', { hasText: new RegExp(`^\\s*${label}\\s*$`) }) }).first();
}

/** Clicks the run in the VAE Runs view and returns the content frame of the panel that opens. */
export async function openFromTree(wb: Workbench, label: string): Promise<FrameLocator> {
  const pane = await wb.viewPane('VAE Runs');
  const row = treeRow(pane, label);
  await wb.expectVisible(row, `the run "${label}" in the VAE Runs view`, 30_000);
  const before = await wb.page.locator('iframe.webview.ready').count();
  await row.click();
  await wb.page.waitForFunction((n) => document.querySelectorAll('iframe.webview.ready').length > n, before, { timeout: 30_000 }).catch(() => {
    throw new Error(`Clicking "${label}" in the VAE Runs view opened no webview panel.`);
  });
  return wb.webviewFrame();
}
