// The run panel's Latent tab against the real decode service: a tiny run is trained in-process
// (chainer-mlp, dimz 8, 2 epochs, wasm), the panel runs in headless Chromium under the extension's
// policy, and the test plays the host by relaying the page's latent* requests through the same
// LatentSessions the extension uses (which forks dist/trainer.js in `serve` mode). What the page
// asks for (every z) and what it draws (canvas pixels) are checked against the service's answers.
// With VAE_LENS_DOCS=1 it also writes docs/latent-tab-dark.png and docs/latent-tab-light.png.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNumber } from '../../src/shared/format';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Page } from 'playwright-core';
import { openPanel, panelTestEnvironment, ROOT, type OpenedPanel, type PanelTheme } from './harness';
import { LatentSessions } from '../../src/node/latentSessions';
import { base64ToBytes, type FromLatentTabMessage, type LatentDecodeMessage, type LatentSpaceInfo, type LatentTestMessage, type ToLatentTabMessage } from '../../src/shared/latentService';
import { planeGridZ, traversalValues } from '../../src/shared/latent';
import { startRun } from '../../src/trainer/train';
import { collectingOutput, tempRunsDir, TRAINER_JS } from '../trainer/support';
import { readRun, readRunInfo } from '../../src/node/runFolder';
import { TAB_TITLES } from '../../src/webview/runView';

const env = panelTestEnvironment({ width: 1200, height: 1000 });
const docs = process.env.VAE_LENS_DOCS === '1';
const DIMZ = 8;
/** The tests' run: 2 epochs on 2,000 digits. For the docs' screenshots a run that has learnt more: 10 epochs on 10,000. */
const EPOCHS = docs ? 10 : 2;
/** keepCheckpointEvery of the shared run: the epochs the Weights choice offers. */
const KEEP_EVERY = docs ? 5 : 1;
const TRAIN_LIMIT = docs ? 10_000 : 2000;
const runsDir = tempRunsDir();
const serviceLog: string[] = [];
/** While false, the host refuses the explorer as it does in an untrusted workspace. */
let trusted = true;
const UNTRUSTED = 'This workspace is not trusted, so VAE Lens does not run the decoder here.';
const sessions = new LatentSessions(TRAINER_JS, {
  log: (line) => void serviceLog.push(line),
  whyNot: () => (trusted ? undefined : UNTRUSTED),
  // As the run store tells the host: the epochs run.json records.
  epochsCompleted: (dir) => readRunInfo(dir).then((info) => info.epochsCompleted),
});
/** Every service pid seen while the tests ran: none may be left once the sessions are disposed. */
const seenPids = new Set<number>();

const setup = (async () => {
  const outcome = await startRun(
    { config: { name: 'latent-tab', model: 'chainer-mlp', dimz: DIMZ, epochs: EPOCHS, trainLimit: TRAIN_LIMIT, testLimit: 200, backend: 'wasm', seed: 3, keepCheckpointEvery: KEEP_EVERY }, runsDir },
    { output: collectingOutput() },
  );
  assert.equal(outcome.status, 'completed', outcome.message);
  return outcome.runDir;
})();

/** Every relay started, stopped at the end even when a test failed half-way. */
const relays = new Set<{ stop(): void }>();

