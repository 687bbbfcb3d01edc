// The extension host in the real VS Code (code-server + Chromium): VAE: Train from F1, the VAE
// Runs view going live, the status bar, Stop and Resume from the tree, a run that completes,
// Delete asking first, a σ warning raised by a real run (notification + badges), a window reload
// in the middle of a run, and Stop on runs this window did not start (no signal is ever sent).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname, tmpdir } from 'node:os';
import { createServer } from 'node:http';
import { test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { makeWorkspace } from '../support/codeServer';
import { writeRunFolder } from '../support/runFixtures';
import { isProcessAlive, processStartId } from '../../src/node/processProbe';
import { STOP_REQUEST_FILE } from '../../src/shared/run';
import { E2E_TIMEOUT_MS, withWorkbench, type Workbench } from '../support/workbench';
import { chooseFromContextMenu, selectRuns, treeRow, treeRows } from '../support/runsView';
import { scenario } from '../support/scenario';

const RUNS = '.vae-runs';

/** Small, real runs: 1,000 training and 500 test MNIST images per epoch. */
const tiny = { name: 'tiny', model: 'chainer-mlp', dimz: 20, epochs: 2, trainLimit: 1000, testLimit: 500, backend: 'wasm' };
/** No KL pressure: posteriors shrink far below the prior while the aggregate variance is still off (≈ 0.4–0.6 in epochs 1–2). */
/** A learning rate of 10 makes the loss NaN within a few batches. */
const boom = { name: 'boom', epochs: 2, trainLimit: 1000, testLimit: 500, learningRate: 10 };
const narrow = { name: 'narrow', model: 'chainer-mlp', dimz: 20, epochs: 50, trainLimit: 1000, testLimit: 500, klWeight: 0, learningRate: 0.003 };

interface RunJson { id: string; name: string; status: string; pid?: number; epochsCompleted: number }

function runFolders(workspace: string): { dir: string; info: RunJson }[] {
  const root = join(workspace, RUNS);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'run.json')))
    .map((d) => ({ dir: join(root, d), info: JSON.parse(readFileSync(join(root, d, 'run.json'), 'utf8')) as RunJson }));
}

