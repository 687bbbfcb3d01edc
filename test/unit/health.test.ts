import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { EpochEvent, RunEvent } from '../../src/shared/events';
import {
  DEFAULT_HEALTH_SETTINGS, resolveHealthSettings, evaluateHealth, sigmaFarFromOne, unusedLatentDimensions, aggregateOffPrior,
  diverged, overfitting, classifyMeanSigma, classifyMeanMu, classifyAggregateVariance, classifyActiveUnits, classifyEpoch,
  activeDimensions, unusedDimensions, activeAggregateVariance, epochHistory, worstLevel, priorVerdict, type HealthSettings,
} from '../../src/shared/health';

interface DimSpec { mu?: number; varMu: number; sigmaSq: number; kl: number }

/** An epoch event with per-dimension statistics built from a list of dimension specs. */
function epoch(n: number, opts: { meanSigma?: number; meanMu?: number; dims?: DimSpec[]; trainLoss?: number; testLoss?: number; epochs?: number } = {}): EpochEvent {
  const dims = opts.dims ?? healthyDims20();
  const split = (loss: number) => ({ loss, reconstruction: loss - 25, kl: 25, meanMu: opts.meanMu ?? 0.01, meanSigma: opts.meanSigma ?? 0.3 });
  return {
    type: 'epoch', v: 1, time: '2026-01-01T00:00:00Z', epoch: n, epochs: opts.epochs ?? 100,
    train: split(opts.trainLoss ?? 100), test: split(opts.testLoss ?? 102),
    dims: {
      meanMu: dims.map((d) => d.mu ?? 0),
      varMu: dims.map((d) => d.varMu),
      meanSigmaSq: dims.map((d) => d.sigmaSq),
      kl: dims.map((d) => d.kl),
    },
    activeUnits: dims.filter((d) => d.varMu > 0.01).length,
    aggregateVariance: dims.map((d) => d.varMu + d.sigmaSq),
    klWeight: 1, samplesPerSecond: 2000, secondsPerEpoch: 30,
    images: { samples: `samples/epoch-${n}.png`, recon: `recon/epoch-${n}.png` },
  };
}

/** A healthy chainer-mlp on MNIST with dimz 20: narrow posteriors (σ_d ≈ 0.1–0.3), Var(μ_d) ≈ 0.9, aggregate ≈ 1 everywhere. */
function healthyDims20(): DimSpec[] {
  return Array.from({ length: 20 }, (_, d) => ({ mu: 0.01 * (d % 3 - 1), varMu: 0.92 + 0.002 * d, sigmaSq: 0.05, kl: 2 + d * 0.1 }));
}

const unusedDim: DimSpec = { mu: 0, varMu: 0.0001, sigmaSq: 0.999, kl: 0.0005 };
const history = (n: number, make: (i: number) => EpochEvent): EpochEvent[] => Array.from({ length: n }, (_, i) => make(i + 1));

