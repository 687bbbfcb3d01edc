/**
 * Estimators that say how good a VAE is and whether its prior samples can look like data.
 * Pure arithmetic in float64 on plain arrays; the caller draws the random numbers, so every
 * estimate is a deterministic function of its inputs.
 *
 * - Importance-weighted log-likelihood (Burda et al. 2015): log p(x) ≈ log (1/k) Σ_s w_s with
 *   log w_s = log p(x|z_s) + log p(z_s) − log q(z_s|x), z_s ~ q(z|x). A lower bound in
 *   expectation that rises towards log p(x) as k grows; k = 1 is the ELBO.
 * - Mutual information I(x; z) under the encoder (He et al. 2019), with the aggregate posterior
 *   q(z) = (1/N) Σ_i q(z|x_i), and the marginal KL(q(z) ‖ p(z)) = mean KL − I(x; z) (Hoffman &
 *   Johnson 2016, "ELBO surgery"): the KL the model pays splits into information and prior mismatch.
 * - The prior gap split in two. p(z) = N(0, I) is Gaussian, so for q_G, the Gaussian with q(z)'s
 *   mean and covariance, KL(q ‖ p) = KL(q_G ‖ p) + KL(q ‖ q_G): a moment term (mean shift,
 *   variances, correlations) and a non-Gaussian term (holes and lumps).
 * - The prior hole rate: the share of z ~ N(0, I) where q(z) is lower than at all but 1% of the
 *   data's own posterior samples (each scored without its own posterior), i.e. where no image's
 *   posterior puts mass.
 *
 * Posteriors are diagonal Gaussians q(z|x_i) = N(μ_i, diag exp(lnVar_i)), given row-major as in
 * LatentStatsAccumulator: `rows` images × `dimz` values.
 */
import { LatentStatsAccumulator } from './stats';

const LOG_2PI = Math.log(2 * Math.PI);

/** Diagonal-Gaussian posteriors of `rows` images, row-major rows × dimz. */
export interface Posteriors {
  mu: ArrayLike<number>;
  lnVar: ArrayLike<number>;
  rows: number;
  dimz: number;
}

function checkRows(what: string, values: ArrayLike<number>, rows: number, dimz: number): void {
  if (values.length < rows * dimz) throw new Error(`${what}: expected ${rows}×${dimz} values, got ${values.length}`);
}

function checkPosteriors(p: Posteriors): void {
  if (!(p.rows > 0) || !(p.dimz > 0)) throw new Error(`posteriors: need at least one row and one dimension, got ${p.rows}×${p.dimz}`);
  checkRows('posteriors μ', p.mu, p.rows, p.dimz);
  checkRows('posteriors lnVar', p.lnVar, p.rows, p.dimz);
}

// ---------------------------------------------------------------------------------------------
// log-sum-exp and importance weighting

/**
 * log Σ exp(values[i]) over [start, end), computed as max + log Σ exp(values[i] − max) so that
 * neither overflows nor underflows to log 0. −∞ for an empty range or when every value is −∞.
 */
export function logSumExp(values: ArrayLike<number>, start = 0, end = values.length): number {
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (Number.isNaN(v)) return NaN;
    if (v > max) max = v;
  }
  if (max === -Infinity || max === Infinity) return max;
  let sum = 0;
  for (let i = start; i < end; i++) sum += Math.exp(values[i] - max);
  return max + Math.log(sum);
}

/** log of the mean of exp(values[i]) over [start, end): logSumExp − log n. */
export function logMeanExp(values: ArrayLike<number>, start = 0, end = values.length): number {
  return logSumExp(values, start, end) - Math.log(end - start);
}

/**
 * log w_s = log p(x|z_s) + log p(z_s) − log q(z_s|x) for k samples z_s ~ q(z|x): the three
 * arrays hold one value per sample (or rows × k, row-major, for several images).
 */