after(async () => {
  for (const relay of relays) relay.stop();
  await sessions.dispose();
  rmSync(runsDir, { recursive: true, force: true });
});

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe's serious and critical violations on the page as it is now, one line each. */
async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    type Violation = { id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> };
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: Violation[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.impact} ${v.id} (${v.help}) at ${JSON.stringify(n.target)}: ${(n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 240)}`));
}

/** No test waits for ever: a page or a service that stops answering fails the test instead. */
const LIMIT = { timeout: 180_000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Posts a host message and waits until the page handled it; fails instead of waiting for ever when
 * it does not (the page drops a message that fails its protocol check, and posts an `error`).
 */
async function deliver(panel: OpenedPanel, message: ToLatentTabMessage, timeoutMs = 15_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void panel.posted().then((posted) => {
        const errors = posted.filter((m) => m.type === 'error').map((m) => String(m.message).slice(0, 300));
        reject(new Error(`the page did not handle ${message.type} within ${timeoutMs} ms${errors.length ? `; it posted: ${errors.join(' | ')}` : ''}`));
      }, reject);
    }, timeoutMs);
  });
  try {
    await Promise.race([panel.send(message), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The host's part: reads what the page posted, hands its latent* requests to LatentSessions, and
 * posts the answers back to the page one at a time (each waits until the page has handled it).
 */
class Relay {
  readonly requests: FromLatentTabMessage[] = [];
  readonly replies: Array<{ request: FromLatentTabMessage; reply: ToLatentTabMessage }> = [];
  /** `ask <id>` and `answer <id>` in the order the relay saw them. */
  readonly log: string[] = [];
  /** Messages the page posted that are not for the Latent tab (e.g. `error`). */
  readonly others: Array<{ type: string }> = [];
  private seen = 0;
  private pending = 0;
  private sending: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | undefined;
  private pumping = false;
  private failure: Error | undefined;

  constructor(private readonly panel: OpenedPanel) {}

  start(): this {
    relays.add(this);
    this.timer = setInterval(() => void this.pump(), 25);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const posted = await this.panel.posted();
      for (const m of posted.slice(this.seen)) {
        if (!m.type.startsWith('latent')) {
          if (m.type !== 'ready' && m.type !== 'loading' && m.type !== 'uiState') this.others.push(m);
          continue;
        }
        const request = m as unknown as FromLatentTabMessage;
        this.requests.push(request);
        if ('id' in request) this.log.push(`ask ${request.id}`);
        for (const pid of sessions.pids()) seenPids.add(pid);
        this.pending++;
        void sessions.handle(request, (reply) => {
          this.replies.push({ request, reply });
          if ('id' in request) this.log.push(`answer ${request.id}`);
          this.sending = this.sending.then(() => deliver(this.panel, reply)).then(() => undefined, (e: unknown) => void (this.failure ??= e as Error));
        }).finally(() => {
          this.pending--;
          for (const pid of sessions.pids()) seenPids.add(pid);
        });
      }
      this.seen = posted.length;
    } catch (e) {
      this.failure ??= e as Error;
    } finally {
      this.pumping = false;
    }
  }

  /** Waits until every request has its answer handled by the page and nothing new came for `quietMs` (longer than the tab's traversal debounce). */
  async settled(quietMs = 450, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let count = -1;
    let since = Date.now();
    for (;;) {
      if (this.failure) throw this.failure;
      await this.pump();
      await this.sending;
      if (this.requests.length !== count || this.pending > 0) {
        count = this.requests.length;
        since = Date.now();
      } else if (Date.now() - since >= quietMs) return;
      if (Date.now() > deadline) throw new Error(`the Latent tab did not settle within ${timeoutMs} ms (${this.pending} requests pending)`);
      await sleep(25);
    }
  }

  /** The latentDecode requests whose z has `rows` rows (1: the live image; dims × steps: the traversal; …). */
  decodes(dimz: number, rows?: number): LatentDecodeMessage[] {
    return this.requests.filter((r): r is LatentDecodeMessage => r.type === 'latentDecode' && (rows === undefined || r.z.length === rows * dimz));
  }

  replyTo(id: number): ToLatentTabMessage | undefined {
    return this.replies.find((r) => 'id' in r.request && r.request.id === id)?.reply;
  }
}

/** The red channel of a canvas (the decoded images are grey), or of its alpha when `alpha`. */
function canvasChannel(panel: OpenedPanel, testId: string, alpha = false): Promise<number[]> {
  return panel.page.getByTestId(testId).evaluate((c, a) => {
    const canvas = c as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const out: number[] = [];
    for (let i = 0; i < data.length; i += 4) out.push(data[i + (a ? 3 : 0)]);
    return out;
  }, alpha);
}

const fround = (values: readonly number[]) => values.map((v) => Math.fround(v));

/** The coordinates where two z differ. */
function differing(a: readonly number[], b: readonly number[]): number[] {
  assert.equal(a.length, b.length);
  return a.flatMap((v, d) => (v !== b[d] ? [d] : []));
}

async function openLatentPanel(dir: string, theme: PanelTheme, state?: unknown): Promise<{ panel: OpenedPanel; relay: Relay }> {
  const panel = await openPanel(env.context, env.server, 'run', [dir], { theme, ...(state ? { state } : {}) });
  return { panel, relay: new Relay(panel) };
}

async function expectClean(panel: OpenedPanel, relay: Relay, where: string): Promise<void> {
  await panel.page.evaluate(() => new Promise<void>((ok) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(ok, 50)))));
  assert.deepEqual(await panel.cspViolations(), [], `${where}: no Content-Security-Policy violation`);
  assert.deepEqual(panel.consoleErrors(), [], `${where}: no console error`);
  assert.deepEqual(relay.others, [], `${where}: the page posted no error`);
}

let shared: { panel: OpenedPanel; relay: Relay; info: LatentSpaceInfo; dir: string } | undefined;

test('the Latent tab opens the decode service once, when first shown, and shows what it opened', LIMIT, async () => {
  const dir = await setup;
  const { panel, relay } = await openLatentPanel(dir, 'dark');
  relay.start();
  await sleep(300);
  assert.equal(relay.requests.length, 0, 'nothing is asked of the service before the tab is shown');
  relay.stop();
  await panel.page.locator('vscode-tab-header', { hasText: TAB_TITLES.latent }).click();
  await panel.page.waitForFunction(() => document.getElementById('app')?.dataset.tab === 'latent');
  assert.equal(await panel.page.getByTestId('latent-status').textContent(), 'Starting the decoder on this run\'s checkpoint…');
  relay.start();
  await panel.page.getByTestId('latent-status').filter({ hasText: /^Weights after epoch/ }).waitFor({ timeout: 60_000 });
  await relay.settled();
  const opens = relay.requests.filter((r) => r.type === 'latentOpen');
  assert.deepEqual(opens, [{ type: 'latentOpen', dir }]);
  const infoReply = relay.replies.find((r) => r.reply.type === 'latentInfo')?.reply;
  assert.ok(infoReply?.type === 'latentInfo');
  const info = infoReply.info;
  assert.equal(info.dimz, DIMZ);
  assert.match(await panel.page.getByTestId('latent-status').textContent() ?? '', new RegExp(`^Weights after epoch ${EPOCHS} · ${info.device.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} · opened in \\d+ ms$`));
  assert.equal(sessions.pids().length, 1, 'one decode service for the run');

  // Another tab and back: the service is not asked to open again.
  await panel.page.locator('vscode-tab-header', { hasText: TAB_TITLES.images }).click();
  await panel.page.locator('vscode-tab-header', { hasText: TAB_TITLES.latent }).click();
  await relay.settled();
  assert.equal(relay.requests.filter((r) => r.type === 'latentOpen').length, 1);
  assert.equal((await panel.state() as { ui: { tab: string } }).ui.tab, 'latent', 'the chosen tab is persisted');

  // One slider per shown dimension, labelled with its KL_d and Var(μ_d).
  assert.ok(info.order.length >= 1 && info.order.length <= 32);
  const sliders = panel.page.locator('input[type="range"][data-testid^="latent-slider-"]');
  assert.equal(await sliders.count(), info.order.length);
  for (const d of info.order) {
    const label = await panel.page.locator(`label[for="${await panel.page.getByTestId(`latent-slider-${d}`).getAttribute('id')}"]`).textContent();
    assert.equal(label, `z${d + 1} · KL ${info.kl[d].toFixed(2)} · Var(μ) ${info.varMu[d].toFixed(2)}`);
  }
  shared = { panel, relay, info, dir };
});

test('the decoded image follows a slider: one coordinate of z changes, and so do the pixels', LIMIT, async () => {
  assert.ok(shared);
  const { panel, relay, info } = shared;
  const live = () => relay.decodes(info.dimz, 1);
  assert.deepEqual(live()[0].z, new Array(info.dimz).fill(0), 'the first image is decoded from z = 0');
  const before = await canvasChannel(panel, 'latent-image');
  assert.equal(before.length, info.width * info.height);
  const firstReply = relay.replyTo(live()[0].id);
  assert.ok(firstReply?.type === 'latentDecoded');
  assert.deepEqual(before, Array.from(base64ToBytes(firstReply.pixels)), 'the canvas shows the service\'s bytes');

  const d = info.order[0];
  const count = live().length;
  await panel.page.getByTestId(`latent-slider-${d}`).fill('2');
  await relay.settled();
  const moved = live().slice(count - 1);
  assert.equal(moved.length, 2, 'one decode for one move');
  assert.deepEqual(differing(moved[0].z, moved[1].z), [d]);
  assert.equal(moved[1].z[d], 2);
  assert.equal(await panel.page.getByTestId(`latent-value-${d}`).textContent(), '2.00');
  const after = await canvasChannel(panel, 'latent-image');
  assert.notDeepEqual(after, before, 'the image changed');

  // Keyboard: three steps of the second slider. Requests made while one is in flight are not
  // queued: each decode carries the z of its time, and the last one the final z.
  const e = info.order[1] ?? info.order[0];
  const start = live().length;
  const slider = panel.page.getByTestId(`latent-slider-${e}`);
  await slider.focus();
  for (let i = 0; i < 3; i++) await slider.press('ArrowRight');
  await relay.settled();
  const stepped = live().slice(start - 1);
  assert.ok(stepped.length >= 2 && stepped.length <= 4, `${stepped.length - 1} decodes for three key presses`);
  for (let i = 1; i < stepped.length; i++) assert.deepEqual(differing(stepped[i - 1].z, stepped[i].z), [e]);
  assert.ok(Math.abs(stepped.at(-1)!.z[e] - (e === d ? 2.15 : 0.15)) < 1e-9, `z${e + 1} = ${stepped.at(-1)!.z[e]}`);
  // Never two live decodes in flight: each is asked for after the one before it was answered.
  for (let i = 1; i < stepped.length; i++) {
    const answered = relay.log.indexOf(`answer ${stepped[i - 1].id}`);
    assert.ok(answered >= 0 && answered < relay.log.indexOf(`ask ${stepped[i].id}`), `decode ${stepped[i].id} waited for ${stepped[i - 1].id}`);
  }
});

test('z = 0, a random prior sample, and a test image\'s μ set the whole z', LIMIT, async () => {
  assert.ok(shared);
  const { panel, relay, info } = shared;
  const live = () => relay.decodes(info.dimz, 1);
  await panel.page.getByTestId('latent-zero').click();
  await relay.settled();
  assert.deepEqual(live().at(-1)!.z, new Array(info.dimz).fill(0));

  await panel.page.getByTestId('latent-random').click();
  await relay.settled();
  const sample = live().at(-1)!.z;
  assert.equal(sample.filter((v) => v !== 0 && Number.isFinite(v) && Math.abs(v) < 7).length, info.dimz, 'every coordinate drawn from N(0, 1)');

  await panel.page.getByTestId('latent-index').fill('5');
  await panel.page.getByTestId('latent-mu').click();
  await relay.settled();
  const asked = relay.requests.filter((r) => r.type === 'latentTest').at(-1);
  assert.ok(asked?.type === 'latentTest');
  assert.deepEqual(asked.indices, [5]);
  const tested = relay.replyTo(asked.id);
  assert.ok(tested?.type === 'latentTested');
  assert.equal(tested.mu.length, info.dimz);
  assert.deepEqual(live().at(-1)!.z, tested.mu, 'z is image 5\'s μ, every coordinate');
  for (const d of info.order) assert.equal(await panel.page.getByTestId(`latent-value-${d}`).textContent(), tested.mu[d].toFixed(2).replace('-', '−').replace(/^−0\.00$/, '0.00'));

  // An index outside the test set is refused at the input, without a request.
  const before = relay.requests.length;
  await panel.page.getByTestId('latent-index').fill(String(info.testCount));
  await panel.page.getByTestId('latent-mu').click();
  await relay.settled();
  assert.equal(relay.requests.length, before);
  assert.equal(await panel.page.getByTestId('latent-index').getAttribute('aria-invalid'), 'true');
  assert.equal(await panel.page.getByTestId('latent-index-hint').textContent(), `a whole number from 0 to ${info.testCount - 1}`);
  await panel.page.getByTestId('latent-index').fill('5');
  assert.equal(await panel.page.getByTestId('latent-index').getAttribute('aria-invalid'), 'false');
  assert.equal(await panel.page.getByTestId('latent-index-hint').textContent(), '');
});

test('the traversal sweeps each shown dimension from −3 to +3 around the current z, in the chosen steps', LIMIT, async () => {
  assert.ok(shared);
  const { panel, relay, info } = shared;
  const base = relay.decodes(info.dimz, 1).at(-1)!.z;
  const dims = info.order.slice(0, 10);
  const check = (steps: number) => {
    const request: LatentDecodeMessage | undefined = relay.decodes(info.dimz, dims.length * steps).at(-1);
    assert.ok(request, `a traversal of ${steps} steps was asked for`);
    const values = fround(traversalValues(steps));
    dims.forEach((d, i) => {
      for (let j = 0; j < steps; j++) {
        const row: number[] = request.z.slice((i * steps + j) * info.dimz, (i * steps + j + 1) * info.dimz);
        const changed = differing(row, fround(base));
        assert.ok(changed.length === 0 || (changed.length === 1 && changed[0] === d), `row ${i}, step ${j} changes only z${d + 1}`);
        assert.equal(row[d], values[j]);
      }
    });
    assert.equal(values[0], -3);
    assert.equal(values.at(-1), 3);
    return request;
  };
  const eleven = check(11);
  assert.ok(relay.replyTo(eleven.id)?.type === 'latentDecoded');
  const drawn = await canvasChannel(panel, 'latent-traversal', true);
  assert.ok(drawn.filter((a) => a > 0).length > 1000, 'the grid is drawn');

  await panel.page.getByTestId('latent-steps').click();
  await panel.page.getByRole('option', { name: '7', exact: true }).click();
  await relay.settled();
  check(7);
  assert.match(await panel.page.getByTestId('latent-traversal').getAttribute('aria-label') ?? '', /in 7 steps/);
});

test('the interpolation runs from one chosen test image\'s μ to the other\'s, linear or spherical', LIMIT, async () => {
  assert.ok(shared);
  const { panel, relay, info, dir } = shared;
  const choices = panel.page.locator('button[data-testid^="latent-test-"]');
  assert.equal(await choices.count(), 16);
  const thumbs = relay.requests.filter((r): r is LatentTestMessage => r.type === 'latentTest' && r.indices.length === 16);
  assert.equal(thumbs.length, 1, 'one request for the 16 test images');
  const tested = relay.replyTo(thumbs[0].id);
  assert.ok(tested?.type === 'latentTested');
  const mu = (i: number) => tested.mu.slice(i * info.dimz, (i + 1) * info.dimz);
  // Under each test image its reconstruction: the 16 μ decoded in one request, drawn in the buttons.
  const recon = relay.decodes(info.dimz, 16);
  assert.equal(recon.length, 1, 'one decode of the 16 choices\' μ');
  assert.deepEqual(recon[0].z, tested.mu);
  assert.ok(relay.replyTo(recon[0].id)?.type === 'latentDecoded');
  assert.deepEqual(await panel.page.locator('canvas.latent-thumb-recon').evaluateAll((cs) => cs.map((c) => (c as HTMLCanvasElement).dataset.drawn)), new Array(16).fill('true'));

  await panel.page.getByTestId('latent-test-3').click();
  assert.equal(await panel.page.getByTestId('latent-interp-ends').textContent(), 'From test image 3: now pick where the path ends.');
  await panel.page.getByTestId('latent-test-9').click();
  await relay.settled();
  assert.equal(await panel.page.getByTestId('latent-interp-ends').textContent(), 'From test image 3 to test image 9');
  assert.equal(await panel.page.getByTestId('latent-test-3').getAttribute('data-role'), 'from');
  assert.equal(await panel.page.getByTestId('latent-test-9').getAttribute('data-role'), 'to');
  const path = relay.decodes(info.dimz, 10).at(-1)!;
  assert.deepEqual(path.z.slice(0, info.dimz), mu(3));
  assert.deepEqual(path.z.slice(9 * info.dimz), mu(9));
  const reply = relay.replyTo(path.id);
  assert.ok(reply?.type === 'latentDecoded' && reply.rows === 10);
  const strip = base64ToBytes(reply.pixels);
  const n = info.width * info.height;
  // The ends decode to the same bytes as each μ decoded alone.
  for (const [row, image] of [[0, 3], [9, 9]] as const) {
    let alone: ToLatentTabMessage | undefined;
    await sessions.handle({ type: 'latentDecode', dir, id: 90_000 + image, z: mu(image) }, (r) => void (alone = r));
    assert.ok(alone?.type === 'latentDecoded');
    assert.deepEqual(Array.from(strip.subarray(row * n, (row + 1) * n)), Array.from(base64ToBytes(alone.pixels)), `row ${row} is image ${image}'s μ decoded`);
  }
  assert.ok((await canvasChannel(panel, 'latent-interpolation', true)).some((a) => a > 0), 'the strip is drawn');

  // Keyboard: Enter picks a new start, Space the end.
  await panel.page.getByTestId('latent-test-4').focus();
  await panel.page.keyboard.press('Enter');
  await panel.page.getByTestId('latent-test-7').focus();
  await panel.page.keyboard.press('Space');
  await relay.settled();
  assert.equal(await panel.page.getByTestId('latent-interp-ends').textContent(), 'From test image 4 to test image 7');

  // Spherical: the same ends; between them the length of z goes linearly from |a| to |b|.
  await panel.page.getByTestId('latent-spherical').click();
  await relay.settled();
  const arc = relay.decodes(info.dimz, 10).at(-1)!;
  assert.notEqual(arc.id, path.id);
  assert.deepEqual(arc.z.slice(0, info.dimz), mu(4));
  assert.deepEqual(arc.z.slice(9 * info.dimz), mu(7));
  const norm = (v: number[]) => Math.hypot(...v);
  for (let j = 1; j < 9; j++) {
    const t = j / 9;
    const expected = (1 - t) * norm(mu(4)) + t * norm(mu(7));
    assert.ok(Math.abs(norm(arc.z.slice(j * info.dimz, (j + 1) * info.dimz)) - expected) < 1e-4 * Math.max(1, expected), `|z| at step ${j}`);
  }
});

