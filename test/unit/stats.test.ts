import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIVE_UNIT_THRESHOLD, LatentStatsAccumulator, MeanAccumulator } from '../../src/shared/stats';

const close = (actual: number, expected: number, tol = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${actual} ≠ ${expected}`);

/** Direct, two-pass computation of what the accumulator gathers in one pass. */
function direct(mu: number[][], lnVar: number[][]) {
  const n = mu.length;
  const dimz = mu[0].length;
  const meanMu = [], varMu = [], meanSigmaSq = [], kl = [];
  for (let d = 0; d < dimz; d++) {
    const m = mu.reduce((s, r) => s + r[d], 0) / n;
    meanMu.push(m);
    varMu.push(mu.reduce((s, r) => s + (r[d] - m) ** 2, 0) / n);
    meanSigmaSq.push(lnVar.reduce((s, r) => s + Math.exp(r[d]), 0) / n);
    kl.push(mu.reduce((s, r, i) => s + 0.5 * (r[d] ** 2 + Math.exp(lnVar[i][d]) - lnVar[i][d] - 1), 0) / n);
  }
  const meanSigma = lnVar.flat().reduce((s, v) => s + Math.exp(v / 2), 0) / (n * dimz);
  return { meanMu, varMu, meanSigmaSq, kl, meanSigma };
}

test('per-dimension latent statistics equal a direct computation, whatever the batch split', () => {
  // 7 images × 3 dims: dim 0 varies a lot around 5 (active, off-centre), dim 1 barely (inactive), dim 2 moderately.
  const mu = [0, 1, 2, 3, 4, 5, 6].map((i) => [5 + Math.sin(i) * 2, 0.001 * i, Math.cos(i) * 0.3]);
  const lnVar = [0, 1, 2, 3, 4, 5, 6].map((i) => [-2 + 0.1 * i, 0.01 * i, -0.5 * Math.cos(i)]);
  const want = direct(mu, lnVar);
  for (const split of [[7], [3, 4], [1, 1, 5]]) {
    const acc = new LatentStatsAccumulator(3);
    let at = 0;
    for (const rows of split) {
      acc.add(mu.slice(at, at + rows).flat(), lnVar.slice(at, at + rows).flat(), rows);
      at += rows;
    }
    const s = acc.summary();
    assert.equal(s.count, 7);
    for (let d = 0; d < 3; d++) {
      close(s.dims.meanMu[d], want.meanMu[d]);
      close(s.dims.varMu[d], want.varMu[d]);
      close(s.dims.meanSigmaSq[d], want.meanSigmaSq[d]);
      close(s.dims.kl[d], want.kl[d]);
      close(s.aggregateVariance[d], want.varMu[d] + want.meanSigmaSq[d]);
    }
    close(s.kl, want.kl[0] + want.kl[1] + want.kl[2]);
    close(s.meanMu, (want.meanMu[0] + want.meanMu[1] + want.meanMu[2]) / 3);
    close(s.meanSigma, want.meanSigma);
    // Var(μ_1) ≈ 4e-6 < 0.01: inactive; the other two are active.
    assert.equal(s.activeUnits, want.varMu.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length);
    assert.equal(s.activeUnits, 2);
  }
});

test('a collapsed dimension (μ = 0, σ = 1 for every image) has KL 0, no variance and aggregate variance 1', () => {
  const acc = new LatentStatsAccumulator(1);
  acc.add([0, 0, 0, 0], [0, 0, 0, 0], 4);
  const s = acc.summary();
  assert.deepEqual(s.dims, { meanMu: [0], varMu: [0], meanSigmaSq: [1], kl: [0] });
  assert.deepEqual(s.aggregateVariance, [1]);
  assert.equal(s.activeUnits, 0);
  assert.equal(s.meanSigma, 1);
});

test('add rejects arrays shorter than rows × dimz', () => {
  assert.throws(() => new LatentStatsAccumulator(2).add([1, 2, 3], [0, 0, 0], 2), /expected 2×2 values/);
});

test('MeanAccumulator weights batch means by images and survives a JSON round trip', () => {
  const acc = new MeanAccumulator();
  acc.add({ loss: 10 }, 100);
  acc.add({ loss: 20 }, 50);
  acc.addSum('sumMu', 30);
  const copy = MeanAccumulator.fromJSON(JSON.parse(JSON.stringify(acc.toJSON())));
  for (const a of [acc, copy]) {
    close(a.mean('loss'), (10 * 100 + 20 * 50) / 150);
    close(a.mean('sumMu', 3), 30 / (150 * 3));
    assert.equal(a.count, 150);
  }
});
