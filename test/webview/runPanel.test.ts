import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { chartTraces, openPanel, pageAnsweringLoading, panelTestEnvironment, snapshotFor } from './harness';
import { mnistLikeEpoch, tempRunsDir, writeEpochImages, writeMnistLikeRun } from '../support/runFixtures';
import type { AppendMessage } from '../../src/shared/protocol';
import type { EpochDiagnostics, EpochEvent } from '../../src/shared/events';
import { formatNumber } from '../../src/shared/format';

const env = panelTestEnvironment();
const runsDir = tempRunsDir();

/** Counts Plotly's full draws and in-place extensions from now on. */
async function countPlotlyCalls(page: Page): Promise<() => Promise<Record<string, number>>> {
  await page.evaluate(() => {
    const p = (window as unknown as { Plotly: Record<string, (...a: unknown[]) => unknown> }).Plotly;
    const counts: Record<string, number> = { newPlot: 0, react: 0, extendTraces: 0 };
    (window as unknown as { __plotlyCalls: Record<string, number> }).__plotlyCalls = counts;
    for (const name of Object.keys(counts)) {
      const original = p[name].bind(p);
      p[name] = (...args: unknown[]) => {
        counts[name]++;
        return original(...args);
      };
    }
  });
  return () => page.evaluate(() => ({ ...(window as unknown as { __plotlyCalls: Record<string, number> }).__plotlyCalls }));
}

async function selectTab(page: Page, name: string): Promise<void> {
  await page.locator('vscode-tab-header', { hasText: name }).click();
}

test('the panel shows its run while Plotly still loads, and draws its charts when Plotly arrives', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'plotly-late', epochs: 4 });
  const snapshot = await snapshotFor(env.server, 'run', [dir]);
  const html = pageAnsweringLoading(env.server, snapshot);
  const page = await env.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Plotly's 1.1 MB held back until the panel has shown its run.
  let release = () => {};
  const held = new Promise<void>((ok) => (release = ok));
  await page.route('**/dist/media/plotly.min.js', async (route) => {
    await held;
    await route.continue();
  });
  try {
    // Not to the load event: that waits for Plotly.
    await page.goto(env.server.addPage(html), { waitUntil: 'domcontentloaded' });
    await page.getByTestId('run-name').filter({ hasText: 'plotly-late' }).waitFor({ timeout: 20000 });
    await page.getByTestId('gauge-test-mean-sigma-value').waitFor({ timeout: 5000 });
    assert.equal(await page.evaluate(() => 'Plotly' in window), false, 'Plotly has not loaded yet');
    assert.equal(await page.locator('[data-chart="loss"] .main-svg').count(), 0, 'no chart before Plotly');
    release();
    await page.locator('[data-chart="loss"] .main-svg').first().waitFor({ timeout: 20000 });
    assert.equal((await chartTraces(page, 'loss'))[0].points, 4, 'the loss chart has every epoch');
    assert.deepEqual(errors, []);
  } finally {
    release();
    await page.close();
  }
});

test('the gauges show the last epoch\'s numbers, coloured by the shared health rules', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'gauges', epochs: 12, dimz: 20, active: 12 });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  const last = panel.snapshot.runs[0].epochs.at(-1)!;
  const text = async (id: string) => (await panel.page.getByTestId(`gauge-${id}-value`).textContent())?.trim();
  assert.equal(await text('test-mean-mu'), formatNumber(last.test.meanMu));
  assert.equal(await text('test-mean-sigma'), formatNumber(last.test.meanSigma));
  assert.equal(await text('train-mean-mu'), last.train.meanMu.toFixed(3));
  assert.equal(await text('train-mean-sigma'), last.train.meanSigma.toFixed(3));
  assert.equal(await text('active-units'), `${last.activeUnits} of 20`);
  const level = (id: string) => panel.page.locator(`[data-gauge="${id}"]`).getAttribute('data-level');
  assert.equal(await level('active-units'), 'info', 'some dimensions unused, fewer than half: information, not a warning');
  assert.equal(await level('test-mean-mu'), 'good');
  // Mean σ ≈ 0.58 is far from 1, but the active dimensions' aggregate variance is ≈ 1: a note, not a warning.
  assert.equal(await level('test-mean-sigma'), 'info');
  assert.equal(await panel.page.locator('[data-gauge="test-mean-mu"] .sparkline-line').count(), 1);
  assert.equal(await panel.page.getByTestId('run-epoch').textContent(), 'epoch 12 / 12');
  assert.equal(await panel.page.getByTestId('run-status').textContent(), 'completed');
  // The banner shows the same findings as the tree: here, unused dimensions.
  assert.ok(await panel.page.locator('.warning[data-kind="unused-dimensions"]').count() === 1);
  assert.equal(await panel.page.getByTestId('stop').evaluate((b) => b.hasAttribute('disabled')), true, 'a completed run cannot be stopped');
  assert.deepEqual(await panel.cspViolations(), []);
  await panel.page.close();
});