export function logImportanceWeights(
  logPxGivenZ: ArrayLike<number>, logPz: ArrayLike<number>, logQzGivenX: ArrayLike<number>,
): Float64Array {
  const n = logPxGivenZ.length;
  if (logPz.length !== n || logQzGivenX.length !== n) {
    throw new Error(`logImportanceWeights: arrays differ in length (${n}, ${logPz.length}, ${logQzGivenX.length})`);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = logPxGivenZ[i] + logPz[i] - logQzGivenX[i];
  return out;
}

/**
 * The importance-weighted estimate of log p(x) for each of `rows` images from its k log weights
 * (rows × k, row-major): log (1/k) Σ_s w_s (Burda et al. 2015, the IWAE bound).
 */
export function importanceWeightedLogLikelihood(logWeights: ArrayLike<number>, rows: number, k: number): Float64Array {
  if (!(k > 0)) throw new Error(`importanceWeightedLogLikelihood: k must be positive, got ${k}`);
  checkRows('importanceWeightedLogLikelihood', logWeights, rows, k);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = logMeanExp(logWeights, r * k, (r + 1) * k);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Gaussian densities and the aggregate posterior

/** log N(z; 0, I) of the row of `dimz` values at `offset`. */
export function standardNormalLogDensity(z: ArrayLike<number>, dimz: number, offset = 0): number {
  let sq = 0;
  for (let d = 0; d < dimz; d++) sq += z[offset + d] * z[offset + d];
  return -0.5 * (sq + dimz * LOG_2PI);
}

/** log N(z; μ_i, diag exp(lnVar_i)) for the z row at `zOffset` and the posterior of image `row`. */
export function posteriorLogDensity(p: Posteriors, row: number, z: ArrayLike<number>, zOffset = 0): number {
  const base = row * p.dimz;
  let s = 0;
  for (let d = 0; d < p.dimz; d++) {
    const lv = p.lnVar[base + d];
    const diff = z[zOffset + d] - p.mu[base + d];
    s += diff * diff * Math.exp(-lv) + lv;
  }
  return -0.5 * (s + p.dimz * LOG_2PI);
}

/** z_i = μ_i + σ_i ε_i: one sample of each image's posterior from standard normals ε (rows × dimz). */
export function samplePosteriors(p: Posteriors, eps: ArrayLike<number>): Float64Array {
  checkPosteriors(p);
  checkRows('samplePosteriors ε', eps, p.rows, p.dimz);
  const n = p.rows * p.dimz;
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) z[i] = p.mu[i] + Math.exp(0.5 * p.lnVar[i]) * eps[i];
  return z;
}

/**
 * Visits each of `count` points (count × dimz, row-major) with log q(z_j|x_i) of every posterior i
 * in `logComponent` (reused between points). Costs count × N × dimz.
 */
function visitComponentLogDensities(
  p: Posteriors, points: ArrayLike<number>, count: number, visit: (j: number, logComponent: Float64Array) => void,
): void {
  checkPosteriors(p);
  checkRows('aggregate posterior points', points, count, p.dimz);
  const { rows, dimz } = p;
  const precision = new Float64Array(rows * dimz);
  const constant = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let lvSum = 0;
    for (let d = 0; d < dimz; d++) {
      const lv = p.lnVar[i * dimz + d];
      precision[i * dimz + d] = Math.exp(-lv);
      lvSum += lv;
    }
    constant[i] = -0.5 * (lvSum + dimz * LOG_2PI);
  }
  const logComponent = new Float64Array(rows);
  for (let j = 0; j < count; j++) {
    const zb = j * dimz;
    for (let i = 0; i < rows; i++) {
      const mb = i * dimz;
      let q = 0;
      for (let d = 0; d < dimz; d++) {
        const diff = points[zb + d] - p.mu[mb + d];
        q += diff * diff * precision[mb + d];
      }
      logComponent[i] = constant[i] - 0.5 * q;
    }
    visit(j, logComponent);
  }
}

/**
 * log q(z) of the aggregate posterior q(z) = (1/N) Σ_i q(z|x_i) at each of `count` points
 * (count × dimz, row-major). Costs count × N × dimz; the mixture is summed with log-sum-exp,
 * so points far from every posterior still get a finite log density.
 */
