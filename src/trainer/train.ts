/**
 * A run from start to end: validates the config, creates the run folder, picks the backend, loads
 * the data, trains epoch by epoch and writes everything the rest of VAE Lens reads (run.json,
 * events.jsonl, samples/, recon/, checkpoint/). Used by the forked trainer (main.ts) and the CLI.
 *
 * Stopping (IPC 'stop', SIGTERM/SIGINT → StopRequest) lets the current batch finish, writes a
 * checkpoint with the position inside the epoch and ends with status 'stopped'. Resuming restores
 * weights, batch normalization state, Adam state and the epoch's partial sums; since every random
 * number is keyed by (seed, epoch, batch), the resumed run computes what the uninterrupted one would.
 */
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { asPresetWhenSame, klWeightForEpoch, type BackendChoice, type TrainConfig } from '../shared/config';
import { EVENTS_SCHEMA_VERSION, type EpochDiagnostics, type EpochEvent, type SplitMetrics, type TrainerMessage } from '../shared/events';
import { clearStopRequest, readRun, removeRunInfoLeftovers, stopRequested, truncateTornEventLine, writeRunInfo } from '../node/runFolder';
import { formatBytes, freeBytes, isNoSpaceError } from '../node/leftovers';
import { formatNumber } from '../shared/format';
import { currentTrainerProcess, localProcessProbe } from '../node/processProbe';
import { trainerLiveness } from '../shared/liveness';
import { EVENTS_FILE, RECON_DIR, RUN_SCHEMA_VERSION, SAMPLES_DIR, epochImageName, makeRunId, type RunInfo, type RunStatus } from '../shared/run';
import { MeanAccumulator } from '../shared/stats';
import { BackendError, selectBackend } from './backend';
import { CheckpointError, readCheckpoint, removeCheckpointLeftovers, restoreModel, writeCheckpoint, keepCheckpoint, type CheckpointContent, type TrainPosition } from './checkpoint';
import { DataError, binarizeDynamic, checkDataUnchanged, loadDataset, type Dataset, type LoadDatasetOptions } from './data';
import { evaluateTestSet, type TestResult } from './evaluate';
import { DIAGNOSTICS_IMAGES, isDiagnosticsEpoch, measureEpochDiagnostics } from './epochDiagnostics';
import { writePriorSamples, writeReconstructions } from './images';
import { createModel, imageShapeOfData, type VaeModel } from './model';
import { Rng, Stream, epochPermutation, priorNoise } from './rng';
import type { TrainStep } from './step';
import { createTrainStep } from './stepFactory';
import { fastStepReady } from './fast';
import { MemoryError, describeNetwork, memoryRefusal } from './memory';
import { RunRecorder, now } from './recorder';
import { ConfigError, validatedConfig } from './validConfig';

export { ConfigError, validatedConfig };


/** The loss became NaN or infinite. */
export class DivergenceError extends Error {
  constructor(message: string, readonly epoch: number, readonly batch?: number) {
    super(message);
    this.name = 'DivergenceError';
  }
}

/** Set by IPC 'stop' or a signal; the loop checks it between batches. */
export class StopRequest {
  private reason: string | null = null;
  private readonly controller = new AbortController();
  request(reason: string): void {
    this.reason ??= reason;
    this.controller.abort(new Error(`Stopped (${reason}).`));
  }
  /** Aborts what can be aborted before training starts (a data set download). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get requested(): boolean {
    return this.reason !== null;
  }
  get why(): string {
    return this.reason ?? '';
  }
}

export interface TrainerOutput {
  send(message: TrainerMessage): void;
  /** Human-readable lines (stderr). */
  log(line: string): void;
}

export interface RunOptions {
  output: TrainerOutput;
  stop?: StopRequest;
  data?: LoadDatasetOptions;
  /** Resume only: train on this backend instead of the run's own (a checkpoint is the same on every backend). */
  backend?: BackendChoice;
}

