// The run and compare panels in the real VS Code (code-server + Chromium): open a finished real run
// from the VAE Runs view and see its gauges, charts and images; a running run's panel follows the
// epochs appended to its events.jsonl; two runs compared from the view's multi-selection. Every tab
// of a finished run is checked by its drawn pixels (heat-map cells, curve lines, image grids), and
// every test asserts that the webviews logged no Content-Security-Policy error. Screenshots in a
// dark, a light and a high-contrast theme are saved under test-results/<test>/.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FrameLocator, Locator } from 'playwright-core';
import { PNG } from 'pngjs';
import { makeWorkspace, repoRoot } from '../support/codeServer';
import { E2E_TIMEOUT_MS, withWorkbench, type Workbench } from '../support/workbench';
import { chooseFromContextMenu, openFromTree, selectRuns, treeRow } from '../support/runsView';
import { appendEvents, mnistLikeEpoch, writeEpochImages, writeMnistLikeRun } from '../support/runFixtures';

const RUNS = '.vae-runs';
const EXP1 = 'exp1-chainer-mlp';
const EXP2 = 'exp2-deep-bn';

/** A workspace with the two recorded real runs in its runs folder. */
function workspaceWithRecordedRuns(): { workspace: string; runsDir: string } {
  const workspace = makeWorkspace({});
  const runsDir = join(workspace, RUNS);
  mkdirSync(runsDir, { recursive: true });
  cpSync(join(repoRoot(), 'test/fixtures/runs'), runsDir, { recursive: true });
  return { workspace, runsDir };
}

/** Nothing any frame of the workbench logged was a Content-Security-Policy violation (webviews report theirs on the console). */
function expectNoCspErrors(wb: Workbench, where: string): void {
  const csp = wb.consoleErrors().filter((e) => /Content Security Policy/i.test(e.text)).map((e) => `${e.text.slice(0, 240)} (${e.url})`);
  assert.deepEqual(csp, [], `${where}: no Content-Security-Policy error on the console`);
}

/** A screenshot of one element (saved as test-results/<test>/<name>.png), decoded. */
async function elementPixels(wb: Workbench, locator: Locator, name: string): Promise<PNG> {
  mkdirSync(wb.resultsDir, { recursive: true });
  return PNG.sync.read(await locator.screenshot({ path: join(wb.resultsDir, `${name}.png`) }));
}

/** How many different colours the image has, each channel rounded to `quantum` levels. */
function distinctColours(png: PNG, quantum = 8): number {
  const seen = new Set<number>();
  for (let i = 0; i < png.data.length; i += 4) {
    seen.add((Math.round(png.data[i] / quantum) << 16) | (Math.round(png.data[i + 1] / quantum) << 8) | Math.round(png.data[i + 2] / quantum));
  }
  return seen.size;
}

/** Pixels within `tolerance` (Euclidean, in RGB) of a colour. */
function pixelsNear(png: PNG, [r, g, b]: number[], tolerance = 40): number {
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const d = Math.hypot(png.data[i] - r, png.data[i + 1] - g, png.data[i + 2] - b);
    if (d <= tolerance) n++;
  }
  return n;
}

/** Standard deviation of the pixels' brightness: 0 for a blank image. */
function brightnessSpread(png: PNG): number {
  const values: number[] = [];
  for (let i = 0; i < png.data.length; i += 4) values.push((png.data[i] + png.data[i + 1] + png.data[i + 2]) / 3);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
}

