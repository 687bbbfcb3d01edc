/**
 * `npm run bench:explorer`: how fast the latent explorer answers, on a real run (chainer-mlp,
 * dimz 20, one epoch on 3,000 MNIST images, trained here first).
 *   - the baseline: decoding in this process (the trainer's own decoder, no IPC);
 *   - through the host's path: LatentSessions.handle → IPC → the decode service (dist/trainer.js
 *     serve) → IPC → the reply the host posts to the webview (base64 grey bytes, checked);
 *   - for one z (a slider move; target < 30 ms end to end) and for a 10 × 21 traversal grid
 *     (target < 300 ms). Medians and p95 of interleaved repetitions; the webview's own share
 *     (postMessage and drawing a canvas) is measured by the Latent tab's test in Chromium.
 * Options: --moves N (single decodes, default 200), --grids N (default 20), --backend wasm|cpu|webgpu.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LatentSessions } from '../src/node/latentSessions';
import { traversalZ } from '../src/shared/latent';
import type { ToLatentTabMessage } from '../src/shared/latentService';
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
    console.log(`targets (host side; the webview adds its postMessage and canvas drawing): one z < 30 ms: ${median(viaHost) < 30 ? 'met' : 'NOT met'}; grid < 300 ms: ${median(gridViaHost) < 300 ? 'met' : 'NOT met'}`);
    console.log(`load average while measuring: ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`);
  } finally {
    explorer.dispose();
    await sessions.dispose();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