export interface RunOutcome {
  runId: string;
  runDir: string;
  status: Extract<RunStatus, 'completed' | 'stopped' | 'failed'>;
  epochsCompleted: number;
  message?: string;
}



/** A runs folder that cannot be written: which folder, why, and the flag and setting that choose another. */
export class RunsFolderError extends Error {
  override readonly name = 'RunsFolderError';
}

function runsFolderError(e: unknown, runsDir: string): Error {
  const { code, message } = e as NodeJS.ErrnoException;
  const why =
    code === 'EACCES' || code === 'EPERM' ? 'permission denied' :
    code === 'EROFS' ? 'the file system is read-only' :
    code === 'ENOSPC' || code === 'EDQUOT' ? 'the disk is full' :
    code === 'ENOTDIR' || code === 'EEXIST' ? 'a file is in the way of the folder' : message;
  return new RunsFolderError(
    `Cannot create a run folder in ${runsDir} (${why}${code ? `, ${code}` : ''}). Choose a runs folder you can write: ` +
      `vae-lens --runs-dir <folder>, or the vaeLens.runsDirectory setting in the editor.`,
  );
}

async function createRunFolder(runsDir: string, config: TrainConfig): Promise<{ id: string; dir: string }> {
  try {
    await fs.mkdir(runsDir, { recursive: true });
  } catch (e) {
    // A recursive mkdir reports ENOENT where the real cause is a read-only file system: ask again without it.
    const cause = (e as NodeJS.ErrnoException).code === 'ENOENT' ? await fs.mkdir(runsDir).then(() => e, (again: unknown) => again) : e;
    throw runsFolderError(cause, runsDir);
  }
  const base = makeRunId(config.name, new Date());
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    const dir = join(runsDir, id);
    try {
      await fs.mkdir(dir);
      return { id, dir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw runsFolderError(e, runsDir);
    }
  }
}

/** Starts a new run under runsDir. Throws ConfigError (before creating anything) for an invalid config. */
export async function startRun(request: { config: unknown; runsDir: string }, options: RunOptions): Promise<RunOutcome> {
  const { config, preset } = asPresetWhenSame(validatedConfig(request.config));
  if (preset) options.output.log(`VAE Lens: the network's layers are the ${preset} preset's: the run trains it as ${preset} (its parameter names and fast step)`);
  const { id, dir } = await createRunFolder(resolve(request.runsDir), config);
  const created = now();
  const info: RunInfo = {
    schemaVersion: RUN_SCHEMA_VERSION, id, name: config.name, config, created, updated: created,
    status: 'starting', pid: process.pid, host: currentTrainerProcess().host, processStart: currentTrainerProcess().start, epochsCompleted: 0,
  };
  await writeRunInfo(dir, info);
  await fs.writeFile(join(dir, EVENTS_FILE), '', { flag: 'a' });
  options.output.send({ type: 'started', runId: id, runDir: dir });
  const recorder = new RunRecorder(dir, info, options.output);
  await recorder.status('starting');
  return execute(recorder, config, null, options);
}

