/**
 * Fast training steps for the study's two models on the wasm backend. `createFastStep` returns
 * null whenever the fast path does not apply (another backend or model, k > 1 samples for deep-bn,
 * tfjs internals not the pinned ones, or VAE_LENS_STOCK_STEP=1), and the caller uses the stock
 * tape step instead.
 */
import type { TrainConfig } from '../../shared/config';
import type { TrainStep } from '../step';
import type { FastModel } from './common';
import { FastMlpStep } from './mlpStep';
import { checkWasmInternals } from './wasmHeap';
import type { Timer } from './timer';

export interface FastStepOptions {
  /** Threads for the data-parallel step (chainer-mlp): 1 = this thread only. */
  threads?: number;
  /** Called with the reason when the fast step does not apply. */
  log?: (line: string) => void;
}

type AdamConfig = Pick<TrainConfig, 'learningRate' | 'beta1' | 'beta2' | 'epsilon'> & Partial<Pick<TrainConfig, 'trainSamples'>>;

export function fastStepUnavailable(model: FastModel, config: AdamConfig, backend: string): string | null {
  if (process.env.VAE_LENS_STOCK_STEP === '1') return 'VAE_LENS_STOCK_STEP=1';
  if (backend !== 'wasm') return `backend ${backend} (the fast step is for wasm)`;
  if (model.name !== 'chainer-mlp') return `model ${model.name} has no fast step`;
  return checkWasmInternals();
}

export function createFastStep(model: FastModel, config: AdamConfig, backend: string, options: FastStepOptions = {}): TrainStep | null {
  const why = fastStepUnavailable(model, config, backend);
  if (why !== null) {
    options.log?.(`fast step off: ${why}`);
    return null;
  }
  const hyper = { learningRate: config.learningRate, beta1: config.beta1, beta2: config.beta2, epsilon: config.epsilon };
  return new FastMlpStep(model, hyper);
}

/** The per-phase timer of a fast step (for the benchmark), or null for another step. */
export function fastStepTimer(step: TrainStep): Timer | null {
  const t = (step as { timer?: Timer }).timer;
  return t ?? null;
}
