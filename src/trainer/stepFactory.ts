/**
 * Chooses the training step for a model and backend. The one place where a faster step for the
 * study's models on a given backend plugs in; everything else only sees the TrainStep interface.
 */
import type { TrainConfig } from '../shared/config';
import type { VaeModel } from './model';
import type { TrainStep } from './step';
import { TapeTrainStep } from './tapeStep';
import { createFastStep } from './fast';

/**
 * On wasm, the study's two models get the fast step (src/trainer/fast: same numbers as the tape
 * step, several times faster; chainer-mlp on both cores when `threads` allows). It returns null
 * elsewhere, for k > 1 on deep-bn, when tfjs is not the pinned version, or with
 * VAE_LENS_STOCK_STEP=1 (the escape hatch), and then the tape step runs. On webgpu the tape step
 * runs on the GPU (there is no fused webgpu step yet); it reads its results with await data().
 */
export function createTrainStep(model: VaeModel, config: TrainConfig, backend: string, log?: (line: string) => void): TrainStep {
  const fast = createFastStep(model, config, backend, { threads: config.threads, log: log && ((line) => log(`VAE Lens: ${line}`)) });
  if (fast) {
    log?.(`VAE Lens: training step: fast ${model.name} step on ${backend}`);
    return fast;
  }
  log?.(`VAE Lens: training step: general (TensorFlow.js gradients) on ${backend}`);
  return new TapeTrainStep(model, config);
}