export function aggregateLogDensity(p: Posteriors, points: ArrayLike<number>, count: number): Float64Array {
  const out = new Float64Array(count);
  visitComponentLogDensities(p, points, count, (j, logComponent) => {
    out[j] = logMeanExp(logComponent);
  });
  return out;
}

export interface SampleLogDensities {
  /** log q(z_i) with q the mixture of all N posteriors (He et al.'s estimator uses these). */
  all: Float64Array;
  /**
   * log q_{−i}(z_i), the mixture of the other N − 1 posteriors: like a prior sample, z_i is then
   * independent of the mixture that scores it. With all N, z_i's own posterior lifts its density by
   * up to q(z_i|x_i)/N, which in many dimensions dominates the sum and would make every prior sample
   * look like a hole. −∞ for every point when N = 1.
   */
  leaveOneOut: Float64Array;
}

/** log q at one sample of each image's posterior (rows × dimz, z_i ~ q(z|x_i)), with and without its own posterior. */
export function sampleLogDensities(p: Posteriors, samples: ArrayLike<number>): SampleLogDensities {
  const all = new Float64Array(p.rows);
  const leaveOneOut = new Float64Array(p.rows);
  visitComponentLogDensities(p, samples, p.rows, (j, logComponent) => {
    all[j] = logMeanExp(logComponent);
    const own = logComponent[j];
    logComponent[j] = -Infinity;
    leaveOneOut[j] = p.rows > 1 ? logSumExp(logComponent) - Math.log(p.rows - 1) : -Infinity;
    logComponent[j] = own;
  });
  return { all, leaveOneOut };
}

// ---------------------------------------------------------------------------------------------
// Information and marginal KL

export interface InformationSplit {
  /** I(x; z) in nats, He et al. 2019's estimator. */
  mutualInformation: number;
  /** Mean over images of KL(q(z|x) ‖ p(z)), in nats: the KL term of the ELBO at C = 1. */
  meanKl: number;
  /** KL(q(z) ‖ p(z)) = meanKl − I(x; z): what the KL spends on prior mismatch rather than information. */
  marginalKl: number;
}

/**
 * I(x; z) = E_x E_q(z|x)[log q(z|x)] − E_q(z)[log q(z)] with x uniform over the N images
 * (He et al. 2019, "Lagging inference networks"). The first term is the posteriors' exact negative
 * entropy, −½ Σ_d (ln 2π + 1 + lnVar_d), averaged over images; the second is estimated at one
 * sample z_i ~ q(z|x_i) per image with q(z) the mixture of all N posteriors. The estimate cannot
 * exceed about log N (each z_i's own posterior alone gives q(z_i) ≥ q(z_i|x_i)/N): when the true
 * I(x; z) nears log N (many informative dimensions) it saturates, and the marginal KL is overstated.
 * `logQAtSamples` (log q(z_i): sampleLogDensities' `all`) may be passed to avoid computing it twice.
 */
export function informationSplit(p: Posteriors, samples: ArrayLike<number>, logQAtSamples?: ArrayLike<number>): InformationSplit {
  checkPosteriors(p);
  const logQ = logQAtSamples ?? aggregateLogDensity(p, samples, p.rows);
  if (logQ.length !== p.rows) throw new Error(`informationSplit: expected ${p.rows} log q values, got ${logQ.length}`);
  let negEntropy = 0;
  let meanLogQ = 0;
  for (let i = 0; i < p.rows; i++) {
    let lvSum = 0;
    for (let d = 0; d < p.dimz; d++) lvSum += p.lnVar[i * p.dimz + d];
    negEntropy += -0.5 * (p.dimz * (LOG_2PI + 1) + lvSum);
    meanLogQ += logQ[i];
  }
  negEntropy /= p.rows;
  meanLogQ /= p.rows;
  const acc = new LatentStatsAccumulator(p.dimz);
  acc.add(p.mu, p.lnVar, p.rows);
  const meanKl = acc.summary().kl;
  const mutualInformation = negEntropy - meanLogQ;
  return { mutualInformation, meanKl, marginalKl: meanKl - mutualInformation };
}

// ---------------------------------------------------------------------------------------------
// Symmetric eigen-decomposition

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** n × n, row-major; column j is the unit eigenvector of values[j]. */
  vectors: Float64Array;
}