/** Continues a run from its checkpoint (from the beginning when it has none yet). */
export async function resumeRun(runDir: string, options: RunOptions): Promise<RunOutcome> {
  const dir = resolve(runDir);
  const snapshot = await readRun(dir);
  const info = snapshot.info;
  if (info.status === 'completed') throw new Error(`Run ${info.id} has already completed all ${info.config.epochs} epochs.`);
  const liveness = info.pid === process.pid ? { state: 'not-live' as const } : trainerLiveness(info, localProcessProbe, new Date());
  if (liveness.state === 'alive' || liveness.state === 'starting') {
    throw new Error(`Run ${info.id} is still running (process ${info.pid ?? 'starting'}); stop it before resuming.`);
  }
  if (liveness.state === 'elsewhere') {
    throw new Error(`Run ${info.id} is running on ${liveness.host}; stop it there (or wait for it to end) before resuming here.`);
  }
  const config = validatedConfig(options.backend ? { ...info.config, backend: options.backend } : info.config);
  // Refuse before anything is written: the run must continue on the data it started with.
  if (info.data) await checkDataUnchanged(config, info.data, options.data);
  await removeRunInfoLeftovers(dir);
  await removeCheckpointLeftovers(dir);
  const checkpoint = await readCheckpoint(dir);
  const recorder = new RunRecorder(dir, info, options.output);
  options.output.send({ type: 'started', runId: info.id, runDir: dir });
  // A torn last line (a crash or a full disk mid-append) was skipped by readRun; cut it off so the
  // file ends cleanly, and restore the epoch it held from the checkpoint below.
  const torn = await truncateTornEventLine(dir);
  if (torn) options.output.log(`VAE Lens: events.jsonl ended in a torn line (${torn} bytes, written when the trainer died); removed it, the checkpoint restores its epoch.`);
  // A crash between writing the checkpoint and appending its epoch's event: append it now.
  const lastLogged = snapshot.events.reduce((m, e) => (e.type === 'epoch' ? Math.max(m, e.epoch) : m), 0);
  if (checkpoint?.lastEpochEvent && checkpoint.lastEpochEvent.epoch > lastLogged) await recorder.event(checkpoint.lastEpochEvent);
  const from = checkpoint ? `epoch ${checkpoint.position.epoch}, batch ${checkpoint.position.batch + 1}` : 'the beginning (no checkpoint yet)';
  await recorder.status('starting', { message: `Resuming from ${from}.` });
  return execute(recorder, config, checkpoint, options);
}

/** Reads with await data(): the webgpu backend cannot read synchronously under Node. */
async function tensorRecord(vars: Record<string, tf.Variable>): Promise<Record<string, { shape: number[]; values: Float32Array }>> {
  const entries = await Promise.all(Object.entries(vars).map(async ([name, v]) => [name, { shape: v.shape, values: (await v.data()) as Float32Array }] as const));
  return Object.fromEntries(entries);
}

function divergenceMessage(what: string, value: number, epoch: number, config: TrainConfig, batch?: number, batches?: number): string {
  const where = batch !== undefined ? `epoch ${epoch}, batch ${batch}${batches ? ` of ${batches}` : ''}` : `the test pass of epoch ${epoch}`;
  const fixes = [`lower the learning rate (now ${config.learningRate}; try ${config.learningRate / 10})`];
  if (config.klWarmupEpochs === 0 && config.klCycles === 0) fixes.push('add a KL warm-up (klWarmupEpochs, e.g. 5)');
  if (config.model === 'chainer-mlp' && config.learningRate > 0.01) fixes.push('or keep α at the example\'s 0.001');
  return `The ${what} became ${value} at ${where}. Training diverged; start a new run and ${fixes.join(', ')}.`;
}

interface Session {
  recorder: RunRecorder;
  config: TrainConfig;
  data: Dataset;
  model: VaeModel;
  step: TrainStep;
  options: RunOptions;
  noise: Float32Array;
}

/** Expects the model's variables to be current: the caller has run step.sync() since the last step. */
async function saveCheckpoint(s: Session, position: TrainPosition, epochsCompleted: number, train: MeanAccumulator, trainSeconds: number, lastEpochEvent?: EpochEvent): Promise<void> {
  const content: CheckpointContent = {
    config: s.config,
    epochsCompleted,
    position,
    progress: { train: train.toJSON(), trainSeconds },
    lastEpochEvent,
    parameters: await tensorRecord(s.model.variables),
    modelState: await tensorRecord(s.model.state),
    optimizer: await s.step.getOptimizerState(),
  };
  await writeCheckpoint(s.recorder.dir, content);
  // At an epoch's end, every keepCheckpointEvery epochs: a copy the latent explorer can go back to.
  const every = s.config.keepCheckpointEvery;
  if (lastEpochEvent && every > 0 && epochsCompleted % every === 0) await keepCheckpoint(s.recorder.dir, content);
}

