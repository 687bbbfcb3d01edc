/**
 * Events: what a trainer appends to `events.jsonl` (one JSON object per line, schema versioned),
 * and the ephemeral progress it sends to its parent (IPC when forked, JSON lines on stdout otherwise).
 */
import type { RunStatus } from './run';

export const EVENTS_SCHEMA_VERSION = 1;

/** The study's numbers for one split, in nats per image; means over images and latent dimensions. */
export interface SplitMetrics {
  loss: number;
  reconstruction: number;
  kl: number;
  meanMu: number;
  /** σ = exp(ln σ² / 2), averaged over images and dimensions. */
  meanSigma: number;
}

/** Per latent dimension d, over the test set (arrays of length dimz). */
export interface DimensionStats {
  /** E[μ_d] */
  meanMu: number[];
  /** Var(μ_d) */
  varMu: number[];
  /** E[σ_d²] */
  meanSigmaSq: number[];
  /** KL_d, nats per image */
  kl: number[];
}

export interface EpochEvent {
  type: 'epoch';
  v: number;
  time: string;
  /** 1-based epoch number. */
  epoch: number;
  epochs: number;
  train: SplitMetrics;
  test: SplitMetrics;
  dims: DimensionStats;
  /** Dimensions with Var(μ_d) > 0.01 (Burda et al. 2015). */
  activeUnits: number;
  /** Var(μ_d) + E[σ_d²] per dimension; ≈ 1 when prior samples look like data. */
  aggregateVariance: number[];
  /** KL weight C used in this epoch (warm-up). */
  klWeight: number;
  samplesPerSecond: number;
  secondsPerEpoch: number;
  /** Paths relative to the run folder. */
  images: { samples: string; recon: string };
}

export interface StatusEvent {
  type: 'status';
  v: number;
  time: string;
  status: RunStatus;
  epoch?: number;
  message?: string;
}

export type WarningKind = 'sigma-far-from-one' | 'unused-dimensions' | 'posterior-collapse' | 'aggregate-off-prior' | 'diverged' | 'overfitting';
export type WarningSeverity = 'info' | 'warning' | 'error';

export interface WarningEvent {
  type: 'warning';
  v: number;
  time: string;
  kind: WarningKind;
  severity: WarningSeverity;
  epoch: number;
  message: string;
  /** Written when a user chose "Don't Warn for This Run". */
  dismissed?: boolean;
}

export interface ErrorEvent {
  type: 'error';
  v: number;
  time: string;
  message: string;
  epoch?: number;
  batch?: number;
}

export interface CheckpointEvent {
  type: 'checkpoint';
  v: number;
  time: string;
  epoch: number;
}

/** A line of events.jsonl. */
export type RunEvent = EpochEvent | StatusEvent | WarningEvent | ErrorEvent | CheckpointEvent;

/** Ephemeral: sent to the parent only, never written to disk. */
export interface ProgressMessage {
  type: 'progress';
  runId: string;
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Running mean of the training loss in this epoch. */
  loss: number;
  samplesPerSecond: number;
  /** e.g. 'loading data', 'downloading fashion-mnist (42%)', 'training'. */
  phase: string;
}

/** What the trainer sends its parent: progress, and a copy of every event it appended (with the run id). */
export type TrainerMessage =
  | ProgressMessage
  | { type: 'event'; runId: string; event: RunEvent }
  | { type: 'started'; runId: string; runDir: string };

/** What the parent may send a forked trainer. */
export type TrainerCommand = { type: 'stop' };

const EVENT_TYPES = new Set(['epoch', 'status', 'warning', 'error', 'checkpoint']);

export function isRunEvent(value: unknown): value is RunEvent {
  return typeof value === 'object' && value !== null && EVENT_TYPES.has((value as { type?: unknown }).type as string);
}

/**
 * Parses the text of events.jsonl. A torn last line (a crash mid-write) and any other unparsable
 * line are skipped, never fatal; returns how many were skipped.
 */
export function parseEvents(text: string): { events: RunEvent[]; skipped: number } {
  const events: RunEvent[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      if (isRunEvent(value)) events.push(value);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { events, skipped };
}

/**
 * Incremental parser for a file that is appended to: feed it the new bytes' text, it returns the
 * complete lines' events and keeps an incomplete last line until its newline arrives.
 */
export class EventLineBuffer {
  private pending = '';
  skipped = 0;

  push(chunk: string): RunEvent[] {
    const text = this.pending + chunk;
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline < 0) {
      this.pending = text;
      return [];
    }
    this.pending = text.slice(lastNewline + 1);
    const { events, skipped } = parseEvents(text.slice(0, lastNewline));
    this.skipped += skipped;
    return events;
  }
}

/** Data options the parent may pass on (settings vaeLens.dataCacheDirectory, vaeLens.mnistBaseUrl, the workspace folder). */
export interface TrainerDataOptions {
  cacheDir?: string;
  baseUrl?: string;
  /** Folder that relative `idx:` folders resolve against. */
  baseDir?: string;
}

/**
 * How a trainer is started: `node dist/trainer.js '<TrainerRequest as JSON>'` (forked with IPC by
 * the extension; JSON lines on stdout otherwise). A new run gets a partial config (validated, with
 * defaults filled in); a resume names the run folder.
 */
export type TrainerRequest =
  | { config: Partial<import('./config').TrainConfig>; runsDir: string; data?: TrainerDataOptions }
  | { resume: string; data?: TrainerDataOptions };
