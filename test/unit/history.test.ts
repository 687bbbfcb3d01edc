import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EpochEvent } from '../../src/shared/events';
import { DEFAULT_HISTORY_LIMITS, EpochHistory, downsampleEpochs } from '../../src/shared/history';

function epoch(n: number, loss: number, extra: Partial<Record<'kl' | 'meanSigma', number>> = {}): EpochEvent {
  const split = { loss, reconstruction: loss - 1, kl: extra.kl ?? 1, meanMu: 0, meanSigma: extra.meanSigma ?? 0.9 };
  return {
    type: 'epoch', v: 1, time: '', epoch: n, epochs: 0, train: { ...split }, test: { ...split },
    dims: { meanMu: [0], varMu: [1], meanSigmaSq: [1], kl: [1] }, activeUnits: 1, aggregateVariance: [1], klWeight: 1,
    samplesPerSecond: 1, secondsPerEpoch: 1, images: { samples: '', recon: '' },
  };
}

test('a short history comes back whole', () => {
  const epochs = Array.from({ length: 150 }, (_, i) => epoch(i + 1, 100 - i));
  assert.deepEqual(downsampleEpochs(epochs), epochs);
  assert.deepEqual(downsampleEpochs([]), []);
});

test('100,000 epochs: every one of the last N, the first, every spike and dip, at most keepLast + buckets × 21 points, in order', () => {
  const n = 100_000;
  const spikes = new Map([[1234, 1e6], [50_001, 1e5], [77_777, -5]]);
  const history = new EpochHistory();
  for (let i = 1; i <= n; i++) history.add(epoch(i, spikes.get(i) ?? 100 + Math.sin(i / 1000), i === 42_424 ? { meanSigma: 7 } : {}));
  const kept = history.result();
  const { keepLast, buckets } = DEFAULT_HISTORY_LIMITS;
  assert.equal(history.added, n);
  assert.ok(kept.length <= keepLast + buckets * 21, `${kept.length} points`);
  assert.ok(kept.length < 2000, `${kept.length} points`);
  const numbers = kept.map((e) => e.epoch);
  assert.deepEqual(numbers, [...new Set(numbers)].sort((a, b) => a - b), 'each epoch once, in order');
  assert.deepEqual(numbers.slice(-keepLast), Array.from({ length: keepLast }, (_, i) => n - keepLast + 1 + i), 'the last N whole');
  assert.equal(numbers[0], 1);
  for (const e of [...spikes.keys(), 42_424]) assert.ok(numbers.includes(e), `epoch ${e} (an extreme) is kept`);
  // The envelope covers the whole run: no gap wider than two runs of the final width.
  const gaps = numbers.slice(1).map((e, i) => e - numbers[i]);
  assert.ok(Math.max(...gaps) <= 2 * Math.ceil((n - keepLast) / (buckets / 2)), `largest gap ${Math.max(...gaps)}`);
});

test('the envelope keeps the minimum and maximum of each bucket of every charted series; NaN never hides a number', () => {
  const epochs = Array.from({ length: 40 }, (_, i) => epoch(i + 1, 10, { kl: i === 7 ? 0.1 : i === 8 ? 9 : 1 }));
  epochs[3] = { ...epochs[3], test: { ...epochs[3].test, loss: NaN } };
  epochs[4] = { ...epochs[4], test: { ...epochs[4].test, loss: Infinity } };
  const kept = downsampleEpochs(epochs, { keepLast: 5, buckets: 2 }).map((e) => e.epoch);
  for (const e of [1, 5, 8, 9, 36, 37, 38, 39, 40]) assert.ok(kept.includes(e), `epoch ${e} in ${kept}`);
  assert.ok(!kept.includes(4), 'the NaN epoch is not an extreme');
  assert.throws(() => new EpochHistory({ keepLast: 1, buckets: 0 }), RangeError);
});
