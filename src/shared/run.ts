/**
 * The run folder contract (see DESIGN.md, "The run folder is the contract"). A trainer writes one
 * folder per run; the tree, the panels, warnings, compare, export and the CLI report read it.
 *
 *   <runs dir>/<run id>/
 *     run.json        RunInfo: config, environment, created, status, pid, data (folder + fingerprint)
 *     events.jsonl    append-only RunEvent lines (see events.ts)
 *     samples/        epoch-0001.png …: 8×8 grid decoded from the run's fixed prior noise
 *     recon/          epoch-0001.png …: 32 fixed test images above their reconstructions
 *     checkpoint/     latest weights + optimizer state + RNG state + epoch, written atomically
 */
import { configJsonSchema, validateConfig, type TrainConfig } from './config';
import { SchemaError, array, boolean, check, custom, describeValue, number, object, oneOf, optional, string, type Infer } from './schema';

export const RUN_SCHEMA_VERSION = 1;
export const RUN_FILE = 'run.json';
export const EVENTS_FILE = 'events.jsonl';
export const SAMPLES_DIR = 'samples';
export const RECON_DIR = 'recon';
export const CHECKPOINT_DIR = 'checkpoint';
/** Written by anyone who wants a live run to stop (extension, another window or host); the trainer polls for it between batches. */
export const STOP_REQUEST_FILE = 'stop-request';
/** Default runs directory, relative to a workspace folder (extension) or the current folder (CLI). */
export const DEFAULT_RUNS_DIR = '.vae-runs';

export const RUN_STATUSES = ['queued', 'starting', 'running', 'completed', 'stopped', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A status in which the trainer process is (or should be) alive. */
export function isLiveStatus(status: RunStatus): boolean {
  return status === 'starting' || status === 'running';
}

/**
 * The x of "epoch x/N" wherever a run is shown (tree, status bar, panels), so they never disagree.
 * While a run trains, x is the epoch in progress, as a training log says "Epoch 3/5" while the
 * third epoch runs (and as the trainer's batch progress counts); otherwise, with nothing in
 * progress, x is the number of epochs completed ("stopped · epoch 2/5": two done). A running run
 * that has finished its last epoch (writing its report) shows N/N.
 */
export function displayedEpoch(status: RunStatus, epochsCompleted: number, epochs: number): number {
  return status === 'running' && epochsCompleted < epochs ? epochsCompleted + 1 : epochsCompleted;
}

/** The GPU the webgpu backend trains on, as Dawn reports it. */
export const runAdapterSchema = object({
  /** e.g. 'NVIDIA H200', 'Apple M2', 'llvmpipe Mesa 25.0.7, software'. */
  name: string(),
  /** The native API Dawn drives it through: 'Metal', 'Vulkan' or 'D3D12'. */
  api: string(),
  vendor: string(),
  architecture: string(),
  description: string(),
  /** A software renderer (llvmpipe, SwiftShader, WARP). */
  software: boolean(),
});
export type RunAdapter = Infer<typeof runAdapterSchema>;

export const runEnvironmentSchema = object({
  /** TensorFlow.js backend actually used: 'webgpu', 'tensorflow' (native, GPU or CPU), 'wasm' or 'cpu'. */
  backend: string(),
  /** Version of the backend package (and tfjs-core). */
  backendVersion: string(),
  tfjsVersion: string(),
  /** e.g. 'NVIDIA H200 (Vulkan)', 'NVIDIA A100 (CUDA)', 'CPU (wasm, SIMD, 2 threads)'. */
  device: string(),
  /** The webgpu backend's adapter. */
  adapter: optional(runAdapterSchema),
  threads: optional(number({ integer: true, min: 0 })),
  node: string(),
  platform: string(),
  hostname: string(),
});
export type RunEnvironment = Infer<typeof runEnvironmentSchema>;

/** Config fields a run.json must state (the rest take their defaults): without them a run cannot be described truthfully. */
const REQUIRED_CONFIG_FIELDS = ['model', 'dimz', 'epochs', 'batchSize', 'dataset'] as const;

/** A run's config: the training config's own validator (config.ts), with the describing fields required. */
export const runConfigSchema = custom<TrainConfig>((value, path) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SchemaError(path, `expected an object, got ${describeValue(value)}`);
  for (const key of REQUIRED_CONFIG_FIELDS) {
    if (!(key in value)) throw new SchemaError(`${path}.${key}`, 'missing');
  }
  const result = validateConfig(value);
  if (!result.ok) throw new SchemaError(path, result.errors.join('; '));
  return result.config;
}, () => configJsonSchema());

