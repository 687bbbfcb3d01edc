// The panels on real runs: two run folders recorded with the CLI (test/fixtures/runs: chainer-mlp
// dimz 20 and deep-bn dimz 100, 6 epochs on 3,000 MNIST images; checkpoints left out).
// With VAE_LENS_DOCS=1 this test also writes the README's screenshots (docs/*.png).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { chartTraces, openPanel, panelTestEnvironment, ROOT } from './harness';
import { tempRunsDir } from '../support/runFixtures';
import { readRun } from '../../src/node/runFolder';

const env = panelTestEnvironment({ width: 1100, height: 900 });
const runsDir = tempRunsDir();
cpSync(join(ROOT, 'test/fixtures/runs'), runsDir, { recursive: true });
const [exp1, exp2] = readdirSync(runsDir).sort().map((d) => join(runsDir, d));
const docs = process.env.VAE_LENS_DOCS === '1';

/** Fewer colours, same look: keeps the committed screenshots small. */
function saveDocsScreenshot(from: string, name: string): void {
  execFileSync('convert', [from, '+dither', '-colors', '48', '-strip', `PNG8:${join(ROOT, 'docs', name)}`]);
}

test('a recorded chainer-mlp run: the gauges show its last epoch, six points per curve, its images load', async () => {
  const run = await readRun(exp1);
  const last = run.events.filter((e) => e.type === 'epoch').at(-1);
  assert.ok(last && last.type === 'epoch');
  const panel = await openPanel(env.context, env.server, 'run', [exp1]);
  assert.equal(await panel.page.getByTestId('gauge-test-mean-sigma-value').textContent(), last.test.meanSigma.toFixed(3));
  assert.equal(await panel.page.getByTestId('gauge-active-units-value').textContent(), `${last.activeUnits} of 20`);
  assert.equal(await panel.page.getByTestId('run-device').textContent(), `${run.info.environment!.backend} · ${run.info.environment!.device}`);
  for (const t of await chartTraces(panel.page, 'loss')) assert.equal(t.points, 6);
  // One verdict on the prior: mean σ ≈ 0.38 and 13 of the 20 dimensions have |E[μ_d]| > 0.3, so the σ
  // banner is a warning that names them, the gauge is coloured as a warning, and no second banner (or
  // text) says prior samples are safe.
  const banners = panel.page.locator('.warning[data-kind]');
  assert.deepEqual(await banners.evaluateAll((els) => els.map((e) => [e.getAttribute('data-kind'), e.getAttribute('data-severity')])), [['sigma-far-from-one', 'warning']]);
  assert.match(await banners.first().textContent() ?? '', /13 have \|E\[μ_d\]\| > 0\.30/);
  assert.doesNotMatch(await panel.page.locator('body').textContent() ?? '', /not at risk|matches the prior/);
  assert.equal(await panel.page.locator('[data-gauge="test-mean-sigma"]').getAttribute('data-level'), 'warning');
  // Recorded before the trainer measured the prior fit: a note says so, the −ELBO at C = 1 is still charted.
  const absent = 'This run has no prior-fit measures: it was trained before VAE Lens took them.';
  assert.equal(await panel.page.getByTestId('prior-fit-absent').textContent(), absent);
  assert.equal(await panel.page.getByTestId('prior-fit-charts-absent').textContent(), absent);
  assert.deepEqual((await chartTraces(panel.page, 'prior-fit-likelihood')).map((t) => t.points), [6, 0]);
  assert.deepEqual(await panel.cspViolations(), []);
  assert.deepEqual(panel.consoleErrors(), []);
  if (docs) {
    const shot = join(runsDir, 'run.png');
    await panel.page.screenshot({ path: shot });
    saveDocsScreenshot(shot, 'run-panel.png');
  }
  await panel.page.locator('vscode-tab-header', { hasText: 'Images' }).click();
  await panel.page.waitForFunction(() => Array.from(document.querySelectorAll('img.epoch-image')).every((e) => (e as HTMLImageElement).naturalWidth === 242));
  await panel.page.close();
});

test('the two recorded runs compared: model and dimz differ, deep-bn keeps mean σ nearer 1', async () => {
  const panel = await openPanel(env.context, env.server, 'compare', [exp1, exp2]);
  const keys = await panel.page.locator('[data-testid="config-diff"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
  assert.deepEqual(keys, ['model', 'dimz']);
  const sigma = await panel.page.locator('[data-testid="final-metrics"] tbody tr', { hasText: 'mean σ (test)' }).locator('td').allTextContents();
  assert.ok(Number(sigma[1]) > Number(sigma[0]), `deep-bn (dimz 100) mean σ ${sigma[1]} should exceed chainer-mlp's ${sigma[0]}`);
  // No diagnostics in these runs: their prior-fit rows say so instead of inventing numbers.
  const priorFit = (id: string) => panel.page.locator(`[data-testid="final-metrics"] tr[data-row="${id}"] td`).allTextContents();
  assert.deepEqual(await priorFit('prior-fit-epoch'), ['not measured', 'not measured']);
  assert.deepEqual(await priorFit('hole-rate'), ['–', '–']);
  assert.ok((await priorFit('neg-elbo')).every((t) => /^\d+\.\d+ nats$/.test(t)), 'the −ELBO at C = 1 needs no diagnostics');
  await panel.page.waitForFunction(() => Array.from(document.querySelectorAll('img.epoch-image')).every((e) => (e as HTMLImageElement).naturalWidth > 0));
  if (docs) {
    await panel.page.getByRole('heading', { name: 'Curves' }).scrollIntoViewIfNeeded();
    const shot = join(runsDir, 'compare.png');
    await panel.page.screenshot({ path: shot, fullPage: true });
    saveDocsScreenshot(shot, 'compare-panel.png');
  }
  await panel.page.close();
});