/** Trainers are detached (they outlive a window): end the ones a test started. */
function killTrainers(workspace: string): void {
  for (const { info } of runFolders(workspace)) {
    if (!info.pid) continue;
    for (const target of [-info.pid, info.pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** Runs a command from F1, retrying while the workbench is still registering the extension's commands. */
async function runCommandSoon(wb: Workbench, title: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await wb.runCommand(title);
      return;
    } catch (err) {
      if (attempt === 3) throw err;
      await wb.page.waitForTimeout(2000);
    }
  }
}

async function waitForRow(wb: Workbench, pane: Locator, label: string, description: RegExp, what: string, timeoutMs = 60_000): Promise<Locator> {
  const row = treeRows(pane, label).filter({ has: pane.page().locator('.label-description', { hasText: description }) });
  await wb.expectVisible(row, what, timeoutMs);
  return row.first();
}

function statusBarItem(page: Page): Locator {
  return page.locator('#workbench\\.parts\\.statusbar .statusbar-item').filter({ hasText: /VAE .*epoch|VAE .*(loading|starting|evaluating)/ });
}

async function clickInline(wb: Workbench, row: Locator, action: string): Promise<void> {
  await row.hover();
  const button = row.locator(`.actions a.action-label[aria-label^="${action}"]`);
  await wb.expectVisible(button, `the inline "${action}" action on the run`);
  await button.first().click();
}

async function statusBarTexts(page: Page, samples: number, intervalMs: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < samples; i++) {
    const t = (await statusBarItem(page).first().textContent().catch(() => null))?.trim();
    if (t && !seen.includes(t)) seen.push(t);
    await page.waitForTimeout(intervalMs);
  }
  return seen;
}

test('VAE: Train and a run\'s life in the VAE Runs view, part by part', { timeout: E2E_TIMEOUT_MS * 2 }, async (t) => {
  const workspace = makeWorkspace({ 'experiments/tiny.vae.json': JSON.stringify(tiny, null, 2) + '\n', 'experiments/boom.vae.json': JSON.stringify(boom) });
  // A run left marked running by a trainer that died (no process has this pid) before its first checkpoint.
  const crashed = writeRunFolder(join(workspace, RUNS), { id: '20261127-080000-crashed', name: 'crashed run', status: 'running', epochs: 10, completed: 0, pid: 4_000_000, hostname: hostname() });
  t.after(() => killTrainers(workspace));
  // The plain JavaScript backend (setting vaeLens.backend) keeps the Quick check in its first epoch for
  // a minute or more, so it is still running when the test stops it.
  // No hovers: a run's tooltip appearing under the pointer closes an open context menu.
  await withWorkbench(t, { workspace, settings: { 'vaeLens.backend': 'cpu', 'workbench.hover.delay': 60_000 } }, async (wb) => {
    const { page } = wb;
    await wb.openView('VAE');
    const pane = await wb.viewPane('VAE Runs');

    const s = scenario(t);
    const dialog = page.locator('.monaco-dialog-box');
    // What the parts build on: the Quick check's row, the tiny run's row and folder.
    let quick!: Locator;
    let done!: Locator;
    let tinyRun!: ReturnType<typeof runFolders>[number];
    await s.step('a dead run found on activation is interrupted; its Resume explains why not', async () => {
      // On activation the dead run becomes interrupted (on disk too) and offers Resume, which explains why it cannot.
      const interrupted = await waitForRow(wb, pane, 'crashed run', /^interrupted · epoch 0\/10$/, 'the crashed run shown as interrupted');
      assert.equal((JSON.parse(readFileSync(join(crashed, 'run.json'), 'utf8')) as RunJson).status, 'interrupted');
      await clickInline(wb, interrupted, 'Resume');
      await wb.waitForNotification(/"crashed run" has no checkpoint yet/);
    });

    await s.step('VAE: Train from F1: the Quick check runs, live in the tree and the status bar', async () => {
      // F1 → VAE: Train → the Quick check preset.
      await runCommandSoon(wb, 'VAE: Train');
      await wb.screenshot('train-quick-pick');
      await wb.pickQuickItem('Quick check — chainer-mlp, dimz 20, 5 epochs on 10,000 MNIST images');
      quick = await waitForRow(wb, pane, 'Quick check', /^(starting|running)/, 'the Quick check run in the VAE Runs view', 60_000);
      await waitForRow(wb, pane, 'Quick check', /^running · epoch 1\/5/, 'the Quick check run shown as running its first epoch', 90_000);
      await wb.expectVisible(statusBarItem(page).filter({ hasText: /epoch 1\/5 \(\d+%\)/ }), 'the status bar showing batch progress of epoch 1/5', 60_000);
      const moving = await statusBarTexts(page, 8, 700);
      assert.ok(moving.length >= 2, `the status bar should move while training; it showed ${JSON.stringify(moving)}`);
      await wb.screenshot('quick-check-running');
    });

    await s.step("the status-bar item opens the run's panel", async () => {
      // The status-bar item opens the run's panel.
      await statusBarItem(page).first().click();
      await wb.expectVisible(page.locator('.tabs-container .tab', { hasText: 'VAE: ' }), 'the run panel opened from the status bar', 30_000);
    });

    await s.step('a second run waits in the queue; the pick offers the last choice first', async () => {
      // A second run waits in the queue (vaeLens.maxConcurrentRuns is 1) and shows as queued. The pick offers the last choice first.
      await runCommandSoon(wb, 'VAE: Train');
      await wb.expectVisible(page.locator('.quick-input-widget .monaco-list-row').first().filter({ hasText: 'Last used: Quick check — chainer-mlp, dimz 20, 5 epochs on 10,000 MNIST images' }), 'the "Last used" entry first in the Train quick pick');
      await wb.pickQuickItem('experiments/tiny.vae.json');
      await waitForRow(wb, pane, 'tiny', /^queued · #1 · chainer-mlp, dimz 20, 2 epochs$/, 'the tiny run shown as queued', 15_000);
      await wb.screenshot('tiny-queued');
    });

    await s.step('Stop from the tree keeps a checkpoint; the queued run starts and completes', async () => {
      // Stop from the tree (inline): the Quick check stops with a checkpoint, and the queued run starts.
      await clickInline(wb, quick, 'Stop');
      await waitForRow(wb, pane, 'Quick check', /^stopped/, 'the Quick check run shown as stopped', 60_000);
      const [stopped] = runFolders(workspace).filter((r) => r.info.name === 'Quick check');
      assert.equal(stopped.info.status, 'stopped');
      assert.equal((stopped.info as unknown as { config: { backend: string } }).config.backend, 'cpu', 'the vaeLens.backend setting reaches the run config');
      assert.ok(existsSync(join(stopped.dir, 'checkpoint')), 'a stopped run has a checkpoint to resume from');
      // The tiny run is short: by now it may be running or already done.
      await waitForRow(wb, pane, 'tiny', /^(starting|running|completed)/, 'the queued tiny run starting once the slot is free', 60_000);
      done = await waitForRow(wb, pane, 'tiny', /^completed · epoch 2\/2 · test loss \d+\.\d$/, 'the tiny run completed with its test loss', 180_000);
      await wb.expectHidden(statusBarItem(page), 'the status-bar item once nothing trains', 15_000);
      await wb.screenshot('tiny-completed');
      tinyRun = runFolders(workspace).find((r) => r.info.name === 'tiny')!;
      assert.equal(tinyRun.info.status, 'completed');
      assert.equal(tinyRun.info.epochsCompleted, 2);
      assert.equal((tinyRun.info as unknown as { config: { backend: string } }).config.backend, 'wasm', 'an experiment file\'s own backend wins over vaeLens.backend');
    });

    await s.step('Resume from the tree continues the same run folder', async () => {
      // Resume from the tree (inline) continues the same run folder; stop it again to keep the test short.
      await clickInline(wb, await waitForRow(wb, pane, 'Quick check', /^stopped/, 'the stopped run'), 'Resume');
      await waitForRow(wb, pane, 'Quick check', /^running/, 'the resumed Quick check run shown as running', 90_000);
      await wb.expectVisible(statusBarItem(page).filter({ hasText: /epoch \d\/5/ }), 'the status bar following the resumed run', 90_000);
      assert.equal(runFolders(workspace).filter((r) => r.info.name === 'Quick check').length, 1, 'Resume continues the same run folder');
      await wb.screenshot('quick-check-resumed');
      await clickInline(wb, await waitForRow(wb, pane, 'Quick check', /^running/, 'the resumed run'), 'Stop');
      await waitForRow(wb, pane, 'Quick check', /^stopped/, 'the resumed run stopped again', 60_000);
    });

    await s.step('Export Metrics writes one CSV row per epoch, and the JSON beside it', async () => {
      // Export Metrics writes one CSV row per epoch (the save dialog is VS Code's own path input here).
      await chooseFromContextMenu(wb, done, 'Export Metrics');
      await wb.expectVisible(page.locator('.quick-input-widget input'), 'the save dialog for the metrics CSV');
      await page.locator('.quick-input-widget input').press('Enter');
      const csvFile = join(workspace, RUNS, `${tinyRun.info.id}-metrics.csv`);
      await wb.waitForNotification(/metrics of "tiny" written to/, 15_000);
      const csv = readFileSync(csvFile, 'utf8').trim().split('\n');
      assert.equal(csv.length, 3, `header + 2 epochs in ${csvFile}`);
      assert.match(csv[0], /^epoch,train_loss,/);
      assert.match(csv[0], /,test_neg_elbo_c1,/, 'the −ELBO at C = 1 column');
      const json = JSON.parse(readFileSync(csvFile.replace(/\.csv$/, '.json'), 'utf8')) as { epochs: unknown[] };
      assert.equal(json.epochs.length, 2, 'the JSON beside the CSV has the same epochs');
    });

    await s.step('Delete asks first; Cancel keeps the folder', async () => {
      // Delete asks first (modal); Cancel keeps the folder.
      await chooseFromContextMenu(wb, done, 'Delete Run');
      await wb.expectVisible(dialog.filter({ hasText: 'Delete "tiny"?' }), 'the modal "Delete "tiny"?" confirmation');
      await wb.expectVisible(dialog.locator('.monaco-button', { hasText: 'Move to Trash' }), 'the "Move to Trash" button');
      await wb.screenshot('delete-asks-first');
      await dialog.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
      await wb.expectHidden(dialog, 'the confirmation dialog');
      assert.ok(existsSync(tinyRun.dir), 'Cancel keeps the run folder');
      await wb.expectVisible(treeRow(pane, 'tiny'), 'the tiny run still listed after Cancel');
    });

    await s.step('Rename changes the name, not the folder', async () => {
      // Rename changes the name shown (and in run.json); the folder keeps its id.
      await chooseFromContextMenu(wb, treeRow(pane, 'tiny'), 'Rename Run');
      await wb.submitQuickInput('tiny, renamed');
      await waitForRow(wb, pane, 'tiny, renamed', /^completed · epoch 2\/2/, 'the renamed run');
      assert.equal((JSON.parse(readFileSync(join(tinyRun.dir, 'run.json'), 'utf8')) as RunJson).name, 'tiny, renamed');
    });

    await s.step('Compare Runs on a multi-selection opens the compare panel', async () => {
      // Compare Runs on a multi-selection in the tree opens the compare panel with both.
      await selectRuns(wb, pane, ['tiny, renamed', 'Quick check']);
      await chooseFromContextMenu(wb, treeRow(pane, 'tiny, renamed'), 'Compare Runs');
      await wb.expectVisible(page.locator('.tabs-container .tab', { hasText: /VAE: (tiny, renamed vs Quick check|Quick check vs tiny, renamed|compare 2 runs)/ }), 'the compare panel of the two selected runs', 30_000);
      await wb.screenshot('compare-two-runs');
    });

    await s.step('Export Metrics on a multi-selection writes one CSV and one JSON of both runs', async () => {
      await selectRuns(wb, pane, ['tiny, renamed', 'Quick check']);
      await chooseFromContextMenu(wb, treeRow(pane, 'tiny, renamed'), 'Export Metrics');
      await wb.expectVisible(page.locator('.quick-input-widget input'), 'the save dialog for the metrics of two runs');
      await page.locator('.quick-input-widget input').press('Enter');
      await wb.waitForNotification(/metrics of 2 runs written to/, 15_000);
      const csvFile = join(workspace, RUNS, '2-runs-metrics.csv');
      const [header, ...rows] = readFileSync(csvFile, 'utf8').trim().split('\n');
      assert.match(header, /^run_id,run_name,epoch,train_loss,/);
      assert.equal(rows.filter((r) => r.includes(',"tiny, renamed",')).length, 2, 'the tiny run\'s two epochs, its name quoted');
      // The Quick check was stopped in its first epoch: it has as many rows as completed epochs (none, or some).
      const quickRows = rows.filter((r) => r.includes(',Quick check,'));
      assert.equal(rows.length, 2 + quickRows.length, 'every row is the tiny run\'s or the Quick check\'s');
      const json = JSON.parse(readFileSync(csvFile.replace(/\.csv$/, '.json'), 'utf8')) as { runs: Array<{ run: { name: string }; epochs: unknown[] }> };
      assert.deepEqual(json.runs.map((r) => r.run.name).sort(), ['Quick check', 'tiny, renamed']);
      assert.deepEqual(json.runs.map((r) => [r.run.name, r.epochs.length]).sort(), [['Quick check', quickRows.length], ['tiny, renamed', 2]]);
    });

    await s.step('VAE: New Experiment File writes a conv VAE; errors show as you type; it trains; Compare shows the network diff', async () => {
      await runCommandSoon(wb, 'VAE: New Experiment File');
      const file = join(workspace, 'experiments', 'conv-vae.vae.json');
      await wb.expectVisible(page.locator('.tabs-container .tab', { hasText: 'conv-vae.vae.json' }), 'the new experiment file open in an editor', 15_000);
      const starter = readFileSync(file, 'utf8');
      assert.match(starter, /^\/\/ A VAE Lens experiment/, 'a commented starter');
      await wb.expectHidden(page.locator('.monaco-editor .squiggly-error'), 'errors in the untouched starter (comments are allowed: JSONC)', 10_000);
      // A reshape that does not fit the layer before it (written on disk: the open editor reloads it) is an error on that layer.
      writeFileSync(file, starter.replace('"shape": [7, 7, 64]', '"shape": [7, 7, 32]'));
      await wb.expectVisible(page.locator('.monaco-editor .squiggly-error').first(), 'an error squiggle on the reshape', 15_000);
      await runCommandSoon(wb, 'Problems: Focus on Problems View');
      await wb.expectVisible(page.locator('.markers-panel .monaco-list-row', { hasText: /decoder\[4\]: reshape to \[7, 7, 32\] needs 1568 values/ }), 'the shape error naming the layer in the Problems view', 15_000);
      await wb.screenshot('experiment-file-error');
      // Fixed, and made quick: one epoch on 300 images.
      writeFileSync(file, starter.replace('"epochs": 20', '"epochs": 1').replace('"trainLimit": 10000', '"trainLimit": 300, "testLimit": 100, "backend": "wasm"'));
      await wb.expectHidden(page.locator('.monaco-editor .squiggly-error'), 'the error once the file is fixed', 15_000);
      await runCommandSoon(wb, 'VAE: Train');
      // The Train picker offers a new experiment file too (what VAE: New Experiment File does).
      const trainPicker = page.locator('.quick-input-widget');
      await wb.expectVisible(trainPicker.locator('.monaco-list-row').first(), 'the Train picker');
      await trainPicker.locator('input').fill('New experiment');
      await wb.expectVisible(trainPicker.locator('.monaco-list-row', { hasText: 'New experiment file…' }), 'the Train picker\'s "New experiment file…" entry');
      await trainPicker.locator('input').fill('');
      await wb.pickQuickItem('experiments/conv-vae.vae.json');
      await waitForRow(wb, pane, 'conv-vae', /^completed · epoch 1\/1/, 'the conv VAE run completed', 180_000);
      await selectRuns(wb, pane, ['Quick check', 'conv-vae']);
      await chooseFromContextMenu(wb, treeRow(pane, 'conv-vae'), 'Compare Runs');
      const frame = wb.webviewFrame();
      const conv = frame.locator('[data-testid="network-diff"] li', { hasText: 'conv2d 32 filters, 4×4, stride 2, same' });
      await wb.expectVisible(conv, 'the conv VAE\'s first layer in the network diff', 30_000);
      const kinds = await frame.locator('[data-testid="network-diff"] li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-kind')}: ${li.textContent}`));
      assert.ok(kinds.some((k) => /^(added|removed): .*dense 500$/.test(k)), `the Quick check's dense 500 on one side: ${kinds.join(' | ')}`);
      assert.ok(kinds.some((k) => /^(added|removed): .*conv2dTranspose 32 filters/.test(k)), 'the conv decoder on the other');
      assert.notEqual(await conv.getAttribute('data-kind'), 'same');
      await frame.locator('[data-testid="network-diff"]').scrollIntoViewIfNeeded();
      await wb.screenshot('compare-network-diff');
    });

    await s.step('Delete from the palette removes the folder', async () => {
      // From the palette a run is picked; confirming moves the folder to the trash (or, where there is no trash, asks again before deleting for good).
      await runCommandSoon(wb, 'VAE: Delete Run');
      await wb.pickQuickItem('crashed run');
      await dialog.filter({ hasText: 'Delete "crashed run"?' }).locator('.monaco-button', { hasText: 'Move to Trash' }).first().click();
      const permanently = dialog.locator('.monaco-button', { hasText: 'Delete Permanently' });
      await page.waitForTimeout(1000);
      if (await permanently.isVisible()) {
        await wb.screenshot('no-trash-asks-again');
        await permanently.first().click();
      }
      await wb.expectHidden(treeRow(pane, 'crashed run'), 'the deleted run in the tree', 15_000);
      assert.ok(!existsSync(crashed), 'the deleted run folder is gone from the runs directory');
    });

    await s.step('a diverging run fails with a notification that says why', async () => {
      // A run that diverges: failed in the tree with an error badge, and an error notification that says why.
      await runCommandSoon(wb, 'VAE: Train');
      await wb.pickQuickItem('experiments/boom.vae.json');
      const toast = await wb.waitForNotification(/boom, epoch 1: Training diverged at epoch 1: The training loss became NaN/, 90_000);
      await wb.expectVisible(toast.locator('.monaco-button', { hasText: 'Open Run' }), 'the "Open Run" action on the divergence error');
      const failed = await waitForRow(wb, pane, 'boom', /^failed/, 'the diverged run shown as failed');
      await wb.expectVisible(failed.locator('[class*="monaco-decoration"]'), 'the error badge on the diverged run');
      await wb.screenshot('diverged');
    });
    s.end();
  });
});

test('a real run with σ far from 1 raises the σ warning (notification with actions, tree and view badges); after a window reload the run stays live, Stop reaches it, and the warning is not raised twice', { timeout: E2E_TIMEOUT_MS * 2 }, async (t) => {
  const workspace = makeWorkspace({ 'narrow.vae.json': JSON.stringify(narrow, null, 2) + '\n', 'typo.vae.json': '{\n  "name": "typo",\n  "epoch": 3\n}\n' });
  t.after(() => killTrainers(workspace));
  const settings = { 'vaeLens.warnings.warmupEpochs': 0, 'vaeLens.warnings.patience': 2 };
  await withWorkbench(t, { workspace, settings }, async (wb) => {
    const { page } = wb;
    await wb.openView('VAE');
    const pane = await wb.viewPane('VAE Runs');
    // A typo in an experiment file is underlined by the JSON schema, and Train refuses it with the reason.
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('typo.vae.json');
    await wb.pickQuickItem('typo.vae.json', 'the file typo.vae.json in Quick Open');
    await wb.expectVisible(page.locator('.monaco-editor .squiggly-warning, .monaco-editor .squiggly-error'), 'the schema underlining the unknown key "epoch"', 30_000);
    await wb.screenshot('schema-underlines-typo');
    await page.locator('.editor-actions a.action-label[aria-label*="Train"]').first().click();
    await wb.waitForNotification(/typo\.vae\.json has 1 invalid field\(s\): "epoch": unknown field/);
    assert.equal(runFolders(workspace).length, 0, 'an invalid experiment file starts nothing');

    // The Train button in the editor title of an open *.vae.json file.
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('narrow.vae.json');
    await wb.pickQuickItem('narrow.vae.json', 'the file narrow.vae.json in Quick Open');
    await wb.expectVisible(page.locator('.tabs-container .tab', { hasText: 'narrow.vae.json' }), 'narrow.vae.json open in an editor');
    const trainButton = page.locator('.editor-actions a.action-label[aria-label*="Train"]');
    await wb.expectVisible(trainButton, 'the Train button in the editor title of a *.vae.json file');
    await wb.screenshot('editor-title-train');
    await trainButton.first().click();
    await waitForRow(wb, pane, 'narrow', /^running/, 'the narrow run shown as running', 90_000);

    const toast = await wb.waitForNotification(/Test mean σ has been outside/, 120_000);
    await wb.expectVisible(toast.locator('.monaco-button', { hasText: 'Open Run' }), 'the "Open Run" action on the σ warning');
    await wb.expectVisible(toast.locator('.monaco-button', { hasText: "Don't Warn for This Run" }), 'the "Don\'t Warn for This Run" action');
    assert.match((await toast.textContent()) ?? '', /narrower than the prior/);
    // The run's tree item carries the warning decoration, and the view container a count badge.
    const row = treeRow(pane, 'narrow');
    await wb.expectVisible(row.locator('[class*="monaco-decoration"]'), 'the warning decoration (badge) on the narrow run', 15_000);
    await wb.expectVisible(page.locator('#workbench\\.parts\\.activitybar .badge .badge-content', { hasText: /^1$/ }), 'the VAE view badge counting one run with a warning', 15_000);
    await wb.screenshot('sigma-warning');

    const [run] = runFolders(workspace);
    const eventLines = () => readFileSync(join(run.dir, 'events.jsonl'), 'utf8').split('\n');
    const warningsOnDisk = () => eventLines().filter((l) => l.includes('"type":"warning"') && l.includes('sigma-far-from-one') && !l.includes('"dismissed":true'));
    assert.equal(warningsOnDisk().length, 1, 'the σ warning is written once to events.jsonl');
    // "Don't Warn for This Run" is remembered in the run folder (another window or a reload sees it).
    await wb.clickNotificationAction(/Test mean σ has been outside/, "Don't Warn for This Run");
    await wb.expectHidden(wb.page.locator('.notifications-toasts .notification-toast').filter({ hasText: /Test mean σ has been outside/ }), 'the σ notification after "Don\'t Warn for This Run"');
    const deadline = Date.now() + 10_000;
    while (!eventLines().some((l) => l.includes('"dismissed":true')) && Date.now() < deadline) await page.waitForTimeout(200);
    assert.ok(eventLines().some((l) => l.includes('"dismissed":true')), 'a dismissed warning event in events.jsonl');
    // One meaning of muting: the run's badge and the view's count go too.
    await wb.expectHidden(row.locator('[class*="monaco-decoration"]'), 'the warning decoration on the muted run', 15_000);
    await wb.expectHidden(page.locator('#workbench\\.parts\\.activitybar .badge .badge-content', { hasText: /^1$/ }), 'the VAE view badge once the only warned run is muted', 15_000);
    const beforeReload = JSON.parse(readFileSync(join(run.dir, 'run.json'), 'utf8')) as RunJson;
    assert.equal(beforeReload.status, 'running', 'the run should still be training when the window reloads (make it longer if this fails)');

    // Reload the window mid-run: the trainer survives (detached), the new window finds it by its pid and follows it.
    await page.reload();
    await wb.expectVisible(page.locator('.monaco-workbench'), 'the workbench after the reload', 60_000);
    // The restored layout may have the sidebar closed with VAE still its active container: focus the view by
    // command, once the extension's contributions are back (typing earlier finds no such command).
    await wb.expectVisible(page.locator('#workbench\\.parts\\.activitybar a.action-label[aria-label^="VAE"]'), 'the VAE activity-bar item after the reload', 60_000);
    await runCommandSoon(wb, 'VAE: Focus on VAE Runs View');
    const paneAfter = await wb.viewPane('VAE Runs');
    const liveRow = await waitForRow(wb, paneAfter, 'narrow', /^running · epoch \d+\/50/, 'the narrow run still running after the reload', 60_000);
    const epochShown = async () => Number(/epoch (\d+)\/50/.exec((await liveRow.locator('.label-description').textContent()) ?? '')?.[1]);
    const epochAfterReload = await epochShown();
    const until = Date.now() + 120_000;
    while ((await epochShown()) <= epochAfterReload && Date.now() < until) await page.waitForTimeout(500);
    assert.ok((await epochShown()) > epochAfterReload, `a later epoch than ${epochAfterReload} should arrive after the reload`);
    await wb.expectVisible(statusBarItem(page), 'the status bar following the run after the reload', 30_000);
    // The muting is read from the run folder: the reloaded window shows no badge for the run either.
    await wb.expectHidden(treeRow(paneAfter, 'narrow').locator('[class*="monaco-decoration"]'), 'the warning decoration on the muted run after the reload', 15_000);
    await wb.screenshot('after-reload-live');
    assert.notEqual(readFileSync(join(run.dir, 'run.json'), 'utf8').includes('"interrupted"'), true, 'a live run is not marked interrupted by the new window');
    // The trainer now belongs to no window: Stop from the tree asks it through its run folder (no
    // signal), says so, and it stops cleanly after its batch.
    await clickInline(wb, liveRow, 'Stop');
    await wb.waitForNotification(/"narrow": asked the trainer \(process \d+\) to stop after its current batch/, 15_000);
    await waitForRow(wb, paneAfter, 'narrow', /^stopped · epoch \d+\/50/, 'the narrow run stopped (through its run folder, after the reload)', 60_000);
    assert.equal(warningsOnDisk().length, 1, 'the reloaded window does not raise the σ warning again');
    await wb.screenshot('narrow-stopped-after-reload');
  });
});

test('in an untrusted workspace runs are shown, Train and Resume are not offered, and Stop, Delete and Rename refuse', { timeout: E2E_TIMEOUT_MS }, async (t) => {
  const workspace = makeWorkspace({ 'a.vae.json': JSON.stringify(tiny) });
  writeRunFolder(join(workspace, RUNS), { id: '20261128-090000-earlier', name: 'earlier run', status: 'stopped', epochs: 10, completed: 4 });
  // A run whose trainer died: shown as interrupted, but viewing an untrusted workspace writes nothing.
  const crashed = writeRunFolder(join(workspace, RUNS), { id: '20261128-080000-crashed', name: 'crashed run', status: 'running', epochs: 10, completed: 2, pid: 4_000_000, hostname: hostname() });
  const crashedFiles = () => ['run.json', 'events.jsonl'].map((f) => readFileSync(join(crashed, f), 'utf8'));
  const crashedBefore = crashedFiles();
  await withWorkbench(t, { workspace, workspaceTrust: true }, async (wb) => {
    const { page } = wb;
    await wb.openView('VAE');
    const pane = await wb.viewPane('VAE Runs');
    const row = await waitForRow(wb, pane, 'earlier run', /^stopped · epoch 4\/10 · test loss \d+\.\d$/, 'the existing run listed in restricted mode');
    await waitForRow(wb, pane, 'crashed run', /^interrupted · epoch 2\/10/, 'the crashed run shown as interrupted in restricted mode');
    assert.deepEqual(crashedFiles(), crashedBefore, 'run.json and events.jsonl of the crashed run are unchanged in an untrusted workspace');
    await row.hover();
    assert.equal(await row.locator('.actions a.action-label[aria-label^="Resume"]').count(), 0, 'no Resume action in an untrusted workspace');
    assert.equal(await pane.locator('.pane-header a.action-label[aria-label*="Train"]').count(), 0, 'no Train button in the view title in an untrusted workspace');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.fill('>VAE: ');
    await wb.expectVisible(page.locator('.quick-input-widget .monaco-list-row', { hasText: 'VAE: Open Run' }), 'VAE: Open Run offered (viewing works)');
    const offered = (await page.locator('.quick-input-widget .monaco-list-row .label-name').allTextContents()).map((x) => x.trim());
    await wb.screenshot('untrusted-palette');
    await page.keyboard.press('Escape');
    assert.ok(!offered.includes('VAE: Train'), `VAE: Train must not be offered in an untrusted workspace; the palette offered ${JSON.stringify(offered)}`);
    assert.ok(!offered.includes('VAE: Resume'), 'VAE: Resume must not be offered in an untrusted workspace');
    // Commands that write into run folders refuse, and say why, whatever offered them.
    await runCommandSoon(wb, 'VAE: Delete Run');
    await wb.waitForNotification(/VAE Lens does not delete runs in an untrusted workspace: Delete removes run folders from the workspace/);
    await runCommandSoon(wb, 'VAE: Stop');
    await wb.waitForNotification(/VAE Lens does not stop runs in an untrusted workspace/);
    await runCommandSoon(wb, 'VAE: Rename Run');
    await wb.waitForNotification(/VAE Lens does not rename runs in an untrusted workspace/);
    assert.deepEqual(crashedFiles(), crashedBefore, 'the refused commands wrote nothing');
    assert.ok(existsSync(join(workspace, RUNS, '20261128-090000-earlier', 'run.json')), 'the refused Delete kept the run folder');
  });
});

test('runs this window did not start are never signalled: pid 1 and a reused pid are judged interrupted; Stop asks another host\'s or a CLI trainer through its run folder', { timeout: E2E_TIMEOUT_MS }, async (t) => {
  const workspace = makeWorkspace({});
  writeRunFolder(join(workspace, RUNS), { id: '20261128-070000-earlier', name: 'earlier run', status: 'completed', epochs: 2, completed: 2 });
  // A harmless process whose pid the run folders name: a signal from Stop would end it.
  const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.after(() => sleeper.kill('SIGKILL'));
  const sleepPid = sleeper.pid!;
  const sleepStart = processStartId(sleepPid);
  assert.ok(sleepStart, 'this platform tells process starts apart (Linux /proc)');
  /** A run whose run.json says it is running, with these trainer fields. */
  const liveRun = (id: string, name: string, trainer: { pid: number; host: string; processStart?: string }) => {
    const dir = writeRunFolder(join(workspace, RUNS), { id, name, status: 'running', epochs: 10, completed: 1, hostname: trainer.host });
    const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...info, ...trainer, updated: new Date().toISOString() }));
    return dir;
  };
  await withWorkbench(t, { workspace }, async (wb) => {
    await wb.openView('VAE');
    const pane = await wb.viewPane('VAE Runs');
    await waitForRow(wb, pane, 'earlier run', /^completed/, 'the earlier run once the first scan is done');
    // Written after the first scan. The live poll judges every live run by the shared liveness rule
    // (pid > 1, same host, same process start), so the runs whose pid names no trainer of theirs
    // turn interrupted by themselves, with the reason, and nothing is ever signalled.
    const runs = {
      pidOne: liveRun('20261128-080000-pid-one', 'pid one', { pid: 1, host: hostname() }),
      elsewhere: liveRun('20261128-081000-elsewhere', 'elsewhere', { pid: sleepPid, host: 'gpu-box-7' }),
      reused: liveRun('20261128-082000-reused', 'reused pid', { pid: sleepPid, host: hostname(), processStart: `${sleepStart}-another-process` }),
      cli: liveRun('20261128-083000-cli', 'cli run', { pid: sleepPid, host: hostname(), processStart: sleepStart }),
    };
    const info = (dir: string) => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunJson & { message?: string };
    const status = (dir: string) => info(dir).status;
    const stopRequested = (dir: string) => existsSync(join(dir, STOP_REQUEST_FILE));
    const stopRow = async (name: string) => clickInline(wb, await waitForRow(wb, pane, name, /^running/, `the "${name}" run shown as running`, 30_000), 'Stop');

    await waitForRow(wb, pane, 'pid one', /^interrupted/, 'the pid-1 run judged interrupted by the live poll', 30_000);
    assert.match(info(runs.pidOne).message ?? '', /^Interrupted: run\.json names no valid trainer process \(pid 1\)/);
    assert.equal(stopRequested(runs.pidOne), false);
    await waitForRow(wb, pane, 'reused pid', /^interrupted/, 'the run whose pid another process now has, judged interrupted', 30_000);
    assert.match(info(runs.reused).message ?? '', new RegExp(`^Interrupted: process ${sleepPid} is no longer its trainer \\(the pid was reused\\)`));
    assert.ok(isProcessAlive(sleepPid), 'the sleep process is alive after the pid-1 and reused-pid runs were judged');

    await stopRow('elsewhere');
    await wb.waitForNotification(/"elsewhere" trains on gpu-box-7; a stop request was written to its run folder, which it reads if it shares this folder/, 15_000);
    assert.ok(stopRequested(runs.elsewhere), 'a stop request in the run folder of the run on another host');
    assert.equal(status(runs.elsewhere), 'running', 'its run.json stays its trainer\'s');

    await stopRow('cli run');
    await wb.waitForNotification(new RegExp(`"cli run": asked the trainer \\(process ${sleepPid}\\) to stop after its current batch`), 15_000);
    assert.ok(stopRequested(runs.cli), 'a stop request in the run folder of the trainer started elsewhere');
    await wb.screenshot('stop-not-ours');

    assert.ok(isProcessAlive(sleepPid), 'no Stop signalled the process the run folders named');
    assert.equal(sleeper.exitCode, null);
    assert.equal(sleeper.signalCode, null);
  });
});

