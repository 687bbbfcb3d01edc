/**
 * chainer-mlp on two cores: data parallelism across two wasm backends.
 *
 * TensorFlow.js 4.22 switches its threaded wasm build off under Node (WASM_HAS_MULTITHREAD_SUPPORT is
 * false there, and its worker is handed a Blob URL that worker_threads cannot load), so instead this
 * thread and one worker_thread each run their own single-threaded wasm backend with a replica of
 * the model. Each step, this thread takes the first part of the batch and the worker the rest
 * (about half each, see splitBatch); both compute gradients of the whole batch's mean loss for their half. The optimizer is sharded:
 * each replica owns half of every weight matrix (rank 0 the first half of its flat elements, rank
 * 1 the rest). A replica publishes only the half of its weight gradients that the other owns (and
 * all of its small bias gradients), applies Adam to its own half with the summed gradient,
 * publishes its updated half, and copies in the other's. So each thread runs half of Adam and
 * moves half the weight gradients plus half the weights per step, instead of all the gradients
 * both ways and the whole Adam on both. Biases are updated on both from the same sum (float
 * addition commutes, so the replicas stay bit-identical). One barrier per step, for the gradients
 * (Atomics.wait/notify); each replica copies in the other's updated shard at the start of its next
 * command, when it is almost always there already. Gradient slots are double-buffered by step
 * parity. Adam's moments of a replica's shard are kept current only there; the main thread
 * gathers the worker's half when asked for the optimizer state (a checkpoint).
 *
 * Batch normalization (deep-bn) would need the batch statistics of both halves, so only
 * chainer-mlp runs here.
 *
 * This file is the step as the main thread sees it; sharedMemory.ts has the shared layout and the
 * barrier, shardedAdam.ts the sharded update both threads run, worker.ts the worker's side.
 */
import { Worker } from 'node:worker_threads';
import type { StepResult, TrainStep } from '../step';
import type { AdamHyper } from './adam';
import { addSums, resultFromSums, type BatchSums, type FastModel, type OptimizerStateLike } from './common';
import { FastMlpStep } from './mlpStep';
import { ShardedUpdate } from './shardedAdam';
import {
  allocateShared, Command, Ctl, makeLayout, Scalar, waitFor, type ParallelLayout, type SharedBuffers, type WorkerInit, type WorkerTimes,
} from './sharedMemory';
import { performance } from 'node:perf_hooks';
import { PHASES, Timer, type Phase } from './timer';

/**
 * How a batch of B images is split between this thread and the worker. XNNPACK's f32 GEMM on wasm
 * SIMD computes the output columns (here the images) in tiles of 8, so a product over 49–56
 * images costs the same as one over 56 (measured: 500×784 by 784×N, 0.81 ms at N = 48, 0.94 ms
 * at 50, 52 and 56). An even split of 100 (50 + 50) pays for 14 tiles where one thread pays for
 * 13; giving the worker a multiple of 8 (48) and this thread the rest (52) pays for 13. The worker
 * gets the smaller part also because it starts each step a wake-up later. The split depends only
 * on B, so a run is as reproducible as with one thread.
 */
export function splitBatch(B: number): { bMain: number; bWorker: number } {
  const tiled = 8 * Math.floor(B / 16);
  const bWorker = tiled > 0 ? tiled : Math.floor(B / 2);
  return { bMain: B - bWorker, bWorker };
}

/** The part of eps (k × B × dz) for images [from, from + count). */
export function epsPart(eps: Float32Array, batch: number, dimz: number, samples: number, from: number, count: number): Float32Array {
  if (samples === 1) return eps.subarray(from * dimz, (from + count) * dimz);
  const out = new Float32Array(samples * count * dimz);
  for (let k = 0; k < samples; k++) out.set(eps.subarray((k * batch + from) * dimz, (k * batch + from + count) * dimz), k * count * dimz);
  return out;
}

export const WORKER_READY_TIMEOUT_MS = 60_000;

/** The model's trainable weights as the worker takes them (its replica's parameters). */
function weightsOf(model: FastModel): WorkerInit['weights'] {
  const weights: WorkerInit['weights'] = {};
  for (const [name, v] of Object.entries(model.variables)) weights[name] = { data: v.dataSync() as Float32Array, shape: v.shape };
  return weights;
}