test('the gauges and the banner judge by the thresholds the host sends (the user\'s settings), and follow a new snapshot', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'thresholds', epochs: 12, dimz: 20, active: 12 });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  const level = (id: string) => panel.page.locator(`[data-gauge="${id}"]`).getAttribute('data-level');
  // With the defaults: mean σ ≈ 0.58 is outside 1 ± 0.3 (a note), and the unused dimensions are in the banner.
  assert.equal(await level('test-mean-sigma'), 'info');
  assert.equal(await level('active-units'), 'info');
  assert.equal(await panel.page.locator('.warning[data-kind="unused-dimensions"]').count(), 1);
  // A user who allows σ within 1 ± 0.5, calls 30% unused a warning, and judges nothing before epoch 20.
  const health = { ...panel.snapshot.health, sigmaTolerance: 0.5, unusedWarningFraction: 0.3, warmupEpochs: 20 };
  await panel.send({ ...panel.snapshot, health });
  assert.equal(await level('test-mean-sigma'), 'good');
  assert.equal(await level('active-units'), 'warning', '8 of 20 unused is 40%, above the user\'s 30%');
  assert.equal(await panel.page.locator('.warning[data-kind]').count(), 0, 'every epoch is inside the user\'s warm-up');
  assert.equal(await panel.page.getByTestId('warnings').isHidden(), true);
  // Active units are counted with the user's Var(μ_d) threshold, which the gauge's target names.
  const units = () => panel.page.getByTestId('gauge-active-units-value').textContent();
  const target = () => panel.page.locator('[data-gauge="active-units"] .gauge-target').textContent();
  assert.equal(await units(), `${panel.snapshot.runs[0].epochs.at(-1)!.activeUnits} of 20`);
  assert.equal(await target(), 'Var(μ_d) > 0.01');
  await panel.send({ ...panel.snapshot, health: { ...health, activeVarianceThreshold: 100 } });
  assert.equal(await units(), '0 of 20');
  assert.equal(await target(), 'Var(μ_d) > 100');
  await panel.page.close();
});

test('loss, reconstruction, KL, mean μ and mean σ: train and test, raw and smoothed, one point per epoch', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'curves', epochs: 9 });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  for (const id of ['loss', 'reconstruction', 'kl', 'mean-mu', 'mean-sigma']) {
    const traces = await chartTraces(panel.page, id);
    assert.equal(traces.length, 4, `${id}: test and train, each raw and smoothed`);
    assert.deepEqual(traces.map((t) => t.points), [9, 9, 9, 9]);
    assert.equal(traces[0].opacity, 0.35, 'the raw trace stays visible, faint, under the smoothed one');
  }
  // Smoothing off: only the raw traces remain.
  // By keyboard, as a user without a mouse would: open the list, move up to "off", choose it.
  await panel.page.getByTestId('smoothing').focus();
  await panel.page.keyboard.press('Enter');
  await panel.page.keyboard.press('ArrowUp');
  await panel.page.keyboard.press('Enter');
  await panel.page.waitForFunction(() => (document.querySelector('[data-chart="loss"]') as unknown as { data: unknown[] }).data.length === 2);
  assert.deepEqual((await chartTraces(panel.page, 'loss')).map((t) => [t.name, t.points, t.opacity]), [['test', 9, 1], ['train', 9, 1]]);
  assert.equal(((await panel.state()) as { ui: { smoothing: number } }).ui.smoothing, 0, 'the toggle is kept with setState');
  // Log scale applies to the losses.
  await panel.page.getByTestId('log-y').click();
  await panel.page.waitForFunction(() => (document.querySelector('[data-chart="loss"]') as unknown as { layout: { yaxis: { type: string } } }).layout.yaxis.type === 'log');
  await panel.page.close();
});