async function execute(recorder: RunRecorder, config: TrainConfig, checkpoint: CheckpointContent | null, options: RunOptions): Promise<RunOutcome> {
  const { output } = options;
  const stop = options.stop ?? new StopRequest();
  const runId = recorder.info.id;
  // A stop request written into the run folder (by the extension for a trainer it does not hold, by
  // another window or machine) stops the run like a signal would, without any signal being sent.
  await clearStopRequest(recorder.dir);
  const stopFilePoll = setInterval(() => {
    // request() keeps the first reason; reading stop.requested here would count as a check between batches.
    if (stopRequested(recorder.dir)) stop.request('stop requested through the run folder');
  }, 500);
  stopFilePoll.unref();
  let model: VaeModel | undefined;
  let step: TrainStep | undefined;
  let training = false;
  const phase = (name: string) =>
    output.send({ type: 'progress', runId, epoch: recorder.info.epochsCompleted, epochs: config.epochs, batch: 0, batches: 0, loss: NaN, samplesPerSecond: 0, phase: name });
  try {
    phase('starting backend');
    const environment = await selectBackend(config.backend, { threads: config.threads, log: output.log });
    await recorder.update({ environment });
    output.log(`VAE Lens: run ${runId}, ${config.model} dimz ${config.dimz}, backend ${environment.backend} on ${environment.device}`);

    phase(`loading ${config.dataset}`);
    const data = await loadDataset(config, {
      ...options.data,
      idxFolder: recorder.info.data?.folder,
      checkSizes: ({ trainImages, testImages }) => {
        const [trainCount = 0, rows = 0, cols = 0, channels = 1] = trainImages.sizes;
        const images = Math.min(trainCount, config.trainLimit ?? Infinity) + Math.min(testImages.sizes[0] ?? 0, config.testLimit ?? Infinity);
        const refusal = memoryRefusal(config, [rows, cols, channels], images, environment.backend);
        if (refusal) throw new MemoryError(refusal);
      },
      signal: stop.signal,
      onProgress: (p, fraction) => phase(fraction === undefined ? p : `${p} (${Math.round(fraction * 100)}%)`),
    });
    output.log(`VAE Lens: ${data.name}, ${data.trainCount} training and ${data.testCount} test images of ${data.width}×${data.height}${data.channels === 3 ? ' RGB' : ''}`);
    if (!recorder.info.data && data.data) await recorder.update({ data: data.data });
    const note = batchNote(config, data.trainCount);
    if (note) output.log(`VAE Lens: ${note}`);

    model = createModel(config, imageShapeOfData(data));
    output.log(`VAE Lens: ${describeNetwork(config, imageShapeOfData(data), data.trainCount + data.testCount, environment.backend)}`);
    step = createTrainStep(model, config, environment.backend, output.log);
    // A two-thread step runs on one thread until its worker is up; waiting for the worker here makes
    // every step of every run split the same way, so two runs with one seed give equal numbers.
    await fastStepReady(step);
    let position: TrainPosition = { epoch: 1, batch: 0 };
    let train = new MeanAccumulator();
    let trainSeconds = 0;
    if (checkpoint) {
      restoreModel(model, checkpoint);
      await step.setOptimizerState(checkpoint.optimizer);
      position = checkpoint.position;
      train = MeanAccumulator.fromJSON(checkpoint.progress.train);
      trainSeconds = checkpoint.progress.trainSeconds;
    }
    const session: Session = { recorder, config, data, model, step, options, noise: priorNoise(config.seed, config.dimz) };
    training = true;
    await recorder.status('running', { epoch: position.epoch, message: note });
    return await trainEpochs(session, position, train, trainSeconds, stop);
  } catch (e) {
    if (stop.requested && !training) {
      // Stopped before training began (e.g. during a download): nothing to checkpoint, nothing failed.
      const message = `Stopped (${stop.why}) before training began.`;
      await recorder.status('stopped', { message });
      output.log(`VAE Lens: ${message}`);
      return { runId, runDir: recorder.dir, status: 'stopped', epochsCompleted: recorder.info.epochsCompleted, message };
    }
    const error = e as Error;
    const diverged = e instanceof DivergenceError ? e : undefined;
    const noSpace = isNoSpaceError(e);
    const message = noSpace ? await noSpaceMessage(recorder, error) : error.message;
    try {
      await recorder.event({ type: 'error', v: EVENTS_SCHEMA_VERSION, time: now(), message, epoch: diverged?.epoch, batch: diverged?.batch });
      await recorder.status('failed', { message, epoch: diverged?.epoch });
    } catch (writeError) {
      // Nothing more can be written (the disk is still full): the trainer's exit lets every reader see
      // the run as interrupted, and the messages below say why.
      output.log(`VAE Lens: could not mark run ${runId} as failed in ${recorder.dir}: ${(writeError as Error).message}`);
    }
    output.log(`VAE Lens: run ${runId} failed: ${message}`);
    // Errors VAE Lens raises explain themselves; anything else gets its stack, for a bug report.
    const explained = noSpace || [DivergenceError, ConfigError, BackendError, DataError, CheckpointError, MemoryError].some((c) => e instanceof c);
    if (!explained) output.log(error.stack ?? '');
    return { runId, runDir: recorder.dir, status: 'failed', epochsCompleted: recorder.info.epochsCompleted, message };
  } finally {
    clearInterval(stopFilePoll);
    await clearStopRequest(recorder.dir).catch(() => undefined);
    step?.dispose();
    model?.dispose();
  }
}