test('the scatter shows the test images\' μ by label, the prior\'s circles and its noise', LIMIT, async () => {
  assert.ok(shared);
  const { panel, relay, info } = shared;
  assert.ok(info.scatter.points.length > 0 && info.scatter.labels);
  const alpha = await canvasChannel(panel, 'latent-scatter', true);
  assert.ok(alpha.filter((a) => a > 0).length > 2000, 'points, circles and axes are drawn');
  // Each label's points in its colour (the theme's --vae-lens-label-<n>, as the legend shows it).
  const labels = [...new Set(info.scatter.labels)].sort((a, b) => a - b);
  const pixelsByLabel = await panel.page.getByTestId('latent-scatter').evaluate((c, present) => {
    const canvas = c as HTMLCanvasElement;
    const probe = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
    const rgb = (css: string) => {
      probe.clearRect(0, 0, 1, 1);
      probe.fillStyle = css;
      probe.fillRect(0, 0, 1, 1);
      return Array.from(probe.getImageData(0, 0, 1, 1).data.slice(0, 3));
    };
    const style = getComputedStyle(canvas);
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    return present.map((label) => {
      const [r, g, b] = rgb(style.getPropertyValue(`--vae-lens-label-${label}`));
      let count = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 100 && Math.abs(data[i] - r) <= 3 && Math.abs(data[i + 1] - g) <= 3 && Math.abs(data[i + 2] - b) <= 3) count++;
      }
      return count;
    });
  }, labels);
  assert.equal(labels.length, 10, 'the 200 test digits have all ten labels');
  assert.ok(pixelsByLabel.every((n) => n > 0), `pixels per label colour: ${pixelsByLabel.join(', ')}`);
  const legend = await panel.page.getByTestId('latent-legend').locator('li').allTextContents();
  assert.deepEqual(legend.slice(0, labels.length), labels.map((l) => `label ${l}`));
  assert.match(await panel.page.locator('.latent-section', { has: panel.page.getByTestId('latent-scatter') }).textContent() ?? '', /Where the test images' μ lie against where prior samples land/);
  assert.equal(await panel.page.getByTestId('latent-manifold').isVisible(), false, 'the decoded manifold is for dimz 2');
  // Any two of the dimensions the service sent values of: the points move to μ_d of those dimensions.
  const { dims, muDims, noiseDims } = info.scatter;
  assert.deepEqual(dims, info.order.slice(0, dims.length), 'the dimensions largest KL first');
  assert.equal(muDims.length, (info.scatter.points.length / 2) * dims.length);
  assert.equal(noiseDims.length, (info.scatter.noise.length / 2) * dims.length);
  assert.ok(dims.length >= 2, `at least two dimensions to choose from: ${dims.join(', ')}`);
  const x = panel.page.getByTestId('latent-scatter-x');
  assert.deepEqual((await x.locator('vscode-option').allTextContents()).slice(0, 3), [...info.scatter.axes, `z${dims[0] + 1} (KL ${formatNumber(info.kl[dims[0]], 2)})`]);
  const principal = await canvasChannel(panel, 'latent-scatter', true);
  const choose = (testId: string, value: string) => panel.page.getByTestId(testId).evaluate((el, v) => {
    const select = el as HTMLElement & { value: string };
    select.value = v;
    select.dispatchEvent(new Event('change'));
  }, value);
  await choose('latent-scatter-x', `z${dims[0]}`);
  await choose('latent-scatter-y', `z${dims[1]}`);
  const label = await panel.page.getByTestId('latent-scatter').getAttribute('aria-label') ?? '';
  assert.match(label, new RegExp(`on μ of z${dims[0] + 1} and μ of z${dims[1] + 1}`));
  assert.notDeepEqual(await canvasChannel(panel, 'latent-scatter', true), principal, 'the scatter is redrawn on the chosen dimensions');
  await choose('latent-scatter-x', 'pc0');
  await choose('latent-scatter-y', 'pc1');
  assert.deepEqual(await canvasChannel(panel, 'latent-scatter', true), principal, 'back to the principal axes');
  await expectClean(panel, relay, 'the drawn Latent tab');
  assert.deepEqual(await seriousViolations(panel.page), [], 'axe: the drawn Latent tab');
  if (docs) await saveScreenshot(panel, 'latent-tab-dark.png');
});

