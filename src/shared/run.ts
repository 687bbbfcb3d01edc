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
import type { TrainConfig } from './config';

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

export interface RunEnvironment {
  /** TensorFlow.js backend actually used: 'tensorflow' (native, GPU or CPU), 'wasm' or 'cpu'. */
  backend: string;
  /** Version of the backend package (and tfjs-core). */
  backendVersion: string;
  tfjsVersion: string;
  /** e.g. 'NVIDIA A100 (CUDA)', 'CPU (wasm, SIMD, 2 threads)'. */
  device: string;
  threads?: number;
  node: string;
  platform: string;
  hostname: string;
}

/** One image file of a data set as a run saw it: the IDX header's sizes and the SHA-256 of its first MiB of content. */
export interface DataFingerprint {
  sizes: number[];
  headSha256: string;
}

/** The data a run trains on, recorded when it first loads it; a resume refuses data that no longer matches. */
export interface RunData {
  /** The folder the files were read from, resolved (an `idx:` dataset's relative folder no longer depends on the working folder). */
  folder: string;
  files: { trainImages: DataFingerprint; testImages: DataFingerprint };
}

export interface RunInfo {
  schemaVersion: number;
  id: string;
  name: string;
  config: TrainConfig;
  environment?: RunEnvironment;
  /** ISO timestamps. */
  created: string;
  updated: string;
  status: RunStatus;
  /** Trainer process id while live; used to detect an interrupted run after a crash or reload (shared/liveness.ts). */
  pid?: number;
  /** Host name of the live trainer's machine. */
  host?: string;
  /** Id of the live trainer process's start (changes when its pid is reused); see node/processProbe.ts. */
  processStart?: string;
  /** Last fully completed epoch (1-based; 0 before the first). */
  epochsCompleted: number;
  /** Why a run failed or stopped, in words a user can act on. */
  message?: string;
  /** Where the data came from and its fingerprint (absent in runs from before it was recorded). */
  data?: RunData;
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
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<RunInfo>;
  return (
    typeof v.id === 'string' && typeof v.name === 'string' && typeof v.config === 'object' && v.config !== null &&
    typeof v.status === 'string' && (RUN_STATUSES as readonly string[]).includes(v.status) && typeof v.created === 'string'
  );
}
