/**
 * checkpoint/: everything needed to continue a run exactly where it stopped — weights, batch
 * normalization state, Adam state, the position in the run (epoch and next batch) and the epoch's
 * partial sums. Random numbers are keyed by (seed, stream, epoch, batch) (see rng.ts), so the
 * position is the whole random state: the epoch's permutation and every batch's noise are
 * recomputed from it.
 *
 * Written atomically: into a fresh temp folder, then the previous checkpoint is moved aside, the
 * new one renamed into place and the old one deleted. A crash at any moment leaves either the new
 * or the previous checkpoint readable (readCheckpoint falls back to the moved-aside one).
 */
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainConfig } from '../shared/config';
import type { EpochEvent } from '../shared/events';
import { CHECKPOINT_DIR, KEPT_CHECKPOINTS_DIR, keptCheckpointName } from '../shared/run';
import { removeDeadWritersFiles } from '../node/leftovers';
import type { VaeModel } from './model';
import type { OptimizerState } from './step';

export const CHECKPOINT_VERSION = 1;
const META_FILE = 'checkpoint.json';
const DATA_FILE = 'tensors.bin';
const PREVIOUS_SUFFIX = '.previous';
const TMP_INFIX = '.tmp-';
const CHECKPOINT_TMP = new RegExp(`^${CHECKPOINT_DIR}\\.tmp-(\\d+)$`);
const KEPT_TMP = /^epoch-\d{4,}\.tmp-(\d+)$/;

export interface TrainPosition {
  /** 1-based epoch to run next (or to continue). */
  epoch: number;
  /** 0-based batch of that epoch to run next. */
  batch: number;
}

/** Partial sums of the epoch in progress (MeanAccumulator.toJSON) and the time it has taken so far. */
export interface EpochProgress {
  train: { n: number; sums: Record<string, number> };
  trainSeconds: number;
}

export interface CheckpointContent {
  config: TrainConfig;
  /** Epochs fully completed. */
  epochsCompleted: number;
  position: TrainPosition;
  progress: EpochProgress;
  /** The last completed epoch's event, so a crash between checkpoint and events.jsonl loses nothing. */
  lastEpochEvent?: EpochEvent;
  parameters: Record<string, { shape: number[]; values: Float32Array }>;
  modelState: Record<string, { shape: number[]; values: Float32Array }>;
  optimizer: OptimizerState;
}

interface TensorEntry {
  group: 'parameters' | 'modelState' | 'optimizer';
  name: string;
  shape: number[];
  /** Offset in float32 elements into tensors.bin. */
  offset: number;
  length: number;
}

