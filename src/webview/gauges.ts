/**
 * The convergence gauges: one number each, coloured by the shared health rules (the same rules
 * that raise the warnings in the VAE Runs view), with a sparkline of its history and its target.
 */
import type { EpochEvent } from '../shared/events';
import {
  activeAggregateVariance, activeDimensions, classifyActiveUnits, DEFAULT_HEALTH_SETTINGS, classifyAggregateVariance, classifyMeanMu, classifyMeanSigma, priorVerdict, type HealthLevel, type HealthSettings,
} from '../shared/health';
import { h, svg } from './dom';
import { formatNumber } from './format';
import { thin } from './series';

export interface GaugeReading {
  value: number | null;
  text: string;
  level: HealthLevel;
}

export interface GaugeSpec {
  id: string;
  label: string;
  /** What the value aims at; a function when it names a threshold the user can set. */
  target: string | ((s: HealthSettings) => string);
  targetValue?: number;
  explanation: string;
  /**
   * Reads an epoch, judged by the thresholds the host sent (the user's settings); `measured` holds
   * the epochs so far that carry latent diagnostics (the prior verdict judges holes by the latest).
   */
  read: (e: EpochEvent, s: HealthSettings, measured: readonly EpochEvent[]) => GaugeReading;
}

function targetText(spec: GaugeSpec, s: HealthSettings): string {
  return typeof spec.target === 'function' ? spec.target(s) : spec.target;
}

const LEVEL_WORDS: Record<HealthLevel, string> = { good: 'on target', info: 'note', warning: 'warning', error: 'problem' };

function reading(value: number | null, level: HealthLevel, digits = 3): GaugeReading {
  return { value, text: formatNumber(value, digits), level };
}

/** The study's two gauges for one split: mean μ (target 0) and mean σ (target 1). */
function studyGauges(split: 'test' | 'train'): GaugeSpec[] {
  const images = split === 'test' ? 'test images' : 'training images';
  return [
    {
      id: `${split}-mean-mu`, label: `mean μ (${split})`, target: 'target 0', targetValue: 0,
      explanation: `μ averaged over ${images} and latent dimensions; the prior N(0, I) has mean 0.`,
      read: (e, s) => reading(e[split].meanMu, classifyMeanMu(e[split].meanMu, s)),
    },
    {
      id: `${split}-mean-sigma`, label: `mean σ (${split})`, target: 'target 1', targetValue: 1,
      explanation: `σ averaged over ${images} and dimensions; the prior has σ = 1. Far from 1 is a warning only when the aggregate variance of the active dimensions is off too.`,
      read: (e, s, measured) => reading(e[split].meanSigma, classifyMeanSigma(e[split].meanSigma, priorVerdict(e, s, measured).onPrior, s)),
    },
  ];
}

export const GAUGES: GaugeSpec[] = [
  ...studyGauges('test'),
  ...studyGauges('train'),
  {
    id: 'aggregate-variance', label: 'aggregate variance (active dims)', target: 'target 1', targetValue: 1,
    explanation: 'Var(μ_d) + E[σ_d²] averaged over the active dimensions: ≈ 1 when the encoder\'s posteriors, taken over the whole test set, match N(0, I), which is what makes decoded prior samples look like data.',
    read: (e, s) => {
      const v = activeAggregateVariance(e, s);
      return reading(v, classifyAggregateVariance(v, s));
    },
  },
  {
    id: 'active-units', label: 'active units', target: (s) => `Var(μ_d) > ${s.activeVarianceThreshold}`,
    explanation: 'Latent dimensions the encoder uses (Burda et al. 2015). Unused dimensions sit on the prior (σ_d ≈ 1, KL_d ≈ 0) and pull mean σ towards 1 without helping the samples.',
    read: (e, s) => {
      // Counted here with the user's threshold (the trainer's activeUnits uses the default 0.01).
      const d = e.dims.varMu.length;
      const active = activeDimensions(e, s).length;
      return { value: active, text: `${active} of ${d}`, level: classifyActiveUnits(active, d, s) };
    },
  },
];

const SPARK_W = 120;
const SPARK_H = 26;
const SPARK_POINTS = 120;

export class Gauge {
  readonly el: HTMLElement;
  private readonly valueEl: HTMLElement;
  private readonly levelEl: HTMLElement;
  private readonly targetEl: HTMLElement;
  private readonly spark: SVGElement;
  private history: number[] = [];
  /** The epochs so far that carry latent diagnostics. */
  private measured: EpochEvent[] = [];

  constructor(readonly spec: GaugeSpec) {
    this.valueEl = h('span', { class: 'gauge-value', 'data-testid': `gauge-${spec.id}-value` }, '–');
    this.levelEl = h('span', { class: 'gauge-level' });
    this.spark = svg('svg', { class: 'sparkline', width: SPARK_W, height: SPARK_H, viewBox: `0 0 ${SPARK_W} ${SPARK_H}`, 'aria-hidden': 'true' });
    this.el = h('section', { class: 'gauge', 'data-gauge': spec.id, 'data-level': 'none', title: spec.explanation, 'aria-label': spec.label },
      h('div', { class: 'gauge-label' }, spec.label),
      h('div', { class: 'gauge-main' }, this.valueEl, this.levelEl),
      (this.targetEl = h('div', { class: 'gauge-target' }, targetText(spec, DEFAULT_HEALTH_SETTINGS))),
      this.spark,
    );
  }

  /** Replaces the history (snapshot). */
  setEpochs(epochs: readonly EpochEvent[], health: HealthSettings): void {
    this.history = [];
    this.measured = [];
    this.push(epochs, health);
  }

  /** Adds epochs and shows the latest. */
  push(epochs: readonly EpochEvent[], health: HealthSettings): void {
    let last: GaugeReading | undefined;
    for (const e of epochs) {
      if (e.diagnostics) this.measured.push(e);
      last = this.spec.read(e, health, this.measured);
      this.history.push(last.value ?? NaN);
    }
    const target = targetText(this.spec, health);
    this.targetEl.textContent = target;
    if (last) {
      this.valueEl.textContent = last.text;
      this.el.dataset.level = last.level;
      this.levelEl.textContent = LEVEL_WORDS[last.level];
      this.el.setAttribute('aria-label', `${this.spec.label}: ${last.text}, ${LEVEL_WORDS[last.level]} (${target})`);
    }
    this.drawSparkline();
  }

  private drawSparkline(): void {
    while (this.spark.firstChild) this.spark.firstChild.remove();
    const values = thin(this.history, SPARK_POINTS);
    const finite = values.filter(Number.isFinite);
    if (finite.length < 2) return;
    const target = this.spec.targetValue;
    let lo = Math.min(...finite, target ?? Infinity);
    let hi = Math.max(...finite, target ?? -Infinity);
    if (hi - lo < 1e-9) {
      lo -= 0.5;
      hi += 0.5;
    }
    const yOf = (v: number) => (SPARK_H - 2 - ((v - lo) / (hi - lo)) * (SPARK_H - 4)).toFixed(1);
    const xOf = (i: number) => ((i / (values.length - 1)) * (SPARK_W - 2) + 1).toFixed(1);
    if (target !== undefined) {
      this.spark.append(svg('line', { class: 'sparkline-target', x1: 0, x2: SPARK_W, y1: yOf(target), y2: yOf(target) }));
    }
    const points = values.map((v, i) => (Number.isFinite(v) ? `${xOf(i)},${yOf(v)}` : '')).filter(Boolean).join(' ');
    this.spark.append(svg('polyline', { class: 'sparkline-line', points }));
  }
}