/** Waits until an image has loaded (a screenshot of an unloaded image would be blank for the wrong reason). */
async function loaded(image: Locator): Promise<void> {
  await image.evaluate((img) => ((img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0) || new Promise((ok) => img.addEventListener('load', ok, { once: true })));
}

/** A CSS colour (a theme variable's value) as [r, g, b], resolved by the webview's own browser. */
async function rgbOf(frame: FrameLocator, css: string): Promise<number[]> {
  const text = await frame.locator('body').evaluate((body, c) => {
    const probe = document.createElement('span');
    probe.style.color = c;
    body.append(probe);
    const out = getComputedStyle(probe).color;
    probe.remove();
    return out;
  }, css);
  const m = /rgba?\((\d+), (\d+), (\d+)/.exec(text);
  if (!m) throw new Error(`The colour ${css} resolved to ${text}, not rgb().`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

async function expectText(wb: Workbench, locator: Locator, text: string | RegExp, what: string, timeoutMs = 20_000): Promise<void> {
  await wb.expectVisible(locator.filter({ hasText: text }), what, timeoutMs);
}

test('a finished run opened from the VAE Runs view shows its gauges, charts and images (dark theme)', { timeout: E2E_TIMEOUT_MS }, async (t) => {
  const { workspace, runsDir } = workspaceWithRecordedRuns();
  const events = readFileSync(join(runsDir, `20261128-090659-${EXP1}`, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const last = events.filter((e) => e.type === 'epoch').at(-1);
  await withWorkbench(t, { workspace, viewport: { width: 1500, height: 1000 } }, async (wb) => {
    await wb.openView('VAE');
    const frame = await openFromTree(wb, EXP1);
    await expectText(wb, frame.getByTestId('run-name'), EXP1, 'the run name in the panel header');
    await expectText(wb, frame.getByTestId('gauge-test-mean-sigma-value'), last.test.meanSigma.toFixed(3), 'the test mean σ gauge with the last epoch\'s value');
    await expectText(wb, frame.getByTestId('gauge-active-units-value'), `${last.activeUnits} of 20`, 'the active-units gauge');
    await expectText(wb, frame.getByTestId('run-epoch'), 'epoch 6 / 6', 'the epoch in the header');
    await wb.expectVisible(frame.locator('[data-chart="mean-sigma"] .main-svg'), 'the mean σ chart drawn by Plotly');
    const points = await frame.locator('[data-chart="loss"]').evaluate((el) => (el as unknown as { data: Array<{ x: unknown[] }> }).data.map((d) => d.x.length));
    assert.deepEqual(points, [6, 6, 6, 6], 'loss: test and train, raw and smoothed, 6 epochs each');
    // One verdict on the prior: the σ finding is a warning naming the dimensions off the prior, the σ gauge
    // is coloured the same, and nothing on the panel says prior samples are safe.
    const banners = await frame.locator('.warning[data-kind]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-kind'), e.getAttribute('data-severity')]));
    assert.deepEqual(banners, [['sigma-far-from-one', 'warning']], 'one banner: the σ warning');
    assert.equal(await frame.locator('[data-gauge="test-mean-sigma"]').getAttribute('data-level'), 'warning', 'the σ gauge agrees with the banner');
    assert.doesNotMatch(await frame.locator('body').textContent() ?? '', /not at risk|matches the prior/);
    await wb.screenshot('run-panel-dark');
    await frame.locator('vscode-tab-header', { hasText: 'Images' }).click();
    await frame.locator('img.epoch-image').first().waitFor({ state: 'visible' });
    await wb.page.waitForTimeout(300);
    const sizes = await frame.locator('img.epoch-image').evaluateAll((els) => els.map((e) => (e as HTMLImageElement).naturalWidth));
    assert.deepEqual(sizes, [242, 242], 'prior samples and reconstructions load through webview URIs under the CSP');
    await wb.screenshot('run-panel-images-dark');
    // Opening the same run again reveals its panel instead of opening a second one.
    const panels = await wb.page.locator('iframe.webview').count();
    await wb.runCommand('VAE: Open Run');
    await wb.pickQuickItem(EXP1);
    await wb.page.waitForTimeout(1000);
    assert.equal(await wb.page.locator('iframe.webview').count(), panels, 'one panel per run');
    assert.doesNotMatch(wb.server.readLogChannel('VAE Lens'), /VAE Lens panel/, 'no panel errors or rejected messages in the log');

    // After a window reload the panel comes back (WebviewPanelSerializer), on the tab it was left on.
    // The workbench writes webview state to its storage on its own schedule; give it a moment.
    await wb.page.waitForTimeout(3000);
    await wb.page.reload();
    await wb.expectVisible(wb.page.locator('.monaco-workbench'), 'the workbench after the reload', 60_000);
    const restored = wb.webviewFrame();
    await expectText(wb, restored.getByTestId('run-name'), EXP1, 'the run panel restored after the reload', 60_000);
    await wb.expectVisible(restored.locator('vscode-tabs[selected-index="2"]'), 'the Images tab still selected after the reload');
    await wb.expectVisible(restored.locator('img.epoch-image'), 'the images after the reload');
    await wb.screenshot('run-panel-restored-dark');
    expectNoCspErrors(wb, 'the run panel, its tabs and its restore after a reload');
  });
});

test('every tab of a finished run is drawn: heat-map cells, curve lines, image grids (pixels, dark theme)', { timeout: E2E_TIMEOUT_MS }, async (t) => {
  const { workspace } = workspaceWithRecordedRuns();
  await withWorkbench(t, { workspace, viewport: { width: 1500, height: 1000 } }, async (wb) => {
    await wb.openView('VAE');
    const frame = await openFromTree(wb, EXP1);
    await expectText(wb, frame.getByTestId('run-epoch'), 'epoch 6 / 6', 'the finished run\'s panel');
    const tab = async (name: string) => {
      await frame.locator('vscode-tab-header', { hasText: name }).click();
      await wb.page.waitForTimeout(400);
    };

    // Curves: each chart has its test and train lines, in the theme's colours.
    await tab('Curves');
    for (const chart of ['loss', 'reconstruction', 'kl', 'mean-mu', 'mean-sigma']) {
      const el = frame.locator(`[data-chart="${chart}"]`);
      await wb.expectVisible(el.locator('.main-svg').first(), `the ${chart} chart`);
      const colours = await el.evaluate((c) => (c as unknown as { data: Array<{ name: string; line: { color: string } }> }).data.map((d) => [d.name, d.line.color]));
      const png = await elementPixels(wb, el, `chart-${chart}`);
      for (const split of ['test', 'train']) {
        const css = colours.find(([n]) => n === split)?.[1];
        assert.ok(css, `${chart}: a ${split} trace`);
        const near = pixelsNear(png, await rgbOf(frame, css));
        assert.ok(near >= 40, `${chart}: the ${split} line is drawn (${near} pixels near ${css} in a ${png.width}×${png.height} screenshot)`);
      }
    }

    // Latent dimensions: the heat map's cells are drawn and vary in colour (20 dimensions × 6 epochs).
    await tab('Latent dimensions');
    const cells = frame.getByTestId('heatmap-cells');
    await wb.expectVisible(cells, 'the heat map\'s cells');
    const heat = await elementPixels(wb, cells, 'heatmap-cells');
    const colourCount = distinctColours(heat);
    assert.ok(colourCount >= 8, `the heat map's cells vary in colour: ${colourCount} distinct colours`);
    assert.ok(brightnessSpread(heat) > 8, `the heat map is not one flat colour (brightness spread ${brightnessSpread(heat).toFixed(1)})`);
    await elementPixels(wb, frame.locator('[data-chart="heatmap"]'), 'heatmap');
    const ticks = await frame.locator('.heatmap-x-tick').allTextContents();
    assert.deepEqual(ticks, ['1', '2', '3', '4', '5', '6'], 'whole epochs on the heat map\'s axis');

    // Images: prior samples and reconstructions are pictures, not blank boxes.
    await tab('Images');
    const images = frame.locator('img.epoch-image');
    await wb.expectVisible(images.first(), 'the image grids');
    for (let i = 0; i < 2; i++) {
      await loaded(images.nth(i));
      const png = await elementPixels(wb, images.nth(i), `image-grid-${i}`);
      const spread = brightnessSpread(png);
      assert.ok(spread > 20, `image grid ${i + 1} is not blank (brightness spread ${spread.toFixed(1)})`);
    }

    // Configuration: the run's settings.
    await tab('Configuration');
    await expectText(wb, frame.getByTestId('config-table'), 'chainer-mlp', 'the configuration table');
    await wb.screenshot('run-panel-configuration-dark');
    expectNoCspErrors(wb, 'every tab of the run panel');
    // The check sees what a webview's policy blocks: a data: image added to the panel is reported.
    await frame.locator('body').evaluate((body) => {
      const probe = document.createElement('img');
      probe.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
      body.append(probe);
    });
    const deadline = Date.now() + 10_000;
    while (!wb.consoleErrors().some((e) => /Content Security Policy/i.test(e.text)) && Date.now() < deadline) await wb.page.waitForTimeout(200);
    assert.ok(wb.consoleErrors().some((e) => /Content Security Policy/i.test(e.text) && e.text.includes('data:image/gif')), 'a blocked data: image in the webview shows up in the console errors the checks read');
  });
});

test('a change of vaeLens.warnings.* settings recolours an open panel\'s gauges and banner', { timeout: E2E_TIMEOUT_MS }, async (t) => {
  const { workspace } = workspaceWithRecordedRuns();
  await withWorkbench(t, { workspace, viewport: { width: 1500, height: 1000 } }, async (wb) => {
    await wb.openView('VAE');
    const frame = await openFromTree(wb, EXP1);
    // Default tolerance 0.3: test mean σ 0.383 is far from 1, and a warning: 13 of its 20 dimensions
    // have |E[μ_d]| > 0.3, so the aggregate posterior is off the prior (one verdict with the banner).
    await wb.expectVisible(frame.locator('[data-gauge="test-mean-sigma"][data-level="warning"]'), 'the mean σ gauge as a warning with the default tolerance');
    await wb.expectVisible(frame.locator('.warning[data-kind="sigma-far-from-one"]'), 'the σ finding in the banner');
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'vaeLens.warnings.sigmaTolerance': 0.7 }, null, 2));
    await wb.expectVisible(frame.locator('[data-gauge="test-mean-sigma"][data-level="good"]'), 'the mean σ gauge on target with tolerance 0.7', 30_000);
    await wb.expectHidden(frame.locator('.warning[data-kind="sigma-far-from-one"]'), 'no σ finding with tolerance 0.7', 30_000);
    expectNoCspErrors(wb, 'the run panel redrawn for new settings');
  });
});

