/**
 * Health rules: is the latent space converging to the prior N(0, I)? Pure functions over a run's
 * events, shared by the extension host (notifications, tree badges) and the panels (gauge colours),
 * so a gauge is coloured by exactly the rule that raises the warning.
 *
 * The study's gauges are mean μ → 0 and mean σ → 1. Mean σ far from 1 alone is ambiguous (see
 * DESIGN.md, "The study's blind spot"): what decides whether images decoded from prior samples look
 * like data is the aggregate posterior of the dimensions in use, E[μ_d] ≈ 0 and
 * Var(μ_d) + E[σ_d²] ≈ 1. One verdict on that view (priorVerdict) decides the σ gauge's colour,
 * the σ rule's severity and its wording, and whether the aggregate rule speaks on its own, so no
 * two banners can disagree about whether prior samples are at risk.
 */
import { foldEpochs } from './runRules';
import type { EpochDiagnostics, EpochEvent, RunEvent, WarningKind, WarningSeverity } from './events';
import { informationAtCeiling } from './priorFit';

export interface HealthSettings {
  /** Test mean σ is "far from 1" outside [1 − sigmaTolerance, 1 + sigmaTolerance]. */
  sigmaTolerance: number;
  /** A condition must hold this many epochs in a row (after the warm-up) before it is reported. */
  patience: number;
  /** Epochs 1..warmupEpochs are never judged: every VAE starts far from the prior. */
  warmupEpochs: number;
  /** A dimension is active when Var(μ_d) exceeds this (Burda et al. 2015 use 0.01). */
  activeVarianceThreshold: number;
  /** A dimension is unused when KL_d (nats per image) is below this and σ_d ≈ 1. */
  unusedKlThreshold: number;
  /** σ_d ≈ 1 for an unused dimension: |√E[σ_d²] − 1| ≤ this. */
  unusedSigmaTolerance: number;
  /** Share of unused dimensions (0..1) from which unused capacity is a warning rather than information. */
  unusedWarningFraction: number;
  /** Active dimensions' |E[μ_d]| above this is off the prior. */
  meanMuTolerance: number;
  /** Active dimensions' Var(μ_d) + E[σ_d²] outside [1 − tol, 1 + tol] is off the prior. */
  aggregateVarianceTolerance: number;
  /**
   * Where an epoch's diagnostics measured it: a prior hole rate (share of z ~ N(0, I) where q(z) is
   * below its 1st percentile at the data) above this is off the prior, whatever the moments say.
   * It is ≈ 0.01 when q(z) matches the prior.
   */
  holeRateTolerance: number;
  /** Test loss rising this many epochs in a row while the training loss falls is overfitting. */
  overfittingEpochs: number;
}

export const DEFAULT_HEALTH_SETTINGS: Readonly<HealthSettings> = Object.freeze({
  sigmaTolerance: 0.3,
  patience: 3,
  warmupEpochs: 2,
  activeVarianceThreshold: 0.01,
  unusedKlThreshold: 0.01,
  unusedSigmaTolerance: 0.1,
  unusedWarningFraction: 0.5,
  meanMuTolerance: 0.3,
  aggregateVarianceTolerance: 0.3,
  holeRateTolerance: 0.2,
  overfittingEpochs: 5,
});

/** Gauge colour classes, in increasing order of concern. */
export type HealthLevel = 'good' | 'info' | 'warning' | 'error';

export interface HealthFinding {
  kind: WarningKind;
  severity: WarningSeverity;
  /** The epoch at which the condition was (last) observed. */
  epoch: number;
  /** One or two sentences a user can act on: what it is, what it means, the numbers. */
  message: string;
}

const SEVERITY_RANK: Record<HealthLevel, number> = { good: 0, info: 1, warning: 2, error: 3 };

export function worstLevel(levels: Iterable<HealthLevel>): HealthLevel {
  let worst: HealthLevel = 'good';
  for (const l of levels) if (SEVERITY_RANK[l] > SEVERITY_RANK[worst]) worst = l;
  return worst;
}

export function compareSeverity(a: HealthLevel, b: HealthLevel): number {
  return SEVERITY_RANK[a] - SEVERITY_RANK[b];
}