test('a run that trains past the explorer\'s weights: the tab says so and offers the newer weights', LIMIT, async () => {
  assert.ok(shared);
  const { panel, relay, dir } = shared;
  const { info } = await readRun(dir);
  const reload = panel.page.getByTestId('latent-reload');
  assert.equal(await reload.isVisible(), false, 'no offer while the explorer decodes the latest weights');
  // The panel hears of a later epoch (an append of a live run).
  await panel.send({ type: 'append', dir, info: { ...info, epochsCompleted: EPOCHS + 1 }, epochs: [], warnings: [] });
  await reload.waitFor({ state: 'visible' });
  assert.match(await panel.page.getByTestId('latent-status').textContent() ?? '', new RegExp(`^Weights after epoch ${EPOCHS} \\(the run has since reached epoch ${EPOCHS + 1}\\)`));
  const opens = relay.requests.filter((r) => r.type === 'latentOpen').length;
  await reload.click();
  await panel.page.getByTestId('latent-status').filter({ hasText: /^Weights after epoch/ }).waitFor({ timeout: 60_000 });
  await relay.settled();
  assert.equal(relay.requests.filter((r) => r.type === 'latentOpen').length, opens + 1, 'the click asks the host for the latest checkpoint');
  // The checkpoint on disk is still epoch 2's (this panel was told of an epoch the run folder lacks): the same service answers.
  assert.equal(sessions.pids().length, 1);
  await panel.send({ type: 'append', dir, info, epochs: [], warnings: [] });
  assert.equal(await reload.isVisible(), false, 'back in step with the run: no offer');
  await expectClean(panel, relay, 'after the offer of newer weights');
});

