import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Stream, epochPermutation, priorNoise } from '../../src/trainer/rng';

const draw = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.normal());

test('the same key gives the same numbers; different keys give different ones', () => {
  assert.deepEqual(draw(Rng.fromKey(7, Stream.trainNoise, 1, 2), 50), draw(Rng.fromKey(7, Stream.trainNoise, 1, 2), 50));
  assert.notDeepEqual(draw(Rng.fromKey(7, Stream.trainNoise, 1, 2), 5), draw(Rng.fromKey(7, Stream.trainNoise, 1, 3), 5));
  assert.notDeepEqual(draw(Rng.fromKey(7, Stream.trainNoise, 1, 2), 5), draw(Rng.fromKey(8, Stream.trainNoise, 1, 2), 5));
});

test('state round-trips through JSON, including a pending Box–Muller value', () => {
  const rng = Rng.fromKey(3, Stream.testNoise);
  draw(rng, 11); // odd: a spare normal is pending
  const saved = JSON.parse(JSON.stringify(rng.getState()));
  assert.notEqual(saved.spare, null);
  const continued = draw(rng, 20);
  assert.deepEqual(draw(Rng.fromState(saved), 20), continued);
});

test('normal samples have mean ≈ 0 and variance ≈ 1; uniforms lie in [0, 1)', () => {
  const rng = Rng.fromKey(1);
  const xs = draw(rng, 200_000);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.01, `variance ${variance}`);
  for (let i = 0; i < 10_000; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
  }
});

test('an epoch permutation is a permutation, fixed by (seed, epoch)', () => {
  const p = epochPermutation(5, 3, 1000);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(epochPermutation(5, 3, 1000), p);
  assert.notDeepEqual(epochPermutation(5, 4, 1000), p);
});

test('prior noise: row i\'s first d values are the same for every dimz', () => {
  const small = priorNoise(0, 20);
  const large = priorNoise(0, 100);
  assert.equal(small.length, 64 * 20);
  assert.equal(large.length, 64 * 100);
  for (let i = 0; i < 64; i++) {
    assert.deepEqual(small.subarray(i * 20, i * 20 + 20), large.subarray(i * 100, i * 100 + 20));
  }
  assert.notDeepEqual(priorNoise(1, 20), small);
});
