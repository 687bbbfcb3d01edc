import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chartTraces, openPanel, panelTestEnvironment } from './harness';
import { tempRunsDir, writeMnistLikeRun } from '../support/runFixtures';
import { formatNumber } from '../../src/shared/format';

const env = panelTestEnvironment();
const runsDir = tempRunsDir();

function threeRuns(): string[] {
  return [
    writeMnistLikeRun(runsDir, { name: 'exp1', epochs: 8, dimz: 20, active: 12, flavour: 0 }),
    writeMnistLikeRun(runsDir, { name: 'exp2', epochs: 8, dimz: 100, active: 30, flavour: 1, config: { model: 'deep-bn' } }),
    writeMnistLikeRun(runsDir, { name: 'exp3', epochs: 8, dimz: 20, active: 10, flavour: 2, config: { learningRate: 3e-4 } }),
  ];
}

test('the config table lists only the settings that differ between the runs', async () => {
  const panel = await openPanel(env.context, env.server, 'compare', threeRuns());
  const keys = await panel.page.locator('[data-testid="config-diff"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
  assert.deepEqual(keys, ['model', 'dimz', 'learningRate']);
  const dimzRow = await panel.page.locator('[data-testid="config-diff"] tr[data-key="dimz"] td').allTextContents();
  assert.deepEqual(dimzRow, ['20', '100', '20']);
  const lr = await panel.page.locator('[data-testid="config-diff"] tr[data-key="learningRate"] td').allTextContents();
  assert.deepEqual(lr, ['0.001', '0.001', '0.0003']);
  // The networks: deep-bn against chainer-mlp as a diff of layer lines; exp3 has exp1's network.
  const blocks = panel.page.locator('[data-testid="network-diff"] .network-block');
  assert.equal(await blocks.count(), 1);
  assert.match(await blocks.locator('h3').innerText(), /exp1\s*→\s*exp2/);
  const encoder = await blocks.locator('ol[aria-label="encoder layers"] li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-kind')} ${li.textContent?.replace(/^[−+ ]((added|removed): )?/, '')}`));
  assert.deepEqual(encoder, [
    'removed dense 500', 'removed tanh',
    'added dense 600', 'added batchNorm', 'added softplus', 'added dense 600', 'added batchNorm', 'added softplus',
  ]);
  // Added and removed lines look different (the theme's diff colours), and say so to a screen reader.
  const [removedBg, addedBg] = await Promise.all(['removed', 'added'].map((k) => blocks.locator(`li[data-kind="${k}"]`).first().evaluate((el) => getComputedStyle(el).backgroundColor)));
  assert.notEqual(removedBg, addedBg);
  assert.match(await blocks.locator('li[data-kind="added"] .sr-only').first().textContent() ?? '', /added/);
  await panel.page.close();
});

test('every curve is overlaid, one colour per run in every chart, the legend and the tables', async () => {
  const dirs = threeRuns();
  const panel = await openPanel(env.context, env.server, 'compare', dirs);
  for (const id of ['loss', 'reconstruction', 'kl', 'mean-mu', 'mean-sigma']) {
    const traces = await chartTraces(panel.page, id);
    assert.equal(traces.length, 3 * 2 * 2, `${id}: 3 runs × test/train × raw/smoothed`);
    assert.ok(traces.every((t) => t.points === 8));
  }
  const colours = await panel.page.evaluate(() => {
    const data = (document.querySelector('[data-chart="mean-sigma"]') as unknown as { data: Array<{ name: string; line: { color: string } }> }).data;
    return data.map((t) => [t.name, t.line.color]);
  });
  const byRun = new Map<string, Set<string>>();
  for (const [name, colour] of colours) {
    const run = name.split(' ')[0];
    byRun.set(run, (byRun.get(run) ?? new Set()).add(colour));
  }
  assert.deepEqual([...byRun.keys()], ['exp1', 'exp2', 'exp3']);
  for (const set of byRun.values()) assert.equal(set.size, 1, 'a run has one colour');
  assert.equal(new Set([...byRun.values()].map((s) => [...s][0])).size, 3, 'runs have different colours');
  const legend = await panel.page.locator('[data-testid="run-legend"] .swatch').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
  assert.equal(legend.length, 3);
  const finals = await panel.page.locator('[data-testid="final-metrics"] thead th').allTextContents();
  assert.deepEqual(finals, ['metric (last epoch)', 'exp1', 'exp2', 'exp3']);
  const active = await panel.page.locator('[data-testid="final-metrics"] tbody tr', { hasText: 'active units' }).locator('td').allTextContents();
  assert.deepEqual(active, [`${panel.snapshot.runs[0].epochs.at(-1)!.activeUnits} of 20`, `${panel.snapshot.runs[1].epochs.at(-1)!.activeUnits} of 100`, `${panel.snapshot.runs[2].epochs.at(-1)!.activeUnits} of 20`]);
  // Health findings of every run, each naming its run, folded under one summary.
  const findings = await panel.page.locator('details.findings .warning-text').allTextContents();
  assert.ok(findings.length >= 3, `findings: ${findings.length}`);
  assert.ok(findings.every((f) => /^exp[123]: /.test(f)), findings.join(' | '));
  assert.match((await panel.page.locator('details.findings > summary').textContent()) ?? '', new RegExp(`^${findings.length} health findings across 3 runs$`));
  assert.deepEqual(await panel.cspViolations(), []);
  // Open one run on its own.
  await panel.page.getByTestId('open-run').nth(1).click();
  assert.deepEqual((await panel.posted()).filter((m) => m.type === 'openRun'), [{ type: 'openRun', dir: dirs[1] }]);
  await panel.page.close();
});

test('prior samples of every run side by side at the same epoch, moved by one slider', async () => {
  const panel = await openPanel(env.context, env.server, 'compare', threeRuns());
  const images = panel.page.getByTestId('epoch-image');
  await panel.page.waitForFunction(() => Array.from(document.querySelectorAll('img.epoch-image')).every((e) => (e as HTMLImageElement).naturalWidth > 0));
  const srcs = () => images.evaluateAll((els) => els.map((e) => (e as HTMLImageElement).src.replace(/^.*\/runs\/\d+\//, '')));
  assert.deepEqual(await srcs(), ['samples/epoch-0008.png', 'samples/epoch-0008.png', 'samples/epoch-0008.png']);
  const runsOf = await images.evaluateAll((els) => new Set(els.map((e) => (e as HTMLImageElement).src.replace(/samples.*$/, ''))).size);
  assert.equal(runsOf, 3, 'one image per run');
  await panel.page.getByTestId('epoch-slider').focus();
  await panel.page.keyboard.press('Home');
  assert.deepEqual(await srcs(), ['samples/epoch-0001.png', 'samples/epoch-0001.png', 'samples/epoch-0001.png']);
  await panel.page.screenshot({ path: '/tmp/vae-compare-panel.png', fullPage: true });
  await panel.page.close();
});

test('the final metrics add each run\'s latest prior fit: the event\'s numbers, "≥" for I(x; z), "–" for a run without diagnostics', async () => {
  const dirs = [
    writeMnistLikeRun(runsDir, { name: 'fit1', epochs: 8, dimz: 20, active: 12, flavour: 0 }),
    writeMnistLikeRun(runsDir, { name: 'fit2', epochs: 8, dimz: 100, active: 30, flavour: 1 }),
    writeMnistLikeRun(runsDir, { name: 'fit3', epochs: 8, dimz: 20, active: 10, flavour: 2, config: { diagnosticsEvery: 0 } }),
  ];
  const panel = await openPanel(env.context, env.server, 'compare', dirs);
  const row = (id: string) => panel.page.locator(`[data-testid="final-metrics"] tr[data-row="${id}"] td`).allTextContents();
  const runs = panel.snapshot.runs;
  const last = runs.map((r) => r.epochs.at(-1)!);
  const nats = (x: number) => `${formatNumber(x, 2)} nats`;
  // −ELBO at C = 1 of the last epoch, for every run; the diagnostics of the last epoch that has them (epoch 8, the last).
  assert.deepEqual(await row('neg-elbo'), last.map((e) => nats(e.test.reconstruction + e.test.kl)));
  assert.deepEqual(await row('prior-fit-epoch'), ['epoch 8', 'epoch 8', 'not measured']);
  const [d1, d2] = [last[0].diagnostics!, last[1].diagnostics!];
  assert.equal(last[2].diagnostics, undefined);
  assert.deepEqual(await row('iw-nll'), [`${nats(d1.iwNll!.value)} (k = 100)`, `${nats(d2.iwNll!.value)} (k = 100)`, '–']);
  // dimz 100 with 30 active dimensions: I(x; z) is at ln 2,000, the most the estimate can be.
  assert.ok(d1.mutualInformation < Math.log(2000) - 0.05 && d2.mutualInformation > Math.log(2000) - 0.05);
  assert.deepEqual(await row('information'), [`≥ ${nats(d1.mutualInformation)}`, `≥ ${nats(d2.mutualInformation)} (at ln 2,000 = 7.60)`, '–']);
  assert.deepEqual(await row('marginal-kl'), [nats(d1.marginalKl), nats(d2.marginalKl), '–']);
  assert.deepEqual(await row('moment'), [nats(d1.moments.total), nats(d2.moments.total), '–']);
  assert.deepEqual(await row('non-gaussian'), [nats(d1.nonGaussian), nats(d2.nonGaussian), '–']);
  assert.deepEqual(await row('hole-rate'), [`${formatNumber(100 * d1.holeRate, 1)}%`, `${formatNumber(100 * d2.holeRate, 1)}%`, '–']);
  const ceilingNote = await panel.page.locator('[data-testid="final-metrics"] tr[data-row="information"] td').nth(1).getAttribute('title');
  assert.match(ceilingNote ?? '', /^cannot exceed ln N = ln 2,000 = 7\.60/);
  assert.deepEqual(await panel.cspViolations(), []);
  assert.deepEqual(panel.consoleErrors(), []);
  await panel.page.close();
});
