/**
 * Events: what a trainer appends to `events.jsonl` (one JSON object per line, schema versioned),
 * and the ephemeral progress it sends to its parent (IPC when forked, JSON lines on stdout otherwise).
 */
import { RUN_STATUSES } from './run';
import { SchemaError, array, boolean, check, custom, literal, number, object, oneOf, optional, string, tagged, type Infer } from './schema';

export const EVENTS_SCHEMA_VERSION = 1;

const v = number({ integer: true, min: 1, description: 'Schema version of this line (EVENTS_SCHEMA_VERSION); a reader skips lines of a newer version.' });
const time = string({ description: 'ISO timestamp.' });
const epochNumber = number({ integer: true, min: 0 });
const finite = number();
const nonNegative = number({ min: 0 });

/** The study's numbers for one split, in nats per image; means over images and latent dimensions. */
export const splitMetricsSchema = object({
  loss: finite,
  reconstruction: finite,
  kl: finite,
  meanMu: finite,
  /** σ = exp(ln σ² / 2), averaged over images and dimensions. */
  meanSigma: nonNegative,
});
export type SplitMetrics = Infer<typeof splitMetricsSchema>;

/** Per latent dimension d, over the test set (arrays of length dimz). */
export const dimensionStatsSchema = object({
  /** E[μ_d] */
  meanMu: array(finite),
  /** Var(μ_d) */
  varMu: array(nonNegative),
  /** E[σ_d²] */
  meanSigmaSq: array(nonNegative),
  /** KL_d, nats per image */
  kl: array(finite),
});
export type DimensionStats = Infer<typeof dimensionStatsSchema>;

const unitInterval = number({ min: 0, max: 1 });
const positiveInteger = number({ integer: true, min: 1 });

/**
 * Measures of the aggregate posterior q(z) (the mixture of the test images' q(z|x)) against the
 * prior, and of the model's likelihood, taken every `diagnosticsEvery` epochs on the first test
 * images (src/shared/diagnostics.ts has the estimators). All in nats except the rates.
 */
export const epochDiagnosticsSchema = object({
  /** Test images the aggregate-posterior measures used (the first ones of the test set). */
  images: positiveInteger,
  /** I(x; z) (He et al. 2019); the estimator cannot exceed ln(images), so near it read it as "at least". */
  mutualInformation: finite,
  /** Mean over the images of KL(q(z|x) ‖ p(z)): the KL term of the ELBO at C = 1. */
  meanKl: finite,
  /** KL(q(z) ‖ p(z)) = meanKl − I(x; z): the KL spent on prior mismatch rather than information. */
  marginalKl: finite,
  /** KL(q_G ‖ p(z)), q_G the Gaussian with q(z)'s mean and full covariance, and its parts. */
  moments: object({
    total: finite,
    /** ½ mᵀm */
    meanShift: finite,
    /** What the correlations between dimensions add (per-dimension numbers miss it). */
    correlation: finite,
    /** One per latent dimension. */
    perDimension: array(finite),
    /** One per eigenvalue of q(z)'s covariance, largest first. */
    perEigenvalue: array(finite),
  }),
  /** KL(q(z) ‖ q_G) = marginalKl − moments.total: the part no mean or covariance explains (holes). */
  nonGaussian: finite,
  /** Share of z ~ N(0, I) where q(z) is below its 1st percentile at the images' own posterior samples. */
  holeRate: unitInterval,
  /** Prior samples the hole rate counted. */
  priorSamples: positiveInteger,
  /** The hole rate of the run's fixed prior noise: the z its samples/ images decode. */
  fixedNoiseHoleRate: unitInterval,
  /** Importance-weighted test NLL (Burda et al. 2015): k samples per image on the first `images` test images. */
  iwNll: optional(object({ k: positiveInteger, images: positiveInteger, value: finite })),
});
export type EpochDiagnostics = Infer<typeof epochDiagnosticsSchema>;

