/**
 * The z batches behind the latent explorer, as plain numbers: which dimensions to show (active ones,
 * largest KL_d first), traversals (one coordinate swept, the others at a base point), linear and
 * spherical interpolations, and a two-dimensional view of μ (its first two principal axes, or two
 * chosen dimensions). Rows of z are dimz values each, row-major, as the decoder takes them.
 */
import { ACTIVE_UNIT_THRESHOLD } from './stats';
import type { DimensionStats } from './events';

/** A traversal sweeps each dimension over [−TRAVERSAL_EXTENT, +TRAVERSAL_EXTENT] (prior standard deviations). */
export const TRAVERSAL_EXTENT = 3;

/** Dimension indices, largest KL_d first (ties by index, so the order is stable). */
export function dimsByKl(kl: readonly number[]): number[] {
  return kl.map((k, d) => ({ k: Number.isFinite(k) ? k : -Infinity, d })).sort((a, b) => b.k - a.k || a.d - b.d).map((x) => x.d);
}

/** The active dimensions (Var(μ_d) above the active-unit threshold), largest KL_d first. */
export function activeDimsByKl(dims: Pick<DimensionStats, 'kl' | 'varMu'>): number[] {
  return dimsByKl(dims.kl).filter((d) => dims.varMu[d] > ACTIVE_UNIT_THRESHOLD);
}

/** `steps` evenly spaced values from −extent to +extent (both ends included). */
export function traversalValues(steps: number, extent = TRAVERSAL_EXTENT): number[] {
  if (steps === 1) return [0];
  return Array.from({ length: steps }, (_, j) => -extent + (2 * extent * j) / (steps - 1));
}

/**
 * One row of `steps` z per dimension in `dims`: row (i, j) is `base` with coordinate dims[i] set to
 * the j-th traversal value; every other coordinate keeps the base's value.
 */
export function traversalZ(base: ArrayLike<number>, dims: readonly number[], steps: number, extent = TRAVERSAL_EXTENT): Float32Array {
  const dimz = base.length;
  const values = traversalValues(steps, extent);
  const z = new Float32Array(dims.length * steps * dimz);
  dims.forEach((d, i) => {
    values.forEach((v, j) => {
      const row = z.subarray((i * steps + j) * dimz, (i * steps + j + 1) * dimz);
      row.set(base);
      row[d] = v;
    });
  });
  return z;
}

/**
 * `steps` z from a to b, both included (the ends are a and b exactly). Linear: (1−t)a + tb.
 * Spherical: the direction turns along the great circle from a's to b's at an even angle per step,
 * sin((1−t)Ω)/sin Ω · â + sin(tΩ)/sin Ω · b̂, and the length goes linearly from |a| to |b|. A straight
 * line between two typical prior samples passes near the origin, where in many dimensions little
 * prior mass lies; this path keeps to typical lengths. Linear where a and b are (anti)parallel or zero.
 */
export function interpolationZ(a: ArrayLike<number>, b: ArrayLike<number>, steps: number, spherical: boolean): Float32Array {
  const dimz = a.length;
  if (b.length !== dimz) throw new Error(`interpolationZ: the two points have ${dimz} and ${b.length} values`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let d = 0; d < dimz; d++) {
    dot += a[d] * b[d];
    na += a[d] * a[d];
    nb += b[d] * b[d];
  }
  na = Math.sqrt(na);
  nb = Math.sqrt(nb);
  const omega = na > 0 && nb > 0 ? Math.acos(Math.min(1, Math.max(-1, dot / (na * nb)))) : 0;
  const useSlerp = spherical && Math.sin(omega) > 1e-6;
  const z = new Float32Array(steps * dimz);
  for (let j = 0; j < steps; j++) {
    const t = steps === 1 ? 0 : j / (steps - 1);
    let wa = 1 - t;
    let wb = t;
    if (useSlerp && j > 0 && j < steps - 1) {
      const length = (1 - t) * na + t * nb;
      wa = (length * Math.sin((1 - t) * omega)) / (Math.sin(omega) * na);
      wb = (length * Math.sin(t * omega)) / (Math.sin(omega) * nb);
    }
    for (let d = 0; d < dimz; d++) z[j * dimz + d] = wa * a[d] + wb * b[d];
  }
  return z;
}

/** A two-dimensional view of z: point = (z·u, z·v). */
export interface Plane {
  u: Float64Array;
  v: Float64Array;
  /** Axis names: `PC1`/`PC2` or `z3`/`z7` (dimensions are numbered from 1, as in the panels). */
  labels: [string, string];
  /** The share of the total variance of μ along each axis. */
  explained: [number, number];
}

function unit(dimz: number, d: number): Float64Array {
  const e = new Float64Array(dimz);
  e[d] = 1;
  return e;
}

/** Covariance of rows × dimz values (float64, divided by rows), with the trace. */
function covariance(mu: ArrayLike<number>, rows: number, dimz: number): { cov: Float64Array; trace: number } {
  const mean = new Float64Array(dimz);
  for (let r = 0; r < rows; r++) for (let d = 0; d < dimz; d++) mean[d] += mu[r * dimz + d] / rows;
  const cov = new Float64Array(dimz * dimz);
  const centred = new Float64Array(dimz);
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < dimz; d++) centred[d] = mu[r * dimz + d] - mean[d];
    for (let i = 0; i < dimz; i++) {
      const ci = centred[i] / rows;
      for (let j = i; j < dimz; j++) cov[i * dimz + j] += ci * centred[j];
    }
  }
  let trace = 0;
  for (let i = 0; i < dimz; i++) {
    trace += cov[i * dimz + i];
    for (let j = 0; j < i; j++) cov[i * dimz + j] = cov[j * dimz + i];
  }
  return { cov, trace };
}

