import { test } from 'node:test';
import assert from 'node:assert/strict';
import { klWeightForEpoch } from '../../src/trainer/train';

test('KL warm-up: C ramps linearly from 0 over klWarmupEpochs, then stays at klWeight', () => {
  const config = { klWeight: 2, klWarmupEpochs: 4 };
  assert.deepEqual([1, 2, 3, 4, 5, 6, 100].map((e) => klWeightForEpoch(config, e)), [0, 0.5, 1, 1.5, 2, 2, 2]);
  assert.deepEqual([1, 2, 50].map((e) => klWeightForEpoch({ klWeight: 1, klWarmupEpochs: 0 }, e)), [1, 1, 1]);
});