test('a running run\'s new epochs extend the charts in place, without a full redraw', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'live', epochs: 20, written: 10, status: 'running' });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  assert.equal(await panel.page.getByTestId('stop').evaluate((b) => b.hasAttribute('disabled')), false);
  const calls = await countPlotlyCalls(panel.page);
  const run = panel.snapshot.runs[0];
  writeEpochImages(dir, 11);
  const epoch = mnistLikeEpoch(11, { epochs: 20, dimz: 20, active: 12 });
  const message: AppendMessage = { type: 'append', dir, info: { ...run.info, epochsCompleted: 11 }, epochs: [epoch], warnings: [] };
  await panel.send(message);
  await panel.page.waitForFunction(() => (document.querySelector('[data-chart="mean-sigma"]') as unknown as { data: Array<{ x: unknown[] }> }).data[0].x.length === 11);
  const counted = await calls();
  assert.equal(counted.newPlot + counted.react, 0, 'no chart was redrawn');
  assert.equal(counted.extendTraces, 6, 'each of the five study charts and the −ELBO at C = 1 chart was extended once (epoch 11 has no diagnostics)');
  for (const t of await chartTraces(panel.page, 'loss')) assert.equal(t.points, 11);
  assert.equal(await panel.page.getByTestId('gauge-test-mean-sigma-value').textContent(), epoch.test.meanSigma.toFixed(3));
  assert.equal(await panel.page.getByTestId('run-epoch').textContent(), 'epoch 12 / 20', 'epoch 11 completed, the 12th in progress (as in the tree and status bar)');
  assert.match((await panel.page.getByTestId('run-left').textContent()) ?? '', /min .* left/);
  // Stop asks the host; the host maps it to the vaeLens.stop command.
  await panel.page.getByTestId('stop').click();
  assert.deepEqual((await panel.posted()).filter((m) => m.type === 'stop'), [{ type: 'stop', dir }]);
  await panel.page.close();
});

/** What a user meets on a header action: the element's own state, whether a click there lands, and how it looks. */
async function actionState(page: Page, id: 'stop' | 'resume') {
  const button = page.getByTestId(id);
  const box = (await button.boundingBox())!;
  const state = await button.evaluate((b, at) => {
    const el = b as HTMLElement & { disabled: boolean; secondary: boolean };
    const hit = document.elementFromPoint(at.x, at.y);
    const base = el.shadowRoot?.querySelector('.base');
    return {
      disabled: el.disabled,
      attribute: el.hasAttribute('disabled'),
      secondary: el.secondary,
      clickable: hit === el || el.contains(hit),
      background: base ? getComputedStyle(base).backgroundColor : '',
    };
  }, { x: box.x + box.width / 2, y: box.y + box.height / 2 });
  return state;
}

test('Stop and Resume are enabled only when they apply; a disabled one cannot be clicked and is not drawn as the primary action', async () => {
  const cases: Array<{ status: 'completed' | 'running' | 'stopped'; written: number; stop: boolean; resume: boolean }> = [
    { status: 'completed', written: 6, stop: false, resume: false },
    { status: 'running', written: 3, stop: true, resume: false },
    { status: 'stopped', written: 3, stop: false, resume: true },
  ];
  for (const c of cases) {
    const dir = writeMnistLikeRun(runsDir, { name: `actions-${c.status}`, epochs: 6, written: c.written, status: c.status });
    const panel = await openPanel(env.context, env.server, 'run', [dir]);
    const stop = await actionState(panel.page, 'stop');
    const resume = await actionState(panel.page, 'resume');
    assert.equal(stop.disabled, !c.stop, `${c.status}: Stop's disabled property`);
    assert.equal(stop.attribute, !c.stop, `${c.status}: Stop's disabled attribute`);
    assert.equal(stop.clickable, c.stop, `${c.status}: a click on Stop reaches it`);
    assert.equal(resume.disabled, !c.resume, `${c.status}: Resume's disabled property`);
    assert.equal(resume.clickable, c.resume, `${c.status}: a click on Resume reaches it`);
    // The one action that applies is primary; a disabled one is drawn like the other secondary button.
    assert.equal(stop.secondary, !c.stop, `${c.status}: Stop primary only when it applies`);
    assert.equal(resume.secondary, !(c.resume && !c.stop), `${c.status}: Resume primary only when it applies`);
    if (!c.stop && !c.resume) assert.equal(stop.background, resume.background, 'two disabled actions look alike');
    await panel.page.getByTestId('stop').click({ force: true });
    await panel.page.getByTestId('resume').click({ force: true });
    // A scripted click (no pointer involved) must not act either.
    await panel.page.getByTestId('stop').evaluate((b) => (b as HTMLElement).click());
    await panel.page.getByTestId('resume').evaluate((b) => (b as HTMLElement).click());
    const posted = (await panel.posted()).filter((m) => m.type === 'stop' || m.type === 'resume').map((m) => m.type);
    assert.deepEqual([...new Set(posted)], [...(c.stop ? ['stop'] : []), ...(c.resume ? ['resume'] : [])], `${c.status}: only an enabled action posts`);
    await panel.page.close();
  }
});

