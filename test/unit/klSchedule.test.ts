import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig, klWeightForEpoch, validateConfig } from '../../src/shared/config';

const schedule = (c: Partial<Parameters<typeof klWeightForEpoch>[0]>, epochs: number[]) =>
  epochs.map((e) => klWeightForEpoch({ klWeight: 1, klWarmupEpochs: 0, klCycles: 0, epochs: 100, ...c }, e));

test('KL warm-up: C ramps linearly from 0 over klWarmupEpochs, then stays at klWeight', () => {
  assert.deepEqual(schedule({ klWeight: 2, klWarmupEpochs: 4 }, [1, 2, 3, 4, 5, 6, 100]), [0, 0.5, 1, 1.5, 2, 2, 2]);
  assert.deepEqual(schedule({}, [1, 2, 50]), [1, 1, 1]);
});

test('cyclical KL annealing: each cycle ramps C from 0 over its first half, then holds klWeight', () => {
  // 8 epochs, 2 cycles of 4: 0, ½, 1, 1 | 0, ½, 1, 1.
  assert.deepEqual(schedule({ klCycles: 2, epochs: 8 }, [1, 2, 3, 4, 5, 6, 7, 8]), [0, 0.5, 1, 1, 0, 0.5, 1, 1]);
  // 100 epochs, 4 cycles (Fu et al.'s M = 4): every cycle starts at 0 and reaches C = 3 at its half.
  const c = { klWeight: 3, klCycles: 4, epochs: 100 };
  assert.deepEqual(schedule(c, [1, 26, 51, 76]), [0, 0, 0, 0]);
  assert.deepEqual(schedule(c, [14, 25, 50, 100]), [3, 3, 3, 3]);
  assert.ok(Math.abs(schedule(c, [7])[0] - 3 * (6 / 12.5)) < 1e-12);
  // Cycles that do not divide the epochs still restart at 0 and never exceed C.
  // 10 epochs in 3 cycles of 3, 4 and 3 epochs.
  const uneven = schedule({ klCycles: 3, epochs: 10 }, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).map((w) => Math.round(w * 1000) / 1000);
  assert.deepEqual(uneven, [0, 0.667, 1, 0, 0.5, 1, 1, 0, 0.667, 1]);
});

test('one KL schedule at a time, and cycles of at least two epochs: clear errors', () => {
  const both = validateConfig({ klCycles: 4, klWarmupEpochs: 5 });
  assert.ok(!both.ok && /"klCycles": 4 cycles and "klWarmupEpochs": 5 are two KL schedules; set one of them to 0/.test(both.errors.join()));
  const short = validateConfig({ klCycles: 3, epochs: 5 });
  assert.ok(!short.ok && /leaves less than 2 epochs per cycle; use at most 2/.test(short.errors.join()));
  const ok = validateConfig({ klCycles: 4, epochs: 100 });
  assert.ok(ok.ok && ok.config.klCycles === 4);
  assert.equal(defaultConfig().klCycles, 0, 'off by default: the study\'s runs are unchanged');
});
