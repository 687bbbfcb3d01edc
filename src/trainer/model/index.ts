import * as tf from '@tensorflow/tfjs-core';
import type { ModelName } from '../../shared/config';
import type { CheckpointContent } from '../checkpoint';
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

function restoreTensors(target: Record<string, tf.Variable>, saved: CheckpointContent['parameters'], what: string): void {
  for (const [name, v] of Object.entries(target)) {
    const s = saved[name];
    if (!s) throw new Error(`The checkpoint has no ${what} "${name}".`);
    if (s.shape.join('×') !== v.shape.join('×')) throw new Error(`The checkpoint's ${what} "${name}" is ${s.shape.join('×')}, the model's is ${v.shape.join('×')}.`);
    tf.tidy(() => v.assign(tf.tensor(s.values, v.shape)));
  }
}

/** Sets a model's weights and batch normalization state to a checkpoint's. */
export function restoreModel(model: VaeModel, checkpoint: Pick<CheckpointContent, 'parameters' | 'modelState'>): void {
  restoreTensors(model.variables, checkpoint.parameters, 'parameter');
  restoreTensors(model.state, checkpoint.modelState, 'state');
}
