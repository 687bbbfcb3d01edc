/**
 * The latent explorer's decode service: what it knows of a run's latent space, and the messages
 * between it (the trainer started as `{"serve": "<run folder>"}`), the extension host, and the run
 * panel's Latent tab. The host relays the tab's requests to the service and the answers back,
 * checking both: the webview is a page and the service a process, and neither is trusted blindly.
 *
 * Images travel as grey bytes (0–255, row-major, one image after the other) in base64: a 10×21
 * traversal of 28×28 images is 165 KB of bytes instead of a megabyte of JSON numbers.
 */
import { MAX_LABEL_NAME_LENGTH, MAX_LABEL_NAMES } from './run';
import { array, boolean, check, isPlainObject, literal, nullable, number, object, optional, string, tagged, type Infer } from './schema';

/** Most z one decode request may carry (rows), and most values in all (rows × dimz). */
export const MAX_DECODE_ROWS = 512;
export const MAX_DECODE_VALUES = 65_536;
/** Most test images one request may ask for. */
export const MAX_TEST_IMAGES = 64;
/** How many test images' μ the scatter shows (the first ones of the test set). */
export const SCATTER_POINTS = 2000;
/** Dimensions (largest KL first) whose own μ values the scatter gets, so it can show any two of them. */
export const SCATTER_DIMS = 16;
/** A service that has answered nothing for this long exits (the next request starts another). */
export const SERVICE_IDLE_MS = 5 * 60_000;
const MAX_TEXT = 4096;
const MAX_DIMZ = 4096;

const finite = number();
const dimValues = array(finite, { maxLength: MAX_DIMZ });

/** A base64 string of image bytes (grey, or RGB interleaved; checked for its alphabet; its length against the image count where it is used). */
const base64 = string({ maxLength: 16 * 1024 * 1024, pattern: /^[A-Za-z0-9+/]*={0,2}$/ });

export const latentSpaceInfoSchema = object({
  runId: string({ minLength: 1, maxLength: MAX_TEXT }),
  /** The checkpoint's weights: after this many epochs. */
  epochsCompleted: number({ integer: true, min: 0 }),
  dimz: number({ integer: true, min: 1, max: MAX_DIMZ }),
  width: number({ integer: true, min: 1, max: 1024 }),
  height: number({ integer: true, min: 1, max: 1024 }),
  /** Bytes per pixel in decoded and test images: 1 (grey) or 3 (RGB, interleaved). */
  channels: number({ integer: true, min: 1, max: 3 }),
  testCount: number({ integer: true, min: 0 }),
  /** Where the service decodes, e.g. "wasm · AMD EPYC (wasm, SIMD, 1 thread)". */
  device: string({ maxLength: MAX_TEXT }),
  /** Per dimension, on the test set at the checkpoint: KL_d and Var(μ_d). */
  kl: dimValues,
  varMu: dimValues,
  /** Active dimensions (0-based), largest KL_d first; every dimension by KL_d where none is active. */
  order: array(number({ integer: true, min: 0, max: MAX_DIMZ - 1 }), { maxLength: MAX_DIMZ }),
  /** Whether `order` holds the active dimensions (false: none is active, all are listed). */
  anyActive: boolean(),
  /**
   * The test set's μ on a plane: the first two principal axes of μ (or the two dimensions for
   * dimz 2), uncentred, so the prior's 1σ/2σ/3σ circles are circles of radius 1, 2, 3 around 0.
   */
  scatter: object({
    axes: array(string({ maxLength: 64 }), { maxLength: 2 }),
    /** x, y of each shown test image, interleaved. */
    points: array(finite, { maxLength: 2 * SCATTER_POINTS }),
    /** Each shown image's label (0–9), or null when the data set has none. */
    labels: nullable(array(number({ integer: true, min: 0, max: 255 }), { maxLength: SCATTER_POINTS })),
    /** The name of each label number (an images: folder's label sub-folders), or null when labels are numbers only. */
    labelNames: nullable(array(string({ minLength: 1, maxLength: MAX_LABEL_NAME_LENGTH }), { maxLength: MAX_LABEL_NAMES })),
    /** x, y of the run's fixed prior noise rows (the z of its prior-sample images), interleaved. */
    noise: array(finite, { maxLength: 2 * 1024 }),
    /** Dimensions (0-based, at most SCATTER_DIMS, from `order`) whose values follow, so the tab can plot any two. */
    dims: array(number({ integer: true, min: 0, max: MAX_DIMZ - 1 }), { maxLength: SCATTER_DIMS }),
    /** μ_d of each shown test image on each of `dims`: shown × dims.length values, row-major. */
    muDims: array(finite, { maxLength: SCATTER_POINTS * SCATTER_DIMS }),
    /** The prior noise rows' values on each of `dims`: rows × dims.length, row-major. */
    noiseDims: array(finite, { maxLength: 1024 * SCATTER_DIMS }),
    /** The plane's two axes in z: dimz values each (for the decoded manifold of dimz 2). */
    u: dimValues,
    v: dimValues,
  }),
  /** The epochs whose weights the run keeps (config keepCheckpointEvery), besides its latest checkpoint. */
  keptEpochs: array(number({ integer: true, min: 1 }), { maxLength: 100_000 }),
  /** Whether these are the run's latest weights (false: a kept epoch's). */
  latest: boolean(),
  /** Milliseconds the service took to open the checkpoint and encode the test set. */
  openMs: finite,
});
export type LatentSpaceInfo = Infer<typeof latentSpaceInfoSchema>;