/** What a full disk means for this run and what to do, with the free space left. */
async function noSpaceMessage(recorder: RunRecorder, error: Error): Promise<string> {
  const free = await freeBytes(recorder.dir);
  const saved = recorder.info.epochsCompleted;
  const { path, code } = error as NodeJS.ErrnoException;
  return (
    `The disk holding ${recorder.dir} is full (${code}${path ? ` writing ${path}` : ''}; ${free === undefined ? 'free space unknown' : `${formatBytes(free)} free`}). ` +
    `${saved ? `Epochs 1–${saved} are saved and the checkpoint is intact` : 'No epoch was completed'}; ` +
    `free some space there (or keep runs elsewhere: --runs-dir, or the vaeLens.runsDirectory setting), then resume the run (vae-lens resume ${recorder.info.id}).`
  );
}

/** The log line and status message for a batch size larger than the training set (every batch is then the whole set). */
export function batchNote(config: Pick<TrainConfig, 'batchSize'>, trainCount: number): string | undefined {
  if (config.batchSize <= trainCount) return undefined;
  return `batch size ${config.batchSize} is larger than the ${trainCount} training images: each epoch is one batch of ${trainCount}.`;
}

/** Batch progress at most this often (ms); VAE_LENS_PROGRESS_MS overrides it (0: every batch, for tools and tests). */
const PROGRESS_INTERVAL_MS = Number(process.env.VAE_LENS_PROGRESS_MS ?? 250);