test('cancelling the start notification during a data download ends the trainer', { timeout: E2E_TIMEOUT_MS }, async (t) => {
  // A mirror that accepts connections and never answers: the start stays in its download phase.
  const sockets = new Set<import('node:net').Socket>();
  const silent = createServer(() => undefined);
  silent.on('connection', (s) => sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as import('node:net').AddressInfo).port;
  const cache = mkdtempSync(join(tmpdir(), 'vae-lens-e2e-cache-'));
  const workspace = makeWorkspace({ 'fashion.vae.json': JSON.stringify({ name: 'fashion', dataset: 'fashion-mnist', epochs: 1, trainLimit: 1000, testLimit: 500 }) });
  t.after(() => {
    killTrainers(workspace);
    for (const s of sockets) s.destroy();
    silent.close();
    rmSync(cache, { recursive: true, force: true });
  });
  const settings = { 'vaeLens.mnistBaseUrl': `http://127.0.0.1:${port}/`, 'vaeLens.dataCacheDirectory': cache };
  await withWorkbench(t, { workspace, settings }, async (wb) => {
    await wb.openView('VAE');
    const pane = await wb.viewPane('VAE Runs');
    await runCommandSoon(wb, 'VAE: Train');
    await wb.pickQuickItem('fashion.vae.json');
    await wb.waitForNotification(/starting "fashion": downloading fashion-mnist/, 60_000);
    await waitForRow(wb, pane, 'fashion', /^starting/, 'the fashion run shown as starting', 30_000);
    assert.ok(sockets.size > 0, 'the trainer connected to the configured vaeLens.mnistBaseUrl');
    await wb.screenshot('start-downloading');
    const [run] = runFolders(workspace);
    await wb.clickNotificationAction(/starting "fashion"/, 'Cancel');
    await waitForRow(wb, pane, 'fashion', /^(stopped|interrupted)/, 'the cancelled run shown as stopped', 30_000);
    const pid = run.info.pid!;
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    assert.equal(alive, false, `the trainer (pid ${pid}) has ended`);
    await wb.screenshot('start-cancelled');
  });
});