const epochFields = object({
  type: literal('epoch'),
  v,
  time,
  /** 1-based epoch number. */
  epoch: number({ integer: true, min: 1 }),
  epochs: number({ integer: true, min: 1 }),
  train: splitMetricsSchema,
  test: splitMetricsSchema,
  dims: dimensionStatsSchema,
  /** Dimensions with Var(μ_d) > 0.01 (Burda et al. 2015), as recorded; the UI counts with the user's threshold. */
  activeUnits: number({ integer: true, min: 0 }),
  /** Var(μ_d) + E[σ_d²] per dimension; ≈ 1 when prior samples look like data. */
  aggregateVariance: array(nonNegative),
  /** KL weight C used in this epoch (warm-up). */
  klWeight: nonNegative,
  samplesPerSecond: nonNegative,
  secondsPerEpoch: nonNegative,
  /**
   * Paths relative to the run folder, '' for an epoch without images; only the trainer's own image
   * names, so no path can lead outside the run.
   */
  images: object({ samples: string({ pattern: /^(samples\/epoch-\d{4,}\.png)?$/ }), recon: string({ pattern: /^(recon\/epoch-\d{4,}\.png)?$/ }) }),
  /** Taken on some epochs only (config diagnosticsEvery). */
  diagnostics: optional(epochDiagnosticsSchema),
});

/** One epoch's results; the per-dimension arrays all have one entry per latent dimension. */
export const epochEventSchema = custom<Infer<typeof epochFields>>((value, path) => {
  const e = epochFields.parse(value, path);
  const d = e.dims.meanMu.length;
  const perDimension = [['dims.varMu', e.dims.varMu], ['dims.meanSigmaSq', e.dims.meanSigmaSq], ['dims.kl', e.dims.kl], ['aggregateVariance', e.aggregateVariance]] as Array<[string, readonly number[]]>;
  if (e.diagnostics) perDimension.push(['diagnostics.moments.perDimension', e.diagnostics.moments.perDimension], ['diagnostics.moments.perEigenvalue', e.diagnostics.moments.perEigenvalue]);
  for (const [name, values] of perDimension) {
    if (values.length !== d) throw new SchemaError(path ? `${path}.${name}` : name, `expected ${d} values (one per latent dimension, as dims.meanMu), got ${values.length}`);
  }
  return e;
}, () => epochFields.jsonSchema());
export type EpochEvent = Infer<typeof epochEventSchema>;

export const statusEventSchema = object({
  type: literal('status'),
  v,
  time,
  status: oneOf(RUN_STATUSES),
  epoch: optional(epochNumber),
  message: optional(string()),
});
export type StatusEvent = Infer<typeof statusEventSchema>;

export const WARNING_KINDS = ['sigma-far-from-one', 'unused-dimensions', 'posterior-collapse', 'aggregate-off-prior', 'diverged', 'overfitting'] as const;
export type WarningKind = (typeof WARNING_KINDS)[number];
export const WARNING_SEVERITIES = ['info', 'warning', 'error'] as const;
export type WarningSeverity = (typeof WARNING_SEVERITIES)[number];

export const warningEventSchema = object({
  type: literal('warning'),
  v,
  time,
  kind: oneOf(WARNING_KINDS),
  severity: oneOf(WARNING_SEVERITIES),
  epoch: epochNumber,
  message: string(),
  /** Written when a user chose "Don't Warn for This Run". */
  dismissed: optional(boolean()),
});
export type WarningEvent = Infer<typeof warningEventSchema>;

export const errorEventSchema = object({
  type: literal('error'),
  v,
  time,
  message: string(),
  epoch: optional(epochNumber),
  batch: optional(epochNumber),
});
export type ErrorEvent = Infer<typeof errorEventSchema>;

export const checkpointEventSchema = object({
  type: literal('checkpoint'),
  v,
  time,
  epoch: epochNumber,
});
export type CheckpointEvent = Infer<typeof checkpointEventSchema>;

/** A line of events.jsonl: the one schema every reader (trainer, host, webview, CLI) checks lines against. */
export const runEventSchema = tagged('type', {
  epoch: epochEventSchema,
  status: statusEventSchema,
  warning: warningEventSchema,
  error: errorEventSchema,
  checkpoint: checkpointEventSchema,
});
export type RunEvent = EpochEvent | StatusEvent | WarningEvent | ErrorEvent | CheckpointEvent;

/** The JSON Schema published as schemas/event.schema.json (one line of events.jsonl). */
export function eventJsonSchema(): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: 'VAE Lens events.jsonl line', ...runEventSchema.jsonSchema() };
}

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

