/**
 * Run folders for the tests and benchmarks of every layer, written exactly as a trainer writes
 * them (run.json, events.jsonl, samples/ and recon/ PNGs). Two shapes:
 * - writeRunFolder / healthEpoch: a run with the status, owner (pid, host) and epochs a host or
 *   rule test needs, its health numbers set by callbacks;
 * - writeMnistLikeRun / mnistLikeEpoch: a plausible MNIST run for the panels: the loss falls, a
 *   few latent dimensions become active while the rest stay on the prior (σ_d ≈ 1, KL_d ≈ 0),
 *   mean σ settles well below 1 for the active ones, and every epoch has its images; every
 *   diagnosticsEvery-th epoch (as configured, default 5) and the last carry the prior-fit
 *   diagnostics, consistent with the epoch's own numbers.
 */
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { defaultConfig, type TrainConfig } from '../../src/shared/config';
import type { EpochDiagnostics, EpochEvent, RunEvent, WarningEvent } from '../../src/shared/events';
import { EVENTS_FILE, RECON_DIR, RUN_FILE, SAMPLES_DIR, epochImageName, type RunInfo, type RunStatus } from '../../src/shared/run';

/** The environment run.json records, as a CPU trainer on `hostname` writes it. */
function fixtureEnvironment(hostname: string): RunInfo['environment'] {
  return { backend: 'wasm', backendVersion: '4.22.0', tfjsVersion: '4.22.0', device: 'CPU (wasm, SIMD, 1 thread)', threads: 1, node: 'v20.20.2', platform: 'linux', hostname };
}

export interface MnistLikeRunOptions {
  name?: string;
  epochs?: number;
  /** Epochs already written (default: all). */
  written?: number;
  dimz?: number;
  /** How many dimensions become active. */
  active?: number;
  status?: RunStatus;
  config?: Partial<TrainConfig>;
  /** Write PNGs for every epoch (default true); the 1,000-epoch run writes them every 100 epochs only. */
  imagesEvery?: number;
  /** Offsets the numbers, so two runs differ visibly. */
  flavour?: number;
  warnings?: WarningEvent[];
}

export function tempRunsDir(prefix = 'vae-lens-runs-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A small grey-level image whose pattern depends on the epoch, so two epochs' images differ. */
export function fixturePng(epoch: number, width = 56, height = 56): Buffer {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth: 8 });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = Math.round(127.5 + 127.5 * Math.sin((x + epoch * 3) / 5) * Math.cos((y - epoch) / 7));
      png.data[y * width + x] = v;
    }
  }
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth: 8 });
}

const klOf = (x: number) => 0.5 * (x - 1 - Math.log(x));

/**
 * Plausible diagnostics for an epoch whose per-dimension statistics are given: I(x; z) a share of
 * the KL, capped at ln(images) as the estimator is; the moment term from the epoch's own E[μ_d] and
 * Var(μ_d) + E[σ_d²] (its eigenvalues spread by correlations), so
 * total = meanShift + Σ perEigenvalue = Σ perDimension + correlation; holes that shrink with training.
 */
function fixtureDiagnostics(epoch: number, t: number, f: number, meanMu: number[], aggregate: number[], klTotal: number, negElbo: number): EpochDiagnostics {
  const images = 2000;
  const mutualInformation = Math.min(Math.log(images) - 0.002, 0.35 * klTotal);
  const spread = [2.4, 1.7, 1.3];
  const eigen = aggregate.slice().sort((a, b) => b - a).map((v, i) => v * (spread[i] ?? 1) * (i >= aggregate.length - 3 ? 0.6 : 1));
  const meanShift = 0.5 * meanMu.reduce((a, m) => a + m * m, 0);
  const perDimension = meanMu.map((m, d) => 0.5 * m * m + klOf(aggregate[d]));
  const perEigenvalue = eigen.map(klOf);
  const total = meanShift + perEigenvalue.reduce((a, b) => a + b, 0);
  const marginalKl = klTotal - mutualInformation;
  const holeRate = Math.min(1, Math.max(0, 0.34 - 0.22 * t + 0.02 * f));
  return {
    images, mutualInformation, meanKl: klTotal, marginalKl,
    moments: { total, meanShift, correlation: total - perDimension.reduce((a, b) => a + b, 0), perDimension, perEigenvalue },
    nonGaussian: marginalKl - total,
    holeRate, priorSamples: 10000,
    fixedNoiseHoleRate: Math.min(1, Math.max(0, holeRate + 0.03 * Math.sin(epoch))),
    iwNll: { k: 100, images: 500, value: negElbo - 2 - 2.5 * t },
  };
}