test('a running run\'s panel follows the epochs appended to events.jsonl (light theme)', { timeout: E2E_TIMEOUT_MS }, async (t) => {
  const { workspace, runsDir } = workspaceWithRecordedRuns();
  writeFileSync(join(workspace, 'notes.md'), '# Notes\n');
  const dir = writeMnistLikeRun(runsDir, { name: 'live', epochs: 10, written: 3, status: 'running', dimz: 20, active: 12 });
  await withWorkbench(t, { workspace, theme: 'Default Light Modern', viewport: { width: 1500, height: 1000 } }, async (wb) => {
    await wb.openView('VAE');
    const frame = await openFromTree(wb, 'live');
    await expectText(wb, frame.getByTestId('run-epoch'), 'epoch 4 / 10', 'the live run training epoch 4 (3 completed)');
    await wb.expectVisible(frame.locator('[data-chart="loss"] .main-svg'), 'the loss chart');
    for (const epoch of [4, 5]) {
      writeEpochImages(dir, epoch);
      const event = mnistLikeEpoch(epoch, { epochs: 10, dimz: 20, active: 12 });
      appendEvents(dir, [event]);
      const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
      writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...info, epochsCompleted: epoch }, null, 2));
      await expectText(wb, frame.getByTestId('run-epoch'), `epoch ${epoch + 1} / 10`, `the panel training epoch ${epoch + 1} after epoch ${epoch} was appended`);
      await expectText(wb, frame.getByTestId('gauge-test-mean-sigma-value'), event.test.meanSigma.toFixed(3), `the mean σ gauge at epoch ${epoch}`);
    }
    const points = await frame.locator('[data-chart="mean-sigma"]').evaluate((el) => (el as unknown as { data: Array<{ x: unknown[] }> }).data.map((d) => d.x.length));
    assert.deepEqual(points, [5, 5, 5, 5], 'the curves were extended to 5 epochs');
    await wb.screenshot('live-run-panel-light');

    // Hidden behind another editor, the panel misses what is appended; shown again, it gets a full snapshot.
    await wb.openFile('notes.md');
    await wb.expectHidden(wb.page.locator('iframe.webview.ready'), 'the run panel hidden behind notes.md');
    writeEpochImages(dir, 6);
    const sixth = mnistLikeEpoch(6, { epochs: 10, dimz: 20, active: 12 });
    appendEvents(dir, [sixth]);
    await wb.page.waitForTimeout(2500);
    await wb.page.locator('.tabs-container .tab').filter({ hasText: 'VAE: live' }).click();
    const shown = wb.webviewFrame();
    await expectText(wb, shown.getByTestId('run-epoch'), 'epoch 7 / 10', 'epoch 6, appended while the panel was hidden, once it is shown again (epoch 7 in progress)', 30_000);
    await expectText(wb, shown.getByTestId('gauge-test-mean-sigma-value'), sixth.test.meanSigma.toFixed(3), 'the mean σ gauge at epoch 6');
    expectNoCspErrors(wb, 'a live run\'s panel');
  });
});