/**
 * The data-parallel step, as seen from the main thread.
 *
 * The worker starts in the background: the constructor does not wait for it, because a worker's
 * start (and a previous worker's teardown) can need this thread's event loop, which a synchronous
 * wait would block forever. Until the worker reports ready, steps run on this thread alone (the
 * whole batch on the local replica); the first step after that sends the worker the current
 * weights and optimizer state, and from then on every step is split. A worker that fails leaves
 * the run on one thread, with a log line. `whenReady()` lets a caller (the benchmark, tests) wait
 * for the worker with the event loop running.
 */
export class ParallelMlpStep implements TrainStep {
  private readonly replica: FastMlpStep;
  private readonly worker: Worker;
  private readonly shared: SharedBuffers;
  private readonly layout: ParallelLayout;
  private readonly sharded: ShardedUpdate;
  private stepNo = 0;
  private seq = 0;
  private active = false;
  private failedReported = false;
  private readonly workerErrors: string[] = [];
  readonly timer: Timer;

  constructor(
    private readonly model: FastModel,
    hyper: AdamHyper,
    workerScript: string,
    maxBatch: number,
    maxSamples: number,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.replica = new FastMlpStep(model, hyper);
    this.timer = this.replica.timer;
    this.layout = makeLayout(this.replica.layers, maxBatch, maxSamples);
    const { sab, views } = allocateShared(this.layout, model.pixels, model.dimz);
    this.shared = views;
    this.sharded = new ShardedUpdate(this.replica, this.layout, this.shared, 0);
    const init: WorkerInit = {
      vaeLensFastWorker: true, sab, layout: this.layout, pixels: model.pixels, dimz: model.dimz, hyper, weights: weightsOf(model), optimizer: null,
    };
    this.worker = new Worker(workerScript, { workerData: init });
    this.worker.on('error', (e) => {
      this.workerErrors.push(String(e?.stack ?? e));
      Atomics.store(this.shared.control, Ctl.failed, 1);
    });
    this.worker.unref();
  }

  /** Threads the steps use now: 2 once the worker runs, else 1. */
  get threadsInUse(): number {
    return this.active ? 2 : 1;
  }

  private get workerFailed(): boolean {
    return Atomics.load(this.shared.control, Ctl.failed) !== 0;
  }

