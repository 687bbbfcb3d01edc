// The panels under the Content-Security-Policy the extension gives them (webviewCsp, with the page
// built by renderPanelHtml): every tab of the run panel and the compare panel is drawn with zero
// policy violations, counted both by securitypolicyviolation events and by the console, which
// also reports what was blocked before the page's own scripts ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { fakeVsCodeApi, openPanel, pageAnsweringLoading, panelTestEnvironment, snapshotFor, type OpenedPanel } from './harness';
import { renderLinkedPanelHtml, webviewCsp } from '../../src/shared/panelHtml';
import { tempRunsDir, writeMnistLikeRun } from '../support/runFixtures';
import { RUN_TABS } from '../../src/shared/panelState';
import { TAB_TITLES as TAB_NAMES } from '../../src/webview/runView';

const env = panelTestEnvironment();
const runsDir = tempRunsDir();

/** Waits until the page has painted twice, so a load or style the tab caused has been attempted. */
async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((ok) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(ok, 50)))));
}

async function expectClean(panel: OpenedPanel, where: string): Promise<void> {
  await settle(panel.page);
  assert.deepEqual(await panel.cspViolations(), [], `${where}: no Content-Security-Policy violation`);
  assert.deepEqual(panel.consoleErrors(), [], `${where}: no console error`);
}

test('the run panel draws every tab with zero CSP violations and zero console errors', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'policy-run', epochs: 5, dimz: 12, active: 5 });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  // The page carries the extension's policy, unrelaxed.
  const csp = await panel.page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.match(csp ?? '', /^default-src 'none'; img-src http:\/\/127\.0\.0\.1:\d+; font-src \S+; style-src \S+ 'nonce-\w+'; script-src 'nonce-\w+'$/);
  await expectClean(panel, 'after the snapshot');
  for (const tab of RUN_TABS) {
    await panel.page.locator('vscode-tab-header', { hasText: TAB_NAMES[tab] }).click();
    await panel.page.waitForFunction((t) => document.getElementById('app')?.dataset.tab === t, tab);
    if (tab === 'curves') await panel.page.locator('[data-chart="loss"] .main-svg').first().waitFor();
    if (tab === 'dimensions') {
      await panel.page.waitForFunction(() => (document.querySelector('[data-chart="heatmap"]') as unknown as { figure?: { epochs: number[] } }).figure?.epochs.length === 5);
      // The cells are drawn (this is what the policy blanked when Plotly drew them as a data: image).
      const colours = await panel.page.getByTestId('heatmap-cells').evaluate((c) => {
        const canvas = c as HTMLCanvasElement;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        const seen = new Set<string>();
        for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0) seen.add(`${data[i]},${data[i + 1]},${data[i + 2]}`);
        return seen.size;
      });
      assert.ok(colours >= 10, `the heat map's cells are drawn in ${colours} colours`);
    }
    if (tab === 'images') await panel.page.waitForFunction(() => Array.from(document.querySelectorAll('img.epoch-image')).every((i) => (i as HTMLImageElement).naturalWidth > 0));
    await expectClean(panel, `the ${TAB_NAMES[tab]} tab`);
  }
  // Hovering the charts brings up Plotly's hover labels and the heat map's tooltip: still clean.
  await panel.page.locator('vscode-tab-header', { hasText: 'Latent dimensions' }).click();
  const cells = panel.page.getByTestId('heatmap-cells');
  await cells.hover({ position: { x: 20, y: 20 } });
  assert.match((await panel.page.locator('.heatmap-tooltip').textContent()) ?? '', /^epoch \d+, z\d+: /);
  await panel.page.locator('vscode-tab-header', { hasText: 'Curves' }).click();
  await panel.page.locator('[data-chart="loss"] .nsewdrag').first().hover();
  await expectClean(panel, 'after hovering the heat map and a chart');
  await panel.page.close();
});

test('the compare panel draws with zero CSP violations and zero console errors', async () => {
  const dirs = [
    writeMnistLikeRun(runsDir, { name: 'policy-a', epochs: 4, flavour: 0 }),
    writeMnistLikeRun(runsDir, { name: 'policy-b', epochs: 4, flavour: 1, config: { learningRate: 3e-4 } }),
  ];
  const panel = await openPanel(env.context, env.server, 'compare', dirs);
  await panel.page.locator('[data-chart="mean-sigma"] .main-svg').first().waitFor();
  await panel.page.waitForFunction(() => Array.from(document.querySelectorAll('img.epoch-image')).every((i) => (i as HTMLImageElement).naturalWidth > 0));
  await expectClean(panel, 'the compare panel');
  await panel.page.close();
});

test('the snapshot the host answers `loading` with arrives before the bundle listens, and is drawn', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'policy-early', epochs: 3 });
  const snapshot = await snapshotFor(env.server, 'run', [dir]);
  const html = pageAnsweringLoading(env.server, snapshot);
  const page = await env.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    const openedAt = Date.now();
    await page.goto(env.server.addPage(html));
    await page.getByTestId('run-name').filter({ hasText: 'policy-early' }).waitFor({ timeout: 20000 });
    const drawnAt = Number(await page.locator('#app').getAttribute('data-drawn-at'));
    assert.ok(drawnAt >= openedAt && drawnAt <= Date.now(), `the page notes when it drew its run: ${drawnAt}`);
    await page.locator('[data-chart="loss"] .main-svg').first().waitFor({ timeout: 20000 });
    const posted = await page.evaluate(() => (window as unknown as { __posted: Array<{ type: string }> }).__posted.map((m) => m.type));
    assert.equal(posted[0], 'loading', `the first message says the page runs: ${JSON.stringify(posted)}`);
    assert.ok(posted.includes('ready'), 'the bundle says ready when it listens');
    assert.ok(!posted.includes('error'), `no error: ${JSON.stringify(posted)}`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('the page tells the host at once that it runs, and which of its files failed to load', async () => {
  // The page as VS Code gets it, with its bundle's address broken (as when a restored panel's
  // resource loader is not ready yet): its boot script runs and reports the failed load.
  const nonce = 'bootnonce' + Math.random().toString(36).slice(2);
  const html = renderLinkedPanelHtml({ title: 'boot', panel: 'run', nonce, csp: webviewCsp(env.server.origin, nonce), page: 3, url: (p) => `${env.server.origin}/${p === 'dist/webview.js' ? 'missing/webview.js' : p}` })
    .replace(`<script nonce="${nonce}">`, `<script nonce="${nonce}">${fakeVsCodeApi(null)}</script>\n<script nonce="${nonce}">`);
  const page = await env.context.newPage();
  try {
    await page.goto(env.server.addPage(html));
    await page.waitForFunction(() => (window as unknown as { __posted: Array<{ type: string }> }).__posted.some((m) => m.type === 'loadFailed'), null, { timeout: 20000 });
    const posted = await page.evaluate(() => (window as unknown as { __posted: Array<{ type: string; page?: number; url?: string }> }).__posted);
    assert.equal(posted[0].type, 'loading', 'the first message says the page runs');
    const failed = posted.filter((m) => m.type === 'loadFailed');
    assert.equal(failed.length, 1, `one failed file: ${JSON.stringify(posted)}`);
    assert.equal(failed[0].page, 3, 'the failure names the load of the page');
    assert.match(failed[0].url ?? '', /missing\/webview\.js$/);
    assert.ok(!posted.some((m) => m.type === 'ready'), 'a page without its bundle never says ready');
  } finally {
    await page.close();
  }
});
