/**
 * A finished (or stopped) run's latent space, opened from its checkpoint: the model with the
 * checkpoint's weights on a TensorFlow.js backend, the run's test set, and every test image encoded
 * to μ (and ln σ²) once. The z batches decoded from it come from src/shared/latent.ts; what is
 * decoded is exactly what the trainer computes: the mean image E[x|z] of the run's likelihood.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice, TrainConfig } from '../../shared/config';
import type { RunEnvironment, RunInfo } from '../../shared/run';
import { LatentStatsAccumulator, type LatentSummary } from '../../shared/stats';
import { readRunInfo } from '../../node/runFolder';
import { selectBackend } from '../backend';
import { keptCheckpointEpochs, readCheckpoint, readKeptCheckpoint, restoreModel, type CheckpointContent, type TrainPosition } from '../checkpoint';
import { loadDataset, type Dataset, type LoadDatasetOptions } from '../data';
import { EVAL_CHUNK } from '../evaluate';
import { decodeMeans } from '../images';
import { createModel, imageShapeOfData, type VaeModel } from '../model';

/** A request the run cannot answer: no checkpoint, a z of the wrong length, an index out of range. */
export class ExplorerError extends Error {
  override readonly name = 'ExplorerError';
}

export interface Explorer {
  runId: string;
  runDir: string;
  config: TrainConfig;
  /** Where the checkpoint's weights are: epochs completed and the next batch. */
  epochsCompleted: number;
  position: TrainPosition;
  environment: RunEnvironment;
  model: VaeModel;
  data: Dataset;
  /** q(z|x) of every test image: testCount × dimz each. */
  mu: Float32Array;
  lnVar: Float32Array;
  /** Per-dimension statistics of the test posteriors (KL_d, Var(μ_d), …), as the trainer reports them. */
  latent: LatentSummary;
  dispose(): void;
}

export interface OpenOptions {
  /** A kept epoch's weights (config keepCheckpointEvery) instead of the latest checkpoint. */
  epoch?: number;
  /** The backend to decode on; default the run's configured choice. */
  backend?: BackendChoice;
  data?: LoadDatasetOptions;
  log?: (line: string) => void;
}

/** μ and ln σ² of rows images (rows × pixels values), in chunks of EVAL_CHUNK, as the test pass computes them. */
export async function encodeMeans(model: VaeModel, x: Float32Array, rows: number): Promise<{ mu: Float32Array; lnVar: Float32Array }> {
  const mu = new Float32Array(rows * model.dimz);
  const lnVar = new Float32Array(rows * model.dimz);
  for (let start = 0; start < rows; start += EVAL_CHUNK) {
    const n = Math.min(EVAL_CHUNK, rows - start);
    const kept = tf.tidy(() => {
      const q = model.encode(tf.tensor2d(x.subarray(start * model.pixels, (start + n) * model.pixels), [n, model.pixels]), false);
      return [q.mu, q.lnVar];
    });
    try {
      const [m, v] = (await Promise.all(kept.map((t) => t.data()))) as Float32Array[];
      mu.set(m, start * model.dimz);
      lnVar.set(v, start * model.dimz);
    } finally {
      tf.dispose(kept);
    }
  }
  return { mu, lnVar };
}