async function trainEpochs(s: Session, start: TrainPosition, train: MeanAccumulator, trainSeconds: number, stop: StopRequest): Promise<RunOutcome> {
  const { config, data, model, step, recorder, options } = s;
  const runId = recorder.info.id;
  const batches = Math.ceil(data.trainCount / config.batchSize);
  const xBuffer = new Float32Array(config.batchSize * data.pixels);
  const epsBuffer = new Float32Array(config.trainSamples * config.batchSize * config.dimz);
  const samplesPerSecond = () => train.count / Math.max(trainSeconds, 1e-9);
  let position = { ...start };

  const stopped = async (): Promise<RunOutcome> => {
    step.sync();
    await saveCheckpoint(s, position, recorder.info.epochsCompleted, train, trainSeconds);
    const message = `Stopped (${stop.why}) in epoch ${position.epoch} after batch ${position.batch} of ${batches}; resume continues from there.`;
    await recorder.event({ type: 'checkpoint', v: EVENTS_SCHEMA_VERSION, time: now(), epoch: recorder.info.epochsCompleted });
    await recorder.status('stopped', { message, epoch: position.epoch });
    options.output.log(`VAE Lens: ${message}`);
    return { runId, runDir: recorder.dir, status: 'stopped', epochsCompleted: recorder.info.epochsCompleted, message };
  };

  for (let epoch = position.epoch; epoch <= config.epochs; epoch++) {
    const klWeight = klWeightForEpoch(config, epoch);
    const order = epochPermutation(config.seed, epoch, data.trainCount);
    let lastProgress = 0;
    for (let b = position.batch; b < batches; b++) {
      // Signals and IPC are handled between batches: the current batch always finishes.
      await new Promise((r) => setImmediate(r));
      if (stop.requested) return stopped();
      const started = performance.now();
      const rows = Math.min(config.batchSize, data.trainCount - b * config.batchSize);
      for (let r = 0; r < rows; r++) {
        const i = order[b * config.batchSize + r];
        xBuffer.set(data.train.subarray(i * data.pixels, (i + 1) * data.pixels), r * data.pixels);
      }
      const x = xBuffer.subarray(0, rows * data.pixels);
      if (config.binarize === 'dynamic') {
        const rng = Rng.fromKey(config.seed, Stream.binarize, epoch, b);
        binarizeDynamic(x, () => rng.uniform(), x);
      }
      const eps = Rng.fromKey(config.seed, Stream.trainNoise, epoch, b).fillNormal(epsBuffer.subarray(0, config.trainSamples * rows * config.dimz));
      const result = await step.step(x, rows, eps, klWeight);
      if (!Number.isFinite(result.loss)) {
        throw new DivergenceError(divergenceMessage('training loss', result.loss, epoch, config, b + 1, batches), epoch, b + 1);
      }
      train.add({ loss: result.loss, reconstruction: result.reconstruction, kl: result.kl }, rows);
      train.addSum('sumMu', result.sumMu);
      train.addSum('sumSigma', result.sumSigma);
      trainSeconds += (performance.now() - started) / 1000;
      position = { epoch, batch: b + 1 };
      const t = Date.now();
      if (t - lastProgress >= PROGRESS_INTERVAL_MS || b + 1 === batches) {
        lastProgress = t;
        options.output.send({
          type: 'progress', runId, epoch, epochs: config.epochs, batch: b + 1, batches,
          loss: train.mean('loss'), samplesPerSecond: samplesPerSecond(), phase: 'training',
        });
      }
    }

    // End of epoch: test pass with latent statistics, pictures, checkpoint, then the event.
    options.output.send({ type: 'progress', runId, epoch, epochs: config.epochs, batch: batches, batches, loss: train.mean('loss'), samplesPerSecond: samplesPerSecond(), phase: 'evaluating' });
    const evalStarted = performance.now();
    // The test pass, the pictures and the checkpoint below all read the weights written back here.
    step.sync();
    const measure = isDiagnosticsEpoch(config, epoch);
    const tested = await evaluateTestSet(model, data.test, data.testCount, config.testSamples, klWeight, config.seed, measure ? DIAGNOSTICS_IMAGES : 0);
    if (!Number.isFinite(tested.metrics.loss)) {
      throw new DivergenceError(divergenceMessage('test loss', tested.metrics.loss, epoch, config), epoch);
    }
    const diagnostics = measure && tested.posteriors ? await epochDiagnostics(s, tested.posteriors, epoch) : undefined;
    const name = epochImageName(epoch);
    await writePriorSamples(model, s.noise, data.width, data.height, join(recorder.dir, SAMPLES_DIR, name));
    await writeReconstructions(model, data.test, data.testCount, data.width, data.height, join(recorder.dir, RECON_DIR, name));
    const evalSeconds = (performance.now() - evalStarted) / 1000;
    const trainMetrics: SplitMetrics = {
      loss: train.mean('loss'),
      reconstruction: train.mean('reconstruction'),
      kl: train.mean('kl'),
      meanMu: train.mean('sumMu', config.dimz),
      meanSigma: train.mean('sumSigma', config.dimz),
    };
    const event: EpochEvent = {
      type: 'epoch', v: EVENTS_SCHEMA_VERSION, time: now(), epoch, epochs: config.epochs,
      train: trainMetrics,
      test: tested.metrics,
      dims: tested.latent.dims,
      activeUnits: tested.latent.activeUnits,
      aggregateVariance: tested.latent.aggregateVariance,
      klWeight,
      samplesPerSecond: samplesPerSecond(),
      secondsPerEpoch: trainSeconds + evalSeconds,
      images: { samples: `${SAMPLES_DIR}/${name}`, recon: `${RECON_DIR}/${name}` },
      ...(diagnostics ? { diagnostics } : {}),
    };
    train = new MeanAccumulator();
    trainSeconds = 0;
    position = { epoch: epoch + 1, batch: 0 };
    await saveCheckpoint(s, position, epoch, train, trainSeconds, event);
    await recorder.event(event);
    await recorder.event({ type: 'checkpoint', v: EVENTS_SCHEMA_VERSION, time: now(), epoch });
    await recorder.update({ epochsCompleted: epoch });
    options.output.log(
      `epoch ${epoch}/${config.epochs}: train loss ${trainMetrics.loss.toFixed(2)}, test loss ${event.test.loss.toFixed(2)} ` +
        `(rec ${event.test.reconstruction.toFixed(2)}, KL ${event.test.kl.toFixed(2)}), mean μ ${formatNumber(event.test.meanMu)}, ` +
        `mean σ ${formatNumber(event.test.meanSigma)}, active ${event.activeUnits}/${config.dimz}, ${Math.round(event.samplesPerSecond)} samples/s`,
    );
  }
  await recorder.status('completed', { epoch: config.epochs });
  return { runId, runDir: recorder.dir, status: 'completed', epochsCompleted: config.epochs };
}