test('the weights of a kept epoch: chosen in the tab, decoded by a service on them, and back to the latest', LIMIT, async () => {
  assert.ok(shared);
  const { panel, relay, dir } = shared;
  const weights = panel.page.getByTestId('latent-weights');
  assert.equal(await weights.isVisible(), true, 'the run keeps epochs, so the choice is offered');
  const kept = Array.from({ length: EPOCHS / KEEP_EVERY }, (_, i) => (i + 1) * KEEP_EVERY);
  assert.deepEqual(await weights.locator('vscode-option').allTextContents(), ['Latest weights', ...kept.map((e) => `Epoch ${e}`)]);
  const opens = () => relay.requests.filter((r) => r.type === 'latentOpen');
  const before = opens().length;
  const first = kept[0];
  await weights.evaluate((el, epoch) => {
    const select = el as HTMLElement & { value: string };
    select.value = String(epoch);
    select.dispatchEvent(new Event('change'));
  }, first);
  await panel.page.getByTestId('latent-status').filter({ hasText: new RegExp(`^Kept weights after epoch ${first} · `) }).waitFor({ timeout: 60_000 });
  await relay.settled();
  assert.deepEqual(opens().slice(before), [{ type: 'latentOpen', dir, epoch: first }]);
  assert.equal(await panel.page.getByTestId('latent-reload').isVisible(), false, 'chosen weights are not "older": no offer of newer ones');
  // The image and the traversal were asked for again, of that epoch's decoder.
  assert.ok(relay.decodes(DIMZ, 1).length > 0);
  await weights.evaluate((el) => {
    const select = el as HTMLElement & { value: string };
    select.value = 'latest';
    select.dispatchEvent(new Event('change'));
  });
  await panel.page.getByTestId('latent-status').filter({ hasText: new RegExp(`^Weights after epoch ${EPOCHS} · `) }).waitFor({ timeout: 60_000 });
  await relay.settled();
  assert.deepEqual(opens().at(-1), { type: 'latentOpen', dir });
  assert.equal(sessions.pids().length, 1, 'one service for the run, on the weights asked for last');
  await expectClean(panel, relay, 'after choosing kept weights');
});