test('one epoch slider moves both image grids; follow-latest is dropped when the user picks an epoch', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'images', epochs: 6 });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  await selectTab(panel.page, 'Images');
  const images = panel.page.getByTestId('epoch-image');
  await images.first().waitFor({ state: 'visible' });
  const sources = () => images.evaluateAll((els) => els.map((e) => (e as HTMLImageElement).src));
  const loaded = () => images.evaluateAll((els) => els.every((e) => (e as HTMLImageElement).complete && (e as HTMLImageElement).naturalWidth > 0));
  assert.equal(await panel.page.getByTestId('epoch-output').textContent(), 'epoch 6 of 6');
  const before = await sources();
  assert.equal(before.length, 2);
  assert.match(before[0], /samples\/epoch-0006\.png$/);
  assert.match(before[1], /recon\/epoch-0006\.png$/);
  await panel.page.waitForFunction(() => Array.from(document.querySelectorAll('img.epoch-image')).every((e) => (e as HTMLImageElement).naturalWidth > 0));
  assert.ok(await loaded(), 'the images load from the run folder under the CSP');
  await panel.page.getByTestId('epoch-slider').focus();
  await panel.page.keyboard.press('ArrowLeft');
  await panel.page.keyboard.press('ArrowLeft');
  const after = await sources();
  assert.match(after[0], /samples\/epoch-0004\.png$/);
  assert.match(after[1], /recon\/epoch-0004\.png$/);
  assert.equal(await panel.page.getByTestId('epoch-output').textContent(), 'epoch 4 of 6');
  assert.equal(await panel.page.getByTestId('follow-latest').evaluate((c) => (c as unknown as { checked: boolean }).checked), false);
  assert.deepEqual(((await panel.state()) as { ui: { tab: string; imageEpoch: number } }).ui, { ...((await panel.state()) as { ui: object }).ui, tab: 'images', imageEpoch: 4 });
  // A new epoch does not move a user who chose an epoch...
  writeEpochImages(dir, 7);
  const run = panel.snapshot.runs[0];
  await panel.send({ type: 'append', dir, info: run.info, epochs: [mnistLikeEpoch(7, { epochs: 8, dimz: 20, active: 12 })], warnings: [] });
  assert.equal(await panel.page.getByTestId('epoch-output').textContent(), 'epoch 4 of 7');
  // ...and follow-latest jumps to the newest.
  await panel.page.getByTestId('follow-latest').click();
  assert.equal(await panel.page.getByTestId('epoch-output').textContent(), 'epoch 7 of 7');
  assert.deepEqual(await panel.cspViolations(), []);
  await panel.page.close();
});

test('the heat map shows dimensions × epochs, most informative dimension first', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'heat', epochs: 8, dimz: 16, active: 6 });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  await selectTab(panel.page, 'Latent dimensions');
  await panel.page.waitForFunction(() => (document.querySelector('[data-chart="heatmap"]') as unknown as { figure?: unknown }).figure !== undefined);
  const figure = await panel.page.evaluate(() => {
    const f = (document.querySelector('[data-chart="heatmap"]') as unknown as { figure: { values: number[][]; dims: string[]; epochs: number[] } }).figure;
    return { epochs: f.values.length, dims: f.values[0].length, y: f.dims, x: f.epochs };
  });
  assert.equal(figure.epochs, 8);
  assert.equal(figure.dims, 16);
  const last = panel.snapshot.runs[0].epochs.at(-1)!;
  const top = last.dims.kl.indexOf(Math.max(...last.dims.kl));
  assert.equal(figure.y[0], `z${top + 1}`);
  assert.equal(figure.y.length, 16);
  await panel.page.close();
});

test('UI state saved with setState comes back: tab and chosen epoch', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'restore', epochs: 5 });
  const panel = await openPanel(env.context, env.server, 'run', [dir], { state: { panel: 'run', dirs: [dir], ui: { tab: 'images', imageEpoch: 3, smoothing: 0, logY: true, heatmapMetric: 'sigma' } } });
  assert.equal(await panel.page.getByTestId('epoch-output').textContent(), 'epoch 3 of 5');
  assert.equal(await panel.page.getByTestId('tabs').getAttribute('selected-index'), '2');
  await panel.page.close();
});

test('the page tells the host each view change; a snapshot\'s view (the host\'s copy) comes before the page\'s saved state', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'handed-on', epochs: 5 });
  const ui = { tab: 'images', imageEpoch: 2, smoothing: 0, logY: true, heatmapMetric: 'sigma' } as const;
  // A page VS Code restored with an older view: the host's record of the newer one wins.
  const panel = await openPanel(env.context, env.server, 'run', [dir], { deferSnapshot: true, state: { panel: 'run', dirs: [dir], ui: { ...ui, tab: 'config' } } });
  await panel.send({ ...panel.snapshot, ui });
  assert.equal(await panel.page.getByTestId('tabs').getAttribute('selected-index'), '2');
  assert.equal(await panel.page.getByTestId('epoch-output').textContent(), 'epoch 2 of 5');
  assert.deepEqual(((await panel.state()) as { ui: unknown }).ui, ui, 'and it is saved as the page\'s own');
  // A change of tab goes to the saved state and to the host.
  await panel.page.locator('vscode-tab-header', { hasText: 'Configuration' }).click();
  await panel.page.waitForFunction(() => (window as unknown as { __posted: Array<{ type: string; ui?: { tab: string } }> }).__posted.some((m) => m.type === 'uiState' && m.ui?.tab === 'config'));
  const last = (await panel.posted()).filter((m) => m.type === 'uiState').at(-1);
  assert.deepEqual(last, { type: 'uiState', ui: { ...ui, tab: 'config' } });
  assert.deepEqual(((await panel.state()) as { ui: unknown }).ui, { ...ui, tab: 'config' });
  await panel.page.close();

  // Without a view from the host the page's saved state counts.
  const saved = await openPanel(env.context, env.server, 'run', [dir], { state: { panel: 'run', dirs: [dir], ui: { ...ui, tab: 'config' } } });
  assert.equal(await saved.page.getByTestId('tabs').getAttribute('selected-index'), '4', 'the page\'s own saved tab');
  await saved.page.close();
});