test('two runs compared from the VAE Runs view: config differences, overlaid curves, samples side by side (light theme)', { timeout: E2E_TIMEOUT_MS }, async (t) => {
  const { workspace } = workspaceWithRecordedRuns();
  await withWorkbench(t, { workspace, theme: 'Default Light Modern', viewport: { width: 1500, height: 1000 } }, async (wb) => {
    await wb.openView('VAE');
    const pane = await wb.viewPane('VAE Runs');
    await selectRuns(wb, pane, [EXP1, EXP2]);
    await chooseFromContextMenu(wb, treeRow(pane, EXP2), 'Compare Runs');
    const frame = wb.webviewFrame();
    await expectText(wb, frame.locator('h1'), 'Comparing 2 runs', 'the compare panel');
    const keys = await frame.locator('[data-testid="config-diff"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
    assert.deepEqual(keys, ['model', 'dimz']);
    await wb.expectVisible(frame.locator('[data-chart="mean-sigma"] .main-svg'), 'the overlaid mean σ chart');
    const traces = await frame.locator('[data-chart="mean-sigma"]').evaluate((el) => (el as unknown as { data: unknown[] }).data.length);
    assert.equal(traces, 8, '2 runs × test/train × raw/smoothed');
    await wb.page.waitForTimeout(500);
    const sizes = await frame.locator('img.epoch-image').evaluateAll((els) => els.map((e) => (e as HTMLImageElement).naturalWidth));
    assert.deepEqual(sizes, [242, 242], 'both runs\' prior samples at the same epoch');
    await wb.screenshot('compare-panel-light');
    expectNoCspErrors(wb, 'the compare panel');
  });
});

test('the run panel in a high-contrast theme: theme colours, gauges and charts drawn', { timeout: E2E_TIMEOUT_MS }, async (t) => {
  const { workspace } = workspaceWithRecordedRuns();
  await withWorkbench(t, { workspace, theme: 'Default High Contrast', viewport: { width: 1500, height: 1000 } }, async (wb) => {
    await wb.openView('VAE');
    const frame = await openFromTree(wb, EXP2);
    await expectText(wb, frame.getByTestId('gauge-active-units-value'), '100 of 100', 'the active-units gauge of the deep-bn run');
    await wb.expectVisible(frame.locator('[data-chart="loss"] .main-svg'), 'the loss chart');
    // Plotly takes its colours from the theme's variables: in high contrast the axis text is the theme's (white) foreground.
    const colours = await frame.locator('body').evaluate(() => {
      const css = getComputedStyle(document.documentElement);
      const tick = document.querySelector('[data-chart="loss"] .xtick text') as SVGTextElement | null;
      return { foreground: css.getPropertyValue('--vscode-editor-foreground').trim(), background: getComputedStyle(document.body).backgroundColor, tick: tick ? getComputedStyle(tick).fill : '' };
    });
    assert.equal(colours.background, 'rgb(0, 0, 0)', 'the page uses the high-contrast editor background');
    assert.ok(colours.foreground.length > 0, 'VS Code supplies the theme variables');
    assert.notEqual(colours.tick, 'rgb(68, 68, 68)', 'axis labels do not keep Plotly\'s default dark grey');
    await wb.screenshot('run-panel-high-contrast');
    expectNoCspErrors(wb, 'the run panel in high contrast');
  });
});

/** Trainers are detached (they outlive a window): end the ones a test started. */
function killTrainers(runsDir: string): void {
  for (const d of readdirSync(runsDir)) {
    try {
      const info = JSON.parse(readFileSync(join(runsDir, d, 'run.json'), 'utf8')) as { pid?: number };
      if (info.pid && info.pid !== process.pid) process.kill(info.pid, 'SIGKILL');
    } catch {
      // no run.json, or the trainer is gone
    }
  }
}

test('a real training run\'s panel: epochs arrive live, and the panel\'s Stop button stops the trainer', { timeout: E2E_TIMEOUT_MS }, async (t) => {
  const experiment = { name: 'live-real', model: 'chainer-mlp', dimz: 20, epochs: 40, trainLimit: 1000, testLimit: 300 };
  const workspace = makeWorkspace({ 'experiments/live-real.vae.json': JSON.stringify(experiment, null, 2) + '\n' });
  t.after(() => killTrainers(join(workspace, RUNS)));
  await withWorkbench(t, { workspace, viewport: { width: 1500, height: 1000 } }, async (wb) => {
    await wb.openView('VAE');
    await wb.runCommand('VAE: Train');
    await wb.pickQuickItem('experiments/live-real.vae.json');
    const frame = await openFromTree(wb, 'live-real');
    await expectText(wb, frame.getByTestId('run-status'), 'running', 'the panel of the training run', 90_000);
    // "epoch 3 / 40" is shown while epoch 3 trains, that is once 2 epochs are complete.
    await expectText(wb, frame.getByTestId('run-epoch'), /^epoch ([3-9]|[1-3]\d) \/ 40$/, 'the panel following the trainer past epoch 2', 120_000);
    const before = await frame.locator('[data-chart="loss"]').evaluate((el) => (el as unknown as { data: Array<{ x: unknown[] }> }).data[0].x.length);
    assert.ok(before >= 2, `the loss chart has ${before} epochs`);
    await wb.screenshot('real-run-live-dark');
    await frame.getByTestId('stop').click();
    await expectText(wb, frame.getByTestId('run-status'), 'stopped', 'the run stopped from the panel\'s Stop button', 90_000);
    await wb.expectVisible(frame.locator('[data-testid="resume"]:not([disabled])'), 'Resume enabled for the stopped run');
    const [runDir] = readdirSync(join(workspace, RUNS));
    const info = JSON.parse(readFileSync(join(workspace, RUNS, runDir, 'run.json'), 'utf8')) as { status: string; epochsCompleted: number };
    assert.equal(info.status, 'stopped');
    assert.ok(info.epochsCompleted < 40);
    await wb.screenshot('real-run-stopped-dark');
    expectNoCspErrors(wb, 'a real training run\'s panel');
  });
});
