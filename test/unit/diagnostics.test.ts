import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  aggregateLogDensity, importanceWeightedLogLikelihood, informationSplit, latentDiagnostics, logImportanceWeights,
  logMeanExp, logSumExp, momentGap, posteriorLogDensity, priorHoleRate, quantile, sampleLogDensities, samplePosteriors,
  standardNormalLogDensity, symmetricEigen, type Posteriors,
} from '../../src/shared/diagnostics';
import { Rng } from '../../src/trainer/rng';

const LOG_2PI = Math.log(2 * Math.PI);

const close = (actual: number, expected: number, tol: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} ≠ ${expected} (± ${tol})`);

const normals = (rng: Rng, n: number) => Float64Array.from({ length: n }, () => rng.normal());

/** log N(x; mean, variance) in one dimension. */
const logNormal1 = (x: number, mean: number, variance: number) => -0.5 * (LOG_2PI + Math.log(variance) + (x - mean) ** 2 / variance);

test('logSumExp stays finite where exp overflows or underflows', () => {
  close(logSumExp([1000, 1000]), 1000 + Math.LN2, 1e-12);
  close(logSumExp([-1000, -1000, -1000]), -1000 + Math.log(3), 1e-12);
  close(logSumExp([0, -Infinity]), 0, 0);
  close(logSumExp([Math.log(2), Math.log(3)]), Math.log(5), 1e-15);
  assert.equal(logSumExp([]), -Infinity);
  assert.equal(logSumExp([-Infinity, -Infinity]), -Infinity);
  assert.equal(logSumExp([1, Infinity]), Infinity);
  assert.ok(Number.isNaN(logSumExp([1, NaN])));
  close(logMeanExp([-800, -800, -800, -800]), -800, 1e-12);
  // A sub-range [2, 4) of a longer array.
  close(logMeanExp([99, 99, 1, 3, 99], 2, 4), Math.log((Math.E + Math.E ** 3) / 2), 1e-12);
});

/**
 * A 1-D linear-Gaussian model whose log p(x) is known: z ~ N(0, 1), x | z ~ N(a z, s²), so
 * p(x) = N(0, a² + s²) and the exact posterior is N(a x / (a² + s²), s² / (a² + s²)).
 */
const model = { a: 2, s2: 0.25, x: 1.3 };
const trueLogPx = logNormal1(model.x, 0, model.a ** 2 + model.s2);
const exactPosterior = { mean: (model.a * model.x) / (model.a ** 2 + model.s2), variance: model.s2 / (model.a ** 2 + model.s2) };

/** k log weights for the model with encoder q(z|x) = N(qMean, qVar), from k standard normals. */
function modelLogWeights(eps: Float64Array, qMean: number, qVar: number): Float64Array {
  const z = eps.map((e) => qMean + Math.sqrt(qVar) * e);
  return logImportanceWeights(
    z.map((zi) => logNormal1(model.x, model.a * zi, model.s2)),
    z.map((zi) => logNormal1(zi, 0, 1)),
    z.map((zi) => logNormal1(zi, qMean, qVar)),
  );
}

test('importance weighting is exact when every weight equals p(x): a decoder that ignores z, or the exact posterior', () => {
  const rng = Rng.fromKey(13, 1);
  const dimz = 3;
  // Decoder ignores z (log p(x|z) = c for all z) and q(z|x) = p(z): log w = c for every sample.
  const c = -87.25;
  const prior: Posteriors = { mu: new Float64Array(dimz), lnVar: new Float64Array(dimz), rows: 1, dimz };
  for (const k of [1, 10, 1000]) {
    const z = normals(rng, k * dimz);
    const logPz = Float64Array.from({ length: k }, (_, s) => standardNormalLogDensity(z, dimz, s * dimz));
    const logQ = Float64Array.from({ length: k }, (_, s) => posteriorLogDensity(prior, 0, z, s * dimz));
    const [estimate] = importanceWeightedLogLikelihood(logImportanceWeights(new Float64Array(k).fill(c), logPz, logQ), 1, k);
    close(estimate, c, 1e-9, `ignoring z, k=${k}`);
  }
  // The exact posterior of the linear-Gaussian model: w = p(x, z) / p(z|x) = p(x) for every z.
  for (const k of [1, 10, 1000]) {
    const [estimate] = importanceWeightedLogLikelihood(modelLogWeights(normals(rng, k), exactPosterior.mean, exactPosterior.variance), 1, k);
    close(estimate, trueLogPx, 1e-9, `exact posterior, k=${k}`);
  }
});

test('with an imperfect encoder the IW estimate starts at the ELBO and rises toward log p(x) as k grows', () => {
  // q is shifted by 0.4 and twice as wide as the exact posterior.
  const qMean = exactPosterior.mean + 0.4;
  const qVar = 2 * exactPosterior.variance;
  const { a, s2, x } = model;
  const elbo = -0.5 * (LOG_2PI + Math.log(s2)) - ((x - a * qMean) ** 2 + a * a * qVar) / (2 * s2)
    - 0.5 * (LOG_2PI + qMean ** 2 + qVar) + 0.5 * (LOG_2PI + 1 + Math.log(qVar));
  const repeats = 1000;
  const rng = Rng.fromKey(13, 2);
  const means: number[] = [];
  const stderrs: number[] = [];
  // Beyond k ≈ 30 the gap here is below the Monte Carlo noise of 1000 repeats, so the rise is checked up to 30.
  const ks = [1, 3, 10, 30, 1000];
  for (const k of ks) {
    const logW = new Float64Array(repeats * k);
    for (let r = 0; r < repeats; r++) logW.set(modelLogWeights(normals(rng, k), qMean, qVar), r * k);
    const estimates = importanceWeightedLogLikelihood(logW, repeats, k);
    const mean = estimates.reduce((s, v) => s + v, 0) / repeats;
    const sd = Math.sqrt(estimates.reduce((s, v) => s + (v - mean) ** 2, 0) / (repeats - 1));
    means.push(mean);
    stderrs.push(sd / Math.sqrt(repeats));
  }
  // k = 1 is an unbiased estimate of the ELBO.
  close(means[0], elbo, 4 * stderrs[0], 'k=1 vs ELBO');
  assert.ok(trueLogPx - elbo > 0.5, `the encoder should be visibly imperfect: gap ${trueLogPx - elbo}`);
  for (let i = 1; i < means.length; i++) {
    assert.ok(means[i] > means[i - 1] + 2 * Math.hypot(stderrs[i], stderrs[i - 1]), `IW estimate should rise with k: ${means.join(', ')}`);
  }
  // Never above log p(x) beyond noise, and within 0.01 nats of it at k = 1000.
  for (let i = 0; i < means.length; i++) assert.ok(means[i] <= trueLogPx + 4 * stderrs[i], `k=${ks[i]}: ${means[i]} > ${trueLogPx}`);
  close(means[ks.length - 1], trueLogPx, 0.01, 'k=1000 vs log p(x)');
});

test('symmetricEigen diagonalizes symmetric matrices: A v = λ v, orthonormal vectors, descending values', () => {
  const rng = Rng.fromKey(13, 3);
  for (const n of [1, 2, 6, 30]) {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    const { values, vectors } = symmetricEigen(a, n);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i];
    close(values.reduce((s, v) => s + v, 0), trace, 1e-10, `n=${n} trace`);
    for (let j = 0; j < n; j++) {
      if (j > 0) assert.ok(values[j] <= values[j - 1]);
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += a[i * n + k] * vectors[k * n + j];
        close(av, values[j] * vectors[i * n + j], 1e-10, `n=${n} (Av)_${i} for λ_${j}`);
      }
      for (let l = 0; l < n; l++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += vectors[k * n + j] * vectors[k * n + l];
        close(dot, j === l ? 1 : 0, 1e-10, `n=${n} v_${j}·v_${l}`);
      }
    }
  }
  // 2 × 2 closed form: eigenvalues of [[2, 1], [1, 2]] are 3 and 1; the identity's are all 1.
  assert.deepEqual(Array.from(symmetricEigen([2, 1, 1, 2], 2).values).map((v) => Math.round(v * 1e12) / 1e12), [3, 1]);
  assert.deepEqual(Array.from(symmetricEigen([1, 0, 0, 0, 1, 0, 0, 0, 1], 3).values), [1, 1, 1]);
});

/** Posteriors of a linear Gaussian encoder: x ~ N(0, sx² I), q(z|x) = N(a ⊙ x, diag σ²). */
function linearEncoder(rng: Rng, rows: number, a: number[], sx: number, sigma2: number[]): Posteriors {
  const dimz = a.length;
  const mu = new Float64Array(rows * dimz);
  const lnVar = new Float64Array(rows * dimz);
  for (let i = 0; i < rows; i++) {
    for (let d = 0; d < dimz; d++) {
      mu[i * dimz + d] = a[d] * sx * rng.normal();
      lnVar[i * dimz + d] = Math.log(sigma2[d]);
    }
  }
  return { mu, lnVar, rows, dimz };
}

test('the MI estimator recovers the closed-form I(x; z) and marginal KL of a linear Gaussian encoder', () => {
  // I(x; z) = Σ_d ½ ln(1 + a_d² sx² / σ_d²); q(z) = N(0, diag(a² sx² + σ²)), so the marginal KL is closed form too.
  const a = [1, 0.5, 0];
  const sigma2 = [0.25, 0.5, 0.8];
  const sx = 1;
  const rows = 3000;
  const rng = Rng.fromKey(13, 4);
  const post = linearEncoder(rng, rows, a, sx, sigma2);
  const trueMi = a.reduce((s, ad, d) => s + 0.5 * Math.log(1 + (ad * ad * sx * sx) / sigma2[d]), 0);
  const trueMarginalKl = a.reduce((s, ad, d) => {
    const v = ad * ad * sx * sx + sigma2[d];
    return s + 0.5 * (v - 1 - Math.log(v));
  }, 0);
  const split = informationSplit(post, samplePosteriors(post, normals(rng, rows * 3)));
  // Tolerance: the estimator's Monte Carlo error plus its finite-N bias at N = 3000 (≈ 0.02 nats here).
  close(split.mutualInformation, trueMi, 0.05, 'I(x; z)');
  close(split.marginalKl, trueMarginalKl, 0.05, 'marginal KL');
  close(split.meanKl, split.mutualInformation + split.marginalKl, 1e-12, 'mean KL = I + marginal KL');
  // An encoder that ignores x (a = 0) carries no information: all its KL is prior mismatch.
  const blind = linearEncoder(rng, rows, [0, 0], sx, [0.3, 2]);
  const none = informationSplit(blind, samplePosteriors(blind, normals(rng, rows * 2)));
  close(none.mutualInformation, 0, 0.03, 'I(x; z) of a blind encoder');
  close(none.marginalKl, none.meanKl, 0.03, 'blind encoder: marginal KL = mean KL');
});

/**
 * A 2-D aggregate posterior that is a mixture of four diagonal Gaussians (each image's posterior
 * is one of them), bimodal and correlated, so both parts of the prior gap are far from zero.
 */
const components = [
  { mu: [-2, -1.5], var: [0.3, 0.5] },
  { mu: [2, 1.5], var: [0.4, 0.2] },
  { mu: [0.5, 0.8], var: [0.1, 0.6] },
  { mu: [-0.5, -1], var: [0.7, 0.3] },
];

function mixturePosteriors(perComponent: number): Posteriors {
  const rows = components.length * perComponent;
  const mu = new Float64Array(rows * 2);
  const lnVar = new Float64Array(rows * 2);
  for (let i = 0; i < rows; i++) {
    const c = components[i % components.length];
    for (let d = 0; d < 2; d++) {
      mu[i * 2 + d] = c.mu[d];
      lnVar[i * 2 + d] = Math.log(c.var[d]);
    }
  }
  return { mu, lnVar, rows, dimz: 2 };
}

test('the prior gap splits into moment and non-Gaussian parts that add up to a grid-integrated KL on a 2-D mixture', () => {
  const post = mixturePosteriors(1000);
  const g = momentGap(post);
  // The mixture's exact moments: m = mean of the component means, Σ = Cov(means) + mean of the component variances.
  const m = [0, 1].map((d) => components.reduce((s, c) => s + c.mu[d], 0) / components.length);
  const cov = (i: number, j: number) => components.reduce((s, c) => s + (c.mu[i] - m[i]) * (c.mu[j] - m[j]) + (i === j ? c.var[i] : 0), 0) / components.length;
  const [s00, s01, s11] = [cov(0, 0), cov(0, 1), cov(1, 1)];
  const det = s00 * s11 - s01 * s01;
  const momentKl = 0.5 * (s00 + s11 + m[0] ** 2 + m[1] ** 2 - 2 - Math.log(det));
  close(g.mean[0], m[0], 1e-12);
  close(g.mean[1], m[1], 1e-12);
  close(g.covariance[1], s01, 1e-12, 'Σ_01');
  close(g.total, momentKl, 1e-12, 'moment term vs 2×2 closed form');
  // Its two decompositions add up; correlations are strong here, so their share is visible.
  close(g.meanShift + g.perEigenvalue.reduce((s, v) => s + v, 0), g.total, 1e-12);
  close(g.perDimension.reduce((s, v) => s + v, 0) + g.correlation, g.total, 1e-12);
  close(g.correlation, -0.5 * Math.log(1 - (s01 * s01) / (s00 * s11)), 1e-12, 'correlation share');
  assert.ok(g.correlation > 0.3, `correlation share ${g.correlation}`);

  // Grid integration of KL(q ‖ p) and KL(q ‖ q_G) over [-9, 9]², step 0.02.
  const h = 0.02;
  const inv = [s11 / det, -s01 / det, s00 / det];
  let klQP = 0;
  let klQG = 0;
  let mass = 0;
  const point = new Float64Array(2);
  for (let x = -9; x <= 9 + 1e-9; x += h) {
    for (let y = -9; y <= 9 + 1e-9; y += h) {
      point[0] = x;
      point[1] = y;
      let q = 0;
      for (const c of components) q += Math.exp(logNormal1(x, c.mu[0], c.var[0]) + logNormal1(y, c.mu[1], c.var[1]));
      q /= components.length;
      if (q < 1e-300) continue;
      const dx = x - m[0];
      const dy = y - m[1];
      const logQG = -0.5 * (2 * LOG_2PI + Math.log(det) + dx * dx * inv[0] + 2 * dx * dy * inv[1] + dy * dy * inv[2]);
      const logQ = Math.log(q);
      klQP += q * (logQ - standardNormalLogDensity(point, 2)) * h * h;
      klQG += q * (logQ - logQG) * h * h;
      mass += q * h * h;
    }
  }
  close(mass, 1, 1e-6, 'grid mass');
  // Pythagoras: KL(q ‖ p) = KL(q_G ‖ p) + KL(q ‖ q_G), exactly, because p is Gaussian.
  close(klQP, g.total + klQG, 1e-6, 'KL(q‖p) = moment + non-Gaussian on the grid');
  assert.ok(klQG > 0.2, `the mixture is far from Gaussian: KL(q‖q_G) = ${klQG}`);

  // The sampled estimates (one posterior sample per image, 4000 images) against the grid.
  const rng = Rng.fromKey(13, 5);
  const d = latentDiagnostics(post, normals(rng, post.rows * 2), normals(rng, 2000 * 2), 2000);
  close(d.marginalKl, klQP, 0.05, 'estimated marginal KL vs grid KL(q‖p)');
  close(d.nonGaussian, klQG, 0.05, 'estimated non-Gaussian part vs grid KL(q‖q_G)');
  close(d.moments.total + d.nonGaussian, d.marginalKl, 1e-12);
});

test('quantile interpolates between order statistics', () => {
  close(quantile([5, 1, 3, 2, 4], 0), 1, 0);
  close(quantile([5, 1, 3, 2, 4], 1), 5, 0);
  close(quantile([5, 1, 3, 2, 4], 0.5), 3, 0);
  close(quantile([10, 0], 0.01), 0.1, 1e-12);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test('log q at posterior samples, with all posteriors and without each sample\'s own, equals a direct sum', () => {
  const rng = Rng.fromKey(13, 7);
  const post = linearEncoder(rng, 5, [1, 0.3], 1, [0.2, 0.6]);
  const z = samplePosteriors(post, normals(rng, 10));
  const { all, leaveOneOut } = sampleLogDensities(post, z);
  const direct = aggregateLogDensity(post, z, 5);
  for (let j = 0; j < 5; j++) {
    let sumAll = 0;
    let sumOthers = 0;
    for (let i = 0; i < 5; i++) {
      const density = Math.exp(posteriorLogDensity(post, i, z, j * 2));
      sumAll += density;
      if (i !== j) sumOthers += density;
    }
    close(all[j], Math.log(sumAll / 5), 1e-12, `all ${j}`);
    close(direct[j], all[j], 1e-12, `aggregateLogDensity ${j}`);
    close(leaveOneOut[j], Math.log(sumOthers / 4), 1e-12, `leave-one-out ${j}`);
  }
});

/** The hole rate of posteriors, with `samples` draws from the prior. */
function holeRate(post: Posteriors, rng: Rng, samples: number) {
  const logQ = sampleLogDensities(post, samplePosteriors(post, normals(rng, post.rows * post.dimz)));
  return { ...priorHoleRate(post, logQ.leaveOneOut, normals(rng, samples * post.dimz), samples), logQ };
}

test('the prior hole rate is the threshold level (≈ 1%) when q = p and ≈ 100% for a far-shifted q', () => {
  const rng = Rng.fromKey(13, 6);
  // 4000 posterior samples place the 1% threshold to within ± 0.16% (one standard error).
  const rows = 4000;
  const samples = 10000;
  // Every posterior is N(0, I): q(z) is the prior itself.
  const same = holeRate({ mu: new Float64Array(rows * 2), lnVar: new Float64Array(rows * 2), rows, dimz: 2 }, rng, samples);
  assert.equal(same.samples, samples);
  assert.equal(same.percentile, 0.01);
  close(same.rate, 0.01, 0.005, 'q = p');
  // Narrower posteriors whose means spread as N(0, ½ I): on average q(z) is the prior again.
  const spread = holeRate(linearEncoder(rng, rows, [Math.SQRT1_2, Math.SQRT1_2], 1, [0.5, 0.5]), rng, samples);
  close(spread.rate, 0.01, 0.005, 'q = p on average');
  // Shifted by 5 along each axis: almost every prior sample lands where no posterior has mass.
  const far = linearEncoder(rng, rows, [0.5, 0.5], 1, [0.2, 0.2]);
  for (let i = 0; i < far.mu.length; i++) (far.mu as Float64Array)[i] += 5;
  const shifted = holeRate(far, rng, samples);
  assert.ok(shifted.rate > 0.99, `far-shifted q: hole rate ${shifted.rate}`);
  assert.equal(shifted.holes, Math.round(shifted.rate * samples));
});

test('in many dimensions the hole threshold must leave each sample\'s own posterior out', () => {
  // dimz 10, narrow posteriors (σ² = 0.1) with means spread as N(0, 0.9 I): q(z) = p(z) on average,
  // but 1000 components leave most of the space between them. Scored with its own posterior, each
  // posterior sample looks far denser than any prior sample, and the "hole rate" would be ≈ 100%.
  const rng = Rng.fromKey(13, 8);
  const d = 10;
  const post = linearEncoder(rng, 1000, new Array<number>(d).fill(Math.sqrt(0.9)), 1, new Array<number>(d).fill(0.1));
  const holes = holeRate(post, rng, 4000);
  close(holes.rate, 0.01, 0.01, 'leave-one-out threshold');
  const withOwn = priorHoleRate(post, holes.logQ.all, normals(rng, 4000 * d), 4000);
  assert.ok(withOwn.rate > 0.5, `with each sample's own posterior the rate would be ${withOwn.rate}`);
});

test('the estimators reject arrays that do not match their shapes', () => {
  const post: Posteriors = { mu: [0, 0, 0], lnVar: [0, 0, 0, 0], rows: 2, dimz: 2 };
  assert.throws(() => samplePosteriors(post, [0, 0, 0, 0]), /posteriors μ: expected 2×2 values, got 3/);
  assert.throws(() => importanceWeightedLogLikelihood([0, 0, 0], 2, 2), /expected 2×2 values/);
  assert.throws(() => logImportanceWeights([0, 0], [0], [0, 0]), /differ in length/);
});