/**
 * Eigenvalues and eigenvectors of a symmetric n × n matrix (row-major; only its symmetric part
 * is used) by cyclic Jacobi rotations: each rotation zeroes one off-diagonal pair, and sweeps
 * repeat until the off-diagonal mass is below 1e-30 of the diagonal's (eigenvalues then accurate to
 * about machine precision times the largest). O(n³) per sweep and a handful of sweeps: fine for
 * n up to a few hundred.
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): SymmetricEigen {
  checkRows('symmetricEigen', matrix, n, n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = 0.5 * (matrix[i * n + j] + matrix[j * n + i]);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i] * a[i * n + i];
      for (let j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // tan φ of the rotation that zeroes a_pq: the smaller root of t² + 2θt − 1 = 0.
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A ← Jᵀ A J and V ← V J, J the rotation in the (p, q) plane.
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        a[p * n + q] = 0;
        a[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y] - a[x * n + x]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    values[to] = a[from * n + from];
    for (let k = 0; k < n; k++) vectors[k * n + to] = v[k * n + from];
  });
  return { values, vectors };
}

// ---------------------------------------------------------------------------------------------
// The prior gap: moments and the rest

export interface MomentGap {
  /** m: the aggregate posterior's mean, E_x[μ]. */
  mean: number[];
  /** Σ = Cov(μ) + diag E[σ²], dimz × dimz row-major (covariances over images divide by N). */
  covariance: Float64Array;
  /** Σ's eigenvalues, descending. */
  eigenvalues: number[];
  /** KL(q_G ‖ N(0, I)) = ½(tr Σ + mᵀm − d − ln det Σ), in nats; +∞ when Σ is singular. */
  total: number;
  /** ½ mᵀm: the mean shift's share. */
  meanShift: number;
  /** ½(λ_k − 1 − ln λ_k) per eigenvalue: the spread's share, along Σ's principal axes. */
  perEigenvalue: number[];
  /** ½(m_d² + Σ_dd − 1 − ln Σ_dd) per dimension: what each dimension alone would cost. */
  perDimension: number[];
  /** ½(Σ_d ln Σ_dd − ln det Σ) ≥ 0: the correlations' share, which per-dimension numbers miss. */
  correlation: number;
}

/**
 * The moment term of the prior gap: KL from q_G, the Gaussian with the aggregate posterior's mean
 * m and full covariance Σ = Cov(μ) + diag E[σ²], to p(z) = N(0, I). It adds up two ways:
 * total = meanShift + Σ perEigenvalue = Σ perDimension + correlation.
 */
export function momentGap(p: Posteriors): MomentGap {
  checkPosteriors(p);
  const { rows, dimz } = p;
  const mean = new Array<number>(dimz).fill(0);
  const meanSigmaSq = new Array<number>(dimz).fill(0);
  for (let i = 0; i < rows; i++) {
    for (let d = 0; d < dimz; d++) {
      mean[d] += p.mu[i * dimz + d];
      meanSigmaSq[d] += Math.exp(p.lnVar[i * dimz + d]);
    }
  }
  for (let d = 0; d < dimz; d++) {
    mean[d] /= rows;
    meanSigmaSq[d] /= rows;
  }
  // Two passes (mean first, then centred products) keep Cov(μ) accurate when |m| ≫ spread.
  const covariance = new Float64Array(dimz * dimz);
  const centred = new Float64Array(dimz);
  for (let i = 0; i < rows; i++) {
    for (let d = 0; d < dimz; d++) centred[d] = p.mu[i * dimz + d] - mean[d];
    for (let a = 0; a < dimz; a++) for (let b = a; b < dimz; b++) covariance[a * dimz + b] += centred[a] * centred[b];
  }
  for (let a = 0; a < dimz; a++) {
    for (let b = a; b < dimz; b++) {
      const c = covariance[a * dimz + b] / rows + (a === b ? meanSigmaSq[a] : 0);
      covariance[a * dimz + b] = c;
      covariance[b * dimz + a] = c;
    }
  }
  const eigenvalues = Array.from(symmetricEigen(covariance, dimz).values);
  const gaussianKl = (v: number) => (v > 0 ? 0.5 * (v - 1 - Math.log(v)) : Infinity);
  const perEigenvalue = eigenvalues.map(gaussianKl);
  const perDimension = mean.map((m, d) => 0.5 * m * m + gaussianKl(covariance[d * dimz + d]));
  const meanShift = 0.5 * mean.reduce((s, m) => s + m * m, 0);
  const total = meanShift + perEigenvalue.reduce((s, v) => s + v, 0);
  const logDet = eigenvalues.reduce((s, v) => s + Math.log(v), 0);
  let logDiag = 0;
  for (let d = 0; d < dimz; d++) logDiag += Math.log(covariance[d * dimz + d]);
  return { mean, covariance, eigenvalues, total, meanShift, perEigenvalue, perDimension, correlation: 0.5 * (logDiag - logDet) };
}

