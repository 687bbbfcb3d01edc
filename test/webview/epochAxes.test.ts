// Epochs are whole numbers: every epoch axis (the five curves, the heat map, the compare panel's
// overlays) ticks whole epochs only, read from the tick labels Chromium drew, also for runs of a
// few epochs (where Plotly's own ticks were 0.5, 1.5, …), after new epochs and after a zoom.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openPanel, panelTestEnvironment } from './harness';
import { mnistLikeEpoch, tempRunsDir, writeEpochImages, writeMnistLikeRun } from '../support/runFixtures';
import { CURVES } from '../../src/webview/curves';
import { epochTickStep, niceStep, ticksWithin } from '../../src/webview/ticks';

const env = panelTestEnvironment();
const runsDir = tempRunsDir();

async function curveTicks(page: Page, chart: string): Promise<string[]> {
  return page.locator(`[data-chart="${chart}"] .xtick text`).allTextContents();
}

function assertWholeEpochs(labels: string[], what: string): void {
  assert.ok(labels.length >= 1, `${what}: has tick labels`);
  for (const l of labels) assert.match(l, /^\d+$/, `${what}: "${l}" is a whole epoch (labels: ${labels.join(', ')})`);
}

test('tick steps: whole epochs, 1, 2 or 5 × 10^k', () => {
  assert.equal(epochTickStep(2, 8), 1, 'a 3-epoch run ticks every epoch');
  assert.equal(epochTickStep(0, 8), 1, 'a 1-epoch run too');
  assert.equal(epochTickStep(59, 8), 10);
  assert.equal(epochTickStep(999, 10), 100);
  assert.equal(niceStep(1.7, 5), 0.5);
  assert.deepEqual(ticksWithin(1, 3, 1), [1, 2, 3]);
  assert.deepEqual(ticksWithin(0.05, 0.35, 0.1), [0.1, 0.2, 0.3]);
  assert.deepEqual(ticksWithin(3, 1, 1), []);
});

test('a 3-epoch run: every chart of the run panel ticks 1, 2, 3', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'short', epochs: 3, dimz: 8, active: 3 });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  for (const c of CURVES) assert.deepEqual(await curveTicks(panel.page, c.id), ['1', '2', '3'], c.id);
  await panel.page.locator('vscode-tab-header', { hasText: 'Latent dimensions' }).click();
  await panel.page.locator('.heatmap-x-tick').first().waitFor();
  assert.deepEqual(await panel.page.locator('.heatmap-x-tick').allTextContents(), ['1', '2', '3'], 'heat map');
  await panel.page.close();
});

test('a growing run and a zoom keep whole-epoch ticks; longer runs step by whole epochs', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'growing', epochs: 60, written: 2, status: 'running', dimz: 8, active: 3 });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  assert.deepEqual(await curveTicks(panel.page, 'loss'), ['1', '2']);
  const run = panel.snapshot.runs[0];
  const epochs = Array.from({ length: 38 }, (_, i) => mnistLikeEpoch(i + 3, { epochs: 60, dimz: 8, active: 3 }));
  writeEpochImages(dir, 40);
  await panel.send({ type: 'append', dir, info: { ...run.info, epochsCompleted: 40 }, epochs, warnings: [] });
  await panel.page.waitForFunction(() => (document.querySelector('[data-chart="loss"]') as unknown as { data: Array<{ x: unknown[] }> }).data[0].x.length === 40);
  for (const c of CURVES) {
    const labels = await curveTicks(panel.page, c.id);
    assertWholeEpochs(labels, `${c.id} at 40 epochs`);
    const values = labels.map(Number);
    assert.ok(values.length >= 3, `${c.id}: ${labels.join(', ')}`);
    const steps = new Set(values.slice(1).map((v, i) => v - values[i]));
    assert.equal(steps.size, 1, `${c.id}: evenly spaced (${labels.join(', ')})`);
  }
  // Zoomed in to a stretch narrower than one epoch on each side: still whole epochs.
  await panel.page.evaluate(() => (window as unknown as { Plotly: { relayout(el: Element, u: object): Promise<unknown> } }).Plotly.relayout(document.querySelector('[data-chart="loss"]')!, { 'xaxis.range': [11.6, 14.4] }));
  await panel.page.waitForFunction(() => Array.from(document.querySelectorAll('[data-chart="loss"] .xtick text')).map((t) => t.textContent).join(',') === '12,13,14');
  await panel.page.locator('vscode-tab-header', { hasText: 'Latent dimensions' }).click();
  await panel.page.locator('.heatmap-x-tick').first().waitFor();
  assertWholeEpochs(await panel.page.locator('.heatmap-x-tick').allTextContents(), 'heat map at 40 epochs');
  await panel.page.close();
});

test('the compare panel\'s overlaid curves tick whole epochs', async () => {
  const dirs = [writeMnistLikeRun(runsDir, { name: 'cmp-a', epochs: 2 }), writeMnistLikeRun(runsDir, { name: 'cmp-b', epochs: 4, flavour: 1 })];
  const panel = await openPanel(env.context, env.server, 'compare', dirs);
  for (const c of CURVES) assert.deepEqual(await curveTicks(panel.page, c.id), ['1', '2', '3', '4'], c.id);
  await panel.page.close();
});
