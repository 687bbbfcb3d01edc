import type { ModelName } from '../../shared/config';
import type { VaeModel } from './types';
import { createChainerMlp } from './chainerMlp';
import { createDeepBn } from './deepBn';

export type { VaeModel } from './types';

/** Builds a model for images of `pixels` values (any square size) with seeded initial weights. */
export function createModel(name: ModelName, pixels: number, dimz: number, seed: number): VaeModel {
  switch (name) {
    case 'chainer-mlp':
      return createChainerMlp(pixels, dimz, seed);
    case 'deep-bn':
      return createDeepBn(pixels, dimz, seed);
  }
}
