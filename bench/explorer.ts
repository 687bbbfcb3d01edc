/**
 * `npm run bench:explorer`: how fast the latent explorer answers, on a real run (chainer-mlp,
 * dimz 20, one epoch on 3,000 MNIST images, trained here first).
 *   - the baseline: decoding in this process (the trainer's own decoder, no IPC);
 *   - through the host's path: LatentSessions.handle → IPC → the decode service (dist/trainer.js
 *     serve) → IPC → the reply the host posts to the webview (base64 grey bytes, checked);
 *   - for one z (a slider move; target < 30 ms end to end) and for a 10 × 21 traversal grid
 *     (target < 300 ms). Medians and p95 of interleaved repetitions;
 *   - then end to end in the run panel's page in headless Chromium (webviewLeg below).
 * Options: --moves N (single decodes, default 200), --grids N (default 20), --backend wasm|cpu|webgpu,
 * --no-webview (the host side only).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LatentSessions } from '../src/node/latentSessions';
import { traversalZ } from '../src/shared/latent';
import type { FromLatentTabMessage, ToLatentTabMessage } from '../src/shared/latentService';
import { createRequire } from 'node:module';
import { decode, openExplorer } from '../src/trainer/latent';
import { fmt, median } from './lib/stats';

const args = process.argv.slice(2);
const option = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const MOVES = Number(option('moves', '200'));
const GRIDS = Number(option('grids', '20'));
const BACKEND = option('backend', 'wasm') as 'wasm' | 'cpu' | 'webgpu';
const root = resolve(__dirname, '..');
process.env.VAE_LENS_ROOT ??= root;

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(0.95 * xs.length))];
const line = (what: string, xs: number[]) => `${what}: median ${fmt(median(xs), 2)} ms, p95 ${fmt(p95(xs), 2)} ms (n=${xs.length})`;

async function main(): Promise<void> {
  const runsDir = mkdtempSync(join(tmpdir(), 'vae-lens-bench-explorer-'));
  const trained = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'train', '--runs-dir', runsDir, '--epochs', '1', '--train-limit', '3000', '--test-limit', '1000', '--dimz', '20', '--backend', BACKEND, '--json'], { encoding: 'utf8' });
  if (trained.status !== 0) throw new Error(`training the benchmark's run failed:\n${trained.stderr}`);
  const started = trained.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; runDir?: string }).find((m) => m.type === 'started');
  const runDir = started!.runDir!;
  console.log(`run: ${runDir} (chainer-mlp, dimz 20, 1 epoch, 1,000 test images, ${BACKEND})`);

  const explorer = await openExplorer(runDir, { backend: BACKEND });
  const dimz = explorer.config.dimz;
  const sessions = new LatentSessions(join(root, 'dist', 'trainer.js'), { env: { VAE_LENS_ROOT: root } });
  try {
    const replies: ToLatentTabMessage[] = [];
    const post = (m: ToLatentTabMessage) => void replies.push(m);
    const opened = performance.now();
    await sessions.handle({ type: 'latentOpen', dir: runDir }, post);
    const info = replies.pop();
    if (info?.type !== 'latentInfo') throw new Error(`the service did not open: ${JSON.stringify(info)}`);
    console.log(`service: ready in ${fmt(performance.now() - opened, 0)} ms from the first request (its own open ${fmt(info.info.openMs, 0)} ms), ${info.info.device}`);

    const order = info.info.order.slice(0, 10);
    const rng = (() => {
      let s = 12345;
      return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 6 - 3;
    })();
    const local: number[] = [];
    const viaHost: number[] = [];
    const gridLocal: number[] = [];
    const gridViaHost: number[] = [];
    let id = 1;
    const roundTrip = async (z: number[]) => {
      const t0 = performance.now();
      await sessions.handle({ type: 'latentDecode', dir: runDir, id: id++, z }, post);
      const ms = performance.now() - t0;
      const reply = replies.pop();
      if (reply?.type !== 'latentDecoded') throw new Error(`no decode: ${JSON.stringify(reply)}`);
      return ms;
    };
    // Warm both paths.
    for (let i = 0; i < 10; i++) {
      const z = Array.from({ length: dimz }, rng);
      await decode(explorer, Float32Array.from(z));
      await roundTrip(z);
    }
    for (let i = 0; i < MOVES; i++) {
      const z = Array.from({ length: dimz }, rng);
      let t0 = performance.now();
      await decode(explorer, Float32Array.from(z));
      local.push(performance.now() - t0);
      viaHost.push(await roundTrip(z));
      if (i < GRIDS) {
        const grid = traversalZ(Float32Array.from(z), order, 21);
        t0 = performance.now();
        await decode(explorer, grid);
        gridLocal.push(performance.now() - t0);
        gridViaHost.push(await roundTrip(Array.from(grid)));
      }
    }
    console.log(line('one z, decoded in this process (baseline)', local));
    console.log(line('one z, host → service → host (a slider move)', viaHost));
    console.log(`  overhead of the service path: ${fmt(median(viaHost) - median(local), 2)} ms (median), ×${fmt(median(viaHost) / median(local), 1)} the baseline`);
    console.log(line(`${order.length} × 21 traversal grid, decoded in this process (baseline)`, gridLocal));
    console.log(line(`${order.length} × 21 traversal grid, host → service → host`, gridViaHost));
    console.log(`  overhead of the service path: ${fmt(median(gridViaHost) - median(gridLocal), 2)} ms (median), ×${fmt(median(gridViaHost) / median(gridLocal), 1)} the baseline`);
    console.log(`host side: one z < 30 ms: ${median(viaHost) < 30 ? 'met' : 'NOT met'}; grid < 300 ms: ${median(gridViaHost) < 300 ? 'met' : 'NOT met'}`);
    if (!args.includes('--no-webview')) await webviewLeg(runDir, sessions);
    console.log(`load average while measuring: ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`);
  } finally {
    explorer.dispose();
    await sessions.dispose();
  }
}

/**
 * End to end, as the user sees it: the run panel's real page in headless Chromium (the harness of
 * test/webview, built into out/test by the build), its Latent tab relayed to the same sessions.
 * Times from a slider's input event to the decoded image drawn, and from choosing 21 traversal
 * steps to the grid drawn. The harness's page ↔ Node hops go through the DevTools protocol, slower
 * than VS Code's postMessage, so these are upper bounds.
 */