/**
 * One set of a data set's images as a run saw it. An IDX file: its header's sizes and the SHA-256 of
 * its first MiB of content. An images: folder's set: [count, side, side, channels] and the SHA-256
 * of its files' sorted paths, sizes and contents.
 */
export const dataFingerprintSchema = object({
  sizes: array(number({ integer: true, min: 0 })),
  headSha256: string({ pattern: /^[0-9a-f]{64}$/ }),
});
export type DataFingerprint = Infer<typeof dataFingerprintSchema>;

/** Labels are bytes: at most this many label names, each at most MAX_LABEL_NAME_LENGTH characters. */
export const MAX_LABEL_NAMES = 256;
export const MAX_LABEL_NAME_LENGTH = 255;

/** The data a run trains on, recorded when it first loads it; a resume refuses data that no longer matches. */
export const runDataSchema = object({
  /** The folder the files were read from, resolved (an `idx:` dataset's relative folder no longer depends on the working folder). */
  folder: string(),
  files: object({ trainImages: dataFingerprintSchema, testImages: dataFingerprintSchema }),
  /** The name of each label number (an images: folder's label sub-folders, in sorted order); absent when the labels are bare numbers or there are none. */
  labelNames: optional(array(string({ minLength: 1, maxLength: MAX_LABEL_NAME_LENGTH }), { maxLength: MAX_LABEL_NAMES })),
});
export type RunData = Infer<typeof runDataSchema>;

export const runInfoSchema = object({
  /** RUN_SCHEMA_VERSION of the writer; a reader refuses a newer one (see readRunInfo). */
  schemaVersion: number({ integer: true, min: 1 }),
  /** The run folder's name. */
  id: string({ minLength: 1, maxLength: 200 }),
  name: string({ maxLength: 200 }),
  config: runConfigSchema,
  environment: optional(runEnvironmentSchema),
  /** ISO timestamps. */
  created: string(),
  updated: string(),
  status: oneOf(RUN_STATUSES),
  /** Trainer process id while live; used to detect an interrupted run after a crash or reload (shared/liveness.ts). */
  pid: optional(number({ integer: true })),
  /** Host name of the live trainer's machine. */
  host: optional(string()),
  /** Id of the live trainer process's start (changes when its pid is reused); see node/processProbe.ts. */
  processStart: optional(string()),
  /** Last fully completed epoch (1-based; 0 before the first). */
  epochsCompleted: number({ integer: true, min: 0 }),
  /** Why a run failed or stopped, in words a user can act on. */
  message: optional(string()),
  /** Where the data came from and its fingerprint (absent in runs from before it was recorded). */
  data: optional(runDataSchema),
});
export type RunInfo = Infer<typeof runInfoSchema>;

/** The JSON Schema published as schemas/run.schema.json (for anyone writing run folders). */
export function runJsonSchema(): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: 'VAE Lens run.json', ...runInfoSchema.jsonSchema() };
}

/** Checks a parsed run.json: the run, or the field at fault (a newer schema version is refused, naming it). */
export function checkRunInfo(value: unknown): { ok: true; info: RunInfo } | { ok: false; error: string } {
  const version = (value as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'number' && version > RUN_SCHEMA_VERSION) {
    return { ok: false, error: `written by a newer VAE Lens (run schema ${version}; this version reads ${RUN_SCHEMA_VERSION}): update VAE Lens to open it` };
  }
  const result = check(runInfoSchema, value);
  return result.ok ? { ok: true, info: result.value } : { ok: false, error: result.error };
}

/** Where the weights of kept epochs are (config keepCheckpointEvery): checkpoints/epoch-0005/. */
export const KEPT_CHECKPOINTS_DIR = 'checkpoints';

/** Folder name of a kept epoch's weights, e.g. checkpoints/epoch-0005. */
export function keptCheckpointName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}`;
}

/** File name of the per-epoch image, e.g. samples/epoch-0007.png. */
export function epochImageName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}.png`;
}

/** A run id: sortable by time, safe as a folder name. */
export function makeRunId(name: string, date: Date): string {
  const stamp = date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'run';
  return `${stamp}-${slug}`;
}

export function isRunInfo(value: unknown): value is RunInfo {
  return checkRunInfo(value).ok;
}
