/**
 * What the two threads of the data-parallel chainer-mlp step (parallel.ts) share: the control
 * words and scalars, the layout of gradients and weights in shared memory, the barrier wait, and
 * the message that starts the worker.
 */
import { performance } from 'node:perf_hooks';
import type { AdamHyper } from './adam';
import type { OptimizerStateLike } from './common';
import { PHASES, type Phase, type Timer } from './timer';

/** Control words (Int32) of the shared buffer. */
export const Ctl = {
  /** Incremented by the main thread to issue a command. */
  seq: 0,
  command: 1,
  /** Set by the worker to the seq it has finished (ready, or a non-step command). */
  ack: 2,
  /** Step numbers each side has reached the gradient barrier for. */
  arriveMain: 3,
  arriveWorker: 4,
  batchMain: 5,
  batchWorker: 6,
  samples: 7,
  /** Non-zero when the worker failed; its message then comes over the port. */
  failed: 8,
  /** Set to 1 by the worker once its backend and replica are up. */
  ready: 9,
  /** Step numbers each side has published its updated weight shard for. */
  doneMain: 10,
  doneWorker: 11,
  size: 16,
} as const;

/** Float64 slots of the shared scalars. */
export const Scalar = {
  klWeight: 0,
  recSum: 1,
  klSum: 2,
  sumMu: 3,
  sumSigma: 4,
  issuedAt: 5,
  /** The worker's steps counted, then its per-phase totals in PHASES order, then its total wake-up latency (ms). */
  workerSteps: 6,
  workerPhases: 7,
  workerWake: 7 + PHASES.length,
  size: 8 + PHASES.length,
} as const;

export const Command = { step: 1, setState: 2, exit: 3, gatherMoments: 4 } as const;

export interface ParallelLayout {
  /** Float32 offsets of each layer's dWᵀ and db inside one gradient slot. */
  layers: { wOffset: number; wSize: number; bOffset: number; bSize: number }[];
  slotFloats: number;
  maxBatch: number;
  maxSamples: number;
}

export interface SharedBuffers {
  control: Int32Array;
  /**
   * klWeight, the worker's batch sums (rec, kl, μ, σ), the time the main thread issued the step
   * (ms since the epoch, performance.timeOrigin + now), and the worker's timer (see WorkerTimes).
   */
  scalars: Float64Array;
  x: Float32Array;
  eps: Float32Array;
  /** [rank 0 parity 0, rank 0 parity 1, rank 1 parity 0, rank 1 parity 1] gradient slots. */
  grads: Float32Array;
  /** Updated weights (Wᵀ, at the layout's offsets): each rank writes its own shard's elements. */
  weights: Float32Array;
}

export function makeLayout(layers: { nIn: number; nOut: number }[], maxBatch: number, maxSamples: number): ParallelLayout {
  let off = 0;
  const out: ParallelLayout['layers'] = [];
  for (const l of layers) {
    const wSize = l.nIn * l.nOut;
    out.push({ wOffset: off, wSize, bOffset: off + wSize, bSize: l.nOut });
    off += wSize + l.nOut;
  }
  return { layers: out, slotFloats: off, maxBatch, maxSamples };
}

export function allocateShared(layout: ParallelLayout, pixels: number, dimz: number): { sab: SharedArrayBuffer[]; views: SharedBuffers } {
  const sab = [
    new SharedArrayBuffer(Ctl.size * 4),
    new SharedArrayBuffer(Scalar.size * 8),
    new SharedArrayBuffer(layout.maxBatch * pixels * 4),
    new SharedArrayBuffer(layout.maxSamples * layout.maxBatch * dimz * 4),
    new SharedArrayBuffer(4 * layout.slotFloats * 4),
    new SharedArrayBuffer(layout.slotFloats * 4),
  ];
  return { sab, views: sharedViews(sab) };
}

export function sharedViews(sab: SharedArrayBuffer[]): SharedBuffers {
  return {
    control: new Int32Array(sab[0]),
    scalars: new Float64Array(sab[1]),
    x: new Float32Array(sab[2]),
    eps: new Float32Array(sab[3]),
    grads: new Float32Array(sab[4]),
    weights: new Float32Array(sab[5]),
  };
}

export function gradSlot(buffers: SharedBuffers, layout: ParallelLayout, rank: number, step: number): Float32Array {
  const index = rank * 2 + (step & 1);
  return buffers.grads.subarray(index * layout.slotFloats, (index + 1) * layout.slotFloats);
}

/**
 * How long a replica spins before sleeping at a barrier. Off by default: on this project's busy
 * 2-core machines, spinning 0.3 ms took the CPU from the partner and doubled the step time
 * (22–25 → 48–55 ms); VAE_LENS_FAST_SPIN_MS sets it for experiments on quiet machines.
 */
const SPIN_MS = Number(process.env.VAE_LENS_FAST_SPIN_MS ?? 0);

/**
 * Waits until control word `index` (a counter that only grows) reaches `value`. Reaches, not
 * equals: the other side may already be one step further when this side looks (the main thread
 * starts step n+1 while the worker still finishes step n's update). Optionally spins first (SPIN_MS),
 * then sleeps in slices of `sliceMs`, calling `check` between them (it throws to abort).
 */
export function waitFor(c: Int32Array, index: number, value: number, sliceMs: number, check: () => void = () => {}): void {
  const spinUntil = performance.now() + SPIN_MS;
  for (;;) {
    const now = Atomics.load(c, index);
    if (now >= value) return;
    if (performance.now() < spinUntil) continue;
    check();
    Atomics.wait(c, index, now, sliceMs);
  }
}

export interface WorkerTimes {
  steps: number;
  /** Mean ms per step in each phase, on the worker. */
  perStep: Record<Phase, number>;
  /** Mean ms from the main thread issuing a step to the worker starting it. */
  wakeMs: number;
}

/** Adds the worker's timer totals (and its wake-up latency) into the shared scalars, after each step. */
export function publishWorkerTimes(scalars: Float64Array, timer: Timer, wakeMs: number): void {
  scalars[Scalar.workerSteps] = timer.steps;
  PHASES.forEach((p, i) => (scalars[Scalar.workerPhases + i] = timer.totals[p]));
  scalars[Scalar.workerWake] += wakeMs;
}

export interface WorkerInit {
  vaeLensFastWorker: true;
  sab: SharedArrayBuffer[];
  layout: ParallelLayout;
  pixels: number;
  dimz: number;
  hyper: AdamHyper;
  weights: Record<string, { data: Float32Array; shape: number[] }>;
  optimizer: OptimizerStateLike | null;
}