test('in a multi-root workspace runs are grouped by workspace folder', { timeout: E2E_TIMEOUT_MS }, async (t) => {
  const alpha = makeWorkspace({});
  const beta = makeWorkspace({});
  writeRunFolder(join(alpha, RUNS), { id: '20261128-090000-a1', name: 'alpha one', status: 'completed', epochs: 3, completed: 3 });
  writeRunFolder(join(alpha, RUNS), { id: '20261128-091000-a2', name: 'alpha two', status: 'completed', epochs: 3, completed: 3 });
  writeRunFolder(join(beta, RUNS), { id: '20261128-092000-b1', name: 'beta one', status: 'stopped', epochs: 3, completed: 1 });
  const file = join(mkdtempSync(join(tmpdir(), 'vae-lens-multi-')), 'two.code-workspace');
  writeFileSync(file, JSON.stringify({ folders: [{ name: 'alpha', path: alpha }, { name: 'beta', path: beta }] }));
  t.after(() => {
    for (const d of [dirname(file), alpha, beta]) rmSync(d, { recursive: true, force: true });
  });
  await withWorkbench(t, { workspace: alpha }, async (wb) => {
    // The harness opens a folder; the workbench opens a .code-workspace file from its URL.
    await wb.page.goto(`${new URL(wb.server.url).origin}/?workspace=${encodeURIComponent(file)}`);
    await wb.expectVisible(wb.page.locator('#workbench\\.parts\\.activitybar a.action-label[aria-label^="VAE"]'), 'the VAE activity-bar item in the multi-root window', 60_000);
    await wb.openView('VAE');
    const pane = await wb.viewPane('VAE Runs');
    await wb.expectVisible(treeRow(pane, 'alpha'), 'the "alpha" folder group');
    await wb.expectVisible(treeRow(pane, 'beta'), 'the "beta" folder group');
    await waitForRow(wb, pane, 'beta one', /^stopped · epoch 1\/3/, 'the run of beta');
    const labels = (await pane.locator('.monaco-list-row .label-name').allTextContents()).map((x) => x.trim());
    assert.deepEqual(labels, ['alpha', 'alpha two', 'alpha one', 'beta', 'beta one'], 'groups in folder order, newest run first in each');
    await wb.screenshot('multi-root');
    // The window may report its folders late and without an event; the log says how they came.
    const said = wb.server.readLogChannel('VAE Lens').split('\n').filter((l) => l.includes('Runs folders'));
    console.log(`VAE Lens log:\n${said.join('\n')}`);
    assert.match(said.at(-1) ?? '', /alpha → .*beta → /, 'the last runs folders logged are both workspace folders');
  });
});