test('chart colours come from the theme\'s CSS variables and follow a theme change', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'theme', epochs: 4 });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  const testColour = () => panel.page.evaluate(() => (document.querySelector('[data-chart="loss"]') as unknown as { data: Array<{ name: string; line: { color: string } }> }).data.find((t) => t.name === 'test')!.line.color);
  const themeOrange = await panel.page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--vscode-charts-orange').trim());
  assert.equal(await testColour(), themeOrange);
  // VS Code switches themes by rewriting the variables on <html> and the class on <body>.
  await panel.page.evaluate(() => {
    document.documentElement.style.setProperty('--vscode-charts-orange', 'rgb(1, 2, 3)');
    document.body.className = 'vscode-high-contrast';
  });
  await panel.page.waitForFunction(() => (document.querySelector('[data-chart="loss"]') as unknown as { data: Array<{ name: string; line: { color: string } }> }).data.find((t) => t.name === 'test')!.line.color === 'rgb(1, 2, 3)');
  const legend = await panel.page.locator('.legend-line').first().evaluate((e) => getComputedStyle(e).borderTopColor);
  assert.equal(legend, 'rgb(1, 2, 3)', 'the shared legend follows too');
  await panel.page.close();
});

test('a 1,000-epoch run with dimz 100 renders and still extends in place', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'long', epochs: 1001, written: 1000, dimz: 100, active: 30, status: 'running', imagesEvery: 100 });
  const started = Date.now();
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  // The five study curves and the −ELBO at C = 1 have a point per epoch.
  await panel.page.waitForFunction(() => Array.from(document.querySelectorAll('[data-chart]')).filter((c) => (c as unknown as { data?: Array<{ x: unknown[] }> }).data?.[0]?.x.length === 1000).length === 6, null, { timeout: 30_000 });
  const openMs = Date.now() - started;
  assert.ok(openMs < 20_000, `opening took ${openMs} ms`);
  assert.equal(await panel.page.getByTestId('gauge-active-units-value').textContent(), '30 of 100');
  const calls = await countPlotlyCalls(panel.page);
  await panel.send({ type: 'append', dir, info: panel.snapshot.runs[0].info, epochs: [mnistLikeEpoch(1001, { epochs: 1001, dimz: 100, active: 30 })], warnings: [] });
  for (const t of await chartTraces(panel.page, 'loss')) assert.equal(t.points, 1001);
  const counted = await calls();
  assert.equal(counted.newPlot + counted.react, 0, 'no full redraw at epoch 1,001');
  await selectTab(panel.page, 'Latent dimensions');
  await panel.page.waitForFunction(() => (document.querySelector('[data-chart="heatmap"]') as unknown as { figure?: { values: number[][] } }).figure?.values.length === 1001, null, { timeout: 30_000 });
  const dims = await panel.page.evaluate(() => (document.querySelector('[data-chart="heatmap"]') as unknown as { figure: { values: number[][] } }).figure.values[0].length);
  assert.equal(dims, 100);
  await panel.page.close();
});

