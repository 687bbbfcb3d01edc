/**
 * Chooses the training step for a model and backend. The one place where a faster step for the
 * study's models on a given backend plugs in; everything else only sees the TrainStep interface.
 */
import type { TrainConfig } from '../shared/config';
import type { VaeModel } from './model';
import type { TrainStep } from './step';
import { TapeTrainStep } from './tapeStep';

export function createTrainStep(model: VaeModel, config: TrainConfig, backend: string): TrainStep {
  void backend;
  return new TapeTrainStep(model, config);
}
