/**
 * The run panel's Latent tab: decode any z live with the run's checkpoint. The host runs a decode
 * service for the run (the trainer in `serve` mode) and relays this tab's requests to it; the tab
 * builds every z it asks for with src/shared/latent.ts and draws the grey bytes it gets back on
 * canvases (the panels' policy allows no data: or blob: images).
 *
 * - Sliders, one per shown dimension (the active ones, largest KL_d first), set their coordinate of
 *   z, a full dimz vector; the decoded image follows while dragging: at most one decode is in
 *   flight, and while it is only the latest z is kept, to be sent when the answer arrives.
 * - The traversal grid sweeps each shown dimension from −3 to +3 with the others at z, redrawn
 *   once z settles; the interpolation decodes the path between two test images' μ; the scatter
 *   shows where the test images' μ lie against the prior's circles and the run's prior noise.
 *
 * Nothing here waits for the service: every request is answered by a message, and until it comes
 * the tab keeps showing what it drew last.
 */
import {
  base64ToBytes, MAX_DECODE_ROWS, MAX_TEST_IMAGES, type LatentSpaceInfo, type LatentTestedMessage, type ToLatentTabMessage,
} from '../shared/latentService';
import { interpolationZ, planeGridZ, traversalValues, traversalZ, TRAVERSAL_EXTENT } from '../shared/latent';
import { ACTIVE_UNIT_THRESHOLD } from '../shared/stats';
import { h } from './dom';
import { formatNumber } from './format';
import type { PanelHost } from './host';
import type { ChartTheme } from './theme';

/** Most sliders the tab shows (the other coordinates keep their value of z). */
export const MAX_SLIDERS = 32;
/** Most dimensions the traversal grid sweeps (its rows). */
export const MAX_TRAVERSAL_ROWS = 10;
export const TRAVERSAL_STEPS = [7, 11, 21] as const;
export const DEFAULT_TRAVERSAL_STEPS = 11;
export const INTERPOLATION_STEPS = 10;
/** The test images offered as interpolation ends (the first ones of the test set). */
export const INTERPOLATION_CHOICES = 16;
export const MANIFOLD_STEPS = 15;
const SLIDER_STEP = 0.05;
/** How long z must stay unchanged before the traversal grid is decoded again. */
const SETTLE_MS = 200;
/** The scatter's ten label colours (panel.css: the theme's chart colours, then four more per theme). */
const LABEL_COLOURS = 10;

interface ToggleLike extends HTMLElement {
  checked: boolean;
}
interface SelectLike extends HTMLElement {
  value: string;
}

/** Grey bytes (one byte per pixel) of `rows` images, one after the other. */
interface Images {
  bytes: Uint8Array;
  rows: number;
}

/**
 * One kind of decode (live image, traversal, interpolation, manifold): at most one request in
 * flight. A request made meanwhile marks the channel dirty, and the z it sends is built when the
 * answer comes, so it is the latest, never a stale one queued behind it.
 */
class DecodeChannel {
  private inFlight: number | undefined;
  private dirty = false;

  constructor(
    private readonly send: (z: ArrayLike<number>) => number,
    private readonly build: () => ArrayLike<number> | undefined,
    private readonly draw: (images: Images) => void,
  ) {}

  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  request(): void {
    if (this.inFlight !== undefined) {
      this.dirty = true;
      return;
    }
    this.dirty = false;
    const z = this.build();
    if (z && z.length > 0) this.inFlight = this.send(z);
  }

  /** The answer to a request of this channel: drawn, and the latest z sent if one is waiting. Returns whether the id was this channel's. */
  answered(id: number, images: Images): boolean {
    if (id !== this.inFlight) return false;
    this.inFlight = undefined;
    this.draw(images);
    if (this.dirty) this.request();
    return true;
  }

  failed(id: number): boolean {
    if (id !== this.inFlight) return false;
    this.inFlight = undefined;
    if (this.dirty) this.request();
    return true;
  }

  /** The service is gone: nothing is in flight any more. */
  reset(): void {
    this.inFlight = undefined;
    this.dirty = false;
  }
}

/** A canvas sized in CSS pixels and drawn at the device's resolution (set through CSSOM, not a style attribute). */
function sizeCanvas(canvas: HTMLCanvasElement, cssWidth: number, cssHeight: number): CanvasRenderingContext2D {
  const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
  canvas.width = Math.max(1, Math.round(cssWidth * dpr));
  canvas.height = Math.max(1, Math.round(cssHeight * dpr));
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.imageSmoothingEnabled = false;
  return ctx;
}

/** Image `index` of grey (1 channel) or interleaved RGB (3) bytes as RGBA pixels. */
function imageDataOf(bytes: Uint8Array, index: number, width: number, height: number, channels: number): ImageData {
  const n = width * height;
  const data = new ImageData(width, height);
  const out = data.data;
  const base = index * n * channels;
  for (let i = 0; i < n; i++) {
    const o = base + i * channels;
    const r = bytes[o] ?? 0;
    out[4 * i] = r;
    out[4 * i + 1] = channels === 3 ? (bytes[o + 1] ?? 0) : r;
    out[4 * i + 2] = channels === 3 ? (bytes[o + 2] ?? 0) : r;
    out[4 * i + 3] = 255;
  }
  return data;
}

/** One scatter axis: a principal axis of the service's plane ('pc0', 'pc1') or a dimension ('z<d>'): test and noise values, and its label. */
function axisValues(info: LatentSpaceInfo, axis: string): { test: number[]; noise: number[]; label: string } {
  const { points, noise, axes, dims, muDims, noiseDims } = info.scatter;
  const d = axis.startsWith('z') ? Number(axis.slice(1)) : -1;
  const k = dims.indexOf(d);
  if (d >= 0 && k >= 0) {
    const every = (values: number[]) => values.filter((_, i) => i % dims.length === k);
    return { test: every(muDims), noise: every(noiseDims), label: `μ of z${d + 1}` };
  }
  const a = axis === 'pc1' ? 1 : 0;
  return { test: points.filter((_, i) => i % 2 === a), noise: noise.filter((_, i) => i % 2 === a), label: axes[a] ?? '' };
}