test('a run whose folder is gone: a banner says so, the loaded epochs stay, no "no images yet"; the snapshot after it clears it', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'gone', epochs: 6, written: 4, status: 'running' });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  const banner = panel.page.getByTestId('folder-gone');
  assert.equal(await banner.isHidden(), true, 'no banner while the folder exists');
  // The host lost the folder: it sends what it had loaded (its images' URLs now lead nowhere).
  const run = panel.snapshot.runs[0];
  await panel.send({ ...panel.snapshot, runs: [{ ...run, gone: true }] });
  assert.equal(await banner.isVisible(), true);
  assert.equal(await banner.textContent(), `This run's folder ${dir} no longer exists; the panel shows what was loaded and comes back when the folder does.`);
  assert.equal(await banner.getAttribute('role'), 'alert');
  assert.equal(await panel.page.getByTestId('gauge-test-mean-sigma-value').textContent(), run.epochs.at(-1)!.test.meanSigma.toFixed(3), 'the loaded epochs are still shown');
  assert.equal(await panel.page.getByTestId('stop').evaluate((b) => b.hasAttribute('disabled')), true, 'Stop acts through the folder: disabled');
  await selectTab(panel.page, 'Images');
  assert.notEqual(await panel.page.getByTestId('epoch-output').textContent(), 'no images yet');
  assert.equal(await panel.page.getByTestId('images-unavailable').textContent(), 'The images are read from the run folder, which no longer exists.');
  // The folder is back: the host's next snapshot has no flag.
  await panel.send(panel.snapshot);
  assert.equal(await banner.isHidden(), true, 'the banner goes when the folder is back');
  assert.equal(await panel.page.getByTestId('images-unavailable').textContent(), '');
  assert.equal(await panel.page.getByTestId('epoch-output').textContent(), 'epoch 4 of 4');
  assert.equal(await panel.page.getByTestId('stop').evaluate((b) => b.hasAttribute('disabled')), false);
  assert.deepEqual(await panel.cspViolations(), []);
  await panel.page.close();
});

test('lines of events.jsonl that break the schema are counted in the panel, with the first reasons', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'skipped', epochs: 6, written: 3 });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  const note = panel.page.getByTestId('skipped-lines');
  assert.equal(await note.count(), 0, 'nothing skipped: no note');
  const run = panel.snapshot.runs[0];
  await panel.send({ ...panel.snapshot, runs: [{ ...run, skipped: { count: 2, problems: [{ line: 4, reason: 'test: expected an object, got null' }, { line: 9, reason: 'not a complete JSON line (torn by a crash or a full disk?)' }] } }] });
  assert.equal(await note.textContent(), '2 lines of events.jsonl could not be read and are not shown (line 4: test: expected an object, got null; line 9: not a complete JSON line (torn by a crash or a full disk?)).');
  await panel.page.close();
});

/** The prior-fit table's value cells by row, and the sentence above it. */
async function priorFitShown(page: Page): Promise<{ heading: string; sentence: string; values: Record<string, string>; notes: Record<string, string> }> {
  return page.evaluate(() => {
    const section = document.querySelector('[data-testid="prior-fit"]')!;
    const rows = Array.from(section.querySelectorAll('tr[data-row]'));
    const cell = (r: Element, i: number) => (r.querySelectorAll('td')[i]?.textContent ?? '');
    return {
      heading: section.querySelector('h2')?.textContent ?? '',
      sentence: section.querySelector('[data-testid="prior-fit-sentence"]')?.textContent ?? '',
      values: Object.fromEntries(rows.map((r) => [r.getAttribute('data-row'), cell(r, 0)])),
      notes: Object.fromEntries(rows.map((r) => [r.getAttribute('data-row'), cell(r, 1)])),
    };
  });
}

/** x and y of every trace of a chart, by trace name. */
async function chartSeries(page: Page, id: string): Promise<Record<string, { x: number[]; y: number[] }>> {
  return page.evaluate((chartId) => {
    const el = document.querySelector(`[data-chart="${chartId}"]`) as unknown as { data?: Array<{ name: string; x: number[]; y: number[] }> };
    if (!el?.data) throw new Error(`chart ${chartId} is not drawn`);
    return Object.fromEntries(el.data.map((t) => [t.name, { x: Array.from(t.x), y: Array.from(t.y) }]));
  }, id);
}

const nats = (x: number) => `${formatNumber(x, 2)} nats`;
const percent = (share: number) => `${formatNumber(share * 100, 1)}%`;

