// The Latent tab in the real VS Code (code-server + Chromium): a run trained here with the CLI (its
// checkpoint is what the decode service opens), opened from the VAE Runs view; dragging a slider
// with the mouse changes the decoded image; closing the panel ends the run's decode service.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { makeWorkspace } from '../support/codeServer';
import { E2E_TIMEOUT_MS, withWorkbench, type Workbench } from '../support/workbench';
import { openFromTree } from '../support/runsView';
import { CLI_JS, runCli } from '../trainer/support';

/** pids of decode services serving this run folder (their command line names it). */
function servicesOf(runDir: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes('"serve"') && l.includes(runDir)).map((l) => Number(l.trim().split(/\s+/)[0]));
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The decoded image's pixels, as the canvas holds them. */
function imagePixels(frame: FrameLocator): Promise<number[]> {
  return frame.getByTestId('latent-image').evaluate((c) => {
    const canvas = c as HTMLCanvasElement;
    return Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data.filter((_, i) => i % 4 === 0));
  });
}

async function dragSlider(wb: Workbench, frame: FrameLocator, testId: string, toFraction: number): Promise<void> {
  const box = await frame.getByTestId(testId).boundingBox();
  assert.ok(box, `the slider ${testId} is on screen`);
  const y = box.y + box.height / 2;
  await wb.page.mouse.move(box.x + box.width / 2, y);
  await wb.page.mouse.down();
  // Several moves: the image follows the slider while it is dragged, not only on release.
  for (let i = 1; i <= 5; i++) await wb.page.mouse.move(box.x + box.width * (0.5 + ((toFraction - 0.5) * i) / 5), y, { steps: 2 });
  await wb.page.mouse.up();
}

test('the Latent tab: a dragged slider changes the decoded image; two windows share the run\'s decode service, which ends with the last panel', { timeout: E2E_TIMEOUT_MS }, async (t) => {
  const workspace = makeWorkspace({});
  const runsDir = join(workspace, '.vae-runs');
  mkdirSync(runsDir, { recursive: true });
  const trained = await runCli(['train', '--runs-dir', runsDir, '--name', 'explore-me', '--epochs', '1', '--train-limit', '1000', '--test-limit', '200', '--dimz', '8', '--backend', 'wasm', '--json']);
  assert.equal(trained.code, 0, `${CLI_JS} train: ${trained.stderr}`);
  const runDir = (trained.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; runDir?: string }).find((m) => m.type === 'started')!).runDir!;

  await withWorkbench(t, { workspace, viewport: { width: 1500, height: 1000 } }, async (wb) => {
    // A second window on the workspace, opened first: opened later, it would restore the first
    // window's panel instead of opening its own from the tree.
    const second = await wb.openWindow('second-window');
    await wb.page.bringToFront();
    await wb.openView('VAE');
    const frame = await openFromTree(wb, 'explore-me');
    await frame.locator('vscode-tab-header', { hasText: /^\s*Latent space\s*$/ }).click();
    await wb.expectVisible(frame.getByTestId('latent-status').filter({ hasText: /Weights after epoch 1/ }), 'the Latent tab saying which weights it decodes', 60_000);
    const slider = frame.locator('[data-testid^="latent-slider-"]').first();
    await wb.expectVisible(slider, 'a slider per active dimension');
    const testId = (await slider.getAttribute('data-testid'))!;
    assert.equal(servicesOf(runDir).length, 1, 'one decode service serves the run');
    const before = await until('the first decoded image', async () => {
      const px = await imagePixels(frame);
      return px.some((v) => v > 0) ? px : undefined;
    });
    await dragSlider(wb, frame, testId, 0.95);
    await until('the decoded image to change after the drag', async () => {
      const px = await imagePixels(frame);
      return px.some((v, i) => Math.abs(v - before[i]) > 8) ? true : undefined;
    });
    assert.ok(Number(await frame.getByTestId(testId).inputValue()) > 1.5, 'the slider moved towards +3');
    await wb.screenshot('latent-tab');
    const service = servicesOf(runDir);

    // The second window (its own extension host) explores the same run: it uses the first
    // window's decode service instead of starting another.
    await second.page.bringToFront();
    await second.openView('VAE');
    const frame2 = await openFromTree(second, 'explore-me');
    await frame2.locator('vscode-tab-header', { hasText: /^\s*Latent space\s*$/ }).click();
    await second.expectVisible(frame2.getByTestId('latent-status').filter({ hasText: /Weights after epoch 1/ }), 'the second window\'s Latent tab saying which weights it decodes', 60_000);
    assert.deepEqual(servicesOf(runDir), service, 'the second window uses the first window\'s decode service');
    const dragged = async (what: string, toFraction: number) => {
      const from = await until(`the decoded image in the second window (${what})`, async () => {
        const px = await imagePixels(frame2);
        return px.some((v) => v > 0) ? px : undefined;
      });
      await dragSlider(second, frame2, testId, toFraction);
      await until(`the second window's image to change after the drag (${what})`, async () => {
        const px = await imagePixels(frame2);
        return px.some((v, i) => Math.abs(v - from[i]) > 8) ? true : undefined;
      });
    };
    await dragged('both windows open', 0.05);
    await second.screenshot('latent-tab-second-window');

    // The first window closes its panel: the service stays for the second, which goes on decoding.
    await wb.page.bringToFront();
    await wb.runCommand('View: Close All Editors');
    // Longer than a closing client waits before it ends a service that does not exit.
    await new Promise((r) => setTimeout(r, 4000));
    assert.deepEqual(servicesOf(runDir), service, 'the service stays while the second window uses it');
    await second.page.bringToFront();
    await dragged('the first window\'s panel closed', 0.95);

    await second.runCommand('View: Close All Editors');
    await until('the decode service to end once the last panel using it is closed', () => (servicesOf(runDir).length === 0 ? true : undefined));
    const csp = [...wb.consoleErrors(), ...second.consoleErrors()].filter((e) => /Content Security Policy/i.test(e.text));
    assert.deepEqual(csp, [], 'no Content-Security-Policy error on the console');
  });
  assert.deepEqual(servicesOf(runDir), [], 'no decode service outlives the window');
});
