/* global window, document, performance, requestAnimationFrame -- page.evaluate callbacks run in the browser. */
// `npm run bench:panel`: the run panel's webview with a long run, in headless Chromium, on the real
// bundle and page (the harness of test/webview): a 1,000-epoch run with dimz 100.
//   - open: from the snapshot message to every curve drawn with 1,000 points and painted;
//   - append: one new epoch at epoch ~1,000, from the message to the extended charts painted
//     (target < 30 ms, median), on the Curves tab and on the Latent dimensions heat map (100 × 1,000);
// Prints medians, p95 and max. Options: --epochs N (default 1000), --dimz N (100), --appends N (30).
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.env.VAE_LENS_ROOT ??= root;
const require = createRequire(import.meta.url);
const { PanelServer, openPanel } = require(join(root, 'out/test/webview/harness.js'));
const { mnistLikeEpoch: fixtureEpoch, tempRunsDir, writeMnistLikeRun: writeFixtureRun } = require(join(root, 'out/test/support/runFixtures.js'));
const { launchChromium } = require(join(root, 'out/test/support/chromium.js'));

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const EPOCHS = option('--epochs', 1000);
const DIMZ = option('--dimz', 100);
const APPENDS = option('--appends', 30);
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const ms = (x) => `${x.toFixed(1)} ms`;
const summary = (xs) => `median ${ms(quantile(xs, 0.5))}, p95 ${ms(quantile(xs, 0.95))}, max ${ms(Math.max(...xs))} (n=${xs.length})`;

const runsDir = tempRunsDir('vae-lens-bench-panel-');
const total = EPOCHS + 3 * APPENDS;
const started = Date.now();
const dir = writeFixtureRun(runsDir, { name: 'long-run', epochs: total, written: EPOCHS, dimz: DIMZ, active: 30, status: 'running', imagesEvery: 100 });
console.log(`run folder: ${EPOCHS} epochs, dimz ${DIMZ}, written in ${Date.now() - started} ms`);

const server = await new PanelServer().start();
const context = await launchChromium({ viewport: { width: 1400, height: 1000 } });
try {
  const { page, snapshot } = await openPanel(context, server, 'run', [dir], { deferSnapshot: true });

  // Sends a message and resolves when the webview handled it and the next frame was painted.
  // Two numbers per message: the time until everything is updated and painted, and the longest
  // frame meanwhile (what a user feels as a stutter; 16.7 ms is a smooth 60 Hz frame).
  const longestFrames = [];
  const timed = async (message) => {
    const r = await page.evaluate(
      (m) =>
        new Promise((ok) => {
          const t0 = performance.now();
          let last = t0;
          let longest = 0;
          let finished = false;
          const frame = (now) => {
            longest = Math.max(longest, now - last);
            last = now;
            if (!finished) requestAnimationFrame(frame);
          };
          requestAnimationFrame(frame);
          const root = document.getElementById('app');
          root.addEventListener('vae-lens-rendered', () => requestAnimationFrame(() => setTimeout(() => {
            finished = true;
            ok({ total: performance.now() - t0, longest: Math.max(longest, performance.now() - last) });
          }, 0)), { once: true });
          window.postMessage(m, '*');
        }),
      message,
    );
    longestFrames.push(r.longest);
    return r.total;
  };

  const openMs = await page.evaluate(
    ({ m, n }) =>
      new Promise((ok) => {
        const t0 = performance.now();
        window.postMessage(m, '*');
        const poll = () => {
          const charts = [...document.querySelectorAll('[data-chart]')].filter((c) => c.data && c.data[0] && c.data[0].x.length === n);
          if (charts.length >= 5) requestAnimationFrame(() => setTimeout(() => ok(performance.now() - t0), 0));
          else requestAnimationFrame(poll);
        };
        poll();
      }),
    { m: snapshot, n: EPOCHS },
  );
  console.log(`open (snapshot of ${EPOCHS} epochs → 5 charts drawn): ${ms(openMs)}`);

  const info = snapshot.runs[0].info;
  const append = (epoch) => ({ type: 'append', dir, info, epochs: [fixtureEpoch(epoch, { epochs: total, dimz: DIMZ, active: 30 })], warnings: [] });
  const curveTimes = [];
  for (let i = 1; i <= APPENDS; i++) curveTimes.push(await timed(append(EPOCHS + i)));
  const points = await page.evaluate(() => document.querySelector('[data-chart="loss"]').data[0].x.length);
  if (points !== EPOCHS + APPENDS) throw new Error(`expected ${EPOCHS + APPENDS} points after the appends, found ${points}`);
  console.log(`append one epoch at epoch ~${EPOCHS}, Curves tab (5 charts, 20 traces): until all painted ${summary(curveTimes)}`);
  const curveFrames = longestFrames.splice(0);
  console.log(`  longest frame during an append: ${summary(curveFrames)}`);

  const heatOpen = await page.evaluate(
    (n) =>
      new Promise((ok) => {
        const t0 = performance.now();
        [...document.querySelectorAll('vscode-tab-header')].find((h) => h.textContent.includes('Latent'))?.click();
        const poll = () => {
          const el = document.querySelector('[data-chart="heatmap"]');
          if (el && el.figure && el.figure.values.length === n) requestAnimationFrame(() => setTimeout(() => ok(performance.now() - t0), 0));
          else requestAnimationFrame(poll);
        };
        poll();
      }),
    EPOCHS + APPENDS,
  );
  console.log(`switch to the heat map (${DIMZ} dims × ${EPOCHS + APPENDS} epochs): ${ms(heatOpen)}`);
  const heatTimes = [];
  for (let i = APPENDS + 1; i <= 2 * APPENDS; i++) heatTimes.push(await timed(append(EPOCHS + i)));
  console.log(`append one epoch at epoch ~${EPOCHS}, heat map visible: until painted ${summary(heatTimes)}`);
  console.log(`  longest frame during an append: ${summary(longestFrames.splice(0))}`);
  await page.locator('vscode-tab-header', { hasText: 'Configuration' }).click();
  const restTimes = [];
  for (let i = 2 * APPENDS + 1; i <= 3 * APPENDS; i++) restTimes.push(await timed(append(EPOCHS + i)));
  console.log(`append one epoch, no chart visible (header, gauges, warnings, images only): ${summary(restTimes)}`);
  const target = 30;
  const median = quantile(curveFrames, 0.5);
  console.log(`target: longest frame of an append < ${target} ms (median, Curves tab): ${median < target ? 'met' : 'NOT met'} (${ms(median)})`);
  console.log(`load average while measuring: ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores (compare ratios on a busy machine, not absolute times)`);
  process.exitCode = 0;
} finally {
  await context.close();
  await server.close();
  rmSync(runsDir, { recursive: true, force: true });
}