test('when the explorer cannot run the tab says so, and Try again opens it again', LIMIT, async () => {
  assert.ok(shared);
  const { panel, relay, dir } = shared;
  // One failed request: a note, the tab stays.
  await deliver(panel, { type: 'latentUnavailable', dir, id: 123_456, message: 'That request failed.' });
  assert.equal(await panel.page.getByTestId('latent-request-error').textContent(), 'That request failed.');
  assert.equal(await panel.page.getByTestId('latent-image').isVisible(), true);
  // The whole explorer: the host refuses it (as in an untrusted workspace) on the next request.
  trusted = false;
  try {
    await panel.page.getByTestId('latent-zero').click();
    await relay.settled();
    const refusal = relay.replies.at(-1)?.reply;
    assert.deepEqual(refusal, { type: 'latentUnavailable', dir, message: UNTRUSTED });
    const alert = panel.page.getByTestId('latent-unavailable');
    assert.equal(await alert.getAttribute('role'), 'alert');
    assert.equal(await alert.isVisible(), true);
    assert.equal(await panel.page.getByTestId('latent-unavailable-text').textContent(), UNTRUSTED);
    assert.equal(await panel.page.getByTestId('latent-image').isVisible(), false);
    assert.equal(await panel.page.getByTestId('latent-request-error').isVisible(), false);
  } finally {
    trusted = true;
  }
  const opens = relay.requests.filter((r) => r.type === 'latentOpen').length;
  await panel.page.getByTestId('latent-retry').click();
  await panel.page.getByTestId('latent-status').filter({ hasText: new RegExp(`^Weights after epoch ${EPOCHS} `) }).waitFor({ timeout: 60_000 });
  await relay.settled();
  assert.equal(relay.requests.filter((r) => r.type === 'latentOpen').length, opens + 1);
  assert.equal(await panel.page.getByTestId('latent-unavailable').isVisible(), false);
  assert.equal(await panel.page.getByTestId('latent-image').isVisible(), true);
  // The tab asks again for what it shows: the image of the current z and the traversal around it.
  assert.ok(relay.decodes(DIMZ, 1).length > 0);
  await expectClean(panel, relay, 'after the explorer came back');
  relay.stop();
  await panel.page.close();
});

