/**
 * Run folders for the panel tests and benchmarks, written exactly as a trainer writes them
 * (run.json, events.jsonl, samples/ and recon/ PNGs), with numbers shaped like a real MNIST VAE:
 * the loss falls, a few latent dimensions become active while the rest stay on the prior
 * (σ_d ≈ 1, KL_d ≈ 0), mean σ settles well below 1 for the active ones.
 */
import { mkdirSync, writeFileSync, appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { defaultConfig, type TrainConfig } from '../../src/shared/config';
import type { EpochEvent, RunEvent, WarningEvent } from '../../src/shared/events';
import { epochImageName, RECON_DIR, SAMPLES_DIR, type RunInfo, type RunStatus } from '../../src/shared/run';

export interface FixtureOptions {
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

/** The numbers of one epoch of a plausible run. Deterministic in (epoch, options). */
export function fixtureEpoch(epoch: number, o: { epochs: number; dimz: number; active: number; flavour?: number; images?: boolean }): EpochEvent {
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
  return {
    type: 'epoch', v: 1, time: new Date(Date.UTC(2026, 10, 28, 9, 0, epoch * 7)).toISOString(), epoch, epochs: o.epochs,
    train: split(-2), test: split(1.5),
    dims: { meanMu, varMu, meanSigmaSq, kl },
    activeUnits: varMu.filter((v) => v > 0.01).length,
    aggregateVariance: varMu.map((v, d) => v + meanSigmaSq[d]),
    klWeight: 1, samplesPerSecond: 2100 + 10 * f, secondsPerEpoch: 28.5,
    images: { samples: `${SAMPLES_DIR}/${name}`, recon: `${RECON_DIR}/${name}` },
  };
}

export function writeEpochImages(dir: string, epoch: number): void {
  mkdirSync(join(dir, SAMPLES_DIR), { recursive: true });
  mkdirSync(join(dir, RECON_DIR), { recursive: true });
  writeFileSync(join(dir, SAMPLES_DIR, epochImageName(epoch)), fixturePng(epoch));
  writeFileSync(join(dir, RECON_DIR, epochImageName(epoch)), fixturePng(epoch + 1000, 56, 28));
}

export function appendEvents(dir: string, events: RunEvent[]): void {
  appendFileSync(join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e) + '\n').join(''));
}

export function writeRunJson(dir: string, info: RunInfo): void {
  writeFileSync(join(dir, 'run.json'), JSON.stringify(info, null, 2) + '\n');
}

/** Writes a run folder under runsDir and returns its path. */
export function writeFixtureRun(runsDir: string, options: FixtureOptions = {}): string {
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
    environment: { backend: 'wasm', backendVersion: '4.22.0', tfjsVersion: '4.22.0', device: 'CPU (wasm, SIMD, 1 thread)', threads: 1, node: 'v20.20.2', platform: 'linux', hostname: 'fixture' },
    created: '2026-11-28T09:00:00.000Z', updated: '2026-11-28T09:10:00.000Z', status, epochsCompleted: written,
    ...(status === 'running' ? { pid: process.pid } : {}),
  };
  writeRunJson(dir, info);
  const every = options.imagesEvery ?? 1;
  const events: RunEvent[] = [{ type: 'status', v: 1, time: info.created, status: 'running' }];
  for (let e = 1; e <= written; e++) {
    const event = fixtureEpoch(e, { epochs, dimz, active, flavour: options.flavour });
    if (e % every === 0 || e === written || e === 1) writeEpochImages(dir, e);
    else event.images = { samples: '', recon: '' };
    events.push(event);
  }
  events.push(...(options.warnings ?? []));
  if (status === 'completed') events.push({ type: 'status', v: 1, time: info.updated, status: 'completed', epoch: written });
  writeFileSync(join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e) + '\n').join(''));
  return dir;
}