test('the prior fit beside the gauges: the latest diagnostics, the event\'s numbers, one plain sentence; charts on the curves tab', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'prior-fit', epochs: 12, dimz: 20, active: 12 });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  const epochs = panel.snapshot.runs[0].epochs;
  const measured = epochs.filter((e) => e.diagnostics);
  assert.deepEqual(measured.map((e) => e.epoch), [5, 10, 12], 'the fixture measures every 5th epoch and the last');
  const e = measured.at(-1)!;
  const d = e.diagnostics!;
  assert.ok(d.mutualInformation < Math.log(d.images) - 0.05, 'this run\'s I(x; z) is below the estimator\'s ceiling');
  const shown = await priorFitShown(panel.page);
  assert.equal(shown.heading, 'Prior fit at epoch 12');
  assert.equal(shown.sentence, `${percent(d.holeRate)} of prior samples land where no test image's posterior puts mass.`);
  assert.deepEqual(shown.values, {
    'neg-elbo': nats(e.test.reconstruction + e.test.kl),
    'iw-nll': `${nats(d.iwNll!.value)} (k = 100)`,
    information: `≥ ${nats(d.mutualInformation)}`,
    'mean-kl': nats(d.meanKl),
    'marginal-kl': nats(d.marginalKl),
    moment: nats(d.moments.total),
    'non-gaussian': nats(d.nonGaussian),
    'hole-rate': percent(d.holeRate),
    'fixed-noise-hole-rate': percent(d.fixedNoiseHoleRate),
  });
  assert.match(shown.notes.moment, new RegExp(`mean shift ${formatNumber(d.moments.meanShift, 2)}, correlations ${formatNumber(d.moments.correlation, 2)}`));
  assert.equal(shown.notes['hole-rate'], 'of 10,000 samples z ~ N(0, I)');
  assert.doesNotMatch(shown.notes.information, /ln N/, 'below the ceiling: no ceiling note');
  // The charts: −ELBO at C = 1 every epoch, the diagnostics at the epochs that have them.
  const likelihood = await chartSeries(panel.page, 'prior-fit-likelihood');
  assert.deepEqual(likelihood['−ELBO at C = 1'], { x: epochs.map((x) => x.epoch), y: epochs.map((x) => x.test.reconstruction + x.test.kl) });
  assert.deepEqual(likelihood['IW-NLL'], { x: [5, 10, 12], y: measured.map((x) => x.diagnostics!.iwNll!.value) });
  const info = await chartSeries(panel.page, 'prior-fit-information');
  assert.deepEqual(info['I(x; z) ≥'].y, measured.map((x) => x.diagnostics!.mutualInformation));
  assert.deepEqual(info['marginal KL'].y, measured.map((x) => x.diagnostics!.marginalKl));
  const gap = await chartSeries(panel.page, 'prior-fit-gap');
  assert.deepEqual(gap['moment part'].y, measured.map((x) => x.diagnostics!.moments.total));
  assert.deepEqual(gap['non-Gaussian part'].y, measured.map((x) => x.diagnostics!.nonGaussian));
  const holes = await chartSeries(panel.page, 'prior-fit-holes');
  assert.deepEqual(holes['hole rate'], { x: [5, 10, 12], y: measured.map((x) => 100 * x.diagnostics!.holeRate) });
  assert.deepEqual(holes['fixed prior noise'].y, measured.map((x) => 100 * x.diagnostics!.fixedNoiseHoleRate));
  // The moment part of the latest measured epoch, per dimension and per eigenvalue.
  const bars = await chartSeries(panel.page, 'prior-fit-moments');
  const ordinals = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.deepEqual(bars['per dimension'], { x: ordinals, y: d.moments.perDimension });
  assert.deepEqual(bars['per eigenvalue'], { x: ordinals, y: d.moments.perEigenvalue });
  // Whole-epoch ticks on the sparse charts too, whole dimension and eigenvalue numbers on the bars.
  for (const id of ['prior-fit-likelihood', 'prior-fit-holes', 'prior-fit-moments']) {
    for (const label of await panel.page.locator(`[data-chart="${id}"] .xtick text`).allTextContents()) assert.match(label, /^\d+$/, `${id}: tick "${label}"`);
  }
  assert.equal(await panel.page.getByTestId('prior-fit-charts-absent').isHidden(), true);
  await panel.page.screenshot({ path: '/tmp/vae-prior-fit-run-panel.png', fullPage: true });
  assert.deepEqual(await panel.cspViolations(), []);
  assert.deepEqual(panel.consoleErrors(), []);
  await panel.page.close();
});