/** Opens a run's checkpoint; an ExplorerError when the run has none yet. */
export async function openExplorer(runDir: string, options: OpenOptions = {}): Promise<Explorer> {
  const info = await readRunInfo(runDir);
  const latest = await readCheckpoint(runDir);
  // The latest checkpoint serves a chosen epoch only when it holds that epoch's end (not a stop mid-way through the next).
  if (options.epoch !== undefined && !(latest?.epochsCompleted === options.epoch && latest.position.batch === 0)) {
    const kept = await readKeptCheckpoint(runDir, options.epoch);
    if (!kept) {
      const epochs = keptCheckpointEpochs(runDir);
      throw new ExplorerError(
        `Run ${info.id} keeps no weights of epoch ${options.epoch}: ${epochs.length ? `it keeps epochs ${epochs.join(', ')}` : 'it keeps only its latest checkpoint'} ` +
          `(config keepCheckpointEvery: ${info.config.keepCheckpointEvery}).`,
      );
    }
    return openCheckpoint(runDir, info, kept, options);
  }
  const checkpoint = latest;
  if (!checkpoint) {
    throw new ExplorerError(
      `Run ${info.id} has no checkpoint yet (it is written at the end of each epoch and when a run is stopped): ` +
        `train or resume it until at least one epoch has ended (vae-lens resume ${info.id}).`,
    );
  }
  return openCheckpoint(runDir, info, checkpoint, options);
}

async function openCheckpoint(runDir: string, info: RunInfo, checkpoint: CheckpointContent, options: OpenOptions): Promise<Explorer> {
  const config = checkpoint.config;
  const environment = await selectBackend(options.backend ?? config.backend, { threads: config.threads, log: options.log });
  // Only the test set is explored: the training files are not read (60,000 MNIST images would be 188 MB as floats).
  const data = await loadDataset(config, { ...options.data, idxFolder: info.data?.folder, testOnly: true });
  const model = createModel(config, imageShapeOfData(data));
  try {
    restoreModel(model, checkpoint);
    const { mu, lnVar } = await encodeMeans(model, data.test, data.testCount);
    const stats = new LatentStatsAccumulator(config.dimz);
    stats.add(mu, lnVar, data.testCount);
    return {
      runId: info.id, runDir, config, epochsCompleted: checkpoint.epochsCompleted, position: checkpoint.position, environment,
      model, data, mu, lnVar, latent: stats.summary(),
      dispose: () => model.dispose(),
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** A test image's index, checked against the run's test set; `role` names it in the message (e.g. `(--from)`). */
export function checkTestIndex(explorer: Pick<Explorer, 'data'>, index: number, role = ''): number {
  const n = explorer.data.testCount;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new ExplorerError(`Test image ${index}${role ? ` ${role}` : ''} is out of range: the run's test set has ${n} images (0–${n - 1}).`);
  }
  return index;
}

/** Test image i's μ (a copy); `role` as for checkTestIndex. */
export function testMu(explorer: Pick<Explorer, 'data' | 'mu' | 'config'>, index: number, role = ''): Float32Array {
  const dimz = explorer.config.dimz;
  checkTestIndex(explorer, index, role);
  return explorer.mu.slice(index * dimz, (index + 1) * dimz);
}

/** Dimensions numbered from 1 (z1 … z_dimz, as in the panels) → 0-based indices, each checked. */
export function dimensionIndices(explorer: Pick<Explorer, 'config'>, numbers: readonly number[]): number[] {
  const dimz = explorer.config.dimz;
  return numbers.map((n) => {
    if (!Number.isInteger(n) || n < 1 || n > dimz) throw new ExplorerError(`Dimension ${n} is out of range: the run has dimz ${dimz} (dimensions 1–${dimz}).`);
    return n - 1;
  });
}

/** rows × dimz values of z, checked against the model's dimz. */
export function checkZ(explorer: Pick<Explorer, 'config'>, z: readonly number[]): Float32Array {
  const dimz = explorer.config.dimz;
  if (z.length === 0 || z.length % dimz !== 0) {
    throw new ExplorerError(`z has ${z.length} values; the run's latent space has dimz ${dimz}, so each z needs exactly ${dimz}.`);
  }
  const bad = z.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new ExplorerError(`z value ${bad + 1} is not a finite number.`);
  return Float32Array.from(z);
}

/** The decoder's mean images for rows of z: rows × pixels values in [0, 1]. */
export function decode(explorer: Pick<Explorer, 'model'>, z: Float32Array): Promise<Float32Array> {
  return decodeMeans(explorer.model, z);
}