/**
 * The leading eigenvector of a symmetric positive semi-definite matrix by power iteration, started
 * from the column of largest diagonal entry (deterministic); with its eigenvalue.
 */
function leadingEigen(m: Float64Array, n: number): { vector: Float64Array; value: number } {
  let start = 0;
  for (let i = 1; i < n; i++) if (m[i * n + i] > m[start * n + start]) start = i;
  let x = unit(n, start);
  for (let d = 0; d < n; d++) x[d] += 1e-3 * Math.sin(d + 1);
  let value = 0;
  for (let it = 0; it < 1000; it++) {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += m[i * n + j] * x[j];
      y[i] = s;
    }
    const norm = Math.hypot(...y);
    if (norm === 0) return { vector: x, value: 0 };
    let change = 0;
    for (let i = 0; i < n; i++) {
      y[i] /= norm;
      change = Math.max(change, Math.abs(y[i] - x[i]));
    }
    x = y;
    value = norm;
    if (change < 1e-10) break;
  }
  return { vector: x, value };
}

/** The sign that makes a vector's largest-magnitude entry positive, so axes do not flip between runs. */
function canonicalSign(v: Float64Array): Float64Array {
  let k = 0;
  for (let i = 1; i < v.length; i++) if (Math.abs(v[i]) > Math.abs(v[k])) k = i;
  if (v[k] < 0) for (let i = 0; i < v.length; i++) v[i] = -v[i];
  return v;
}

/**
 * The first two principal axes of μ (rows × dimz). The axes are found from the centred covariance,
 * but points are projected without centring, so the origin stays the prior's mean and N(0, I)
 * projects to N(0, I₂) on any orthonormal pair: its 1σ/2σ/3σ circles are circles of radius 1, 2, 3.
 */
export function principalPlane(mu: ArrayLike<number>, rows: number, dimz: number): Plane {
  if (dimz < 2) throw new Error('principalPlane needs at least two latent dimensions');
  const { cov, trace } = covariance(mu, rows, dimz);
  const first = leadingEigen(cov, dimz);
  const u = canonicalSign(first.vector);
  const deflated = cov.slice();
  for (let i = 0; i < dimz; i++) for (let j = 0; j < dimz; j++) deflated[i * dimz + j] -= first.value * u[i] * u[j];
  const second = leadingEigen(deflated, dimz);
  // Re-orthogonalise against u (power iteration on the deflated matrix leaves a trace of it).
  const v = second.vector;
  let dot = 0;
  for (let i = 0; i < dimz; i++) dot += v[i] * u[i];
  for (let i = 0; i < dimz; i++) v[i] -= dot * u[i];
  const norm = Math.hypot(...v) || 1;
  for (let i = 0; i < dimz; i++) v[i] /= norm;
  const share = (x: number) => (trace > 0 ? x / trace : 0);
  return { u, v: canonicalSign(v), labels: ['PC1', 'PC2'], explained: [share(first.value), share(second.value)] };
}

/** The plane of two dimensions i and j (0-based). */
export function dimensionPlane(mu: ArrayLike<number>, rows: number, dimz: number, i: number, j: number): Plane {
  const { cov, trace } = covariance(mu, rows, dimz);
  const share = (d: number) => (trace > 0 ? cov[d * dimz + d] / trace : 0);
  return { u: unit(dimz, i), v: unit(dimz, j), labels: [`z${i + 1}`, `z${j + 1}`], explained: [share(i), share(j)] };
}

/** Rows × dimz values projected on a plane: x then y for each row. */
export function project(z: ArrayLike<number>, rows: number, plane: Plane): Float64Array {
  const dimz = plane.u.length;
  const out = new Float64Array(2 * rows);
  for (let r = 0; r < rows; r++) {
    let x = 0;
    let y = 0;
    for (let d = 0; d < dimz; d++) {
      x += z[r * dimz + d] * plane.u[d];
      y += z[r * dimz + d] * plane.v[d];
    }
    out[2 * r] = x;
    out[2 * r + 1] = y;
  }
  return out;
}

/**
 * A steps × steps grid of z on a plane through the origin, z = x·u + y·v with x and y from −extent to
 * +extent: the decoded manifold of the plane. Rows run from y = +extent down to −extent and columns
 * from x = −extent to +extent, so the grid reads like the scatter drawn on the same plane.
 */
export function planeGridZ(plane: Pick<Plane, 'u' | 'v'>, steps: number, extent = TRAVERSAL_EXTENT): Float32Array {
  const dimz = plane.u.length;
  const values = traversalValues(steps, extent);
  const z = new Float32Array(steps * steps * dimz);
  for (let row = 0; row < steps; row++) {
    const y = values[steps - 1 - row];
    for (let col = 0; col < steps; col++) {
      const x = values[col];
      for (let d = 0; d < dimz; d++) z[(row * steps + col) * dimz + d] = x * plane.u[d] + y * plane.v[d];
    }
  }
  return z;
}