test('I(x; z) at the estimator\'s ceiling reads as "≥ … (at ln N)" and says it cannot exceed ln N; a live epoch updates the prior fit', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'prior-fit-live', epochs: 20, written: 9, status: 'running' });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  assert.equal((await priorFitShown(panel.page)).heading, 'Prior fit at epoch 5');
  const calls = await countPlotlyCalls(panel.page);
  const base = mnistLikeEpoch(10, { epochs: 20, dimz: 20, active: 12 });
  const images = 500;
  const diagnostics: EpochDiagnostics = { ...base.diagnostics!, images, mutualInformation: Math.log(images) - 0.01 };
  diagnostics.marginalKl = diagnostics.meanKl - diagnostics.mutualInformation;
  diagnostics.nonGaussian = diagnostics.marginalKl - diagnostics.moments.total;
  const epoch: EpochEvent = { ...base, diagnostics };
  writeEpochImages(dir, 10);
  await panel.send({ type: 'append', dir, info: { ...panel.snapshot.runs[0].info, epochsCompleted: 10 }, epochs: [epoch], warnings: [] });
  const shown = await priorFitShown(panel.page);
  assert.equal(shown.heading, 'Prior fit at epoch 10');
  assert.equal(shown.values.information, `≥ ${nats(diagnostics.mutualInformation)} (at ln 500 = ${Math.log(500).toFixed(2)})`);
  assert.match(shown.notes.information, /^cannot exceed ln N = ln 500 = 6\.21, N the images used/);
  assert.equal(shown.values['marginal-kl'], nats(diagnostics.marginalKl));
  assert.equal(shown.sentence, `${percent(diagnostics.holeRate)} of prior samples land where no test image's posterior puts mass.`);
  await panel.page.waitForFunction(() => (document.querySelector('[data-chart="prior-fit-information"]') as unknown as { data: Array<{ x: unknown[] }> }).data[1].x.length === 2);
  const info = await chartSeries(panel.page, 'prior-fit-information');
  assert.deepEqual(info['I(x; z) ≥'], { x: [5, 10], y: [panel.snapshot.runs[0].epochs[4].diagnostics!.mutualInformation, diagnostics.mutualInformation] });
  await panel.page.waitForFunction(() => /epoch 10/.test((document.querySelector('[data-chart="prior-fit-moments"]') as unknown as { layout: { title: { text: string } } }).layout.title.text));
  assert.deepEqual((await chartSeries(panel.page, 'prior-fit-moments'))['per eigenvalue'].y, diagnostics.moments.perEigenvalue);
  const counted = await calls();
  assert.equal(counted.newPlot + counted.react, 0, 'the prior-fit charts are extended (the bars restyled) in place too');
  assert.deepEqual(await panel.cspViolations(), []);
  assert.deepEqual(panel.consoleErrors(), []);
  await panel.page.close();
});

test('a run without diagnostics: a short note where the prior fit would be, the −ELBO at C = 1 chart only, no errors', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'no-prior-fit', epochs: 6, config: { diagnosticsEvery: 0 } });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  const epochs = panel.snapshot.runs[0].epochs;
  assert.ok(epochs.every((e) => !e.diagnostics));
  const section = panel.page.getByTestId('prior-fit');
  assert.equal(await section.locator('h2').textContent(), 'Prior fit');
  assert.equal(await panel.page.getByTestId('prior-fit-absent').textContent(), 'This run does not measure the prior fit (diagnosticsEvery is 0).');
  assert.equal(await section.locator('table').count(), 0);
  assert.equal(await panel.page.getByTestId('prior-fit-charts-absent').textContent(), 'This run does not measure the prior fit (diagnosticsEvery is 0).');
  for (const id of ['prior-fit-information', 'prior-fit-gap', 'prior-fit-holes', 'prior-fit-moments']) assert.equal(await panel.page.locator(`[data-chart="${id}"]`).isHidden(), true, `${id} hidden`);
  const likelihood = await chartSeries(panel.page, 'prior-fit-likelihood');
  assert.deepEqual(likelihood['−ELBO at C = 1'].y, epochs.map((e) => e.test.reconstruction + e.test.kl));
  assert.deepEqual(likelihood['IW-NLL'].x, []);
  assert.deepEqual(await panel.cspViolations(), []);
  assert.deepEqual(panel.consoleErrors(), []);
  await panel.page.close();
});

test('a live run before its first diagnostics says when they come; the first measured epoch brings the table and the charts', async () => {
  const dir = writeMnistLikeRun(runsDir, { name: 'prior-fit-first', epochs: 20, written: 4, status: 'running' });
  const panel = await openPanel(env.context, env.server, 'run', [dir]);
  const note = 'The first prior-fit measures come after epoch 5, then every 5 epochs and at the last.';
  assert.equal(await panel.page.getByTestId('prior-fit-absent').textContent(), note);
  assert.equal(await panel.page.getByTestId('prior-fit-charts-absent').textContent(), note);
  assert.equal(await panel.page.locator('[data-chart="prior-fit-holes"]').isHidden(), true);
  const epoch = mnistLikeEpoch(5, { epochs: 20, dimz: 20, active: 12 });
  writeEpochImages(dir, 5);
  await panel.send({ type: 'append', dir, info: { ...panel.snapshot.runs[0].info, epochsCompleted: 5 }, epochs: [epoch], warnings: [] });
  assert.equal((await priorFitShown(panel.page)).heading, 'Prior fit at epoch 5');
  assert.equal(await panel.page.getByTestId('prior-fit-absent').count(), 0);
  assert.equal(await panel.page.getByTestId('prior-fit-charts-absent').isHidden(), true);
  await panel.page.waitForFunction(() => (document.querySelector('[data-chart="prior-fit-holes"]') as unknown as { data?: Array<{ x: unknown[] }> }).data?.[0]?.x.length === 1);
  assert.deepEqual((await chartSeries(panel.page, 'prior-fit-holes'))['hole rate'], { x: [5], y: [100 * epoch.diagnostics!.holeRate] });
  assert.deepEqual(await panel.cspViolations(), []);
  assert.deepEqual(panel.consoleErrors(), []);
  await panel.page.close();
});