describe('sigma far from 1', () => {
  const s: HealthSettings = { ...DEFAULT_HEALTH_SETTINGS, sigmaTolerance: 0.25, patience: 3, warmupEpochs: 2 };

  test('a healthy dimz-20 MNIST model (mean σ ≈ 0.3, aggregate variance ≈ 1) is informational only, and says prior samples are not at risk', () => {
    const f = sigmaFarFromOne(history(10, (i) => epoch(i)), s);
    assert.ok(f);
    assert.equal(f.kind, 'sigma-far-from-one');
    assert.equal(f.severity, 'info');
    assert.equal(f.epoch, 10);
    assert.match(f.message, /narrower than the prior/);
    assert.match(f.message, /not at risk/);
    assert.match(f.message, /20 active dimensions is 0\.99/);
  });

  test('when the aggregate variance of the active dimensions is off as well, it is a warning that explains prior holes', () => {
    const narrow = Array.from({ length: 20 }, () => ({ varMu: 0.3, sigmaSq: 0.01, kl: 3 }));
    const f = sigmaFarFromOne(history(6, (i) => epoch(i, { meanSigma: 0.1, dims: narrow })), s);
    assert.ok(f);
    assert.equal(f.severity, 'warning');
    assert.match(f.message, /0\.31 \(target 1\)/);
    assert.match(f.message, /never trained/);
  });

  test('one verdict: the σ finding never says prior samples are safe while a dimension is off the prior', () => {
    // The variances average to ≈ 1, but two dimensions' means are shifted: the σ rule used to call this
    // "not at risk" next to an aggregate warning saying the opposite.
    const dims = healthyDims20();
    dims[1] = { ...dims[1], mu: 0.7 };
    dims[9] = { ...dims[9], mu: -1.1 };
    const findings = evaluateHealth(history(6, (i) => epoch(i, { dims })), s);
    assert.deepEqual(findings.map((f) => [f.kind, f.severity]), [['sigma-far-from-one', 'warning']]);
    assert.doesNotMatch(findings[0].message, /not at risk|matches the prior/);
    assert.match(findings[0].message, /2 have \|E\[μ_d\]\| > 0\.30 \(worst: dimension 10, -1\.10\)/);
    assert.match(findings[0].message, /never trained/);
    assert.match(findings[0].message, /A KL weight C above 1 \(klWeight, e\.g\. 2\) pulls it towards the prior/, 'the remedy that fits');
    // The gauge is coloured by the same verdict.
    assert.equal(classifyEpoch(epoch(6, { dims }), s).meanSigma, 'warning');
    // One dimension's variance off while the average is ≈ 1: the same.
    const spread = healthyDims20();
    spread[0] = { ...spread[0], varMu: 2.2 };
    spread[1] = { ...spread[1], varMu: 0.2 };
    const f = evaluateHealth(history(6, (i) => epoch(i, { dims: spread })), s);
    assert.deepEqual(f.map((x) => [x.kind, x.severity]), [['sigma-far-from-one', 'warning']]);
    assert.match(f[0].message, /2 have Var\(μ_d\) \+ E\[σ_d²\] outside/);
  });

  test('the warning adds what the latest latent diagnostics measured, "at least" when I(x;z) is at its ceiling', () => {
    const h = history(6, (i) => epoch(i));
    const diagnostics = {
      images: 2000, mutualInformation: 7.58, meanKl: 25.4, marginalKl: 17.82,
      moments: { total: 3.1, meanShift: 1.2, correlation: 0.9, perDimension: Array(20).fill(0.1), perEigenvalue: Array(20).fill(0.1) },
      nonGaussian: 14.72, holeRate: 0.263, priorSamples: 5000, fixedNoiseHoleRate: 0.3,
    };
    h[4] = { ...h[4], diagnostics };
    const f = sigmaFarFromOne(h, s)!;
    assert.match(f.message, /Measured at epoch 5 on 2000 test images: of the KL's 25\.4 nats, at least 7\.6 carry information about x and 17\.8 are prior mismatch \(3\.1 in mean and covariance, 14\.7 in shape\); 26\.3% of prior samples land where no test image's posterior puts mass\./);
    h[4] = { ...h[4], diagnostics: { ...diagnostics, mutualInformation: 5 } };
    assert.match(sigmaFarFromOne(h, s)!.message, /of the KL's 25\.4 nats, 5\.0 carry information/);
    assert.doesNotMatch(sigmaFarFromOne(history(6, (i) => epoch(i)), s)!.message, /Measured at/, 'nothing when no epoch has diagnostics');
  });

  test('measured holes decide too: moments on the prior but 35% of prior samples in holes is a warning that says so', () => {
    const base = {
      images: 2000, mutualInformation: 7.0, meanKl: 25, marginalKl: 18,
      moments: { total: 2, meanShift: 0.5, correlation: 0.5, perDimension: Array(20).fill(0.05), perEigenvalue: Array(20).fill(0.05) },
      nonGaussian: 16, holeRate: 0.35, priorSamples: 5000, fixedNoiseHoleRate: 0.3,
    };
    const h = history(6, (i) => epoch(i));
    h[4] = { ...h[4], diagnostics: base };
    const findings = evaluateHealth(h, s);
    assert.deepEqual(findings.map((f) => [f.kind, f.severity]), [['sigma-far-from-one', 'warning']]);
    assert.match(findings[0].message, /but the aggregate posterior has holes: 35\.0% of prior samples \(measured at epoch 5\) land where no test image's posterior puts mass, above 20%/);
    assert.doesNotMatch(findings[0].message, /not at risk/);
    // Few holes: the moments' verdict stands, and the message quotes the measure.
    h[4] = { ...h[4], diagnostics: { ...base, holeRate: 0.04 } };
    const few = evaluateHealth(h, s);
    assert.deepEqual(few.map((f) => [f.kind, f.severity]), [['sigma-far-from-one', 'info']]);
    assert.match(few[0].message, /not at risk/);
    assert.match(few[0].message, /4\.0% of prior samples land/);
    // With σ near 1 the aggregate rule reports the holes on its own.
    const inBand = history(6, (i) => epoch(i, { meanSigma: 0.95 }));
    inBand[4] = { ...inBand[4], diagnostics: base };
    const alone = evaluateHealth(inBand, { ...s, patience: 1 });
    assert.deepEqual(alone.map((f) => [f.kind, f.severity]), [['aggregate-off-prior', 'warning']]);
    assert.match(alone[0].message, /it has holes: 35\.0% of prior samples/);
    // An epoch before any measurement is judged by its moments alone.
    assert.equal(priorVerdict(h[3], s, h).measured, undefined);
    assert.equal(priorVerdict(h[5], s, h).measured?.epoch, 5);
  });

  test('posteriors wider than the prior are named as such', () => {
    const f = sigmaFarFromOne(history(6, (i) => epoch(i, { meanSigma: 1.6 })), s);
    assert.ok(f);
    assert.match(f.message, /wider than the prior/);
  });

  test('nothing during the warm-up, however far σ is', () => {
    assert.equal(sigmaFarFromOne(history(2, (i) => epoch(i, { meanSigma: 0.05 })), s), null);
    // Epochs 3 and 4 are past the warm-up but patience is 3: still nothing.
    assert.equal(sigmaFarFromOne(history(4, (i) => epoch(i, { meanSigma: 0.05 })), s), null);
    assert.ok(sigmaFarFromOne(history(5, (i) => epoch(i, { meanSigma: 0.05 })), s));
  });

  test('patience: one epoch back inside the band resets the count', () => {
    const sigmas = [0.2, 0.2, 0.2, 0.2, 0.9, 0.2, 0.2];
    const h = sigmas.map((sigma, i) => epoch(i + 1, { meanSigma: sigma }));
    assert.equal(sigmaFarFromOne(h, s), null);
    assert.ok(sigmaFarFromOne([...h, epoch(8, { meanSigma: 0.2 })], s));
  });

  test('exactly at the threshold is inside the band', () => {
    assert.equal(sigmaFarFromOne(history(6, (i) => epoch(i, { meanSigma: 0.75 })), s), null);
    assert.equal(sigmaFarFromOne(history(6, (i) => epoch(i, { meanSigma: 1.25 })), s), null);
    assert.ok(sigmaFarFromOne(history(6, (i) => epoch(i, { meanSigma: 0.7499 })), s));
    assert.ok(sigmaFarFromOne(history(6, (i) => epoch(i, { meanSigma: 1.2501 })), s));
  });

  test('σ near 1 raises nothing', () => {
    assert.equal(sigmaFarFromOne(history(20, (i) => epoch(i, { meanSigma: 0.95 })), s), null);
  });
});

describe('unused latent dimensions and posterior collapse', () => {
  const s: HealthSettings = { ...DEFAULT_HEALTH_SETTINGS, patience: 2, warmupEpochs: 1 };

  test('"14 of 20 latent dimensions are unused" is a warning (more than half unused)', () => {
    const dims = [...healthyDims20().slice(0, 6), ...Array(14).fill(unusedDim)];
    const f = unusedLatentDimensions(history(4, (i) => epoch(i, { dims })), s);
    assert.ok(f);
    assert.equal(f.kind, 'unused-dimensions');
    assert.equal(f.severity, 'warning');
    assert.match(f.message, /^14 of 20 latent dimensions are unused/);
  });

  test('a few unused dimensions are information', () => {
    const dims = [...healthyDims20().slice(0, 17), ...Array(3).fill(unusedDim)];
    const f = unusedLatentDimensions(history(4, (i) => epoch(i, { dims })), s);
    assert.equal(f?.severity, 'info');
    assert.match(f!.message, /^3 of 20/);
  });

  test('all dimensions unused is posterior collapse, an error with remedies', () => {
    const dims = Array(20).fill(unusedDim);
    const f = unusedLatentDimensions(history(4, (i) => epoch(i, { meanSigma: 1, dims })), s);
    assert.ok(f);
    assert.equal(f.kind, 'posterior-collapse');
    assert.equal(f.severity, 'error');
    assert.match(f.message, /all 20 latent dimensions are unused/);
    assert.match(f.message, /warm-up/);
    assert.match(f.message, /smaller KL weight C/);
  });

  test('a low-KL dimension whose σ is not ≈ 1 is not counted as unused', () => {
    const odd = { varMu: 0.0001, sigmaSq: 0.5, kl: 0.001 };
    assert.deepEqual(unusedDimensions(epoch(3, { dims: [odd, unusedDim] })), [1]);
  });

  test('the KL threshold is strict: KL_d exactly at it counts as used', () => {
    const atThreshold = { ...unusedDim, kl: DEFAULT_HEALTH_SETTINGS.unusedKlThreshold };
    assert.deepEqual(unusedDimensions(epoch(3, { dims: [atThreshold] })), []);
  });

  test('respects warm-up and patience', () => {
    const dims = Array(20).fill(unusedDim);
    assert.equal(unusedLatentDimensions(history(2, (i) => epoch(i, { dims })), s), null);
    assert.ok(unusedLatentDimensions(history(3, (i) => epoch(i, { dims })), s));
  });
});

describe('aggregate posterior off the prior', () => {
  const s: HealthSettings = { ...DEFAULT_HEALTH_SETTINGS, patience: 1, warmupEpochs: 0, meanMuTolerance: 0.25, aggregateVarianceTolerance: 0.25 };

  test('healthy aggregate statistics raise nothing', () => {
    assert.equal(aggregateOffPrior([epoch(1)], s), null);
  });

  test('an active dimension with |E[μ_d]| too large is reported with the worst one', () => {
    const dims = healthyDims20();
    dims[4] = { ...dims[4], mu: 0.6 };
    dims[7] = { ...dims[7], mu: -0.9 };
    const f = aggregateOffPrior([epoch(1, { dims })], s);
    assert.ok(f);
    assert.equal(f.severity, 'warning');
    assert.match(f.message, /2 have \|E\[μ_d\]\| > 0\.25 \(worst: dimension 8, -0\.90\)/);
  });

  test('an active dimension whose Var(μ_d) + E[σ_d²] is far from 1 is reported', () => {
    const dims = healthyDims20();
    dims[2] = { varMu: 2.5, sigmaSq: 0.01, kl: 5 };
    const f = aggregateOffPrior([epoch(1, { dims })], s);
    assert.ok(f);
    assert.match(f.message, /1 has Var\(μ_d\) \+ E\[σ_d²\] outside \[0\.75, 1\.25\] \(worst: dimension 3, 2\.51\)/);
  });

  test('no warning during the warm-up, exactly like the σ rule; then after `patience` epochs off the prior', () => {
    // Early training really is off the prior (E[μ_d] starts near ±1): the rule waits out the warm-up, then tells the truth.
    const settings: HealthSettings = { ...DEFAULT_HEALTH_SETTINGS, warmupEpochs: 4, patience: 2 };
    const offDims = () => healthyDims20().map((d, i) => ({ ...d, mu: i % 2 ? 1 : -1 }));
    const run = history(8, (i) => epoch(i, { meanSigma: 0.05, dims: offDims() }));
    for (let n = 1; n <= 5; n++) {
      assert.equal(aggregateOffPrior(run.slice(0, n), settings), null, `epoch ${n}: warm-up (4) or not yet patience (2) epochs after it`);
      assert.equal(sigmaFarFromOne(run.slice(0, n), settings), null, `σ rule, epoch ${n}`);
    }
    const f = aggregateOffPrior(run.slice(0, 6), settings);
    assert.equal(f?.epoch, 6, 'epochs 5 and 6 are past the warm-up');
    assert.equal(sigmaFarFromOne(run.slice(0, 6), settings)?.epoch, 6, 'the same epoch as the σ rule');
    assert.match(f!.message, /20 have \|E\[μ_d\]\| > 0\.30/);
    // Off the prior only during the warm-up, on it afterwards: nothing, ever.
    const settled = [...run.slice(0, 4), ...history(4, (i) => epoch(i + 4))];
    for (let n = 1; n <= settled.length; n++) assert.equal(aggregateOffPrior(settled.slice(0, n), settings), null, `settled run, epoch ${n}`);
    // Through evaluateHealth (the tree and the panels) too.
    assert.deepEqual(evaluateHealth(run.slice(0, 5), settings).map((x) => x.kind), []);
    // Mean σ is far from 1 as well: one σ warning that names the dimensions off the prior, not a second banner.
    const six = evaluateHealth(run.slice(0, 6), settings);
    assert.deepEqual(six.map((x) => [x.kind, x.severity]), [['sigma-far-from-one', 'warning']]);
    assert.match(six[0].message, /20 have \|E\[μ_d\]\| > 0\.30/);
    // With mean σ inside the band the aggregate rule speaks on its own.
    const inBand = history(6, (i) => epoch(i, { meanSigma: 0.9, dims: offDims() }));
    assert.deepEqual(evaluateHealth(inBand, settings).map((x) => [x.kind, x.severity]), [['aggregate-off-prior', 'warning']]);
  });

  test('exactly at the thresholds is on the prior', () => {
    const dims: DimSpec[] = [{ mu: 0.25, varMu: 0.5, sigmaSq: 0.25, kl: 1 }, { mu: -0.25, varMu: 1, sigmaSq: 0.25, kl: 1 }];
    assert.equal(aggregateOffPrior([epoch(1, { dims })], s), null);
  });

  test('unused dimensions are not judged (they sit on the prior by definition)', () => {
    const dims = [...healthyDims20().slice(0, 5), { mu: 0.8, varMu: 0.001, sigmaSq: 0.2, kl: 0.5 }];
    assert.equal(aggregateOffPrior([epoch(1, { dims })], s), null);
  });
});

describe('messages agree in number, for one as for many', () => {
  const s: HealthSettings = { ...DEFAULT_HEALTH_SETTINGS, patience: 1, warmupEpochs: 0 };

  test('aggregate off the prior: "1 has", "2 have", "of 1 active dimension"', () => {
    const one = healthyDims20();
    one[2] = { varMu: 2.5, sigmaSq: 0.01, kl: 5, mu: 0.9 };
    const m1 = aggregateOffPrior([epoch(1, { dims: one })], s)!.message;
    assert.match(m1, /of 20 active dimensions, 1 has \|E\[μ_d\]\| > 0\.30 .*; 1 has Var\(μ_d\) \+ E\[σ_d²\] outside/);
    const many = healthyDims20();
    for (const d of [2, 5]) many[d] = { varMu: 2.5, sigmaSq: 0.01, kl: 5, mu: 0.9 };
    const m2 = aggregateOffPrior([epoch(1, { dims: many })], s)!.message;
    assert.match(m2, /2 have \|E\[μ_d\]\|.*; 2 have Var\(μ_d\)/);
    const single = aggregateOffPrior([epoch(1, { dims: [{ varMu: 2.5, sigmaSq: 0.01, kl: 5 }] })], s)!.message;
    assert.match(single, /of 1 active dimension, 1 has Var/);
    for (const m of [m1, m2, single]) assert.doesNotMatch(m, /\b1 have\b|\b1 active dimensions\b/);
  });

  test('unused dimensions: "1 of 20 latent dimensions is unused … ignores it", "2 … are unused … ignore them"', () => {
    const one = [...healthyDims20().slice(0, 19), unusedDim];
    const m1 = unusedLatentDimensions([epoch(1, { dims: one })], s)!.message;
    assert.match(m1, /^1 of 20 latent dimensions is unused \(.*the decoder ignores it\)\. It sits exactly on the prior/);
    const two = [...healthyDims20().slice(0, 18), unusedDim, unusedDim];
    const m2 = unusedLatentDimensions([epoch(1, { dims: two })], s)!.message;
    assert.match(m2, /^2 of 20 latent dimensions are unused \(.*the decoder ignores them\)\. They sit exactly on the prior/);
    assert.doesNotMatch(m2, /freeBits/, 'a few unused dimensions: information, no remedy pressed');
    const half = [...healthyDims20().slice(0, 10), ...Array(10).fill(unusedDim)];
    assert.match(unusedLatentDimensions([epoch(1, { dims: half })], s)!.message, /free bits \(freeBits, e\.g\. 0\.25\) keep dimensions from collapsing/);
    assert.match(unusedLatentDimensions([epoch(1, { dims: [unusedDim] })], s)!.message, /^Posterior collapse: the only latent dimension is unused/);
    assert.match(unusedLatentDimensions([epoch(1, { dims: [unusedDim, unusedDim] })], s)!.message, /^Posterior collapse: all 2 latent dimensions are unused/);
  });

  test('σ far from 1 and overfitting: "for 1 epoch", "over the 1 active dimension"', () => {
    const narrowOne = [{ varMu: 0.2, sigmaSq: 0.003, kl: 4 }];
    const m1 = sigmaFarFromOne([epoch(1, { meanSigma: 0.05, dims: narrowOne })], s)!.message;
    assert.match(m1, /for 1 epoch \(now 0\.05\)/);
    assert.match(m1, /over the 1 active dimension is/);
    const m3 = sigmaFarFromOne(history(3, (i) => epoch(i, { meanSigma: 0.05 })), { ...s, patience: 3 })!.message;
    assert.match(m3, /for 3 epochs \(now 0\.05\)/);
    assert.match(m3, /over the 20 active dimensions is/);
    const rising = [epoch(1, { testLoss: 100, trainLoss: 90 }), epoch(2, { testLoss: 101, trainLoss: 89 })];
    assert.match(overfitting(rising, { ...s, overfittingEpochs: 1 })!.message, /rose for 1 epoch in a row/);
  });
});

describe('diverged and overfitting', () => {
  test('a NaN loss (null in JSON) is divergence, an error', () => {
    const bad = epoch(4);
    (bad.train as { loss: unknown }).loss = null;
    const f = diverged([epoch(3), bad]);
    assert.equal(f?.kind, 'diverged');
    assert.equal(f?.severity, 'error');
    assert.equal(f?.epoch, 4);
  });

  test("the trainer's error event about a non-finite loss is divergence; other errors are not", () => {
    const err = (message: string): RunEvent => ({ type: 'error', v: 1, time: 't', message, epoch: 7 });
    assert.equal(diverged([err('Loss is NaN at batch 12')])?.epoch, 7);
    assert.equal(diverged([err('non-finite gradient')])?.kind, 'diverged');
    assert.equal(diverged([err('ENOSPC: no space left on device')]), null);
  });

  test('test loss rising for N epochs while train loss falls is overfitting', () => {
    const s = { ...DEFAULT_HEALTH_SETTINGS, overfittingEpochs: 3 };
    const h = [100, 101, 102, 103].map((t, i) => epoch(i + 1, { testLoss: t, trainLoss: 100 - i }));
    const f = overfitting(h, s);
    assert.equal(f?.kind, 'overfitting');
    assert.match(f!.message, /3 epochs in a row \(100\.0 → 103\.0\)/);
    // One epoch short of N rises: nothing.
    assert.equal(overfitting(h.slice(1), s), null);
    // Equal test loss breaks the run of rises.
    const flat = [100, 101, 101, 103].map((t, i) => epoch(i + 1, { testLoss: t, trainLoss: 100 - i }));
    assert.equal(overfitting(flat, s), null);
    // Both rising is not overfitting (training is getting worse too).
    const both = [100, 101, 102, 103].map((t, i) => epoch(i + 1, { testLoss: t, trainLoss: 100 + i }));
    assert.equal(overfitting(both, s), null);
  });
});

describe('gauge classification agrees with the rules', () => {
  const s = { ...DEFAULT_HEALTH_SETTINGS, sigmaTolerance: 0.25, aggregateVarianceTolerance: 0.25, meanMuTolerance: 0.25 };

  test('mean σ', () => {
    assert.equal(classifyMeanSigma(1, true, s), 'good');
    assert.equal(classifyMeanSigma(0.75, false, s), 'good', 'inside the band, whatever the aggregate');
    assert.equal(classifyMeanSigma(0.3, true, s), 'info', 'far from 1, aggregate on the prior');
    assert.equal(classifyMeanSigma(0.3, false, s), 'warning', 'far from 1, aggregate off the prior');
    assert.equal(classifyMeanSigma(Number.NaN, true, s), 'error');
    // The verdict behind it, on whole epochs: the variance at the band's edge is on; a shifted mean alone is off.
    const edge = healthyDims20().map((d) => ({ ...d, varMu: 1.25 - d.sigmaSq }));
    assert.equal(classifyEpoch(epoch(1, { dims: edge }), s).meanSigma, 'info');
    const shifted = healthyDims20();
    shifted[3] = { ...shifted[3], mu: 0.8 };
    assert.equal(classifyEpoch(epoch(1, { dims: shifted }), s).meanSigma, 'warning');
    const wide = healthyDims20().map((d) => ({ ...d, varMu: 1.3 - d.sigmaSq }));
    assert.equal(classifyEpoch(epoch(1, { dims: wide }), s).meanSigma, 'warning');
    const collapsed = Array.from({ length: 20 }, () => unusedDim);
    assert.equal(classifyEpoch(epoch(1, { dims: collapsed }), s).meanSigma, 'warning', 'no active dimension is not "on the prior"');
  });

  test('mean μ, aggregate variance, active units', () => {
    assert.equal(classifyMeanMu(-0.25, s), 'good');
    assert.equal(classifyMeanMu(0.26, s), 'warning');
    assert.equal(classifyAggregateVariance(0.75, s), 'good');
    assert.equal(classifyAggregateVariance(0.74, s), 'warning');
    assert.equal(classifyAggregateVariance(null, s), 'error');
    assert.equal(classifyActiveUnits(20, 20, s), 'good');
    assert.equal(classifyActiveUnits(17, 20, s), 'info');
    assert.equal(classifyActiveUnits(10, 20, s), 'warning');
    assert.equal(classifyActiveUnits(0, 20, s), 'error');
  });

  test('the σ gauge and the σ rule give the same severity on the same epoch', () => {
    const rule = { ...s, patience: 1, warmupEpochs: 0 };
    for (const e of [epoch(1), epoch(1, { meanSigma: 0.1, dims: Array(20).fill({ varMu: 0.3, sigmaSq: 0.01, kl: 3 }) })]) {
      const gauge = classifyEpoch(e, rule).meanSigma;
      assert.equal(sigmaFarFromOne([e], rule)?.severity, gauge);
    }
  });

  test('classifyEpoch on a healthy dimz-20 epoch', () => {
    const c = classifyEpoch(epoch(5));
    assert.equal(c.meanSigma, 'info');
    assert.equal(c.meanMu, 'good');
    assert.equal(c.aggregateVariance, 'good');
    assert.equal(c.activeUnits, 'good');
    assert.equal(c.active, 20);
    assert.equal(c.dimz, 20);
    assert.ok(Math.abs(c.activeAggregateVariance! - 0.989) < 1e-9);
  });
});

describe('evaluateHealth over a whole run', () => {
  test('a healthy dimz-20 MNIST run yields only the informational σ finding', () => {
    const findings = evaluateHealth(history(30, (i) => epoch(i, { trainLoss: 150 - i, testLoss: 152 - i })));
    assert.deepEqual(findings.map((f) => [f.kind, f.severity]), [['sigma-far-from-one', 'info']]);
  });

  test('findings are sorted worst first; resumed runs use the last event of a repeated epoch', () => {
    const dims = Array(20).fill(unusedDim);
    const events: RunEvent[] = [...history(6, (i) => epoch(i, { meanSigma: 1, dims })), epoch(6, { meanSigma: 1, dims })];
    assert.equal(epochHistory(events).length, 6);
    const findings = evaluateHealth(events);
    assert.equal(findings[0].kind, 'posterior-collapse');
    assert.equal(worstLevel(findings.map((f) => f.severity)), 'error');
  });

  test('a run with no epochs yet has no findings', () => {
    assert.deepEqual(evaluateHealth([]), []);
  });
});

describe('settings', () => {
  test('missing, negative or non-numeric settings fall back to the defaults; counts are whole numbers', () => {
    const s = resolveHealthSettings({ sigmaTolerance: 0.4, patience: 2.6, warmupEpochs: -1, meanMuTolerance: 'x' });
    assert.equal(s.sigmaTolerance, 0.4);
    assert.equal(s.patience, 3);
    assert.equal(s.warmupEpochs, DEFAULT_HEALTH_SETTINGS.warmupEpochs);
    assert.equal(s.meanMuTolerance, DEFAULT_HEALTH_SETTINGS.meanMuTolerance);
    assert.equal(resolveHealthSettings({ patience: 0 }).patience, 1);
  });

  test('active dimensions use Var(μ_d) > threshold, strictly', () => {
    const dims = [{ varMu: 0.01, sigmaSq: 1, kl: 0 }, { varMu: 0.011, sigmaSq: 0.9, kl: 0.1 }];
    assert.deepEqual(activeDimensions(epoch(1, { dims })), [1]);
    assert.ok(Math.abs(activeAggregateVariance(epoch(1, { dims }))! - 0.911) < 1e-12);
    assert.equal(activeAggregateVariance(epoch(1, { dims: [unusedDim] })), null);
  });
});
