import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activeDimsByKl, dimensionPlane, dimsByKl, interpolationZ, planeGridZ, principalPlane, project, traversalValues, traversalZ } from '../../src/shared/latent';

/** A small deterministic generator of standard normal numbers (Box–Muller over a linear congruential sequence). */
function normals(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
}

test('dimensions by KL: largest first, ties by index; active ones only where Var(μ_d) > 0.01', () => {
  assert.deepEqual(dimsByKl([0.5, 2, NaN, 2, 0.1]), [1, 3, 0, 4, 2]);
  assert.deepEqual(activeDimsByKl({ kl: [0.5, 2, 0.01, 3], varMu: [0.2, 0.5, 0.001, 0.005] }), [1, 0]);
});

test('a traversal sets one coordinate to evenly spaced values from −3 to +3 and keeps the base elsewhere', () => {
  assert.deepEqual(traversalValues(7), [-3, -2, -1, 0, 1, 2, 3]);
  const base = [0.25, -1.5, 2];
  const z = traversalZ(base, [2, 0], 3);
  assert.deepEqual(Array.from(z), [0.25, -1.5, -3, 0.25, -1.5, 0, 0.25, -1.5, 3, -3, -1.5, 2, 0, -1.5, 2, 3, -1.5, 2]);
});

test('linear and spherical interpolation: exact ends; slerp of equal-length vectors keeps the length', () => {
  const a = [3, 0, 0];
  const b = [0, 3, 0];
  const lerp = interpolationZ(a, b, 3, false);
  assert.deepEqual(Array.from(lerp), [3, 0, 0, 1.5, 1.5, 0, 0, 3, 0]);
  const slerp = interpolationZ(a, b, 3, true);
  assert.deepEqual(Array.from(slerp.subarray(0, 3)), a);
  assert.deepEqual(Array.from(slerp.subarray(6)), b);
  const mid = Array.from(slerp.subarray(3, 6));
  assert.ok(Math.abs(mid[0] - 3 / Math.SQRT2) < 1e-6 && Math.abs(mid[1] - 3 / Math.SQRT2) < 1e-6 && mid[2] === 0, `midpoint ${mid}`);
  // Parallel vectors: slerp falls back to the straight line.
  assert.deepEqual(Array.from(interpolationZ([1, 1], [2, 2], 3, true)), [1, 1, 1.5, 1.5, 2, 2]);
});

test('the principal plane of μ finds the directions of largest variance; projections keep the prior\'s origin', () => {
  const rows = 2000;
  const dimz = 4;
  const noise = normals(rows * 3, 7);
  // μ = 3·e·s1 + 1·f·s2 + 0.1·g·s3 + offset, with e, f, g orthonormal and an offset away from 0.
  const e = [0.5, 0.5, 0.5, 0.5];
  const f = [0.5, -0.5, 0.5, -0.5];
  const g = [0.5, 0.5, -0.5, -0.5];
  const offset = [1, 0, 0, 0];
  const mu = new Float32Array(rows * dimz);
  for (let r = 0; r < rows; r++) for (let d = 0; d < dimz; d++) mu[r * dimz + d] = 3 * e[d] * noise[3 * r] + f[d] * noise[3 * r + 1] + 0.1 * g[d] * noise[3 * r + 2] + offset[d];
  const plane = principalPlane(mu, rows, dimz);
  const dot = (p: ArrayLike<number>, q: ArrayLike<number>) => Array.from(p).reduce((s, x, i) => s + x * q[i], 0);
  assert.ok(Math.abs(dot(plane.u, e)) > 0.999, `PC1 ${plane.u} ≈ ±e`);
  assert.ok(Math.abs(dot(plane.v, f)) > 0.999, `PC2 ${plane.v} ≈ ±f`);
  assert.ok(Math.abs(dot(plane.u, plane.v)) < 1e-9);
  assert.ok(Math.abs(plane.explained[0] - 9 / 10.01) < 0.03 && Math.abs(plane.explained[1] - 1 / 10.01) < 0.01, `${plane.explained}`);
  assert.deepEqual(plane.labels, ['PC1', 'PC2']);
  // Not centred: the origin of z projects to the origin of the plane.
  assert.deepEqual(Array.from(project([0, 0, 0, 0], 1, plane)), [0, 0]);
  const points = project(mu, rows, plane);
  assert.ok(Math.abs(points[0] - dot(mu.subarray(0, 4), plane.u)) < 1e-9);

  const dims = dimensionPlane(mu, rows, dimz, 2, 0);
  assert.deepEqual(dims.labels, ['z3', 'z1']);
  assert.deepEqual(Array.from(project(mu.subarray(0, 4), 1, dims)), [mu[2], mu[0]]);
  // Each dimension carries a quarter of the variance along e and f (and of g's).
  assert.ok(Math.abs(dims.explained[0] - 0.25) < 0.03, `${dims.explained}`);
});

test('the manifold grid of a plane: top-left is (−3, +3), bottom-right (+3, −3), every z on the plane', () => {
  const u = Float64Array.from([0.6, 0.8, 0]);
  const v = Float64Array.from([0, 0, 1]);
  const z = planeGridZ({ u, v }, 3);
  const row = (k: number) => Array.from(z.subarray(3 * k, 3 * k + 3)).map((x) => Math.round(x * 1e6) / 1e6);
  assert.deepEqual(row(0), [-1.8, -2.4, 3]);
  assert.deepEqual(row(4), [0, 0, 0]);
  assert.deepEqual(row(8), [1.8, 2.4, -3]);
  assert.deepEqual(row(2), [1.8, 2.4, 3]);
});