/** The images stacked in one off-screen canvas (image r at y = r·height), to be drawn scaled with drawImage. */
function imageSheet(images: Images, width: number, height: number, channels: number): HTMLCanvasElement {
  const sheet = document.createElement('canvas');
  sheet.width = width;
  sheet.height = height * images.rows;
  const ctx = sheet.getContext('2d')!;
  for (let r = 0; r < images.rows; r++) ctx.putImageData(imageDataOf(images.bytes, r, width, height, channels), 0, r * height);
  return sheet;
}

/** A value of z as the sliders show it: two decimals and a real minus sign. */
function zText(value: number): string {
  const text = value.toFixed(2);
  return value < 0 && text !== '-0.00' ? `−${text.slice(1)}` : text.replace('-', '');
}

/** One standard normal value (Box–Muller). */
function standardNormal(): number {
  let u = 0;
  while (u === 0) u = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

let nextElementId = 0;

export class LatentExplorer {
  readonly el: HTMLElement;
  private readonly status = h('p', { class: 'latent-status', role: 'status', 'data-testid': 'latent-status' });
  /** Which weights to decode with: the latest, or an epoch the run keeps (config keepCheckpointEvery). */
  private readonly weights = h('vscode-single-select', { class: 'latent-weights', label: 'Weights', 'aria-label': 'Weights to decode with', 'data-testid': 'latent-weights', hidden: true }) as SelectLike;
  /** The kept epoch asked for; undefined: the latest weights. */
  private epoch: number | undefined;
  /** Shown while the run has trained past the weights the explorer decodes with. */
  private readonly reload = h('vscode-button', { secondary: true, hidden: true, 'data-testid': 'latent-reload' }, 'Decode with the newer weights');
  private readonly unavailable = h('div', { class: 'warning', 'data-severity': 'warning', role: 'alert', 'data-testid': 'latent-unavailable', hidden: true });
  private readonly requestError = h('div', { class: 'warning latent-request-error', 'data-severity': 'warning', role: 'status', 'data-testid': 'latent-request-error', hidden: true });
  private readonly body = h('div', { class: 'latent-body', hidden: true });

  // Live decode.
  private readonly sliderBox = h('div', { class: 'latent-sliders', role: 'group', 'aria-label': 'z, one slider per shown dimension' });
  private readonly sliderNote = h('p', { class: 'latent-note', 'data-testid': 'latent-sliders-note' });
  private readonly image = h('canvas', { class: 'latent-image', role: 'img', 'aria-label': 'The image decoded from z', 'data-testid': 'latent-image' });
  private readonly testIndex = h('input', { type: 'number', class: 'latent-number', min: 0, step: 1, value: 0, id: `latent-index-${nextElementId++}`, 'data-testid': 'latent-index' });
  private readonly testIndexHint = h('span', { class: 'latent-hint', 'aria-live': 'polite', 'data-testid': 'latent-index-hint' });
  private readonly sliders = new Map<number, { input: HTMLInputElement; output: HTMLOutputElement }>();

  // Traversal.
  private readonly steps = h('vscode-single-select', { class: 'latent-steps', label: 'Traversal steps', 'aria-label': 'Traversal steps', 'data-testid': 'latent-steps' }) as SelectLike;
  private readonly traversal = h('canvas', { class: 'latent-traversal', role: 'img', 'data-testid': 'latent-traversal' });
  private readonly traversalNote = h('p', { class: 'latent-note' });

  // Interpolation.
  private readonly choices = h('div', { class: 'latent-choices', role: 'group', 'aria-label': 'Test images to interpolate between', 'data-testid': 'latent-choices' });
  private readonly ends = h('p', { class: 'latent-ends', 'aria-live': 'polite', 'data-testid': 'latent-interp-ends' });
  private readonly spherical = h('vscode-checkbox', { label: 'Spherical (keeps typical lengths of z)', 'data-testid': 'latent-spherical' }) as ToggleLike;
  private readonly interpolation = h('canvas', { class: 'latent-interpolation', role: 'img', 'data-testid': 'latent-interpolation' });

  // Scatter.
  private readonly scatter = h('canvas', { class: 'latent-scatter', role: 'img', 'data-testid': 'latent-scatter' });
  private readonly scatterLegend = h('ul', { class: 'latent-legend', 'data-testid': 'latent-legend' });
  private readonly manifold = h('canvas', { class: 'latent-manifold', role: 'img', 'data-testid': 'latent-manifold' });
  private readonly manifoldFigure: HTMLElement;
  private readonly scatterNote = h('p', { class: 'latent-note' });
  /** The scatter's axes: 'pc0' / 'pc1' (the principal axes the service chose) or a dimension 'z<d>' (0-based d). */
  private readonly scatterX = h('vscode-single-select', { class: 'latent-axis', label: 'Horizontal axis', 'aria-label': 'Scatter: horizontal axis', 'data-testid': 'latent-scatter-x' }) as SelectLike;
  private readonly scatterY = h('vscode-single-select', { class: 'latent-axis', label: 'Vertical axis', 'aria-label': 'Scatter: vertical axis', 'data-testid': 'latent-scatter-y' }) as SelectLike;
  private scatterAxes: [string, string] = ['pc0', 'pc1'];

  private info: LatentSpaceInfo | undefined;
  private runEpochs = 0;
  private opened = false;
  private nextId = 1;
  /** The z the sliders and the live image show: dimz values. */
  private z: number[] = [];
  private traversalSteps = DEFAULT_TRAVERSAL_STEPS;
  private traversalDims: number[] = [];
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  /** μ of the test images offered as interpolation ends, by index. */
  private readonly choiceMu = new Map<number, number[]>();
  private readonly choiceButtons = new Map<number, HTMLButtonElement>();
  private from: number | undefined;
  private to: number | undefined;
  /** Answers awaited for latentTest requests, by id. */
  private readonly tests = new Map<number, (message: LatentTestedMessage) => void>();
  /** What the traversal and interpolation requests in flight were built from. */
  private pendingTraversal: { dims: number[]; steps: number } | undefined;
  private pendingInterpolation: { from: number; to: number; spherical: boolean } | undefined;
  /** What each canvas drew last, to draw again when the theme changes. */
  private lastTraversal: { sheet: HTMLCanvasElement; dims: number[]; steps: number } | undefined;
  private readonly live: DecodeChannel;
  private readonly traverse: DecodeChannel;
  private readonly interpolate: DecodeChannel;
  private readonly grid: DecodeChannel;
  /** The interpolation choices' reconstructions (their μ decoded), drawn under each original. */
  private readonly recon: DecodeChannel;

  constructor(
    private readonly host: PanelHost,
    private readonly dir: string,
    private readonly interactive: boolean,
    private theme: ChartTheme,
  ) {
    const decode = (z: ArrayLike<number>) => {
      const id = this.nextId++;
      this.host.post({ type: 'latentDecode', dir: this.dir, id, z: Array.from(z) });
      return id;
    };
    this.live = new DecodeChannel(decode, () => this.z, (images) => this.drawLive(images));
    this.traverse = new DecodeChannel(decode, () => this.traversalBatch(), (images) => this.drawTraversal(images));
    this.interpolate = new DecodeChannel(decode, () => this.interpolationBatch(), (images) => this.drawInterpolation(images));
    this.grid = new DecodeChannel(decode, () => this.manifoldBatch(), (images) => this.drawManifold(images));
    this.recon = new DecodeChannel(decode, () => this.choiceBatch(), (images) => this.drawChoiceReconstructions(images));

    const retry = h('vscode-button', { secondary: true, 'data-testid': 'latent-retry' }, 'Try again');
    retry.addEventListener('click', () => this.open(true));
    this.unavailable.append(
      h('span', { class: 'codicon codicon-warning', 'aria-hidden': 'true' }),
      h('span', { class: 'warning-text', 'data-testid': 'latent-unavailable-text' }),
      retry,
    );

    this.manifoldFigure = h('figure', { class: 'latent-figure', hidden: true },
      h('figcaption', {}, `Decoded z on the same plane, −${TRAVERSAL_EXTENT}…+${TRAVERSAL_EXTENT} each way`),
      this.manifold,
    );
    this.reload.addEventListener('click', () => this.open(true));
    this.weights.addEventListener('change', () => {
      const epoch = this.weights.value === 'latest' ? undefined : Number(this.weights.value);
      if (epoch === this.epoch || (epoch !== undefined && !this.info?.keptEpochs.includes(epoch))) return;
      this.epoch = epoch;
      this.open(true);
    });
    this.el = h('div', { class: 'latent', 'data-testid': 'latent-tab' }, h('div', { class: 'toolbar' }, this.status, this.weights, this.reload), this.unavailable, this.requestError, this.body);
    if (!interactive) {
      this.status.textContent = 'The latent explorer decodes with the run\'s checkpoint, so it needs VS Code: open this run from the VAE Runs view to use it.';
      return;
    }
    this.buildBody();
  }

  private buildBody(): void {
    const zero = h('vscode-button', { secondary: true, 'data-testid': 'latent-zero' }, 'z = 0');
    zero.addEventListener('click', () => this.setZ(this.z.map(() => 0)));
    const random = h('vscode-button', { secondary: true, 'data-testid': 'latent-random' }, 'Random prior sample');
    random.addEventListener('click', () => this.setZ(this.z.map(() => standardNormal())));
    const testMu = h('vscode-button', { secondary: true, 'data-testid': 'latent-mu' }, 'Test image μ');
    testMu.addEventListener('click', () => this.useTestMu());
    this.testIndex.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') this.useTestMu();
    });
    this.testIndex.addEventListener('input', () => this.checkTestIndex());

    const live = h('section', { class: 'latent-section', 'aria-labelledby': 'latent-live-title' },
      h('h2', { id: 'latent-live-title' }, 'Decode z'),
      h('div', { class: 'toolbar' },
        zero, random,
        h('span', { class: 'latent-test-pick' }, h('label', { for: this.testIndex.id, class: 'toolbar-label' }, 'Test image'), this.testIndex, testMu, this.testIndexHint),
      ),
      h('div', { class: 'latent-live' },
        h('div', { class: 'latent-slider-column' }, this.sliderNote, this.sliderBox),
        h('figure', { class: 'latent-figure latent-live-figure' }, h('figcaption', {}, 'The decoder\'s mean image of z'), this.image),
      ),
    );

    for (const s of TRAVERSAL_STEPS) this.steps.append(h('vscode-option', { value: s, selected: s === DEFAULT_TRAVERSAL_STEPS }, String(s)));
    const stepsId = `latent-steps-${nextElementId++}`;
    this.steps.id = stepsId;
    this.steps.addEventListener('change', () => {
      const steps = Number(this.steps.value);
      if (!(TRAVERSAL_STEPS as readonly number[]).includes(steps) || steps === this.traversalSteps) return;
      this.traversalSteps = steps;
      this.traverse.request();
    });
    const traversal = h('section', { class: 'latent-section', 'aria-labelledby': 'latent-traversal-title' },
      h('h2', { id: 'latent-traversal-title' }, 'Traversal'),
      h('div', { class: 'toolbar' }, h('label', { for: stepsId, class: 'toolbar-label' }, 'Steps'), this.steps,
        h('span', { class: 'latent-hint' }, `Each row sweeps one dimension from −${TRAVERSAL_EXTENT} to +${TRAVERSAL_EXTENT}; the other coordinates stay at z.`)),
      this.traversalNote,
      this.traversal,
    );

    this.spherical.addEventListener('change', () => this.interpolate.request());
    const interpolation = h('section', { class: 'latent-section', 'aria-labelledby': 'latent-interp-title' },
      h('h2', { id: 'latent-interp-title' }, 'Interpolation'),
      h('p', { class: 'latent-hint' }, `Pick two test images, each shown above its reconstruction (the first picks where the path starts, the second where it ends): ${INTERPOLATION_STEPS} z from one's μ to the other's.`),
      this.choices,
      h('div', { class: 'toolbar' }, this.ends, this.spherical),
      this.interpolation,
    );

    const axisIds = [`latent-x-${nextElementId++}`, `latent-y-${nextElementId++}`];
    [this.scatterX, this.scatterY].forEach((select, a) => {
      select.id = axisIds[a];
      select.addEventListener('change', () => {
        const next: [string, string] = [...this.scatterAxes];
        next[a] = select.value;
        if (next[a] === this.scatterAxes[a]) return;
        this.scatterAxes = next;
        this.drawScatter();
      });
    });
    const scatter = h('section', { class: 'latent-section', 'aria-labelledby': 'latent-scatter-title' },
      h('h2', { id: 'latent-scatter-title' }, 'Where μ lies'),
      h('div', { class: 'toolbar latent-axes' },
        h('label', { for: axisIds[0], class: 'toolbar-label' }, 'Horizontal'), this.scatterX,
        h('label', { for: axisIds[1], class: 'toolbar-label' }, 'Vertical'), this.scatterY),
      h('div', { class: 'latent-scatter-row' },
        h('figure', { class: 'latent-figure latent-scatter-figure' }, this.scatter, this.scatterLegend),
        this.manifoldFigure,
      ),
      h('p', { class: 'latent-note' }, 'Where the test images\' μ lie against where prior samples land: a prior sample (×) far from every μ decodes to an image unlike the data.'),
      this.scatterNote,
    );
    this.body.append(live, traversal, interpolation, scatter);
  }

  /** The tab is shown: the first time, the host is asked to start the decode service. */
  show(): void {
    if (!this.opened) this.open(false);
  }

  private open(again: boolean): void {
    if (!this.interactive) return;
    this.opened = true;
    for (const c of this.channels()) c.reset();
    this.tests.clear();
    this.unavailable.hidden = true;
    this.status.textContent = again ? 'Starting the decoder again…' : 'Starting the decoder on this run\'s checkpoint…';
    this.reload.hidden = true;
    this.host.post({ type: 'latentOpen', dir: this.dir, ...(this.epoch !== undefined ? { epoch: this.epoch } : {}) });
  }

  /** The run's epochs so far (the status says when the run has trained past the explorer's weights). */
  setRunEpochs(epochs: number): void {
    this.runEpochs = epochs;
    if (this.info) this.status.textContent = this.statusText(this.info);
    this.showReload();
  }

  setTheme(theme: ChartTheme): void {
    this.theme = theme;
    if (!this.info) return;
    this.drawScatter();
    if (this.lastTraversal) this.paintTraversal();
  }

  /** A message of the decode service, relayed by the host. */
  handle(message: ToLatentTabMessage): void {
    if (message.dir !== this.dir || !this.interactive) return;
    switch (message.type) {
      case 'latentInfo':
        this.setInfo(message.info);
        break;
      case 'latentDecoded': {
        const images = { bytes: base64ToBytes(message.pixels), rows: message.rows };
        if (this.info && images.bytes.length !== images.rows * this.info.width * this.info.height * this.info.channels) {
          this.showRequestError(`A decoded answer had ${images.bytes.length} bytes for ${images.rows} images of ${this.info.width}×${this.info.height}×${this.info.channels}.`);
          for (const c of this.channels()) c.failed(message.id);
          return;
        }
        const ours = this.channels().some((c) => c.answered(message.id, images));
        if (ours) this.requestError.hidden = true;
        break;
      }
      case 'latentTested': {
        const done = this.tests.get(message.id);
        this.tests.delete(message.id);
        if (done) {
          this.requestError.hidden = true;
          done(message);
        }
        break;
      }
      case 'latentUnavailable':
        if (message.id === undefined) this.setUnavailable(message.message);
        else {
          for (const c of this.channels()) c.failed(message.id);
          this.tests.delete(message.id);
          this.showRequestError(message.message);
        }
        break;
    }
  }

  private setUnavailable(text: string): void {
    for (const c of this.channels()) c.reset();
    this.tests.clear();
    clearTimeout(this.settleTimer);
    this.status.textContent = 'The latent explorer is not available.';
    (this.unavailable.querySelector('.warning-text') as HTMLElement).textContent = text;
    this.unavailable.hidden = false;
    this.requestError.hidden = true;
    this.body.hidden = true;
  }

  private showRequestError(text: string): void {
    this.requestError.textContent = text;
    this.requestError.hidden = false;
  }

  /** The weights choice lists the kept epochs; hidden when the run keeps none. */
  private setWeightsChoice(info: LatentSpaceInfo): void {
    this.weights.replaceChildren(
      h('vscode-option', { value: 'latest', selected: info.latest }, 'Latest weights'),
      ...info.keptEpochs.map((e) => h('vscode-option', { value: String(e), selected: !info.latest && e === info.epochsCompleted }, `Epoch ${e}`)),
    );
    this.weights.hidden = info.keptEpochs.length === 0;
  }

  /** The host starts a service on the latest checkpoint when the one it has decodes older weights. */
  private showReload(): void {
    this.reload.hidden = !this.interactive || !this.info || !this.opened || !this.info.latest || this.runEpochs <= this.info.epochsCompleted;
  }

  private statusText(info: LatentSpaceInfo): string {
    const later = info.latest && this.runEpochs > info.epochsCompleted ? ` (the run has since reached epoch ${this.runEpochs})` : '';
    return `${info.latest ? 'Weights' : 'Kept weights'} after epoch ${info.epochsCompleted}${later} · ${info.device} · opened in ${Math.round(info.openMs)} ms`;
  }

  private setInfo(info: LatentSpaceInfo): void {
    const sameSpace = this.info?.dimz === info.dimz && this.z.length === info.dimz;
    this.info = info;
    this.unavailable.hidden = true;
    this.requestError.hidden = true;
    this.body.hidden = false;
    this.status.textContent = this.statusText(info);
    this.showReload();
    this.setWeightsChoice(info);
    if (!sameSpace) this.z = new Array<number>(info.dimz).fill(0);
    this.buildSliders(info);
    this.traversalDims = info.order.slice(0, MAX_TRAVERSAL_ROWS);
    this.traversalNote.textContent = info.order.length > MAX_TRAVERSAL_ROWS ? `The first ${MAX_TRAVERSAL_ROWS} of the ${info.order.length} shown dimensions, largest KL_d first.` : '';
    this.traversalNote.hidden = !this.traversalNote.textContent;
    this.testIndex.max = String(Math.max(0, info.testCount - 1));
    this.checkTestIndex();
    this.drawScatter();
    this.manifoldFigure.hidden = info.dimz !== 2 || info.scatter.u.length !== 2;
    this.live.request();
    this.traverse.request();
    if (!this.manifoldFigure.hidden) this.grid.request();
    this.loadChoices(info);
  }

  // ---- z and the sliders ----

  private buildSliders(info: LatentSpaceInfo): void {
    this.sliders.clear();
    const shown = info.order.slice(0, MAX_SLIDERS);
    const rows = shown.map((d) => {
      const id = `latent-slider-${nextElementId++}`;
      const input = h('input', {
        type: 'range', id, min: -TRAVERSAL_EXTENT, max: TRAVERSAL_EXTENT, step: SLIDER_STEP, value: 0,
        class: 'latent-slider', 'data-testid': `latent-slider-${d}`, 'data-dim': d,
      });
      const output = h('output', { for: id, class: 'latent-slider-value', 'data-testid': `latent-value-${d}` });
      input.addEventListener('input', () => {
        const value = Number(input.value);
        if (!Number.isFinite(value)) return;
        this.z[d] = value;
        this.showSlider(d);
        this.zChanged();
      });
      this.sliders.set(d, { input, output });
      this.showSlider(d);
      return h('div', { class: 'latent-slider-row' },
        h('label', { for: id, class: 'latent-slider-label' },
          h('span', { class: 'latent-dim' }, `z${d + 1}`),
          h('span', { class: 'latent-dim-stats' }, ` · KL ${formatNumber(info.kl[d], 2)} · Var(μ) ${formatNumber(info.varMu[d], 2)}`)),
        input, output);
    });
    this.sliderBox.replaceChildren(...rows);
    const notes: string[] = [];
    if (!info.anyActive) notes.push(`No dimension is active (Var(μ_d) > ${ACTIVE_UNIT_THRESHOLD}): every dimension is shown, largest KL_d first.`);
    else notes.push(`${info.order.length === 1 ? 'The one active dimension' : `The ${info.order.length} active dimensions`} of ${info.dimz}, largest KL_d first.`);
    if (info.order.length > MAX_SLIDERS) notes.push(`Sliders for the first ${MAX_SLIDERS}; the other coordinates keep their value of z.`);
    else if (info.order.length < info.dimz) notes.push('The inactive ones keep their value of z (0 unless set from a sample or a test image).');
    this.sliderNote.textContent = notes.join(' ');
  }

  private showSlider(d: number): void {
    const slider = this.sliders.get(d);
    if (!slider) return;
    const value = this.z[d] ?? 0;
    const clamped = Math.min(TRAVERSAL_EXTENT, Math.max(-TRAVERSAL_EXTENT, value));
    // Only set when it differs: setting a range's value while it is dragged would fight the pointer.
    if (Math.abs(Number(slider.input.value) - clamped) > SLIDER_STEP / 2) slider.input.value = String(clamped);
    const text = zText(value);
    slider.output.textContent = text;
    slider.input.setAttribute('aria-valuetext', `z${d + 1} = ${text}`);
  }

  /** A whole new z (zero, a prior sample, a test image's μ). */
  private setZ(z: number[]): void {
    if (!this.info || z.length !== this.info.dimz) return;
    this.z = z.slice();
    for (const d of this.sliders.keys()) this.showSlider(d);
    this.zChanged();
  }

  private zChanged(): void {
    this.live.request();
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.traverse.request(), SETTLE_MS);
  }

  private checkTestIndex(): number | undefined {
    const count = this.info?.testCount ?? 0;
    const text = this.testIndex.value.trim();
    const index = Number(text);
    const ok = text !== '' && Number.isInteger(index) && index >= 0 && index < count;
    this.testIndex.setAttribute('aria-invalid', String(!ok));
    this.testIndexHint.textContent = ok ? '' : count > 0 ? `a whole number from 0 to ${count - 1}` : 'this run has no test images';
    return ok ? index : undefined;
  }

  private useTestMu(): void {
    const index = this.checkTestIndex();
    if (index === undefined || !this.info) return;
    this.requestTest([index], (m) => {
      const dimz = this.info?.dimz ?? 0;
      if (m.mu.length !== dimz) return;
      this.setZ(m.mu);
    });
  }

  private requestTest(indices: number[], done: (message: LatentTestedMessage) => void): void {
    const id = this.nextId++;
    this.tests.set(id, done);
    this.host.post({ type: 'latentTest', dir: this.dir, id, indices });
  }

  private drawLive(images: Images): void {
    const info = this.info;
    if (!info) return;
    this.image.width = info.width;
    this.image.height = info.height;
    const scale = Math.max(1, Math.floor(224 / Math.max(info.width, info.height)));
    this.image.style.width = `${info.width * scale}px`;
    this.image.style.height = `${info.height * scale}px`;
    this.image.getContext('2d')!.putImageData(imageDataOf(images.bytes, 0, info.width, info.height, info.channels), 0, 0);
    const shown = [...this.sliders.keys()].slice(0, 4).map((d) => `z${d + 1} = ${zText(this.z[d])}`).join(', ');
    this.image.setAttribute('aria-label', `The image decoded from z${shown ? ` (${shown}${this.sliders.size > 4 ? ', …' : ''})` : ''}`);
  }

  // ---- traversal ----

  private traversalBatch(): Float32Array | undefined {
    if (!this.info || this.traversalDims.length === 0) return undefined;
    const dims = this.traversalDims.slice(0, Math.max(1, Math.floor(MAX_DECODE_ROWS / this.traversalSteps)));
    this.pendingTraversal = { dims, steps: this.traversalSteps };
    return traversalZ(this.z, dims, this.traversalSteps);
  }

  private drawTraversal(images: Images): void {
    const info = this.info;
    const pending = this.pendingTraversal;
    if (!info || !pending || images.rows !== pending.dims.length * pending.steps) return;
    this.lastTraversal = { sheet: imageSheet(images, info.width, info.height, info.channels), ...pending };
    this.paintTraversal();
  }

  private paintTraversal(): void {
    const info = this.info;
    const last = this.lastTraversal;
    if (!info || !last) return;
    const { dims, steps, sheet } = last;
    const labelWidth = 44;
    const header = 18;
    const gap = 2;
    const tileWidth = Math.max(16, Math.min(64, Math.floor((720 - labelWidth) / steps) - gap));
    const tileHeight = Math.round((tileWidth * info.height) / info.width);
    const width = labelWidth + steps * (tileWidth + gap);
    const height = header + dims.length * (tileHeight + gap);
    const ctx = sizeCanvas(this.traversal, width, height);
    ctx.font = `${this.theme.fontSize - 1}px ${this.theme.fontFamily}`;
    ctx.textBaseline = 'middle';
    const values = traversalValues(steps);
    ctx.fillStyle = this.theme.muted;
    ctx.textAlign = 'center';
    values.forEach((v, j) => {
      if (j === 0 || j === steps - 1 || j === (steps - 1) / 2) ctx.fillText(v === 0 ? '0' : `${v < 0 ? '−' : '+'}${Math.abs(v)}`, labelWidth + j * (tileWidth + gap) + tileWidth / 2, header / 2);
    });
    ctx.textAlign = 'right';
    dims.forEach((d, i) => {
      const y = header + i * (tileHeight + gap);
      ctx.fillStyle = this.theme.foreground;
      ctx.fillText(`z${d + 1}`, labelWidth - 8, y + tileHeight / 2);
      for (let j = 0; j < steps; j++) {
        ctx.drawImage(sheet, 0, (i * steps + j) * info.height, info.width, info.height, labelWidth + j * (tileWidth + gap), y, tileWidth, tileHeight);
      }
    });
    this.traversal.setAttribute('aria-label', `Traversal: ${dims.map((d) => `z${d + 1}`).join(', ')}, each from −${TRAVERSAL_EXTENT} to +${TRAVERSAL_EXTENT} in ${steps} steps, the other coordinates at z`);
  }

  private channels(): DecodeChannel[] {
    return [this.live, this.traverse, this.interpolate, this.grid, this.recon];
  }

  // ---- interpolation ----

  /** The μ of every interpolation choice, in the buttons' order. */
  private choiceBatch(): number[] | undefined {
    const rows = [...this.choiceButtons.keys()].map((index) => this.choiceMu.get(index));
    return rows.length && rows.every((r) => r !== undefined) ? rows.flatMap((r) => Array.from(r!)) : undefined;
  }

  private drawChoiceReconstructions(images: Images): void {
    const info = this.info;
    if (!info) return;
    [...this.choiceButtons.values()].forEach((button, k) => {
      const canvas = button.querySelector<HTMLCanvasElement>('canvas.latent-thumb-recon');
      if (!canvas || k >= images.rows) return;
      canvas.getContext('2d')!.putImageData(imageDataOf(images.bytes, k, info.width, info.height, info.channels), 0, 0);
      canvas.dataset.drawn = 'true';
    });
  }

  private loadChoices(info: LatentSpaceInfo): void {
    this.choiceMu.clear();
    this.choiceButtons.clear();
    this.choices.replaceChildren();
    const count = Math.min(INTERPOLATION_CHOICES, MAX_TEST_IMAGES, info.testCount);
    if (count < 2) {
      this.ends.textContent = 'Interpolation needs two test images.';
      return;
    }
    this.ends.textContent = 'Loading the test images…';
    this.requestTest(Array.from({ length: count }, (_, i) => i), (m) => {
      if (this.info !== info) return;
      const bytes = base64ToBytes(m.pixels);
      const n = info.width * info.height * info.channels;
      if (bytes.length !== m.indices.length * n || m.mu.length !== m.indices.length * info.dimz) return;
      const buttons = m.indices.map((index, k) => {
        this.choiceMu.set(index, m.mu.slice(k * info.dimz, (k + 1) * info.dimz));
        const thumb = h('canvas', { class: 'latent-thumb', width: info.width, height: info.height, 'aria-hidden': 'true' });
        thumb.getContext('2d')!.putImageData(imageDataOf(bytes, k, info.width, info.height, info.channels), 0, 0);
        // Its reconstruction (the decoded μ) below: the interpolation starts and ends at these.
        const recon = h('canvas', { class: 'latent-thumb latent-thumb-recon', width: info.width, height: info.height, 'aria-hidden': 'true' });
        const label = info.scatter.labels?.[index];
        // The accessible name is the visible text ("4", "from") after a prefix only screen readers read.
        const button = h('button', { type: 'button', class: 'latent-choice', 'data-testid': `latent-test-${index}`, 'data-index': index, title: `Test image ${index}${label !== undefined ? ` (${info.scatter.labelNames?.[label] ?? `label ${label}`})` : ''}` },
          thumb, recon, h('span', { class: 'sr-only' }, 'Test image '), h('span', { class: 'latent-choice-index' }, String(index)), h('span', { class: 'latent-choice-role' }));
        button.addEventListener('click', () => this.pick(index));
        this.choiceButtons.set(index, button);
        return button;
      });
      this.choices.replaceChildren(...buttons);
      this.from = m.indices[0];
      this.to = m.indices[1];
      this.showEnds();
      this.interpolate.request();
      this.recon.request();
    });
  }

  /** A click on a test image: the first picks where the path starts, the second where it ends. */
  private pick(index: number): void {
    if (this.from === undefined || this.to !== undefined) {
      this.from = index;
      this.to = undefined;
    } else {
      this.to = index;
    }
    this.showEnds();
    if (this.to !== undefined) this.interpolate.request();
  }

  private showEnds(): void {
    for (const [index, button] of this.choiceButtons) {
      const role = index === this.from ? 'from' : index === this.to ? 'to' : '';
      if (role) button.dataset.role = role;
      else delete button.dataset.role;
      if (index === this.from && index === this.to) button.dataset.role = 'both';
      // A space before the role word, so the name reads "Test image 4 from".
      (button.querySelector('.latent-choice-role') as HTMLElement).textContent = button.dataset.role === 'both' ? ' from, to' : role ? ` ${role}` : '';
      button.setAttribute('aria-pressed', String(role !== ''));
    }
    this.ends.textContent = this.from === undefined
      ? 'Pick the first test image.'
      : this.to === undefined
        ? `From test image ${this.from}: now pick where the path ends.`
        : `From test image ${this.from} to test image ${this.to}`;
  }

  private interpolationBatch(): Float32Array | undefined {
    if (this.from === undefined || this.to === undefined) return undefined;
    const a = this.choiceMu.get(this.from);
    const b = this.choiceMu.get(this.to);
    if (!a || !b) return undefined;
    this.pendingInterpolation = { from: this.from, to: this.to, spherical: this.spherical.checked };
    return interpolationZ(a, b, INTERPOLATION_STEPS, this.spherical.checked);
  }

  private drawInterpolation(images: Images): void {
    const info = this.info;
    const pending = this.pendingInterpolation;
    if (!info || !pending) return;
    const sheet = imageSheet(images, info.width, info.height, info.channels);
    const gap = 2;
    const tileWidth = Math.max(28, Math.min(64, info.width * 2));
    const tileHeight = Math.round((tileWidth * info.height) / info.width);
    const ctx = sizeCanvas(this.interpolation, images.rows * (tileWidth + gap) - gap, tileHeight);
    for (let r = 0; r < images.rows; r++) ctx.drawImage(sheet, 0, r * info.height, info.width, info.height, r * (tileWidth + gap), 0, tileWidth, tileHeight);
    this.interpolation.setAttribute('aria-label', `${images.rows} images decoded on the ${pending.spherical ? 'spherical' : 'straight'} path from test image ${pending.from}'s μ to test image ${pending.to}'s μ`);
  }

  // ---- scatter and manifold ----

  private labelColours(): string[] {
    const style = getComputedStyle(this.scatter);
    return Array.from({ length: LABEL_COLOURS }, (_, i) => style.getPropertyValue(`--vae-lens-label-${i}`).trim() || this.theme.runs[i % this.theme.runs.length]);
  }

  /** The axis choices for this run: the two principal axes, then each dimension the service sent values of. */
  private setAxisChoices(info: LatentSpaceInfo): void {
    const { axes, dims } = info.scatter;
    const options = [
      ...axes.map((label, a) => ({ value: `pc${a}`, label })),
      ...dims.map((d) => ({ value: `z${d}`, label: `z${d + 1} (KL ${formatNumber(info.kl[d], 2)})` })),
    ];
    const valid = new Set(options.map((o) => o.value));
    if (!this.scatterAxes.every((a) => valid.has(a))) this.scatterAxes = ['pc0', 'pc1'];
    [this.scatterX, this.scatterY].forEach((select, a) => {
      const key = options.map((o) => o.value).join(',');
      if (select.dataset.options !== key) {
        select.dataset.options = key;
        select.replaceChildren(...options.map((o) => h('vscode-option', { value: o.value, selected: o.value === this.scatterAxes[a] }, o.label)));
      }
      if (select.value !== this.scatterAxes[a]) select.value = this.scatterAxes[a];
    });
  }

  private drawScatter(): void {
    const info = this.info;
    if (!info) return;
    const { labels } = info.scatter;
    const n = info.scatter.points.length / 2;
    const hasPlane = n > 0 && info.scatter.axes.length === 2;
    this.scatter.hidden = !hasPlane;
    this.scatterLegend.hidden = !hasPlane;
    this.setAxisChoices(info);
    const [xs, ys] = this.scatterAxes.map((axis) => axisValues(info, axis));
    const axes = [xs.label, ys.label];
    const points: number[] = [];
    for (let i = 0; i < n; i++) points.push(xs.test[i], ys.test[i]);
    const noise: number[] = [];
    for (let i = 0; i < xs.noise.length; i++) noise.push(xs.noise[i], ys.noise[i]);
    this.scatterNote.textContent = hasPlane ? `${n} test images' μ${labels ? ', coloured by label' : ''}.` : 'A one-dimensional latent space (or a run without test images) has no plane to show.';
    if (!hasPlane) return;
    const theme = this.theme;
    const size = 380;
    const m = { l: 48, r: 12, t: 12, b: 40 };
    const plot = size - m.l - m.r;
    const ctx = sizeCanvas(this.scatter, size, plot + m.t + m.b);
    let maxAbs = TRAVERSAL_EXTENT + 0.5;
    for (const v of [...points, ...noise]) if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
    const extent = Math.min(12, Math.ceil(maxAbs * 1.05 * 2) / 2);
    const sx = (x: number) => m.l + ((x + extent) / (2 * extent)) * plot;
    const sy = (y: number) => m.t + ((extent - y) / (2 * extent)) * plot;
    const unit = plot / (2 * extent);
    ctx.font = `${theme.fontSize - 2}px ${theme.fontFamily}`;

    // Frame, zero lines and ticks.
    ctx.strokeStyle = theme.grid;
    ctx.lineWidth = 1;
    ctx.strokeRect(m.l + 0.5, m.t + 0.5, plot - 1, plot - 1);
    ctx.beginPath();
    ctx.moveTo(sx(0), m.t);
    ctx.lineTo(sx(0), m.t + plot);
    ctx.moveTo(m.l, sy(0));
    ctx.lineTo(m.l + plot, sy(0));
    ctx.stroke();
    ctx.fillStyle = theme.muted;
    const tick = extent > 6 ? 2 : 1;
    for (let t = -Math.floor(extent / tick) * tick; t <= extent; t += tick) {
      const text = t === 0 ? '0' : `${t < 0 ? '−' : ''}${Math.abs(t)}`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      ctx.fillText(text, sx(t), m.t + plot + 4);
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(text, m.l - 5, sy(t));
    }
    ctx.fillStyle = theme.foreground;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText(axes[0], m.l + plot / 2, m.t + plot + m.b - 2);
    ctx.save();
    ctx.translate(12, m.t + plot / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText(axes[1], 0, 0);
    ctx.restore();

    ctx.save();
    ctx.beginPath();
    ctx.rect(m.l, m.t, plot, plot);
    ctx.clip();
    // The test images' μ.
    const colours = this.labelColours();
    const grey = theme.muted;
    ctx.globalAlpha = 0.8;
    for (let i = 0; i < n; i++) {
      const x = points[2 * i];
      const y = points[2 * i + 1];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      const label = labels?.[i];
      ctx.fillStyle = label !== undefined ? colours[label % LABEL_COLOURS] : grey;
      ctx.beginPath();
      ctx.arc(sx(x), sy(y), 2.2, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    // The prior's 1σ, 2σ, 3σ circles.
    ctx.strokeStyle = theme.foreground;
    ctx.setLineDash([4, 4]);
    for (const r of [1, 2, 3]) {
      ctx.beginPath();
      ctx.arc(sx(0), sy(0), r * unit, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.fillStyle = theme.muted;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'bottom';
    for (const r of [1, 2, 3]) ctx.fillText(`${r}σ`, sx(0) + r * unit * Math.SQRT1_2 + 2, sy(0) - r * unit * Math.SQRT1_2 - 1);
    // The run's fixed prior noise.
    ctx.strokeStyle = theme.foreground;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (let i = 0; i + 1 < noise.length; i += 2) {
      const x = sx(noise[i]);
      const y = sy(noise[i + 1]);
      ctx.moveTo(x - 3.5, y - 3.5);
      ctx.lineTo(x + 3.5, y + 3.5);
      ctx.moveTo(x - 3.5, y + 3.5);
      ctx.lineTo(x + 3.5, y - 3.5);
    }
    ctx.stroke();
    ctx.restore();

    this.scatter.setAttribute('aria-label', `Scatter of ${n} test images' μ on ${axes[0]} and ${axes[1]}, with the prior's 1σ, 2σ and 3σ circles and the run's ${noise.length / 2} prior-noise z as crosses`);
    const present = labels ? [...new Set(labels)].sort((a, b) => a - b) : [];
    this.scatterLegend.replaceChildren(
      ...present.map((label) => h('li', {}, h('span', { class: 'latent-swatch', 'data-label': label % LABEL_COLOURS, 'aria-hidden': 'true' }), info.scatter.labelNames?.[label] ?? `label ${label}`)),
      ...(labels ? [] : [h('li', {}, h('span', { class: 'latent-swatch', 'data-label': 'none', 'aria-hidden': 'true' }), 'test images\' μ')]),
      h('li', {}, h('span', { class: 'latent-cross', 'aria-hidden': 'true' }, '×'), 'the run\'s prior noise z (its prior-sample images)'),
      h('li', {}, h('span', { class: 'latent-circle', 'aria-hidden': 'true' }), 'the prior N(0, I): 1σ, 2σ, 3σ'),
    );
  }

  private manifoldBatch(): Float32Array | undefined {
    const info = this.info;
    if (!info || info.dimz !== 2 || info.scatter.u.length !== 2 || info.scatter.v.length !== 2) return undefined;
    return planeGridZ({ u: Float64Array.from(info.scatter.u), v: Float64Array.from(info.scatter.v) }, MANIFOLD_STEPS);
  }

  private drawManifold(images: Images): void {
    const info = this.info;
    if (!info || images.rows !== MANIFOLD_STEPS * MANIFOLD_STEPS) return;
    const sheet = imageSheet(images, info.width, info.height, info.channels);
    const tile = info.width * Math.max(1, Math.floor(400 / (MANIFOLD_STEPS * info.width)));
    const tileHeight = Math.round((tile * info.height) / info.width);
    const ctx = sizeCanvas(this.manifold, MANIFOLD_STEPS * tile, MANIFOLD_STEPS * tileHeight);
    for (let r = 0; r < images.rows; r++) {
      ctx.drawImage(sheet, 0, r * info.height, info.width, info.height, (r % MANIFOLD_STEPS) * tile, Math.floor(r / MANIFOLD_STEPS) * tileHeight, tile, tileHeight);
    }
    this.manifold.setAttribute('aria-label', `${MANIFOLD_STEPS} × ${MANIFOLD_STEPS} images decoded from z on the scatter's plane, −${TRAVERSAL_EXTENT} to +${TRAVERSAL_EXTENT} each way`);
  }
}
