// axe-core (the accessibility engine browsers' audits use) over every tab of the run panel and the
// compare panel, in a dark, a light and a high-contrast theme: zero serious or critical
// violations. axe's source is evaluated through the debugging protocol, which the page's
// Content-Security-Policy does not govern, so the panels run under their real policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { openPanel, panelTestEnvironment, PANEL_THEMES } from './harness';
import { tempRunsDir, writeMnistLikeRun } from '../support/runFixtures';
import { RUN_TABS } from '../../src/shared/panelState';
import { TAB_TITLES } from '../../src/webview/runView';

const env = panelTestEnvironment();
const runsDir = tempRunsDir();
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
}

/** axe's serious and critical violations on the page as it is now, one line each. */
async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.impact} ${v.id} (${v.help}) at ${JSON.stringify(n.target)}: ${(n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 240)}`));
}

for (const theme of PANEL_THEMES) {
  test(`axe: the run panel's four tabs, ${theme} theme, have no serious or critical violations`, async () => {
    const dir = writeMnistLikeRun(runsDir, { name: `a11y-${theme}`, epochs: 6, dimz: 12, active: 5 });
    const panel = await openPanel(env.context, env.server, 'run', [dir], { theme });
    const found: string[] = [];
    for (const tab of RUN_TABS) {
      await panel.page.locator('vscode-tab-header', { hasText: TAB_TITLES[tab] }).click();
      await panel.page.waitForFunction((t) => document.getElementById('app')?.dataset.tab === t, tab);
      if (tab === 'dimensions') await panel.page.locator('.heatmap-x-tick').first().waitFor();
      if (tab === 'images') await panel.page.waitForFunction(() => Array.from(document.querySelectorAll('img.epoch-image')).every((i) => (i as HTMLImageElement).naturalWidth > 0));
      found.push(...(await seriousViolations(panel.page)).map((v) => `${TAB_TITLES[tab]}: ${v}`));
    }
    assert.deepEqual(found, []);
    await panel.page.close();
  });

  test(`axe: the compare panel, ${theme} theme, has no serious or critical violations`, async () => {
    const dirs = [
      writeMnistLikeRun(runsDir, { name: `a11y-a-${theme}`, epochs: 4, flavour: 0 }),
      writeMnistLikeRun(runsDir, { name: `a11y-b-${theme}`, epochs: 4, flavour: 1, config: { learningRate: 3e-4 } }),
    ];
    const panel = await openPanel(env.context, env.server, 'compare', dirs, { theme });
    await panel.page.locator('[data-chart="mean-sigma"] .main-svg').first().waitFor();
    assert.deepEqual(await seriousViolations(panel.page), []);
    await panel.page.close();
  });
}
