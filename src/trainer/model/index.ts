import { architectureOf, type PresetModel, type TrainConfig } from '../../shared/config';
import { DEFAULT_LIKELIHOOD, type Shape } from '../../shared/architecture';
import type { VaeModel } from './types';
import { createChainerMlp } from './chainerMlp';
import { createDeepBn } from './deepBn';
import { createNetworkModel } from './network';

export type { VaeModel } from './types';

/**
 * The model a config describes, for images of `shape` [height, width, channels], with seeded
 * initial weights. The study's presets keep their own parameter names (checkpoints and the fast
 * wasm steps know them); a custom network is built from its layer lists.
 */
export function createModel(config: Pick<TrainConfig, 'model' | 'encoder' | 'decoder' | 'dimz' | 'likelihood' | 'seed'>, shape: Shape): VaeModel {
  switch (config.model) {
    case 'chainer-mlp':
      return createChainerMlp(shape, config.dimz, config.likelihood, config.seed);
    case 'deep-bn':
      return createDeepBn(shape, config.dimz, config.likelihood, config.seed);
    case 'custom':
      return createNetworkModel('custom', architectureOf(config), shape, config.dimz, config.likelihood, config.seed);
  }
}

/** A data set's images as the model's [height, width, channels]. */
export function imageShapeOfData(data: { width: number; height: number; channels?: number }): Shape {
  return [data.height, data.width, data.channels ?? 1];
}

/** A study network on grey images of `pixels` values with the Bernoulli likelihood (benchmarks and tests). */
export function createStudyModel(name: PresetModel, pixels: number, dimz: number, seed: number): VaeModel {
  const side = Math.round(Math.sqrt(pixels));
  const shape: Shape = side * side === pixels ? [side, side, 1] : [1, pixels, 1];
  return createModel({ model: name, encoder: null, decoder: null, dimz, likelihood: DEFAULT_LIKELIHOOD, seed }, shape);
}
