/**
 * Fast training steps for the study's two models on the wasm backend. `createFastStep` returns
 * null whenever the fast path does not apply (another backend or model, k > 1 samples for deep-bn,
 * tfjs internals not the pinned ones, or VAE_LENS_STOCK_STEP=1), and the caller uses the stock
 * tape step instead.
 */
import type { TrainConfig } from '../../shared/config';
import type { TrainStep } from '../step';
import type { FastModel } from './common';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { FastDeepBnStep } from './bnStep';
import { FastMlpStep } from './mlpStep';
import { ParallelMlpStep } from './parallel';
import { checkWasmInternals } from './wasmHeap';
import type { Timer } from './timer';

export interface FastStepOptions {
  /**
   * Threads for the data-parallel step (chainer-mlp): 1 = this thread only, ≥ 2 = two replicas;
   * 0/absent = automatic: two when the machine has at least 4 cores. With only 2 cores, the second
   * replica competes with everything else on the machine (the editor, the extension host), and on
   * this project's shared 2-core machines it was slower than one thread (see bench:train).
   */
  threads?: number;
  /** The worker bundle; default: fast-worker.js beside this bundle (one thread when it is absent). */
  workerScript?: string;
  /** Called with the reason when the fast step does not apply. */
  log?: (line: string) => void;
}

type AdamConfig = Pick<TrainConfig, 'learningRate' | 'beta1' | 'beta2' | 'epsilon'> & Partial<Pick<TrainConfig, 'trainSamples' | 'batchSize' | 'freeBits'>>;

export function fastStepUnavailable(model: FastModel, config: AdamConfig, backend: string): string | null {
  if (process.env.VAE_LENS_STOCK_STEP === '1') return 'VAE_LENS_STOCK_STEP=1';
  if (backend !== 'wasm') return `backend ${backend} (the fast step is for wasm)`;
  if (model.name !== 'chainer-mlp' && model.name !== 'deep-bn') return `model ${model.name} has no fast step`;
  if (model.likelihood.spec.type !== 'bernoulli') return `the fast step implements the Bernoulli likelihood, not ${model.likelihood.spec.type}`;
  if (model.name === 'deep-bn' && (config.trainSamples ?? 1) > 1) return 'deep-bn with k > 1 samples (the tape step normalises each decode separately)';
  return checkWasmInternals();
}

export function createFastStep(model: FastModel, config: AdamConfig, backend: string, options: FastStepOptions = {}): TrainStep | null {
  const why = fastStepUnavailable(model, config, backend);
  if (why !== null) {
    options.log?.(`fast step off: ${why}`);
    return null;
  }
  const hyper = { learningRate: config.learningRate, beta1: config.beta1, beta2: config.beta2, epsilon: config.epsilon };
  const freeBits = config.freeBits ?? 0;
  if (model.name === 'deep-bn') return new FastDeepBnStep(model, hyper, freeBits);
  const threads = options.threads && options.threads > 0 ? options.threads : availableParallelism() >= 4 ? 2 : 1;
  if (threads >= 2 && freeBits > 0) {
    // Each replica sees half the batch; free bits judge each dimension's KL over the whole batch.
    options.log?.('fast step: one thread (free bits need the whole batch\'s KL per dimension)');
  } else if (threads >= 2) {
    const script = options.workerScript ?? findWorkerScript();
    if (script === null) options.log?.('fast step: one thread (the worker bundle fast-worker.js is not beside the trainer)');
    else return new ParallelMlpStep(model, hyper, script, config.batchSize ?? 100, config.trainSamples ?? 1, options.log);
  }
  return new FastMlpStep(model, hyper, freeBits);
}

/** The worker bundle beside the running bundle: dist/fast-worker.js (the trainer), dist/bench-fast-worker.js (the benchmark). */
export function findWorkerScript(names = ['fast-worker.js']): string | null {
  for (const name of names) {
    const p = join(__dirname, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** The per-phase timer of a fast step (for the benchmark), or null for another step. */
export function fastStepTimer(step: TrainStep): Timer | null {
  const t = (step as { timer?: Timer }).timer;
  return t ?? null;
}

/**
 * Waits (event loop running) until a two-thread step's worker is up; returns the threads the step
 * uses then (1 for any other step, or if the worker failed).
 */
export async function fastStepReady(step: TrainStep): Promise<number> {
  if (!(step instanceof ParallelMlpStep)) return 1;
  return (await step.whenReady()) ? 2 : 1;
}