/** The epoch's latent diagnostics, logged in one line; undefined (and logged why) when a figure is not finite. */
async function epochDiagnostics(s: Session, posteriors: NonNullable<TestResult['posteriors']>, epoch: number): Promise<EpochDiagnostics | undefined> {
  const started = performance.now();
  const result = await measureEpochDiagnostics(s.model, s.data.test, s.data.testCount, s.config, posteriors, s.noise);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if ('skipped' in result) {
    s.options.output.log(`epoch ${epoch} diagnostics skipped: ${result.skipped}`);
    return undefined;
  }
  const d = result.diagnostics;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  s.options.output.log(
    `epoch ${epoch} diagnostics (${d.images} test images, ${seconds} s): ` +
      (d.iwNll ? `IW-NLL ${d.iwNll.value.toFixed(2)} (k ${d.iwNll.k}, ${d.iwNll.images} images), ` : '') +
      `I(x;z) ${d.mutualInformation.toFixed(2)}, marginal KL ${d.marginalKl.toFixed(2)} (moments ${d.moments.total.toFixed(2)}, ` +
      `non-Gaussian ${d.nonGaussian.toFixed(2)}), prior holes ${pct(d.holeRate)} (fixed noise ${pct(d.fixedNoiseHoleRate)})`,
  );
  return d;
}

/** A run id or a folder → the run's folder. */