/** The numbers of one epoch of a plausible MNIST run. Deterministic in (epoch, options). */
export function mnistLikeEpoch(epoch: number, o: { epochs: number; dimz: number; active: number; flavour?: number; images?: boolean; /** As the config's (default 5); 0: no diagnostics. */ diagnosticsEvery?: number }): EpochEvent {
  const f = o.flavour ?? 0;
  const t = 1 - Math.exp(-epoch / 8);
  const wobble = 0.6 * Math.sin(epoch * 1.7 + f);
  const recon = 150 - 60 * t + wobble + 4 * f;
  const meanMu: number[] = [], varMu: number[] = [], meanSigmaSq: number[] = [], kl: number[] = [];
  const active = Math.min(o.dimz, Math.round(o.active * (0.5 + 0.5 * t)));
  for (let d = 0; d < o.dimz; d++) {
    if (d < active) {
      const s2 = 0.02 + 0.1 * (1 - t) + 0.01 * (d % 5);
      const v = 0.9 + 0.06 * Math.cos(d + f);
      const m = 0.05 * Math.sin(d * 2.3 + epoch * 0.1);
      meanMu.push(m);
      varMu.push(v);
      meanSigmaSq.push(s2);
      kl.push(0.5 * (v + m * m + s2 - 1 - Math.log(s2)));
    } else {
      meanMu.push(0.001 * Math.sin(d));
      varMu.push(0.0005);
      meanSigmaSq.push(0.995);
      kl.push(0.002);
    }
  }
  const klTotal = kl.reduce((a, b) => a + b, 0);
  const meanSigma = meanSigmaSq.reduce((a, s2) => a + Math.sqrt(s2), 0) / o.dimz;
  const mu = meanMu.reduce((a, b) => a + b, 0) / o.dimz;
  const split = (extra: number) => ({
    loss: recon + klTotal + extra, reconstruction: recon + extra, kl: klTotal,
    meanMu: mu + extra * 0.001, meanSigma: meanSigma * (1 + extra * 0.001),
  });
  const name = epochImageName(epoch);
  const aggregateVariance = varMu.map((v, d) => v + meanSigmaSq[d]);
  const test = split(1.5);
  const every = o.diagnosticsEvery ?? defaultConfig().diagnosticsEvery;
  const measured = every > 0 && (epoch % every === 0 || epoch === o.epochs);
  return {
    type: 'epoch', v: 1, time: new Date(Date.UTC(2026, 10, 28, 9, 0, epoch * 7)).toISOString(), epoch, epochs: o.epochs,
    train: split(-2), test,
    dims: { meanMu, varMu, meanSigmaSq, kl },
    activeUnits: varMu.filter((v) => v > 0.01).length,
    aggregateVariance,
    klWeight: 1, samplesPerSecond: 2100 + 10 * f, secondsPerEpoch: 28.5,
    images: { samples: `${SAMPLES_DIR}/${name}`, recon: `${RECON_DIR}/${name}` },
    ...(measured ? { diagnostics: fixtureDiagnostics(epoch, t, f, meanMu, aggregateVariance, klTotal, test.reconstruction + test.kl) } : {}),
  };
}

export function writeEpochImages(dir: string, epoch: number): void {
  mkdirSync(join(dir, SAMPLES_DIR), { recursive: true });
  mkdirSync(join(dir, RECON_DIR), { recursive: true });
  writeFileSync(join(dir, SAMPLES_DIR, epochImageName(epoch)), fixturePng(epoch));
  writeFileSync(join(dir, RECON_DIR, epochImageName(epoch)), fixturePng(epoch + 1000, 56, 28));
}

export function appendEvents(dir: string, events: RunEvent[]): void {
  appendFileSync(join(dir, EVENTS_FILE), events.map((e) => JSON.stringify(e) + '\n').join(''));
}

export function writeRunJson(dir: string, info: RunInfo): void {
  writeFileSync(join(dir, RUN_FILE), JSON.stringify(info, null, 2) + '\n');
}