// ---- host → service (IPC from its parent; a socket from other windows) ----

const serviceRequestSchema = tagged('type', {
  decode: object({ type: literal('decode'), id: number({ integer: true, min: 0 }), z: array(finite, { maxLength: MAX_DECODE_VALUES }) }),
  test: object({ type: literal('test'), id: number({ integer: true, min: 0 }), indices: array(number({ integer: true, min: 0 }), { maxLength: MAX_TEST_IMAGES }) }),
  /** This client is done (its panel closed): the service exits when no other client is left. */
  close: object({ type: literal('close') }),
});
export type ServiceRequest = Exclude<Infer<typeof serviceRequestSchema>, { type: 'close' }>;

/** Checks a request the service received; a bad one carries its id (when it has one) for the error answer. */
export function parseServiceRequest(value: unknown): { ok: true; request: ServiceRequest | { type: 'close' } } | { ok: false; error: string; id?: number } {
  const result = check(serviceRequestSchema, value);
  if (result.ok) return { ok: true, request: result.value };
  const id = isPlainObject(value) && Number.isSafeInteger(value.id) && (value.id as number) >= 0 ? (value.id as number) : undefined;
  return { ok: false, error: result.error, ...(id !== undefined ? { id } : {}) };
}

// ---- service → host ----

const serviceMessageSchema = tagged('type', {
  /** The service's pid goes to clients in other windows (not its parent), which cannot see it otherwise. */
  ready: object({ type: literal('ready'), info: latentSpaceInfoSchema, pid: optional(number({ integer: true, min: 1 })) }),
  /** Another service already serves these weights on the shared socket: this one exits, connect there. */
  elsewhere: object({ type: literal('elsewhere') }),
  /** Answer to the parent's `close` while other windows still use the service: it stays for them. */
  released: object({ type: literal('released') }),
  /** The service could not open the run (no checkpoint, unreadable data): why, for the user. */
  failed: object({ type: literal('failed'), message: string({ maxLength: MAX_TEXT }) }),
  decoded: object({ type: literal('decoded'), id: number({ integer: true, min: 0 }), rows: number({ integer: true, min: 1, max: MAX_DECODE_ROWS }), pixels: base64, ms: finite }),
  tested: object({
    type: literal('tested'), id: number({ integer: true, min: 0 }),
    indices: array(number({ integer: true, min: 0 }), { maxLength: MAX_TEST_IMAGES }),
    mu: array(finite, { maxLength: MAX_TEST_IMAGES * MAX_DIMZ }),
    pixels: base64,
  }),
  /** One request could not be answered (a z of the wrong length, an index out of range). */
  error: object({ type: literal('error'), id: number({ integer: true, min: 0 }), message: string({ maxLength: MAX_TEXT }) }),
});
export type ServiceMessage = Infer<typeof serviceMessageSchema>;

export function parseServiceMessage(value: unknown): { ok: true; message: ServiceMessage } | { ok: false; error: string } {
  const result = check(serviceMessageSchema, value);
  return result.ok ? { ok: true, message: result.value } : { ok: false, error: result.error };
}

// ---- the run panel's Latent tab ↔ host ----

/** From the tab: start (or reuse) the run's decode service, on a kept epoch's weights or (no epoch) the latest. */
export interface LatentOpenMessage {
  type: 'latentOpen';
  dir: string;
  epoch?: number;
}

/** From the tab: decode rows of z (rows × dimz values). */
export interface LatentDecodeMessage {
  type: 'latentDecode';
  dir: string;
  id: number;
  z: number[];
}

/** From the tab: μ and the pixels of some test images. */
export interface LatentTestMessage {
  type: 'latentTest';
  dir: string;
  id: number;
  indices: number[];
}