test('a panel restored on the Latent tab opens the service at once (light theme)', LIMIT, async () => {
  const dir = await setup;
  const { panel, relay } = await openLatentPanel(dir, 'light', { panel: 'run', dirs: [dir], ui: { tab: 'latent' } });
  relay.start();
  await panel.page.getByTestId('latent-status').filter({ hasText: new RegExp(`^Weights after epoch ${EPOCHS} `) }).waitFor({ timeout: 60_000 });
  await relay.settled();
  assert.equal(relay.requests.filter((r) => r.type === 'latentOpen').length, 1);
  assert.equal(sessions.pids().length, 1, 'the run\'s service is shared by its panels');
  assert.ok((await canvasChannel(panel, 'latent-scatter', true)).some((a) => a > 0));
  await expectClean(panel, relay, 'the Latent tab, light theme');
  assert.deepEqual(await seriousViolations(panel.page), [], 'axe: the Latent tab, light theme');
  if (docs) {
    // A test image's μ, so the picture shows a digit and its neighbourhood.
    await panel.page.getByTestId('latent-index').fill('0');
    await panel.page.getByTestId('latent-mu').click();
    await relay.settled();
    await saveScreenshot(panel, 'latent-tab-light.png');
  }
  relay.stop();
  await panel.page.close();
});