/** Writes a plausible MNIST run (with images) under runsDir and returns its folder. */
export function writeMnistLikeRun(runsDir: string, options: MnistLikeRunOptions = {}): string {
  const epochs = options.epochs ?? 12;
  const written = options.written ?? epochs;
  const dimz = options.dimz ?? 20;
  const active = options.active ?? Math.min(dimz, 12);
  const name = options.name ?? 'fixture';
  const id = `20261128-090000-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  const dir = join(runsDir, id);
  mkdirSync(dir, { recursive: true });
  const config: TrainConfig = { ...defaultConfig(), name, dimz, epochs, ...options.config };
  const status = options.status ?? (written >= epochs ? 'completed' : 'running');
  const info: RunInfo = {
    schemaVersion: 1, id, name, config,
    environment: fixtureEnvironment('fixture'),
    created: '2026-11-28T09:00:00.000Z', updated: '2026-11-28T09:10:00.000Z', status, epochsCompleted: written,
    ...(status === 'running' ? { pid: process.pid } : {}),
  };
  writeRunJson(dir, info);
  const every = options.imagesEvery ?? 1;
  const events: RunEvent[] = [{ type: 'status', v: 1, time: info.created, status: 'running' }];
  for (let e = 1; e <= written; e++) {
    const event = mnistLikeEpoch(e, { epochs, dimz, active, flavour: options.flavour, diagnosticsEvery: config.diagnosticsEvery });
    if (e % every === 0 || e === written || e === 1) writeEpochImages(dir, e);
    else event.images = { samples: '', recon: '' };
    events.push(event);
  }
  events.push(...(options.warnings ?? []));
  if (status === 'completed') events.push({ type: 'status', v: 1, time: info.updated, status: 'completed', epoch: written });
  writeFileSync(join(dir, EVENTS_FILE), events.map((e) => JSON.stringify(e) + '\n').join(''));
  return dir;
}

export interface RunFolderOptions {
  id: string;
  name?: string;
  status?: RunStatus;
  epochs?: number;
  /** Epoch events written. */
  completed?: number;
  config?: Partial<TrainConfig>;
  pid?: number;
  hostname?: string;
  /** Mean σ of the test split per epoch (default: a healthy dimz-20 run, ≈ 0.3). */
  sigma?: (epoch: number) => number;
  /** Per-dimension Var(μ_d), E[σ_d²] (default: healthy, aggregate ≈ 1). */
  dims?: (epoch: number, d: number) => { varMu: number; sigmaSq: number; kl: number; mu?: number };
}

/** One epoch whose health numbers (mean σ, per-dimension statistics) the options set; the rest is fixed. */
export function healthEpoch(epoch: number, epochs: number, dimz: number, opts: Pick<RunFolderOptions, 'sigma' | 'dims'> = {}): EpochEvent {
  const dims = Array.from({ length: dimz }, (_, d) => opts.dims?.(epoch, d) ?? { varMu: 0.9, sigmaSq: 0.08, kl: 2 + d / 10, mu: 0.01 });
  const loss = 180 - 60 * (1 - Math.exp(-epoch / 5));
  const split = (l: number) => ({ loss: l, reconstruction: l - 25, kl: 25, meanMu: 0.01, meanSigma: opts.sigma?.(epoch) ?? 0.3 });
  return {
    type: 'epoch', v: 1, time: new Date(Date.UTC(2026, 10, 28, 9, 0, epoch)).toISOString(), epoch, epochs,
    train: split(loss - 1), test: split(loss),
    dims: { meanMu: dims.map((d) => d.mu ?? 0), varMu: dims.map((d) => d.varMu), meanSigmaSq: dims.map((d) => d.sigmaSq), kl: dims.map((d) => d.kl) },
    activeUnits: dims.filter((d) => d.varMu > 0.01).length,
    aggregateVariance: dims.map((d) => d.varMu + d.sigmaSq),
    klWeight: 1, samplesPerSecond: 2100, secondsPerEpoch: 28.5,
    images: { samples: `samples/epoch-${String(epoch).padStart(4, '0')}.png`, recon: `recon/epoch-${String(epoch).padStart(4, '0')}.png` },
  };
}

/** Writes a run folder with the given status, owner and epochs (no images) under runsDir and returns it. */
export function writeRunFolder(runsDir: string, o: RunFolderOptions): string {
  const dir = join(runsDir, o.id);
  mkdirSync(dir, { recursive: true });
  const config = { ...defaultConfig(), name: o.name ?? o.id, epochs: o.epochs ?? 10, ...o.config };
  const completed = o.completed ?? 0;
  const info: RunInfo = {
    schemaVersion: 1, id: o.id, name: config.name, config, created: '2026-11-28T09:00:00.000Z', updated: '2026-11-28T09:00:00.000Z',
    status: o.status ?? 'completed', pid: o.pid, epochsCompleted: completed,
    environment: fixtureEnvironment(o.hostname ?? 'here'),
  };
  writeRunJson(dir, info);
  const events: RunEvent[] = [{ type: 'status', v: 1, time: info.created, status: 'running' }];
  for (let e = 1; e <= completed; e++) events.push(healthEpoch(e, config.epochs, config.dimz, o));
  writeFileSync(join(dir, EVENTS_FILE), events.map((e) => JSON.stringify(e) + '\n').join(''));
  return dir;
}