export type FromLatentTabMessage = LatentOpenMessage | LatentDecodeMessage | LatentTestMessage;

/** To the tab: the service is up; what it knows of the latent space. */
export interface LatentInfoMessage {
  type: 'latentInfo';
  dir: string;
  info: LatentSpaceInfo;
}

export interface LatentDecodedMessage {
  type: 'latentDecoded';
  dir: string;
  id: number;
  rows: number;
  pixels: string;
}

export interface LatentTestedMessage {
  type: 'latentTested';
  dir: string;
  id: number;
  indices: number[];
  mu: number[];
  pixels: string;
}

/**
 * To the tab: the explorer cannot answer — the service cannot start (untrusted workspace, no
 * checkpoint yet), it ended, or one request (`id`) failed. The message is for the user.
 */
export interface LatentUnavailableMessage {
  type: 'latentUnavailable';
  dir: string;
  id?: number;
  message: string;
}

export type ToLatentTabMessage = LatentInfoMessage | LatentDecodedMessage | LatentTestedMessage | LatentUnavailableMessage;

const dir = string({ minLength: 1, maxLength: MAX_TEXT });
const requestId = number({ integer: true, min: 0 });

export const toLatentTabSchemas = {
  latentInfo: object({ type: literal('latentInfo'), dir, info: latentSpaceInfoSchema }),
  latentDecoded: object({ type: literal('latentDecoded'), dir, id: requestId, rows: number({ integer: true, min: 1, max: MAX_DECODE_ROWS }), pixels: base64 }),
  latentTested: object({
    type: literal('latentTested'), dir, id: requestId,
    indices: array(number({ integer: true, min: 0 }), { maxLength: MAX_TEST_IMAGES }),
    mu: array(finite, { maxLength: MAX_TEST_IMAGES * MAX_DIMZ }),
    pixels: base64,
  }),
  latentUnavailable: object({ type: literal('latentUnavailable'), dir, id: optional(requestId), message: string({ maxLength: MAX_TEXT }) }),
};

const fromLatentTabSchemas = {
  latentOpen: { keys: ['type', 'dir', 'epoch'], schema: object({ type: literal('latentOpen'), dir, epoch: optional(number({ integer: true, min: 1 })) }) },
  latentDecode: {
    keys: ['type', 'dir', 'id', 'z'],
    schema: object({ type: literal('latentDecode'), dir, id: requestId, z: array(finite, { maxLength: MAX_DECODE_VALUES }) }),
  },
  latentTest: {
    keys: ['type', 'dir', 'id', 'indices'],
    schema: object({ type: literal('latentTest'), dir, id: requestId, indices: array(number({ integer: true, min: 0 }), { maxLength: MAX_TEST_IMAGES }) }),
  },
} as const;

export function isLatentTabRequestType(type: unknown): type is FromLatentTabMessage['type'] {
  return typeof type === 'string' && Object.hasOwn(fromLatentTabSchemas, type);
}

/** Checks a Latent-tab request from the webview: exactly its fields, each of the right type and size. */
export function parseLatentTabRequest(value: Record<string, unknown>): { ok: true; message: FromLatentTabMessage } | { ok: false; error: string } {
  const type = value.type;
  if (!isLatentTabRequestType(type)) return { ok: false, error: 'not a Latent-tab request' };
  const { keys, schema } = fromLatentTabSchemas[type];
  const extra = Object.keys(value).filter((k) => !(keys as readonly string[]).includes(k));
  if (extra.length) return { ok: false, error: `${type}: unexpected field(s) ${extra.join(', ')}` };
  const result = check(schema as { parse(v: unknown, p?: string): unknown; jsonSchema(): Record<string, unknown> }, value);
  if (!result.ok) return { ok: false, error: `${type}: ${result.error}` };
  const message = result.value as FromLatentTabMessage;
  if (message.type === 'latentDecode' && message.z.length === 0) return { ok: false, error: 'latentDecode: "z" is empty' };
  if (message.type === 'latentTest' && message.indices.length === 0) return { ok: false, error: 'latentTest: "indices" is empty' };
  return { ok: true, message };
}

/** Grey bytes → base64 and back, in the host (Buffer) and the page (atob) alike. */
export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToBytes(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A decoded mean pixel in [0, 1] as a grey byte: the rounding of every image VAE Lens shows or writes. */
export function greyByte(value: number): number {
  return Math.round(Math.min(1, Math.max(0, value)) * 255);
}

/** Decoded mean images in [0, 1] → grey bytes. */
export function toGreyBytes(images: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(images.length);
  for (let i = 0; i < images.length; i++) out[i] = greyByte(images[i]);
  return out;
}
