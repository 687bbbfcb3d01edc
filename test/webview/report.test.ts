import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { tempRunsDir, writeMnistLikeRun } from '../support/runFixtures';
import { launchPanelBrowser } from './harness';
import { epochsToEmbed, writeReport } from '../../src/trainer/report';

let context: BrowserContext;
let browser: Awaited<ReturnType<typeof launchPanelBrowser>>;
const runsDir = tempRunsDir();

before(async () => {
  browser = await launchPanelBrowser({ width: 1300, height: 1000 });
  context = browser.context;
});

after(async () => {
  await browser?.close();
});

async function openReport(file: string): Promise<{ page: Page; csp: string[]; errors: string[] }> {
  const page = await context.newPage();
  const csp: string[] = [];
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => ((window as unknown as { __csp: string[] }).__csp ??= []).push(`${e.violatedDirective} ${String(e.blockedURI).slice(0, 40)} ${e.sourceFile}`));
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => Number(document.getElementById('app')?.dataset.renders ?? 0) >= 1, null, { timeout: 30000 });
  csp.push(...(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? [])));
  return { page, csp: csp.filter((v) => !v.startsWith('img-src data') && !/^style-src-elem inline/.test(v)), errors };
}

test('a one-run report is the run panel, self-contained: data and images inline, no Stop/Resume', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'report-one', epochs: 7 });
  const file = join(runsDir, 'one.html');
  await writeReport([dir], file);
  const { page, csp, errors } = await openReport(file);
  assert.deepEqual(errors, []);
  assert.deepEqual(csp, []);
  assert.equal(await page.locator('#app').getAttribute('data-panel'), 'run');
  assert.equal(await page.getByTestId('run-name').textContent(), 'report-one');
  assert.equal(await page.getByTestId('stop').count(), 0, 'nothing to stop in a file');
  assert.match((await page.getByTestId('gauge-test-mean-sigma-value').textContent()) ?? '', /^0\.\d{3}$/);
  assert.equal((await page.evaluate(() => (document.querySelector('[data-chart="loss"]') as unknown as { data: Array<{ x: unknown[] }> }).data[0].x.length)), 7);
  await page.locator('vscode-tab-header', { hasText: 'Images' }).click();
  await page.waitForFunction(() => Array.from(document.querySelectorAll('img.epoch-image')).every((e) => (e as HTMLImageElement).naturalWidth > 0));
  const srcs = await page.getByTestId('epoch-image').evaluateAll((els) => els.map((e) => (e as HTMLImageElement).src.slice(0, 22)));
  assert.deepEqual(srcs, ['data:image/png;base64,', 'data:image/png;base64,']);
  // Nothing is fetched: every resource the page used is inline.
  const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name).filter((n) => !n.startsWith('data:')));
  assert.deepEqual(fetched, []);
  assert.ok(statSync(file).size < 8_000_000, `report size ${statSync(file).size}`);
  await page.close();
});

test('a report of several runs is the compare panel', async () => {
  const a = writeMnistLikeRun(runsDir, { name: 'report-a', epochs: 5 });
  const b = writeMnistLikeRun(runsDir, { name: 'report-b', epochs: 5, config: { dimz: 32 }, dimz: 32, flavour: 1 });
  const file = join(runsDir, 'compare.html');
  await writeReport([a, b], file);
  const { page, csp, errors } = await openReport(file);
  assert.deepEqual(errors, []);
  assert.deepEqual(csp, []);
  assert.equal(await page.locator('#app').getAttribute('data-panel'), 'compare');
  const keys = await page.locator('[data-testid="config-diff"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
  assert.deepEqual(keys, ['dimz']);
  assert.equal(await page.getByTestId('open-run').count(), 0);
  await page.close();
});

test('a long run embeds at most 50 epochs of images, evenly spaced, first and last kept', () => {
  const epochs = Array.from({ length: 1000 }, (_, i) => i + 1);
  const kept = [...epochsToEmbed(epochs)];
  assert.equal(kept.length, 50);
  assert.equal(kept[0], 1);
  assert.equal(kept.at(-1), 1000);
  assert.deepEqual([...epochsToEmbed([1, 2, 3])], [1, 2, 3]);
});

test('a report of a folder that is not a run fails with the reason', async () => {
  await assert.rejects(writeReport([runsDir], join(runsDir, 'x.html')), /run\.json/);
  await assert.rejects(writeReport([], join(runsDir, 'x.html')), /at least one run/);
});