interface Meta {
  version: number;
  written: string;
  config: TrainConfig;
  epochsCompleted: number;
  position: TrainPosition;
  progress: EpochProgress;
  lastEpochEvent?: EpochEvent;
  optimizerStep: number;
  tensors: TensorEntry[];
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

async function writeFileSynced(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await fs.open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeCheckpoint(runDir: string, content: CheckpointContent): Promise<void> {
  await removeCheckpointLeftovers(runDir);
  await writeCheckpointFolder(join(runDir, CHECKPOINT_DIR), content);
}

/**
 * Keeps a copy of an epoch's weights in checkpoints/epoch-NNNN (config keepCheckpointEvery) for the
 * latent explorer: parameters and model state, without the optimizer's slots (a kept copy is never
 * resumed from). Written like the checkpoint, atomically; a re-trained epoch replaces its copy.
 */
export async function keepCheckpoint(runDir: string, content: CheckpointContent): Promise<void> {
  const dir = join(runDir, KEPT_CHECKPOINTS_DIR);
  await fs.mkdir(dir, { recursive: true });
  await removeDeadWritersFiles(dir, KEPT_TMP);
  await writeCheckpointFolder(join(dir, keptCheckpointName(content.epochsCompleted)), { ...content, optimizer: { step: content.optimizer.step, slots: {} } });
}

/** The epochs whose weights the run keeps (checkpoints/epoch-NNNN with its metadata), in order. */
export function keptCheckpointEpochs(runDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(join(runDir, KEPT_CHECKPOINTS_DIR));
  } catch {
    return [];
  }
  return names
    .map((n) => /^epoch-(\d{4,})$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(runDir, KEPT_CHECKPOINTS_DIR, m[0], META_FILE)))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** A kept epoch's weights, or null when the run keeps none of that epoch. */
export async function readKeptCheckpoint(runDir: string, epoch: number): Promise<CheckpointContent | null> {
  const dir = join(runDir, KEPT_CHECKPOINTS_DIR, keptCheckpointName(epoch));
  return existsSync(join(dir, META_FILE)) ? readFrom(dir) : null;
}

async function writeCheckpointFolder(final: string, content: CheckpointContent): Promise<void> {
  const entries: TensorEntry[] = [];
  const arrays: Float32Array[] = [];
  let offset = 0;
  const add = (group: TensorEntry['group'], name: string, shape: number[], values: Float32Array) => {
    entries.push({ group, name, shape, offset, length: values.length });
    arrays.push(values);
    offset += values.length;
  };
  for (const [name, t] of Object.entries(content.parameters)) add('parameters', name, t.shape, t.values);
  for (const [name, t] of Object.entries(content.modelState)) add('modelState', name, t.shape, t.values);
  for (const [name, values] of Object.entries(content.optimizer.slots)) add('optimizer', name, [values.length], values);
  const data = new Float32Array(offset);
  arrays.forEach((a, i) => data.set(a, entries[i].offset));

  const meta: Meta = {
    version: CHECKPOINT_VERSION,
    written: new Date().toISOString(),
    config: content.config,
    epochsCompleted: content.epochsCompleted,
    position: content.position,
    progress: content.progress,
    lastEpochEvent: content.lastEpochEvent,
    optimizerStep: content.optimizer.step,
    tensors: entries,
  };
  const tmp = `${final}${TMP_INFIX}${process.pid}`;
  const previous = final + PREVIOUS_SUFFIX;
  try {
    await fs.mkdir(tmp);
    await writeFileSynced(join(tmp, DATA_FILE), new Uint8Array(data.buffer));
    // The metadata last: a temp folder without it is incomplete by construction.
    await writeFileSynced(join(tmp, META_FILE), JSON.stringify(meta, null, 1));
  } catch (e) {
    // A full disk (or any write error) leaves the previous checkpoint as it was and no partial copy.
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  await fs.rm(previous, { recursive: true, force: true });
  if (existsSync(final)) await fs.rename(final, previous);
  await fs.rename(tmp, final);
  await fs.rm(previous, { recursive: true, force: true });
}

/**
 * Removes what an interrupted checkpoint write left: `checkpoint.tmp-<pid>` of a writer that is
 * gone, and `checkpoint.previous` once `checkpoint/` is complete (while it is not, the previous one
 * is the run's only checkpoint and stays). Returns the names removed.
 */
export async function removeCheckpointLeftovers(runDir: string): Promise<string[]> {
  const removed = await removeDeadWritersFiles(runDir, CHECKPOINT_TMP);
  const final = join(runDir, CHECKPOINT_DIR);
  const previous = final + PREVIOUS_SUFFIX;
  if (existsSync(previous) && existsSync(join(final, META_FILE))) {
    await fs.rm(previous, { recursive: true, force: true });
    removed.push(CHECKPOINT_DIR + PREVIOUS_SUFFIX);
  }
  return removed;
}

async function readFrom(dir: string): Promise<CheckpointContent> {
  const meta = JSON.parse(await fs.readFile(join(dir, META_FILE), 'utf8')) as Meta;
  if (meta.version !== CHECKPOINT_VERSION) throw new CheckpointError(`${dir}: checkpoint version ${meta.version}, expected ${CHECKPOINT_VERSION}`);
  const bytes = await fs.readFile(join(dir, DATA_FILE));
  const total = meta.tensors.reduce((n, t) => Math.max(n, t.offset + t.length), 0);
  if (bytes.byteLength !== total * 4) throw new CheckpointError(`${join(dir, DATA_FILE)} has ${bytes.byteLength} bytes, expected ${total * 4}`);
  // Copy into an aligned buffer: a Buffer's byteOffset need not be a multiple of 4.
  const data = new Float32Array(total);
  new Uint8Array(data.buffer).set(bytes);
  const content: CheckpointContent = {
    config: meta.config,
    epochsCompleted: meta.epochsCompleted,
    position: meta.position,
    progress: meta.progress,
    lastEpochEvent: meta.lastEpochEvent,
    parameters: {},
    modelState: {},
    optimizer: { step: meta.optimizerStep, slots: {} },
  };
  for (const t of meta.tensors) {
    const values = data.slice(t.offset, t.offset + t.length);
    if (t.group === 'optimizer') content.optimizer.slots[t.name] = values;
    else content[t.group][t.name] = { shape: t.shape, values };
  }
  return content;
}

/** The run's checkpoint, or null when it has none yet. */
export async function readCheckpoint(runDir: string): Promise<CheckpointContent | null> {
  const final = join(runDir, CHECKPOINT_DIR);
  const previous = final + PREVIOUS_SUFFIX;
  if (existsSync(join(final, META_FILE))) return readFrom(final);
  // A crash between moving the previous checkpoint aside and renaming the new one into place.
  if (existsSync(join(previous, META_FILE))) return readFrom(previous);
  return null;
}

function restoreTensors(target: Record<string, tf.Variable>, saved: CheckpointContent['parameters'], what: string): void {
  for (const [name, v] of Object.entries(target)) {
    const s = saved[name];
    if (!s) throw new Error(`The checkpoint has no ${what} "${name}".`);
    if (s.shape.join('×') !== v.shape.join('×')) throw new Error(`The checkpoint's ${what} "${name}" is ${s.shape.join('×')}, the model's is ${v.shape.join('×')}.`);
    tf.tidy(() => v.assign(tf.tensor(s.values, v.shape)));
  }
}

/** Loads a checkpoint's weights and batch normalization state into a model built with the same config. */
export function restoreModel(model: VaeModel, checkpoint: Pick<CheckpointContent, 'parameters' | 'modelState'>): void {
  restoreTensors(model.variables, checkpoint.parameters, 'parameter');
  restoreTensors(model.state, checkpoint.modelState, 'state');
}