  /** Resolves true once the worker is ready (false if it failed or `timeoutMs` passed), letting the event loop run. */
  async whenReady(timeoutMs = WORKER_READY_TIMEOUT_MS): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.shared.control, Ctl.ready) !== 1) {
      if (this.workerFailed || Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  private waitAck(seq: number, what: string): void {
    const c = this.shared.control;
    const deadline = Date.now() + WORKER_READY_TIMEOUT_MS;
    waitFor(c, Ctl.ack, seq, 100, () => {
      if (this.workerFailed) throw new Error(`VAE Lens fast step worker failed during ${what}: ${this.workerErrors.join('; ') || 'see stderr'}`);
      if (Date.now() > deadline) throw new Error(`VAE Lens fast step worker did not answer (${what}) within ${WORKER_READY_TIMEOUT_MS / 1000} s`);
    });
  }

  private issue(command: number): number {
    const c = this.shared.control;
    Atomics.store(c, Ctl.command, command);
    this.seq++;
    Atomics.store(c, Ctl.seq, this.seq);
    Atomics.notify(c, Ctl.seq);
    return this.seq;
  }

  /** Brings a ready worker in: it gets this replica's current weights and optimizer state. */
  private tryActivate(): boolean {
    if (this.workerFailed) {
      if (!this.failedReported) this.log(`fast step: the second thread failed, continuing on one: ${this.workerErrors.join('; ')}`);
      this.failedReported = true;
      return false;
    }
    if (Atomics.load(this.shared.control, Ctl.ready) !== 1) return false;
    this.pushState(this.replica.getOptimizerState());
    this.active = true;
    return true;
  }

  step(x: Float32Array, batchSize: number, eps: Float32Array, klWeight: number): StepResult {
    if (!this.active && !this.tryActivate()) return this.replica.step(x, batchSize, eps, klWeight);
    const { pixels: P, dimz: Z } = this.model;
    const B = batchSize;
    const K = eps.length / (B * Z);
    if (B > this.layout.maxBatch || K > this.layout.maxSamples || !Number.isInteger(K) || K < 1) {
      throw new Error(`parallel step: batch ${B} × k ${K} exceeds the configured ${this.layout.maxBatch} × ${this.layout.maxSamples}`);
    }
    const t = this.timer;
    t.begin();
    const c = this.shared.control;
    const { bMain, bWorker } = splitBatch(B);
    const stepNo = ++this.stepNo;
    this.shared.x.set(x.subarray(bMain * P, B * P));
    this.shared.eps.set(epsPart(eps, B, Z, K, bMain, bWorker));
    this.shared.scalars[Scalar.klWeight] = klWeight;
    c[Ctl.batchMain] = B;
    c[Ctl.batchWorker] = bWorker;
    c[Ctl.samples] = K;
    this.shared.scalars[Scalar.issuedAt] = performance.timeOrigin + performance.now();
    this.issue(Command.step);
    t.lap('other');
    const check = this.checkWorker;
    this.sharded.settle(check);
    t.lap('optimizer');

    const mine = this.replica.computeGradients(x, bMain, epsPart(eps, B, Z, K, 0, bMain), klWeight, B);
    this.sharded.publishGradients(stepNo);
    Atomics.store(c, Ctl.arriveMain, stepNo);
    Atomics.notify(c, Ctl.arriveMain);
    t.lap('other');
    waitFor(c, Ctl.arriveWorker, stepNo, 1000, check);
    t.lap('sync');
    const s = this.shared.scalars;
    const theirs: BatchSums = { recSum: s[Scalar.recSum], klSum: s[Scalar.klSum], sumMu: s[Scalar.sumMu], sumSigma: s[Scalar.sumSigma] };
    this.sharded.finishStep(stepNo);
    t.lap('optimizer');
    t.end();
    return resultFromSums(addSums(mine, theirs), B, klWeight);
  }

  /**
   * The worker's own per-step breakdown since the last `resetWorkerTimes` (its `sync` is the wait
   * for this thread's gradients), and how long it took to wake up after a step was issued.
   */
  workerTimes(): WorkerTimes {
    const s = this.shared.scalars;
    const steps = s[Scalar.workerSteps] - this.workerBase.steps;
    const per = (v: number) => (steps > 0 ? v / steps : 0);
    const phases = {} as Record<Phase, number>;
    PHASES.forEach((p, i) => (phases[p] = per(s[Scalar.workerPhases + i] - this.workerBase.phases[i])));
    return { steps, perStep: phases, wakeMs: per(s[Scalar.workerWake] - this.workerBase.wake) };
  }

  resetWorkerTimes(): void {
    const s = this.shared.scalars;
    this.workerBase = { steps: s[Scalar.workerSteps], phases: PHASES.map((_, i) => s[Scalar.workerPhases + i]), wake: s[Scalar.workerWake] };
  }

  private workerBase = { steps: 0, phases: PHASES.map(() => 0), wake: 0 };

  /** Throws when the worker failed (called while waiting for it). */
  private readonly checkWorker = (): void => {
    if (this.workerFailed) throw new Error(`VAE Lens fast step worker failed: ${this.workerErrors.join('; ') || 'see stderr'}`);
  };

  /** Completes the last step's weights (the worker's updated shard). */
  private settle(): void {
    this.sharded.settle(this.checkWorker);
  }

  sync(): void {
    this.settle();
    this.replica.sync();
  }

  getOptimizerState(): OptimizerStateLike {
    this.settle();
    if (this.active) {
      // The worker's half of Adam's moments is current only there.
      const seq = this.issue(Command.gatherMoments);
      this.waitAck(seq, 'gather optimizer state');
      this.sharded.loadOtherMoments();
    }
    return this.replica.getOptimizerState();
  }

  setOptimizerState(state: OptimizerStateLike): void {
    this.settle();
    this.replica.setOptimizerState(state);
    if (this.active) this.pushState(state);
  }

  /** Sends this replica's weights (and an optimizer state) to the worker and waits for it. */
  private pushState(optimizer: OptimizerStateLike): void {
    this.replica.sync();
    this.worker.postMessage({ weights: weightsOf(this.model), optimizer });
    const seq = this.issue(Command.setState);
    this.waitAck(seq, 'set state');
  }

  dispose(): void {
    this.issue(Command.exit);
    void this.worker.terminate();
    this.sharded.dispose();
    this.replica.dispose();
  }
}
