/** The VAE Runs view in the E2E tests: its rows, selecting several, its context menu, and opening a run's panel from it. */
import type { FrameLocator, Locator } from 'playwright-core';
import type { Workbench } from './workbench';

/** Every row of a run (or folder group) labelled exactly `label` in a VAE Runs pane. */
export function treeRows(pane: Locator, label: string): Locator {
  return pane.locator('.monaco-list-row').filter({ has: pane.page().locator('.label-name', { hasText: new RegExp(`^\\s*${label}\\s*$`) }) });
}

/** The (first) row of the run labelled exactly `label` in a VAE Runs pane. */
export function treeRow(pane: Locator, label: string): Locator {
  return treeRows(pane, label).first();
}

async function webviewCount(wb: Workbench): Promise<number> {
  return wb.page.locator('iframe.webview.ready').count();
}

/**
 * Clicks the run in the VAE Runs view and returns the content frame of the panel that opens. A
 * click that lands while the tree redraws the row (its status just changed) selects it without
 * opening it: then the click is tried again, twice at most.
 */
export async function openFromTree(wb: Workbench, label: string): Promise<FrameLocator> {
  const pane = await wb.viewPane('VAE Runs');
  const row = treeRow(pane, label);
  await wb.expectVisible(row, `the run "${label}" in the VAE Runs view`, 30_000);
  const before = await webviewCount(wb);
  for (let attempt = 1; ; attempt++) {
    await row.click();
    const opened = await wb.page
      .waitForFunction((n) => document.querySelectorAll('iframe.webview.ready').length > n, before, { timeout: attempt < 3 ? 10_000 : 30_000 })
      .then(() => true, () => false);
    if (opened) return wb.webviewFrame();
    if (attempt === 3) throw new Error(`Clicking "${label}" in the VAE Runs view (3 times) opened no webview panel.`);
  }
}

/**
 * Selects the given runs in the VAE Runs view: a click on the first, Ctrl-clicks on the others.
 * A click on a run also opens its panel, which takes the focus when its page starts; a Ctrl-click
 * racing that would land in a tree without focus and replace the selection. So each step waits
 * for the panel to settle and for the row to show as selected, and a Ctrl-click that did not
 * select is made again.
 */
export async function selectRuns(wb: Workbench, pane: Locator, labels: string[]): Promise<void> {
  const rows = labels.map((l) => treeRow(pane, l));
  for (const [i, row] of rows.entries()) await wb.expectVisible(row, `the run "${labels[i]}" in the VAE Runs view`, 30_000);
  const before = await webviewCount(wb);
  await rows[0].click();
  await wb.page.waitForFunction((n) => document.querySelectorAll('iframe.webview.ready').length > n, before, { timeout: 30_000 }).catch(() => undefined);
  await wb.page.waitForTimeout(500);
  for (const [i, row] of rows.entries()) {
    if (i > 0) {
      for (let attempt = 0; attempt < 3 && (await row.getAttribute('aria-selected')) !== 'true'; attempt++) {
        await row.click({ modifiers: ['Control'] });
        await wb.page.waitForTimeout(300);
      }
    }
  }
  const selected = await Promise.all(rows.map((r) => r.getAttribute('aria-selected')));
  const missing = labels.filter((_, i) => selected[i] !== 'true');
  if (missing.length) throw new Error(`Expected ${labels.map((l) => `"${l}"`).join(', ')} selected in the VAE Runs view; not selected: ${missing.join(', ')}.`);
}

/**
 * Right-clicks the row and chooses `item` from its context menu. A menu opened while the tree
 * was still taking the focus can lack the entries of the selection; it is closed and opened
 * again once. A failure lists the entries the menu did show.
 */
export async function chooseFromContextMenu(wb: Workbench, row: Locator, item: string): Promise<void> {
  const menu = wb.page.locator('.context-view .monaco-menu');
  const entry = menu.locator('.action-item').filter({ hasText: new RegExp(`^\\s*${item}\\s*$`) });
  for (let attempt = 0; ; attempt++) {
    await row.click({ button: 'right' });
    try {
      await entry.first().waitFor({ state: 'visible', timeout: 7_500 });
      break;
    } catch {
      const shown = (await menu.locator('.action-item .action-label').allInnerTexts().catch(() => [] as string[])).map((t) => t.trim()).filter(Boolean);
      if (attempt >= 1) throw new Error(`Expected "${item}" in the run's context menu; it showed ${shown.length ? shown.map((t) => `"${t}"`).join(', ') : 'no menu'}.`);
      await wb.page.keyboard.press('Escape');
      await wb.page.waitForTimeout(500);
    }
  }
  // The workbench's menus act on mouse-up over the focused item; a click that lands while the
  // menu is still opening only highlights the entry, so Enter runs it when the menu stays open.
  await entry.first().click();
  await wb.page.waitForTimeout(300);
  if (await menu.isVisible()) {
    await entry.first().hover();
    await wb.page.keyboard.press('Enter');
  }
  await wb.expectHidden(entry, `the context menu after choosing ${item}`);
}