test('a two-dimensional latent space: the decoded manifold on the scatter\'s plane, beside it', LIMIT, async () => {
  const outcome = await startRun(
    { config: { name: 'latent-tab-2d', model: 'chainer-mlp', dimz: 2, epochs: 1, trainLimit: 1000, testLimit: 100, backend: 'wasm', seed: 4 }, runsDir },
    { output: collectingOutput() },
  );
  assert.equal(outcome.status, 'completed', outcome.message);
  const dir = outcome.runDir;
  const { panel, relay } = await openLatentPanel(dir, 'dark', { panel: 'run', dirs: [dir], ui: { tab: 'latent' } });
  relay.start();
  await panel.page.getByTestId('latent-status').filter({ hasText: /^Weights after epoch 1 / }).waitFor({ timeout: 60_000 });
  await relay.settled();
  const info = relay.replies.map((r) => r.reply).find((r) => r.type === 'latentInfo' && r.dir === dir);
  assert.ok(info?.type === 'latentInfo');
  const { u, v } = info.info.scatter;
  assert.equal(u.length, 2);
  const grid = relay.decodes(2, 15 * 15);
  assert.equal(grid.length, 1, 'one request for the manifold');
  assert.deepEqual(grid[0].z, Array.from(planeGridZ({ u: Float64Array.from(u), v: Float64Array.from(v) }, 15)));
  assert.equal(await panel.page.getByTestId('latent-manifold').isVisible(), true);
  const drawn = await canvasChannel(panel, 'latent-manifold', true);
  assert.ok(drawn.length > 0 && drawn.every((a) => a === 255), 'every pixel of the manifold is a decoded image\'s');
  await expectClean(panel, relay, 'the Latent tab of a dimz-2 run');
  relay.stop();
  await panel.page.close();
});

test('without VS Code (the static report) the tab says the explorer needs it and asks nothing', LIMIT, async () => {
  const dir = await setup;
  const panel = await openPanel(env.context, env.server, 'run', [dir], { deferSnapshot: true });
  await panel.send({ ...panel.snapshot, interactive: false });
  await panel.page.locator('vscode-tab-header', { hasText: TAB_TITLES.latent }).click();
  await panel.page.waitForFunction(() => document.getElementById('app')?.dataset.tab === 'latent');
  assert.match(await panel.page.getByTestId('latent-status').textContent() ?? '', /needs VS Code/);
  assert.deepEqual((await panel.posted()).filter((m) => m.type.startsWith('latent')), []);
  await panel.page.close();
});

test('disposing the sessions ends every decode service', LIMIT, async () => {
  assert.ok(seenPids.size >= 1, 'a service ran');
  await sessions.dispose();
  assert.deepEqual(sessions.pids(), []);
  for (const pid of seenPids) {
    assert.throws(() => process.kill(pid, 0), (e: NodeJS.ErrnoException) => e.code === 'ESRCH', `service ${pid} is gone`);
  }
});

async function saveScreenshot(panel: OpenedPanel, name: string): Promise<void> {
  const shot = join(runsDir, name);
  await panel.page.getByTestId('latent-tab').screenshot({ path: shot });
  // As recordedRuns.test.ts saves its screenshots, with more colours: the scatter's ten label colours must survive.
  execFileSync('convert', [shot, '+dither', '-colors', '160', '-strip', `PNG8:${join(ROOT, 'docs', name)}`]);
}