// ---------------------------------------------------------------------------------------------
// Prior holes

export const HOLE_PERCENTILE = 0.01;

export interface PriorHoles {
  /** Share of the prior samples with log q(z) below the threshold, in [0, 1]. */
  rate: number;
  holes: number;
  samples: number;
  /** The `percentile` quantile of log q at the data's own posterior samples. */
  threshold: number;
  percentile: number;
}

/** The q-quantile (0 ≤ q ≤ 1) of the values, linearly interpolated between order statistics. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const at = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (at - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * The prior hole rate: the share of prior samples z ~ N(0, I) (count × dimz) where the aggregate
 * posterior's log density log q(z) falls below its `percentile` quantile at the data's own posterior
 * samples. Those are scored by the mixture without their own posterior (sampleLogDensities'
 * `leaveOneOut`), so that both sets of points are independent of the mixture that scores them: when
 * q(z) = p(z) the rate is the percentile itself, however lumpy the finite mixture. A prior sample
 * counted here lands where no image's posterior puts mass, and decodes to something the decoder
 * never learned to draw.
 */
export function priorHoleRate(
  p: Posteriors, leaveOneOutLogQ: ArrayLike<number>, priorSamples: ArrayLike<number>, count: number,
  percentile = HOLE_PERCENTILE,
): PriorHoles {
  const threshold = quantile(leaveOneOutLogQ, percentile);
  const logQ = aggregateLogDensity(p, priorSamples, count);
  let holes = 0;
  for (let j = 0; j < count; j++) if (logQ[j] < threshold) holes++;
  return { rate: count > 0 ? holes / count : NaN, holes, samples: count, threshold, percentile };
}

// ---------------------------------------------------------------------------------------------
// All together

export interface LatentDiagnostics extends InformationSplit {
  moments: MomentGap;
  /** KL(q ‖ q_G) = marginalKl − moments.total: the prior gap that no mean or covariance explains. */
  nonGaussian: number;
  holes: PriorHoles;
  /** The hole rate of a second set of prior samples (e.g. a run's fixed prior noise), when given. */
  otherHoles?: PriorHoles;
}

/**
 * Every aggregate-posterior diagnostic of a data set's posteriors in one pass over log q:
 * `eps` are rows × dimz standard normals for one posterior sample per image, `priorSamples`
 * count × dimz draws from N(0, I).
 */
export function latentDiagnostics(
  p: Posteriors, eps: ArrayLike<number>, priorSamples: ArrayLike<number>, count: number,
  percentile = HOLE_PERCENTILE, other?: { samples: ArrayLike<number>; count: number },
): LatentDiagnostics {
  const samples = samplePosteriors(p, eps);
  const logQ = sampleLogDensities(p, samples);
  const info = informationSplit(p, samples, logQ.all);
  const moments = momentGap(p);
  return {
    ...info,
    moments,
    nonGaussian: info.marginalKl - moments.total,
    holes: priorHoleRate(p, logQ.leaveOneOut, priorSamples, count, percentile),
    ...(other ? { otherHoles: priorHoleRate(p, logQ.leaveOneOut, other.samples, other.count, percentile) } : {}),
  };
}