/** Fills missing or invalid fields from the defaults (settings come from users). */
export function resolveHealthSettings(partial: Partial<Record<keyof HealthSettings, unknown>> = {}): HealthSettings {
  const out = { ...DEFAULT_HEALTH_SETTINGS };
  for (const key of Object.keys(out) as (keyof HealthSettings)[]) {
    const value = partial[key];
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) out[key] = value;
  }
  out.patience = Math.max(1, Math.round(out.patience));
  out.overfittingEpochs = Math.max(1, Math.round(out.overfittingEpochs));
  out.warmupEpochs = Math.round(out.warmupEpochs);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Per-epoch quantities

const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/** "1 epoch", "3 epochs": messages read right for one as for many. */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** The verb form that agrees with a count: "1 has", "3 have". */
function agree(n: number, singular: string, plural: string): string {
  return n === 1 ? singular : plural;
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** Indices of active dimensions: Var(μ_d) > threshold. */
export function activeDimensions(epoch: EpochEvent, s: HealthSettings = DEFAULT_HEALTH_SETTINGS): number[] {
  const out: number[] = [];
  epoch.dims.varMu.forEach((v, d) => {
    if (isFiniteNumber(v) && v > s.activeVarianceThreshold) out.push(d);
  });
  return out;
}

/** Indices of unused dimensions: KL_d below the threshold and σ_d ≈ 1 (the decoder ignores them). */
export function unusedDimensions(epoch: EpochEvent, s: HealthSettings = DEFAULT_HEALTH_SETTINGS): number[] {
  const out: number[] = [];
  epoch.dims.kl.forEach((kl, d) => {
    const sigma = Math.sqrt(epoch.dims.meanSigmaSq[d]);
    if (isFiniteNumber(kl) && kl < s.unusedKlThreshold && Math.abs(sigma - 1) <= s.unusedSigmaTolerance) out.push(d);
  });
  return out;
}

function aggregateOf(epoch: EpochEvent, d: number): number {
  const v = epoch.aggregateVariance?.[d];
  return isFiniteNumber(v) ? v : epoch.dims.varMu[d] + epoch.dims.meanSigmaSq[d];
}

/**
 * Mean of Var(μ_d) + E[σ_d²] over the active dimensions: the aggregate posterior's variance where
 * it matters. null when no dimension is active.
 */
export function activeAggregateVariance(epoch: EpochEvent, s: HealthSettings = DEFAULT_HEALTH_SETTINGS): number | null {
  const active = activeDimensions(epoch, s);
  if (active.length === 0) return null;
  return active.reduce((sum, d) => sum + aggregateOf(epoch, d), 0) / active.length;
}

/** Active dimensions whose aggregate posterior is off the prior: |E[μ_d]| or Var(μ_d) + E[σ_d²] too far from 0 / 1. */
export function dimensionsOffPrior(epoch: EpochEvent, s: HealthSettings = DEFAULT_HEALTH_SETTINGS): { mean: number[]; variance: number[] } {
  const mean: number[] = [];
  const variance: number[] = [];
  for (const d of activeDimensions(epoch, s)) {
    if (!(Math.abs(epoch.dims.meanMu[d]) <= s.meanMuTolerance)) mean.push(d);
    if (!(Math.abs(aggregateOf(epoch, d) - 1) <= s.aggregateVarianceTolerance)) variance.push(d);
  }
  return { mean, variance };
}

/**
 * Whether prior samples are at risk, judged once from the active dimensions' aggregate posterior:
 * by each dimension's mean and variance, and, where an epoch's diagnostics measured it, by the
 * share of prior samples that land in holes.
 */
export interface PriorVerdict {
  /** At least one dimension is active, none is off the prior (mean, variance), and the measured holes are few. */
  onPrior: boolean;
  active: number;
  /** Mean of Var(μ_d) + E[σ_d²] over the active dimensions (null: none is active). */
  aggregate: number | null;
  /** Active dimensions off the prior by their mean, by their variance. */
  mean: number[];
  variance: number[];
  /** The latest diagnostics it judged the holes by (at or before this epoch), if any. */
  measured?: { epoch: number; diagnostics: EpochDiagnostics };
  /** The measured hole rate is above holeRateTolerance. */
  holes: boolean;
}

/** The latest epoch at or before `epoch` whose event carries diagnostics. */
export function diagnosticsAsOf(epochs: readonly EpochEvent[], epoch: number): { epoch: number; diagnostics: EpochDiagnostics } | undefined {
  for (let i = epochs.length - 1; i >= 0; i--) {
    const e = epochs[i];
    if (e.epoch <= epoch && e.diagnostics) return { epoch: e.epoch, diagnostics: e.diagnostics };
  }
  return undefined;
}

/** `history`: the run's epochs, for the latest diagnostics at or before `epoch` (none given: only the epoch's own). */
export function priorVerdict(epoch: EpochEvent, s: HealthSettings = DEFAULT_HEALTH_SETTINGS, history: readonly EpochEvent[] = [epoch]): PriorVerdict {
  const active = activeDimensions(epoch, s).length;
  const { mean, variance } = dimensionsOffPrior(epoch, s);
  const measured = diagnosticsAsOf(history, epoch.epoch);
  const holes = !!measured && measured.diagnostics.holeRate > s.holeRateTolerance;
  return { onPrior: active > 0 && mean.length === 0 && variance.length === 0 && !holes, active, aggregate: activeAggregateVariance(epoch, s), mean, variance, measured, holes };
}

/** "2 have |E[μ_d]| > 0.30 (worst: dimension 8, -0.90); 1 has Var(μ_d) + E[σ_d²] outside …": the dimensions off the prior. */
function offPriorParts(epoch: EpochEvent, v: PriorVerdict, s: HealthSettings): string[] {
  const parts: string[] = [];
  if (v.mean.length) {
    const worst = v.mean.reduce((a, d) => (Math.abs(epoch.dims.meanMu[d]) > Math.abs(epoch.dims.meanMu[a]) ? d : a), v.mean[0]);
    parts.push(`${v.mean.length} ${agree(v.mean.length, 'has', 'have')} |E[μ_d]| > ${fmt(s.meanMuTolerance)} (worst: dimension ${worst + 1}, ${fmt(epoch.dims.meanMu[worst])})`);
  }
  if (v.variance.length) {
    const worst = v.variance.reduce((a, d) => (Math.abs(aggregateOf(epoch, d) - 1) > Math.abs(aggregateOf(epoch, a) - 1) ? d : a), v.variance[0]);
    parts.push(`${v.variance.length} ${agree(v.variance.length, 'has', 'have')} Var(μ_d) + E[σ_d²] outside [${fmt(1 - s.aggregateVarianceTolerance)}, ${fmt(1 + s.aggregateVarianceTolerance)}] (worst: dimension ${worst + 1}, ${fmt(aggregateOf(epoch, worst))})`);
  }
  return parts;
}

// ---------------------------------------------------------------------------------------------
// Gauge classification (the panel colours its gauges with these; the rules below use them too)

/** Whether a variance (an aggregate of active dimensions) is ≈ 1 (null: no active dimension). */
export function isAggregateVarianceNearOne(variance: number | null, s: HealthSettings = DEFAULT_HEALTH_SETTINGS): boolean {
  return variance !== null && Math.abs(variance - 1) <= s.aggregateVarianceTolerance;
}

/**
 * Test mean σ: good inside [1 − tol, 1 + tol]; outside it, info when the aggregate posterior is on
 * the prior (priorVerdict: prior samples are not at risk), else warning. Non-finite: error.
 */
export function classifyMeanSigma(meanSigma: number, onPrior: boolean, s: HealthSettings = DEFAULT_HEALTH_SETTINGS): HealthLevel {
  if (!isFiniteNumber(meanSigma)) return 'error';
  if (Math.abs(meanSigma - 1) <= s.sigmaTolerance) return 'good';
  return onPrior ? 'info' : 'warning';
}

/** Test mean μ: good when |mean μ| ≤ meanMuTolerance, else warning. Non-finite: error. */
export function classifyMeanMu(meanMu: number, s: HealthSettings = DEFAULT_HEALTH_SETTINGS): HealthLevel {
  if (!isFiniteNumber(meanMu)) return 'error';
  return Math.abs(meanMu) <= s.meanMuTolerance ? 'good' : 'warning';
}

/** Aggregate variance of the active dimensions: good when ≈ 1, warning otherwise; error when none is active (collapse). */
export function classifyAggregateVariance(variance: number | null, s: HealthSettings = DEFAULT_HEALTH_SETTINGS): HealthLevel {
  if (variance === null) return 'error';
  if (!isFiniteNumber(variance)) return 'error';
  return isAggregateVarianceNearOne(variance, s) ? 'good' : 'warning';
}

/**
 * Active units k of d: error when none is active (posterior collapse); warning when at least
 * unusedWarningFraction of the dimensions are unused; info when some are; good when all are used.
 */
export function classifyActiveUnits(active: number, dimz: number, s: HealthSettings = DEFAULT_HEALTH_SETTINGS): HealthLevel {
  if (dimz <= 0) return 'good';
  if (active <= 0) return 'error';
  const unusedShare = (dimz - active) / dimz;
  if (unusedShare <= 0) return 'good';
  return unusedShare >= s.unusedWarningFraction ? 'warning' : 'info';
}

/** All gauge levels for one epoch, with the numbers behind them. */
export function classifyEpoch(epoch: EpochEvent, s: HealthSettings = DEFAULT_HEALTH_SETTINGS): {
  meanSigma: HealthLevel;
  meanMu: HealthLevel;
  aggregateVariance: HealthLevel;
  activeUnits: HealthLevel;
  activeAggregateVariance: number | null;
  active: number;
  dimz: number;
} {
  const verdict = priorVerdict(epoch, s);
  const aggregate = verdict.aggregate;
  const active = verdict.active;
  const dimz = epoch.dims.varMu.length;
  return {
    meanSigma: classifyMeanSigma(epoch.test.meanSigma, verdict.onPrior, s),
    meanMu: classifyMeanMu(epoch.test.meanMu, s),
    aggregateVariance: classifyAggregateVariance(aggregate, s),
    activeUnits: classifyActiveUnits(active, dimz, s),
    activeAggregateVariance: aggregate,
    active,
    dimz,
  };
}

// ---------------------------------------------------------------------------------------------
// Rules over the history

/** The last `patience` epochs, all past the warm-up, all satisfying `holds`; else null. */
function persistent(epochs: EpochEvent[], s: HealthSettings, holds: (e: EpochEvent) => boolean): EpochEvent[] | null {
  if (epochs.length < s.patience) return null;
  const window = epochs.slice(-s.patience);
  return window.every((e) => e.epoch > s.warmupEpochs && holds(e)) ? window : null;
}

export function sigmaFarFromOne(epochs: EpochEvent[], s: HealthSettings = DEFAULT_HEALTH_SETTINGS): HealthFinding | null {
  const window = persistent(epochs, s, (e) => isFiniteNumber(e.test.meanSigma) && Math.abs(e.test.meanSigma - 1) > s.sigmaTolerance);
  if (!window) return null;
  const last = window[window.length - 1];
  const sigma = last.test.meanSigma;
  const verdict = priorVerdict(last, s, epochs);
  const severity = classifyMeanSigma(sigma, verdict.onPrior, s) === 'info' ? 'info' : 'warning';
  const range = `[${fmt(1 - s.sigmaTolerance)}, ${fmt(1 + s.sigmaTolerance)}]`;
  const what = sigma < 1
    ? 'the posteriors q(z|x) are much narrower than the prior N(0, I)'
    : 'the posteriors q(z|x) are much wider than the prior N(0, I)';
  const aggregateText = `Var(μ_d) + E[σ_d²] over the ${countOf(verdict.active, 'active dimension')} is ${fmt(verdict.aggregate ?? Number.NaN)}`;
  let consequence: string;
  if (verdict.onPrior) {
    consequence = `Over the whole test set, though, every active dimension has E[μ_d] ≈ 0 and ${aggregateText} ≈ 1: the aggregate posterior matches the prior, so images decoded from prior samples are not at risk from it.`;
  } else if (verdict.active === 0) {
    consequence = 'No latent dimension is active, so the decoder ignores z and prior samples all decode to the same image.';
  } else if (verdict.mean.length === 0 && verdict.variance.length === 0 && verdict.measured) {
    consequence = `Every active dimension has E[μ_d] ≈ 0 and ${aggregateText} ≈ 1, but the aggregate posterior has holes: ${holesText(verdict.measured)}, above ${fmt(100 * s.holeRateTolerance, 0)}% (≈ 1% when it matches the prior). Images decoded from those samples may not look like the data. ${OFF_PRIOR_REMEDY}`;
  } else {
    consequence = `The aggregate posterior is off the prior too: of ${countOf(verdict.active, 'active dimension')}, ${offPriorParts(last, verdict, s).join('; ')}; ${aggregateText} (target 1). Images decoded from z ~ N(0, I) may land where the decoder was never trained. ${OFF_PRIOR_REMEDY}`;
  }
  const measured = diagnosticsSentence(verdict.measured);
  return {
    kind: 'sigma-far-from-one',
    severity,
    epoch: last.epoch,
    message: `Test mean σ has been outside ${range} for ${countOf(window.length, 'epoch')} (now ${fmt(sigma)}): ${what}. ${consequence}${measured ? ` ${measured}` : ''}`,
  };
}

/** "26.3% of 5000 prior samples (measured at epoch 5) land where no test image's posterior puts mass". */
function holesText(m: { epoch: number; diagnostics: EpochDiagnostics }): string {
  return `${fmt(100 * m.diagnostics.holeRate, 1)}% of prior samples (measured at epoch ${m.epoch}) land where no test image's posterior puts mass`;
}

/**
 * What the latest latent diagnostics say about the same question, in one sentence: how much of the
 * KL is information and how much prior mismatch, and the share of prior samples that land in holes.
 * null when no epoch has them.
 */
function diagnosticsSentence(m: { epoch: number; diagnostics: EpochDiagnostics } | undefined): string | null {
  if (!m) return null;
  const d = m.diagnostics;
  const atLeast = informationAtCeiling(d) ? 'at least ' : '';
  return `Measured at epoch ${m.epoch} on ${d.images} test images: of the KL's ${fmt(d.meanKl, 1)} nats, ${atLeast}${fmt(d.mutualInformation, 1)} carry information about x and ` +
    `${fmt(d.marginalKl, 1)} are prior mismatch (${fmt(d.moments.total, 1)} in mean and covariance, ${fmt(d.nonGaussian, 1)} in shape); ` +
    `${fmt(100 * d.holeRate, 1)}% of prior samples land where no test image's posterior puts mass.`;
}

/** What pulls an aggregate posterior towards the prior: the remedy both prior warnings name. */
const OFF_PRIOR_REMEDY = 'A KL weight C above 1 (klWeight, e.g. 2) pulls it towards the prior at some cost in reconstruction; training longer often helps too.';

/** Unused dimensions (some: info or warning by share) or posterior collapse (all: error). */
export function unusedLatentDimensions(epochs: EpochEvent[], s: HealthSettings = DEFAULT_HEALTH_SETTINGS): HealthFinding | null {
  const window = persistent(epochs, s, (e) => unusedDimensions(e, s).length > 0);
  if (!window) return null;
  const last = window[window.length - 1];
  const unused = unusedDimensions(last, s).length;
  const dimz = last.dims.kl.length;
  if (unused === dimz) {
    return {
      kind: 'posterior-collapse',
      severity: 'error',
      epoch: last.epoch,
      message: `Posterior collapse: ${dimz === 1 ? 'the only latent dimension is' : `all ${dimz} latent dimensions are`} unused (KL_d < ${s.unusedKlThreshold} nats, σ_d ≈ 1), so the decoder ignores z and every prior sample decodes to the same average image. Remedies: free bits (freeBits, e.g. 0.25 nats per dimension), a KL warm-up (klWarmupEpochs) or cyclical KL annealing (klCycles), a smaller KL weight C (klWeight), or a less powerful decoder.`,
    };
  }
  const severity: WarningSeverity = unused / dimz >= s.unusedWarningFraction ? 'warning' : 'info';
  return {
    kind: 'unused-dimensions',
    severity,
    epoch: last.epoch,
    message: `${unused} of ${countOf(dimz, 'latent dimension')} ${agree(unused, 'is', 'are')} unused (KL_d < ${s.unusedKlThreshold} nats and σ_d ≈ 1: the decoder ignores ${agree(unused, 'it', 'them')}). ${agree(unused, 'It sits', 'They sit')} exactly on the prior, which pulls mean σ towards 1 without making prior samples better; a smaller dimz would do the same work${severity === 'warning' ? ', and free bits (freeBits, e.g. 0.25) keep dimensions from collapsing if you want them used' : ''}.`,
  };
}

export function aggregateOffPrior(epochs: EpochEvent[], s: HealthSettings = DEFAULT_HEALTH_SETTINGS): HealthFinding | null {
  const off = (e: EpochEvent) => {
    const v = priorVerdict(e, s, epochs);
    return v.mean.length + v.variance.length > 0 || v.holes;
  };
  const window = persistent(epochs, s, off);
  if (!window) return null;
  const last = window[window.length - 1];
  const verdict = priorVerdict(last, s, epochs);
  const measured = diagnosticsSentence(verdict.measured);
  const parts = offPriorParts(last, verdict, s);
  if (verdict.holes && verdict.measured) parts.push(`it has holes: ${holesText(verdict.measured)}, above ${fmt(100 * s.holeRateTolerance, 0)}%`);
  return {
    kind: 'aggregate-off-prior',
    severity: 'warning',
    epoch: last.epoch,
    message: `The aggregate posterior is off the prior N(0, I): of ${countOf(verdict.active, 'active dimension')}, ${parts.join('; ')}. Images decoded from prior samples will not look like the data there. ${OFF_PRIOR_REMEDY}${measured ? ` ${measured}` : ''}`,
  };
}

const DIVERGED_PATTERN = /\bnan\b|non-?finite|diverg|infinit/i;

/** NaN or infinite losses, from an epoch's numbers or from the trainer's error events. */
export function diverged(events: RunEvent[]): HealthFinding | null {
  for (const e of events) {
    if (e.type === 'epoch' && !(isFiniteNumber(e.train?.loss) && isFiniteNumber(e.test?.loss))) {
      return {
        kind: 'diverged',
        severity: 'error',
        epoch: e.epoch,
        message: `Training diverged at epoch ${e.epoch}: the loss is not a finite number. Lower the learning rate (learningRate) or the KL weight, and resume from the last checkpoint or start again.`,
      };
    }
    if (e.type === 'error' && DIVERGED_PATTERN.test(e.message)) {
      const where = e.epoch !== undefined ? ` at epoch ${e.epoch}` : '';
      return {
        kind: 'diverged',
        severity: 'error',
        epoch: e.epoch ?? 0,
        // The trainer's own message already names the batch and the remedies.
        message: `Training diverged${where}: ${e.message.replace(/^Training diverged[:;.]?\s*/i, '')}`,
      };
    }
  }
  return null;
}

export function overfitting(epochs: EpochEvent[], s: HealthSettings = DEFAULT_HEALTH_SETTINGS): HealthFinding | null {
  const n = s.overfittingEpochs;
  if (epochs.length < n + 1) return null;
  const window = epochs.slice(-(n + 1));
  for (let i = 1; i < window.length; i++) {
    if (!(window[i].test.loss > window[i - 1].test.loss)) return null;
  }
  const first = window[0];
  const last = window[window.length - 1];
  if (!(last.train.loss < first.train.loss)) return null;
  return {
    kind: 'overfitting',
    severity: 'warning',
    epoch: last.epoch,
    message: `Overfitting: the test loss rose for ${countOf(n, 'epoch')} in a row (${fmt(first.test.loss, 1)} → ${fmt(last.test.loss, 1)}) while the training loss fell (${fmt(first.train.loss, 1)} → ${fmt(last.train.loss, 1)}). Stop here, use more training images, or a smaller model.`,
  };
}

/** Epoch events in epoch order, the later event winning for a repeated epoch (runRules.foldEpochs). */
export const epochHistory = foldEpochs;

/**
 * Every rule over a run's events: the conditions that hold now (at the latest epoch), worst first.
 * Called on every new epoch.
 */
export function evaluateHealth(events: RunEvent[], s: HealthSettings = DEFAULT_HEALTH_SETTINGS): HealthFinding[] {
  const epochs = epochHistory(events);
  const sigma = sigmaFarFromOne(epochs, s);
  const findings = [
    diverged(events),
    unusedLatentDimensions(epochs, s),
    sigma,
    // A σ warning already says that (and where) the aggregate posterior is off the prior: one banner, not two.
    sigma?.severity === 'warning' ? null : aggregateOffPrior(epochs, s),
    overfitting(epochs, s),
  ].filter((f): f is HealthFinding => f !== null);
  return findings.sort((a, b) => compareSeverity(b.severity, a.severity));
}
