/**
 * Downsampling a long training history for drawing: every epoch of the last `keepLast`, and before
 * them a min/max envelope — the epochs are cut into at most `buckets` runs of consecutive epochs,
 * and of each run only the epochs holding the smallest and largest value of a charted series (the
 * test and train loss, reconstruction, KL, mean μ and mean σ) are kept, with its first epoch. Spikes
 * and dips survive at any length; a 100,000-epoch run becomes a few thousand points. Whole epoch
 * events are kept (never averaged), so whatever reads an epoch reads a real one.
 *
 * Streaming: EpochHistory takes the epochs in order without knowing how many will come (a report
 * reads events.jsonl in chunks), holding at most keepLast + buckets × (2 × series + 1) events. When
 * the envelope has too many runs, neighbouring runs merge (twice as long each), so the runs keep
 * equal lengths wherever the history stops. Pure: used by the CLI report and by any panel.
 */
import type { EpochEvent, SplitMetrics } from './events';

export interface HistoryLimits {
  /** The last this many epochs are kept whole. */
  keepLast: number;
  /** At most this many runs of epochs in the envelope before them. */
  buckets: number;
}

/** Enough for a chart a screen wide; the HTML of a 100,000-epoch report stays a few MB. */
export const DEFAULT_HISTORY_LIMITS: HistoryLimits = { keepLast: 200, buckets: 64 };

const SERIES: ((e: EpochEvent) => number)[] = (['loss', 'reconstruction', 'kl', 'meanMu', 'meanSigma'] as (keyof SplitMetrics)[]).flatMap((k) => [
  (e: EpochEvent) => e.test[k],
  (e: EpochEvent) => e.train[k],
]);

/** A run of consecutive epochs, summarized by its first epoch and each series' extremes. */
interface Bucket {
  /** Epochs (counted from the first added) this run started at; its length is the envelope's current width. */
  start: number;
  first: EpochEvent;
  min: EpochEvent[];
  max: EpochEvent[];
}

function better(a: EpochEvent, b: EpochEvent, series: (e: EpochEvent) => number, sign: 1 | -1): EpochEvent {
  const va = series(a);
  const vb = series(b);
  // NaN never wins over a number, and a diverged point (±Infinity) stays visible as an extreme.
  if (Number.isNaN(vb)) return a;
  if (Number.isNaN(va)) return b;
  return sign * (vb - va) < 0 ? b : a;
}

function singleton(e: EpochEvent, start: number): Bucket {
  return { start, first: e, min: SERIES.map(() => e), max: SERIES.map(() => e) };
}

function merge(a: Bucket, b: Bucket): Bucket {
  return {
    start: a.start,
    first: a.first,
    min: SERIES.map((s, i) => better(a.min[i], b.min[i], s, 1)),
    max: SERIES.map((s, i) => better(a.max[i], b.max[i], s, -1)),
  };
}

export class EpochHistory {
  private readonly recent: EpochEvent[] = [];
  private buckets: Bucket[] = [];
  private width = 1;
  /** Epoch events that have left `recent` for the envelope. */
  private spilled = 0;
  private total = 0;

  constructor(private readonly limits: HistoryLimits = DEFAULT_HISTORY_LIMITS) {
    if (!(limits.keepLast >= 0 && limits.buckets >= 1)) throw new RangeError('keepLast must be ≥ 0 and buckets ≥ 1');
  }

  /** Epoch events in order of epoch. */
  add(event: EpochEvent): void {
    this.total++;
    this.recent.push(event);
    if (this.recent.length > this.limits.keepLast) this.spill(this.recent.shift()!);
  }

  /** How many epochs were added, and how many the result holds. */
  get added(): number {
    return this.total;
  }

  private spill(e: EpochEvent): void {
    const index = this.spilled++;
    const last = this.buckets[this.buckets.length - 1];
    if (last && index < last.start + this.width) {
      this.buckets[this.buckets.length - 1] = merge(last, singleton(e, index));
      return;
    }
    this.buckets.push(singleton(e, index));
    if (this.buckets.length > this.limits.buckets) {
      // Twice as long runs: merge neighbours pairwise (a trailing odd one stays open and keeps filling).
      this.width *= 2;
      const merged: Bucket[] = [];
      for (let i = 0; i < this.buckets.length; i += 2) merged.push(i + 1 < this.buckets.length ? merge(this.buckets[i], this.buckets[i + 1]) : this.buckets[i]);
      this.buckets = merged;
    }
  }

  /** The kept epochs, in order, each once. */
  result(): EpochEvent[] {
    const kept = new Map<number, EpochEvent>();
    for (const b of this.buckets) for (const e of [b.first, ...b.min, ...b.max]) kept.set(e.epoch, e);
    for (const e of this.recent) kept.set(e.epoch, e);
    return [...kept.values()].sort((a, b) => a.epoch - b.epoch);
  }
}

/** The whole-array form: `epochs` in order of epoch, downsampled as EpochHistory does. */
export function downsampleEpochs(epochs: readonly EpochEvent[], limits: HistoryLimits = DEFAULT_HISTORY_LIMITS): EpochEvent[] {
  const history = new EpochHistory(limits);
  for (const e of epochs) history.add(e);
  return history.result();
}