/** The few page globals the page-side functions use (this file is compiled without the DOM library). */
interface PageElement {
  value: string;
  addEventListener(type: string, listener: (e: { detail?: { type: string } }) => void): void;
  removeEventListener(type: string, listener: (e: { detail?: { type: string } }) => void): void;
  dispatchEvent(e: Event): boolean;
}
interface PageGlobals {
  document: { getElementById(id: string): PageElement | null; querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): { length: number } };
  postMessage(message: unknown, target: string): void;
}

async function webviewLeg(runDir: string, sessions: LatentSessions): Promise<void> {
  type Page = {
    exposeBinding(name: string, fn: (source: unknown, message: unknown) => void): Promise<void>;
    evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
    close(): Promise<void>;
  };
  type Opened = { page: Page; snapshot: unknown; send(m: unknown): Promise<unknown> };
  const load = createRequire(join(root, 'package.json'));
  const harness = load(join(root, 'out/test/webview/harness.js')) as {
    PanelServer: new () => { start(): Promise<{ close(): Promise<void> }> };
    openPanel(context: unknown, server: unknown, kind: string, dirs: string[], options: object): Promise<Opened>;
  };
  const { launchChromium } = load(join(root, 'out/test/support/chromium.js')) as { launchChromium(o: object): Promise<{ close(): Promise<void> }> };
  const server = await new harness.PanelServer().start();
  const context = await launchChromium({ viewport: { width: 1300, height: 1000 } });
  try {
    const state = { panel: 'run', dirs: [runDir], ui: { tab: 'latent', imageEpoch: null, logY: false, smoothing: 0.6, heatmapMetric: 'kl' } };
    const panel = await harness.openPanel(context, server, 'run', [runDir], { state, deferSnapshot: true });
    const { page } = panel;
    await page.exposeBinding('vaeLensRelay', (_source, message) => {
      void sessions.handle(message as FromLatentTabMessage, (reply) => void page.evaluate((r) => (globalThis as unknown as PageGlobals).postMessage(r, '*'), reply));
    });
    await page.evaluate(() => {
      const w = globalThis as unknown as { __posted: Array<{ type: string }>; vaeLensRelay(m: unknown): void };
      const push = w.__posted.push.bind(w.__posted);
      w.__posted.push = (...items: Array<{ type: string }>) => {
        for (const m of items) if (m.type.startsWith('latent')) w.vaeLensRelay(m);
        return push(...items);
      };
    }, undefined);
    await panel.send(panel.snapshot);
    // The first decoded image and traversal: the tab is up.
    await page.evaluate(() => new Promise<void>((ok) => {
      const tick = () => ((globalThis as unknown as PageGlobals).document.querySelector('[data-testid^="latent-slider-"]') ? setTimeout(ok, 1500) : setTimeout(tick, 50));
      tick();
    }), undefined);
    /** In the page: does `act`, then resolves with the ms until the next decoded answer was handled (drawn). */
    const timeNextDecode = (act: 'slider' | 'steps', value: number) =>
      page.evaluate(([what, v]) => new Promise<number>((ok) => {
        const { document } = globalThis as unknown as PageGlobals;
        const root = document.getElementById('app')!;
        // globalThis: this function runs in the page, where `performance` is not this file's import.
        const t0 = globalThis.performance.now();
        const done = (e: { detail?: { type: string } }) => {
          if (e.detail?.type !== 'latentDecoded') return;
          root.removeEventListener('vae-lens-rendered', done);
          ok(globalThis.performance.now() - t0);
        };
        root.addEventListener('vae-lens-rendered', done);
        if (what === 'slider') {
          const input = document.querySelector('input[data-testid^="latent-slider-"]')!;
          input.value = String(v);
          input.dispatchEvent(new Event('input'));
        } else {
          const select = document.querySelector('[data-testid="latent-steps"]')!;
          select.value = String(v);
          select.dispatchEvent(new Event('change'));
        }
      }), [act, value] as const);
    const settle = () => new Promise((r) => setTimeout(r, 700));
    const moves: number[] = [];
    for (let i = 0; i < Math.min(MOVES, 60); i++) {
      moves.push(await timeNextDecode('slider', ((i % 13) - 6) * 0.45));
      // Let the traversal the move schedules (200 ms later) finish: a move in isolation.
      await settle();
    }
    const grids: number[] = [];
    for (let i = 0; i < Math.min(GRIDS, 10); i++) {
      grids.push(await timeNextDecode('steps', i % 2 ? 7 : 21));
      await settle();
    }
    const rows = await page.evaluate(() => (globalThis as unknown as PageGlobals).document.querySelectorAll('input[data-testid^="latent-slider-"]').length, undefined);
    console.log(line('one slider move, webview → host → service → webview, image drawn', moves));
    console.log(line(`traversal grid (${Math.min(rows, 10)} rows × 21 / × 7 alternately), webview → … → grid drawn`, grids));
    const grid21 = grids.filter((_, i) => i % 2 === 0);
    console.log(`end-to-end targets: one z < 30 ms: ${median(moves) < 30 ? 'met' : 'NOT met'} (median ${fmt(median(moves), 1)} ms); the ${Math.min(rows, 10)} × 21 grid < 300 ms: ${median(grid21) < 300 ? 'met' : 'NOT met'} (median ${fmt(median(grid21), 1)} ms)`);
    await page.close();
  } finally {
    await context.close();
    await server.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