/**
 * A nudge: the trainer appended an event of this kind to its run's events.jsonl. The parent reads
 * the event from the run folder (the one source of a run's events), never from the message.
 */
export interface AppendedMessage {
  type: 'appended';
  runId: string;
  kind: RunEvent['type'];
  /** The epoch of an epoch event, for progress only. */
  epoch?: number;
}

/** What the trainer sends its parent: progress, nudges for what it appended, and why it could not start a run. */
export type TrainerMessage =
  | ProgressMessage
  | AppendedMessage
  | { type: 'started'; runId: string; runDir: string }
  /** Before a run folder exists (bad request, invalid config, unreadable run): nothing was written. */
  | { type: 'notStarted'; message: string };

/** What the parent may send a forked trainer. */
export type TrainerCommand = { type: 'stop' };

/** Whether a value is a valid event line (see runEventSchema). */
export function isRunEvent(value: unknown): value is RunEvent {
  return check(runEventSchema, value).ok;
}

/** A line of events.jsonl that was not used, and why. */
export interface SkippedLine {
  /** 1-based line number within the text parsed. */
  line: number;
  reason: string;
}

export interface ParsedEvents {
  events: RunEvent[];
  /** Lines not used: torn or not JSON, not a valid event, or written by a newer VAE Lens. */
  skipped: number;
  /** The first few skipped lines with their reasons (for a message a user can act on). */
  problems: SkippedLine[];
}

const MAX_PROBLEMS = 5;

/** Checks one parsed line: the event, or why it cannot be used. */
export function checkEventLine(value: unknown): { ok: true; event: RunEvent } | { ok: false; reason: string } {
  if (typeof value === 'object' && value !== null && typeof (value as { v?: unknown }).v === 'number' && (value as { v: number }).v > EVENTS_SCHEMA_VERSION) {
    return { ok: false, reason: `written by a newer VAE Lens (event schema ${(value as { v: number }).v}; this version reads ${EVENTS_SCHEMA_VERSION})` };
  }
  const result = check(runEventSchema, value);
  return result.ok ? { ok: true, event: result.value as RunEvent } : { ok: false, reason: result.error };
}

/**
 * Parses the text of events.jsonl. A torn last line (a crash mid-write), a line that is not a valid
 * event and a line of a newer schema are skipped, never fatal; returns how many, and why.
 */
export function parseEvents(text: string, firstLine = 1): ParsedEvents {
  const events: RunEvent[] = [];
  const problems: SkippedLine[] = [];
  let skipped = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    let reason: string;
    try {
      const result = checkEventLine(JSON.parse(line));
      if (result.ok) {
        events.push(result.event);
        continue;
      }
      reason = result.reason;
    } catch {
      reason = 'not a complete JSON line (torn by a crash or a full disk?)';
    }
    skipped++;
    if (problems.length < MAX_PROBLEMS) problems.push({ line: firstLine + i, reason });
  }
  return { events, skipped, problems };
}

/**
 * Incremental parser for a file that is appended to: feed it the new bytes' text, it returns the
 * complete lines' events and keeps an incomplete last line until its newline arrives.
 */
export class EventLineBuffer {
  private pending = '';
  /** Complete lines consumed so far (the next line's number is lines + 1). */
  private lines = 0;
  skipped = 0;
  readonly problems: SkippedLine[] = [];

  push(chunk: string): RunEvent[] {
    const text = this.pending + chunk;
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline < 0) {
      this.pending = text;
      return [];
    }
    this.pending = text.slice(lastNewline + 1);
    const complete = text.slice(0, lastNewline);
    const { events, skipped, problems } = parseEvents(complete, this.lines + 1);
    this.lines += complete.split('\n').length;
    this.skipped += skipped;
    this.problems.push(...problems.slice(0, Math.max(0, MAX_PROBLEMS - this.problems.length)));
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
  | { resume: string; data?: TrainerDataOptions }
  /**
   * The latent explorer's decode service on a run's checkpoint (src/trainer/latent/serve.ts); IPC
   * with its parent, and `listen`: the socket other windows reach it on (src/node/serviceSocket.ts).
   */
  | { serve: string; idleMs?: number; epoch?: number; listen?: string };
