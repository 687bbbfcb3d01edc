import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs-core';
import { readRun, readRunInfo } from '../../src/node/runFolder';
import { ACTIVE_UNIT_THRESHOLD } from '../../src/shared/stats';
import { CHECKPOINT_DIR, KEPT_CHECKPOINTS_DIR, RECON_DIR, epochImageName } from '../../src/shared/run';
import { keptCheckpointEpochs, readKeptCheckpoint } from '../../src/trainer/checkpoint';
import { resumeRun, startRun } from '../../src/trainer/train';
import { BORDER, GRID, gridSize } from '../../src/trainer/images';
import { priorNoise } from '../../src/trainer/rng';
import {
  decode, defaultTraversalDims, openExplorer, testMu, writeDecoded, writeInterpolation, writeManifold, writeScatter, writeTraversal, type Explorer,
} from '../../src/trainer/latent';
import { LatentServiceClient } from '../../src/node/latentClient';
import { LatentSessions } from '../../src/node/latentSessions';
import { probeSocket, serviceSocketFolder, serviceSocketPath } from '../../src/node/serviceSocket';
import { interpolationZ } from '../../src/shared/latent';
import type { ToLatentTabMessage } from '../../src/shared/latentService';
import { TRAINER_JS, collectingOutput, epochsOf, runCli, spawnTrainer, tempRunsDir, untilMessage } from './support';

const DIMZ = 5;
const EPOCHS = 2;

/** One small real run (2 epochs of chainer-mlp on 600 MNIST digits, wasm) and its checkpoint opened, shared by the tests. */
const setup = (async () => {
  const runsDir = tempRunsDir();
  const outcome = await startRun(
    { config: { name: 'latent', epochs: EPOCHS, trainLimit: 600, testLimit: 120, dimz: DIMZ, backend: 'wasm', seed: 5 }, runsDir },
    { output: collectingOutput() },
  );
  assert.equal(outcome.status, 'completed', outcome.message);
  const explorer = await openExplorer(outcome.runDir, { backend: 'wasm' });
  return { runsDir, runDir: outcome.runDir, runId: outcome.runId, explorer };
})();

/** Pixel values of a grey-scale PNG tile (row, col) of a grid of w × h tiles, as encodeGrid lays them out. */
function tile(png: PNG, row: number, col: number, w: number, h: number): number[] {
  const out: number[] = [];
  const x0 = BORDER + col * (w + BORDER);
  const y0 = BORDER + row * (h + BORDER);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.push(png.data[((y0 + y) * png.width + x0 + x) * 4]);
  return out;
}

/** An image in [0, 1] quantised as the grid PNGs store it. */
const bytes = (image: Float32Array) => Array.from(image, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));

/** Test image i's reconstruction in the trainer's own recon/ picture of the last epoch (images 0–31: originals above reconstructions). */
function trainerReconstruction(runDir: string, explorer: Explorer, i: number): number[] {
  const png = PNG.sync.read(readFileSync(join(runDir, RECON_DIR, epochImageName(explorer.epochsCompleted))));
  return tile(png, 2 * Math.floor(i / GRID) + 1, i % GRID, explorer.data.width, explorer.data.height);
}

function rowOf(values: Float32Array, r: number, size: number): Float32Array {
  return values.subarray(r * size, (r + 1) * size);
}

test('the explorer sees the latent statistics the trainer reported for its last epoch', async () => {
  const { runDir, explorer } = await setup;
  const last = epochsOf((await readRun(runDir)).events).at(-1)!;
  assert.equal(explorer.epochsCompleted, EPOCHS);
  assert.deepEqual([explorer.data.trainCount, explorer.data.testCount, explorer.data.width, explorer.data.height], [0, 120, 28, 28], 'the test set only');
  assert.equal(explorer.data.testLabels?.length, 120);
  assert.equal(explorer.mu.length, explorer.data.testCount * DIMZ);
  for (const key of ['kl', 'varMu', 'meanMu', 'meanSigmaSq'] as const) {
    explorer.latent.dims[key].forEach((v, d) => assert.ok(Math.abs(v - last.dims[key][d]) <= 1e-4 * Math.max(1, Math.abs(v)), `${key}[${d}]: ${v} vs ${last.dims[key][d]}`));
  }
  assert.equal(explorer.latent.activeUnits, last.activeUnits);
});

test('a traversal changes only the traversed coordinate of z, from −3 to +3, and decodes those z', async () => {
  const { runsDir, explorer } = await setup;
  const { dims: stats } = explorer.latent;
  // Default rows: the active dimensions, largest KL_d first.
  const expected = stats.kl.map((kl, d) => ({ kl, d })).filter(({ d }) => stats.varMu[d] > ACTIVE_UNIT_THRESHOLD).sort((a, b) => b.kl - a.kl).map(({ d }) => d);
  assert.ok(expected.length > 0, 'the run has active dimensions');
  assert.deepEqual(defaultTraversalDims(explorer), expected);

  const base = testMu(explorer, 7);
  const steps = 5;
  const tensors = tf.memory().numTensors;
  const picture = await writeTraversal(explorer, { steps, base }, join(runsDir, 'traverse.png'));
  assert.equal(tf.memory().numTensors, tensors, 'decoding leaves no tensors behind');
  assert.deepEqual(picture.dims, expected);
  assert.equal(picture.z.length, expected.length * steps * DIMZ);
  picture.dims.forEach((dim, i) => {
    for (let j = 0; j < steps; j++) {
      const z = rowOf(picture.z, i * steps + j, DIMZ);
      for (let d = 0; d < DIMZ; d++) {
        if (d === dim) assert.equal(z[d], Math.fround(-3 + (6 * j) / (steps - 1)), `row ${i} step ${j}: the traversed coordinate`);
        else assert.equal(z[d], base[d], `row ${i} step ${j}: coordinate ${d} stays at the base point`);
      }
    }
  });
  // The pictures are those z decoded: the last row's images, decoded one by one, are the same numbers.
  const lastRow = picture.z.subarray((expected.length - 1) * steps * DIMZ);
  const alone = await decode(explorer, lastRow.slice());
  const inGrid = picture.images.subarray((expected.length - 1) * steps * explorer.model.pixels);
  alone.forEach((v, k) => assert.ok(Math.abs(v - inGrid[k]) < 1e-6, `pixel ${k}`));
  const png = PNG.sync.read(readFileSync(picture.file));
  assert.deepEqual([png.width, png.height], [picture.width, picture.height]);
  assert.deepEqual(gridSize(expected.length, steps, 28, 28), { width: png.width, height: png.height });
  assert.deepEqual(tile(png, 0, 0, 28, 28), bytes(rowOf(picture.images, 0, explorer.model.pixels)));
});

test('decoding a test image\'s μ gives the trainer\'s own reconstruction of that image', async () => {
  const { runDir, runsDir, explorer } = await setup;
  const indices = [0, 1, 9, 17, 31];
  const z = new Float32Array(indices.flatMap((i) => Array.from(testMu(explorer, i))));
  const picture = await writeDecoded(explorer, z, join(runsDir, 'decoded.png'));
  assert.deepEqual([picture.rows, picture.cols], [1, indices.length]);
  indices.forEach((i, k) => assert.deepEqual(bytes(rowOf(picture.images, k, explorer.model.pixels)), trainerReconstruction(runDir, explorer, i), `test image ${i}`));
  // The same numbers as encode → decode in one pass (the trainer's reconstruction), not only the same bytes.
  const direct = tf.tidy(() => tf.sigmoid(explorer.model.decode(explorer.model.encode(tf.tensor2d(explorer.data.test.subarray(0, 32 * 784), [32, 784]), false).mu, false)));
  const values = (await direct.data()) as Float32Array;
  direct.dispose();
  indices.forEach((i, k) => {
    const mine = rowOf(picture.images, k, 784);
    rowOf(values, i, 784).forEach((v, p) => assert.ok(Math.abs(v - mine[p]) < 1e-6, `image ${i} pixel ${p}: ${mine[p]} vs ${v}`));
  });
});

test('deep-bn (batch normalization with its moving statistics): decoding μ gives the trainer\'s reconstructions too', async () => {
  const { runsDir } = await setup;
  const outcome = await startRun(
    { config: { name: 'latent deep-bn', model: 'deep-bn', epochs: 1, trainLimit: 300, testLimit: 40, dimz: 3, backend: 'wasm', seed: 2 }, runsDir },
    { output: collectingOutput() },
  );
  assert.equal(outcome.status, 'completed', outcome.message);
  const explorer = await openExplorer(outcome.runDir, { backend: 'wasm' });
  try {
    const indices = Array.from({ length: 32 }, (_, i) => i);
    const images = await decode(explorer, new Float32Array(indices.flatMap((i) => Array.from(testMu(explorer, i)))));
    for (const i of indices) assert.deepEqual(bytes(rowOf(images, i, 784)), trainerReconstruction(outcome.runDir, explorer, i), `test image ${i}`);
  } finally {
    explorer.dispose();
  }
});

test('interpolations start and end at the two test images\' μ and reconstructions; slerp turns evenly, its length linear', async () => {
  const { runDir, runsDir, explorer } = await setup;
  // Kahan's angle between two vectors, accurate for small angles too: 2·atan2(|û − v̂|, |û + v̂|).
  const angle = (u: ArrayLike<number>, v: ArrayLike<number>) => {
    const nu = Math.hypot(...Array.from(u));
    const nv = Math.hypot(...Array.from(v));
    let diff = 0, sum = 0;
    for (let d = 0; d < DIMZ; d++) [diff, sum] = [diff + (u[d] / nu - v[d] / nv) ** 2, sum + (u[d] / nu + v[d] / nv) ** 2];
    return 2 * Math.atan2(Math.sqrt(diff), Math.sqrt(sum));
  };
  // The two of the first 32 test images whose μ are furthest apart in angle.
  let [from, to] = [0, 1];
  for (let i = 0; i < 32; i++) for (let j = i + 1; j < 32; j++) if (angle(testMu(explorer, i), testMu(explorer, j)) > angle(testMu(explorer, from), testMu(explorer, to))) [from, to] = [i, j];
  const steps = 6;
  const a = testMu(explorer, from);
  const b = testMu(explorer, to);
  const omega = angle(a, b);
  assert.ok(omega > 0.1, `the μ of test images ${from} and ${to} are ${omega} rad apart`);
  for (const spherical of [false, true]) {
    const picture = await writeInterpolation(explorer, { from, to, steps, spherical }, join(runsDir, `interpolate-${spherical}.png`));
    assert.deepEqual(Array.from(rowOf(picture.z, 0, DIMZ)), Array.from(a), 'first z is μ(from)');
    assert.deepEqual(Array.from(rowOf(picture.z, steps - 1, DIMZ)), Array.from(b), 'last z is μ(to)');
    assert.deepEqual(bytes(rowOf(picture.images, 0, 784)), trainerReconstruction(runDir, explorer, from));
    assert.deepEqual(bytes(rowOf(picture.images, steps - 1, 784)), trainerReconstruction(runDir, explorer, to));
    for (let j = 1; j < steps - 1; j++) {
      const z = rowOf(picture.z, j, DIMZ);
      const t = j / (steps - 1);
      if (spherical) {
        assert.ok(Math.abs(angle(a, z) - t * omega) < 1e-5 && Math.abs(angle(z, b) - (1 - t) * omega) < 1e-5, `slerp step ${j}: angle ${angle(a, z)} vs ${t * omega}`);
        const length = (1 - t) * Math.hypot(...a) + t * Math.hypot(...b);
        assert.ok(Math.abs(Math.hypot(...z) - length) < 1e-5 * length, `slerp step ${j}: |z| ${Math.hypot(...z)} vs ${length}`);
      }
      else z.forEach((v, d) => assert.ok(Math.abs(v - ((1 - t) * a[d] + t * b[d])) < 1e-5, `lerp step ${j}, coordinate ${d}`));
    }
  }
});

test('the scatter projects every test μ on the chosen plane and draws it against the prior', async () => {
  const { runsDir, explorer } = await setup;
  const n = explorer.data.testCount;
  const byDims = await writeScatter(explorer, { dims: [3, 1] }, join(runsDir, 'scatter-dims.png'));
  for (let r = 0; r < n; r++) {
    assert.equal(byDims.points[2 * r], explorer.mu[r * DIMZ + 3]);
    assert.equal(byDims.points[2 * r + 1], explorer.mu[r * DIMZ + 1]);
  }
  const noise = priorNoise(explorer.config.seed, DIMZ);
  assert.equal(byDims.prior[0], noise[3]);

  const pca = await writeScatter(explorer, {}, join(runsDir, 'scatter.png'));
  const { u, v, explained } = pca.plane;
  const dot = (p: ArrayLike<number>, q: ArrayLike<number>) => Array.from(p).reduce((s, x, i) => s + x * q[i], 0);
  assert.ok(Math.abs(dot(u, u) - 1) < 1e-9 && Math.abs(dot(v, v) - 1) < 1e-9 && Math.abs(dot(u, v)) < 1e-9, 'orthonormal axes');
  // PC1 carries at least as much variance of μ as any single dimension, and PC2 no more than PC1.
  const total = explorer.latent.dims.varMu.reduce((s, x) => s + x, 0);
  assert.ok(explained[0] * total >= Math.max(...explorer.latent.dims.varMu) * (1 - 1e-9));
  assert.ok(explained[1] <= explained[0]);
  const png = PNG.sync.read(readFileSync(pca.file));
  assert.deepEqual([png.width, png.height], [512, 512]);
  // The first test image's dot is drawn where its projection lies (not background white).
  const scale = 256 / pca.extent;
  const [x, y] = [Math.round(256 + pca.points[0] * scale), Math.round(256 - pca.points[1] * scale)];
  const o = (y * 512 + x) * 4;
  assert.notDeepEqual([png.data[o], png.data[o + 1], png.data[o + 2]], [255, 255, 255]);
});

test('the manifold grid decodes z on the scatter\'s plane, from −3 to +3 on both axes', async () => {
  const { runsDir, explorer } = await setup;
  const steps = 5;
  const byDims = await writeManifold(explorer, { dims: [0, 3], steps }, join(runsDir, 'manifold-dims.png'));
  const values = [-3, -1.5, 0, 1.5, 3];
  for (let r = 0; r < steps; r++) {
    // (+ 0 makes −0, a negative coordinate times 0, compare equal to 0.)
    for (let c = 0; c < steps; c++) assert.deepEqual(Array.from(rowOf(byDims.z, r * steps + c, DIMZ), (v) => v + 0), [values[c], 0, 0, values[steps - 1 - r], 0], `row ${r} column ${c}`);
  }
  const pca = await writeManifold(explorer, { steps }, join(runsDir, 'manifold.png'));
  const scatter = await writeScatter(explorer, {}, join(runsDir, 'scatter-for-manifold.png'));
  assert.deepEqual(Array.from(pca.plane.u), Array.from(scatter.plane.u), 'the same plane as the scatter');
  const corner = rowOf(pca.z, steps - 1, DIMZ);
  corner.forEach((v, d) => assert.ok(Math.abs(v - (3 * pca.plane.u[d] + 3 * pca.plane.v[d])) < 1e-6, `top-right corner, coordinate ${d}`));
  const png = PNG.sync.read(readFileSync(pca.file));
  assert.deepEqual({ width: png.width, height: png.height }, gridSize(steps, steps, 28, 28));
});

test('vae-lens decode, traverse, interpolate and scatter write PNGs of the expected size; bad input fails clearly', async () => {
  const { runsDir, runId, runDir, explorer } = await setup;
  const cli = (args: string[]) => runCli([...args, '--runs-dir', runsDir, ...(args.includes('--backend') ? [] : ['--backend', 'wasm'])]);
  const read = (file: string) => PNG.sync.read(readFileSync(file));
  const out = (name: string) => join(runsDir, name);

  // Test image 4's μ on the command line decodes to the trainer's reconstruction of image 4.
  const mu = Array.from(testMu(explorer, 4)).join(',');
  const decoded = await cli(['decode', runId, `--z=${mu}`, '--z', new Array(DIMZ).fill(0).join(','), '--out', out('cli-decode.png')]);
  assert.equal(decoded.code, 0, decoded.stderr);
  assert.equal(decoded.stdout.trim(), out('cli-decode.png'));
  const png = read(out('cli-decode.png'));
  assert.deepEqual({ width: png.width, height: png.height }, gridSize(1, 2, 28, 28));
  assert.deepEqual(tile(png, 0, 0, 28, 28), trainerReconstruction(runDir, explorer, 4));

  const traversed = await cli(['traverse', runDir, '--dims', '2,5', '--steps', '9', '--out', out('cli-traverse.png'), '--json']);
  assert.equal(traversed.code, 0, traversed.stderr);
  const said = JSON.parse(traversed.stdout) as { dims: number[]; steps: number; width: number; height: number };
  assert.deepEqual([said.dims, said.steps], [[2, 5], 9]);
  const t = read(out('cli-traverse.png'));
  assert.deepEqual({ width: t.width, height: t.height }, gridSize(2, 9, 28, 28));
  assert.deepEqual([said.width, said.height], [t.width, t.height]);

  const interpolated = await cli(['interpolate', runId, '--from', '3', '--to', '8', '--steps', '4', '--slerp', '--out', out('cli-interpolate.png')]);
  assert.equal(interpolated.code, 0, interpolated.stderr);
  assert.match(interpolated.stderr, /spherical interpolation from test image 3 to 8 in 4 steps/);
  const i = read(out('cli-interpolate.png'));
  assert.deepEqual({ width: i.width, height: i.height }, gridSize(1, 4, 28, 28));
  assert.deepEqual(tile(i, 0, 3, 28, 28), trainerReconstruction(runDir, explorer, 8));

  const scattered = await cli(['scatter', runId, '--out', out('cli-scatter.png'), '--manifold', out('cli-manifold.png'), '--steps', '6']);
  assert.equal(scattered.code, 0, scattered.stderr);
  assert.match(scattered.stderr, /120 test μ on PC1 \(\d+% of Var μ\) × PC2/);
  const s = read(out('cli-scatter.png'));
  assert.deepEqual([s.width, s.height], [512, 512]);
  const m = read(out('cli-manifold.png'));
  assert.deepEqual({ width: m.width, height: m.height }, gridSize(6, 6, 28, 28));

  const failures: [string[], RegExp][] = [
    [['decode', runId, '--z', '1,2,3', '--out', out('x.png')], /z has 3 values; the run's latent space has dimz 5/],
    [['decode', runId, '--z', '1,2,x,4,5', '--out', out('x.png')], /"x" is not a number/],
    [['decode', runId, '--out', out('x.png')], /needs --z/],
    [['traverse', runId, '--dims', '6', '--out', out('x.png')], /Dimension 6 is out of range: the run has dimz 5 \(dimensions 1–5\)/],
    [['traverse', runId, '--base', '120', '--out', out('x.png')], /Test image 120 \(--base\) is out of range: the run's test set has 120 images \(0–119\)/],
    [['traverse', runId, '--steps', '1', '--out', out('x.png')], /at least 2 steps/],
    [['interpolate', runId, '--from', '0', '--to', '500', '--out', out('x.png')], /Test image 500 \(--to\) is out of range/],
    [['interpolate', runId, '--from', '0', '--out', out('x.png')], /needs --from I and --to J/],
    [['scatter', runId, '--dims', '1,2,3', '--out', out('x.png')], /exactly two dimensions/],
    [['scatter', runId], /needs --out/],
    [['scatter', runId, '--steps', '5', '--out', out('x.png')], /--steps sets the grid of --manifold/],
    [['scatter', runId, '--backend', 'gpu', '--out', out('x.png')], /--backend gpu: use one of auto, webgpu/],
  ];
  for (const [args, message] of failures) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  assert.ok(!existsSync(out('x.png')), 'a failed command writes no picture');

  // A run that has no checkpoint yet.
  const bare = join(runsDir, 'no-checkpoint');
  cpSync(runDir, bare, { recursive: true });
  rmSync(join(bare, CHECKPOINT_DIR), { recursive: true });
  const none = await cli(['scatter', bare, '--out', out('x.png')]);
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /has no checkpoint yet .* train or resume it until at least one epoch has ended/);
  const missing = await cli(['traverse', 'no-such-run', '--out', out('x.png')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No run "no-such-run"/);
});

test('the latent commands have help', async () => {
  const main = await runCli(['--help']);
  for (const command of ['decode', 'traverse', 'interpolate', 'scatter']) {
    assert.match(main.stdout, new RegExp(`vae-lens ${command} <run>`));
    const r = await runCli([command, '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^vae-lens ${command} <run folder \\| run id>[\\s\\S]*--out <file.png>[\\s\\S]*--runs-dir`));
  }
});

test.after(async () => (await setup).explorer.dispose());

// ---- the decode service (trainer `serve` mode) through the client the extension host uses ----

/** Grey bytes of a service answer, image by image. */
function greyRows(pixels: string, rows: number): number[][] {
  const all = Buffer.from(pixels, 'base64');
  const size = all.length / rows;
  return Array.from({ length: rows }, (_, r) => Array.from(all.subarray(r * size, (r + 1) * size)));
}

test('the decode service: what it knows of the latent space, and decodes of μ equal the trainer\'s reconstructions', async () => {
  const { runDir, explorer } = await setup;
  const client = new LatentServiceClient(TRAINER_JS, runDir);
  try {
    const info = await client.ready;
    assert.deepEqual([info.runId, info.epochsCompleted, info.dimz, info.width, info.height, info.testCount], [explorer.runId, EPOCHS, DIMZ, 28, 28, 120]);
    info.kl.forEach((v, d) => assert.ok(Math.abs(v - explorer.latent.dims.kl[d]) < 1e-6, `kl[${d}]`));
    assert.deepEqual(info.order, defaultTraversalDims(explorer));
    assert.equal(info.scatter.points.length, 2 * 120);
    assert.equal(info.scatter.labels?.length, 120);
    assert.equal(info.scatter.noise.length, 2 * 64);
    assert.match(info.scatter.axes[0], /^PC1 \(\d+% of Var\(μ\)\)$/);
    // Test images 3 and 9: their μ as the explorer has it, and decoded to the recon PNG's own tiles.
    const tested = await client.test([3, 9]);
    assert.deepEqual(tested.mu, [...testMu(explorer, 3), ...testMu(explorer, 9)]);
    const originals = greyRows(tested.pixels, 2);
    assert.deepEqual(originals[0], bytes(rowOf(explorer.data.test, 3, explorer.data.pixels)));
    const decoded = await client.decode(tested.mu);
    const rows = greyRows(decoded.pixels, 2);
    assert.deepEqual(rows[0], trainerReconstruction(runDir, explorer, 3));
    assert.deepEqual(rows[1], trainerReconstruction(runDir, explorer, 9));
    // An interpolation's ends are the two reconstructions, byte for byte.
    const path = await client.decode(Array.from(interpolationZ(tested.mu.slice(0, DIMZ), tested.mu.slice(DIMZ), 6, true)));
    const strip = greyRows(path.pixels, 6);
    assert.deepEqual([strip[0], strip[5]], rows);
    // Bad requests are answered with the reason; the service goes on.
    await assert.rejects(client.decode([1, 2, 3]), /dimz 5/);
    await assert.rejects(client.test([120]), /out of range: the run's test set has 120 images/);
    assert.equal((await client.decode(new Array(DIMZ).fill(0))).rows, 1);
  } finally {
    await client.close();
  }
  assert.equal((await client.exited).code, 0, 'closed, it exits by itself');
});

test('the decode service exits when idle and when its parent goes; a run without a checkpoint is refused with the reason', async () => {
  const { runDir, runsDir } = await setup;
  const idle = new LatentServiceClient(TRAINER_JS, runDir, { idleMs: 300 });
  await idle.ready;
  const started = Date.now();
  assert.deepEqual(await idle.exited, { code: 0, signal: null });
  assert.ok(Date.now() - started < 5000);
  const orphan = new LatentServiceClient(TRAINER_JS, runDir);
  await orphan.ready;
  orphan.child!.disconnect();
  assert.deepEqual(await orphan.exited, { code: 0, signal: null });
  // A run folder whose checkpoint is not there yet.
  const copy = join(runsDir, 'no-checkpoint');
  cpSync(runDir, copy, { recursive: true });
  rmSync(join(copy, CHECKPOINT_DIR), { recursive: true, force: true });
  const refused = new LatentServiceClient(TRAINER_JS, copy);
  await assert.rejects(refused.ready, /has no checkpoint yet/);
  assert.equal((await refused.exited).code, 1);
});

test('one decode service per run: requests share it, a release ends it, the next request starts another; untrusted: unavailable', async () => {
  const { runDir } = await setup;
  let trusted = false;
  const sessions = new LatentSessions(TRAINER_JS, { whyNot: () => (trusted ? undefined : 'The latent explorer runs only in a trusted workspace.') });
  const replies: ToLatentTabMessage[] = [];
  const post = (m: ToLatentTabMessage) => void replies.push(m);
  await sessions.handle({ type: 'latentOpen', dir: runDir }, post);
  assert.deepEqual(replies.pop(), { type: 'latentUnavailable', dir: runDir, message: 'The latent explorer runs only in a trusted workspace.' });
  assert.deepEqual(sessions.pids(), [], 'nothing is started where the explorer may not run');
  trusted = true;
  await Promise.all([sessions.handle({ type: 'latentOpen', dir: runDir }, post), sessions.handle({ type: 'latentDecode', dir: runDir, id: 1, z: new Array(DIMZ).fill(0) }, post)]);
  assert.deepEqual(replies.map((r) => r.type).sort(), ['latentDecoded', 'latentInfo']);
  const [pid] = sessions.pids();
  assert.equal(sessions.pids().length, 1);
  await sessions.handle({ type: 'latentTest', dir: runDir, id: 2, indices: [500] }, post);
  assert.deepEqual(replies.at(-1), { type: 'latentUnavailable', dir: runDir, id: 2, message: 'Test image 500 is out of range: the run\'s test set has 120 images (0–119).' });
  await sessions.release(runDir);
  assert.deepEqual(sessions.pids(), []);
  assert.throws(() => process.kill(pid, 0), 'the released service is gone');
  await sessions.handle({ type: 'latentDecode', dir: runDir, id: 3, z: new Array(DIMZ).fill(1) }, post);
  assert.equal(replies.at(-1)?.type, 'latentDecoded');
  assert.notEqual(sessions.pids()[0], pid);
  await sessions.dispose();
  assert.deepEqual(sessions.pids(), []);
});

/** Resolves once no process has the pid (polled; signal 0 only asks whether it exists). */
async function untilGone(pid: number, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A fresh base for the private socket folder, and that folder (made). */
async function socketFolderIn(name: string): Promise<{ base: string; dir: string }> {
  const base = join((await setup).runsDir, name);
  mkdirSync(base);
  const folder = serviceSocketFolder(base);
  assert.ok(folder.dir, folder.why);
  return { base, dir: folder.dir };
}

test('two windows on one run share one decode service: it stays while either uses it and ends after the last', async () => {
  const { runDir } = await setup;
  // Each LatentSessions plays one window's extension host; both use one private socket folder.
  const { base, dir: socketDir } = await socketFolderIn('sockets-shared');
  const logs: string[] = [];
  const windowA = new LatentSessions(TRAINER_JS, { socketBase: base, log: (l) => void logs.push(`A ${l}`) });
  const windowB = new LatentSessions(TRAINER_JS, { socketBase: base, log: (l) => void logs.push(`B ${l}`) });
  const replies: ToLatentTabMessage[] = [];
  const post = (m: ToLatentTabMessage) => void replies.push(m);
  try {
    // Both open the run at the same moment: one service, whichever window started it.
    await Promise.all([windowA.handle({ type: 'latentOpen', dir: runDir }, post), windowB.handle({ type: 'latentOpen', dir: runDir }, post)]);
    assert.deepEqual(replies.map((r) => r.type), ['latentInfo', 'latentInfo'], logs.join('\n'));
    const [pid] = windowA.pids();
    assert.ok(pid, 'window A has a service');
    assert.deepEqual(windowB.pids(), [pid], `window B uses the same process\n${logs.join('\n')}`);
    assert.ok(logs.some((l) => /using the decode service another window started/.test(l)), logs.join('\n'));
    // Decodes from each window are answered by it, each with its own ids.
    const z = new Array(DIMZ).fill(0.5);
    await Promise.all([windowA.handle({ type: 'latentDecode', dir: runDir, id: 7, z }, post), windowB.handle({ type: 'latentDecode', dir: runDir, id: 7, z }, post)]);
    const decoded = replies.filter((r) => r.type === 'latentDecoded');
    assert.equal(decoded.length, 2, JSON.stringify(replies.slice(-2)).slice(0, 300));
    assert.deepEqual(decoded[0], decoded[1], 'the same z decodes to the same image in both windows');
    // The window that started it closes its panel: the service stays for the other.
    const joined = (window: string) => logs.some((l) => l.startsWith(`${window} `) && /using the decode service another window started/.test(l));
    assert.notEqual(joined('A'), joined('B'), 'exactly one window joined the other\'s service');
    const starter = joined('A') ? windowB : windowA;
    const other = starter === windowA ? windowB : windowA;
    await starter.release(runDir);
    assert.deepEqual(starter.pids(), []);
    await other.handle({ type: 'latentTest', dir: runDir, id: 8, indices: [3] }, post);
    assert.equal(replies.at(-1)?.type, 'latentTested', JSON.stringify(replies.at(-1)).slice(0, 300));
    assert.deepEqual(other.pids(), [pid], 'still the same service');
    assert.ok(logs.some((l) => /stays for another window that uses it/.test(l)), logs.join('\n'));
    // The starter opens the run again: it joins the service it started, now another window's.
    await starter.handle({ type: 'latentDecode', dir: runDir, id: 9, z }, post);
    assert.equal(replies.at(-1)?.type, 'latentDecoded');
    assert.deepEqual(starter.pids(), [pid]);
    await starter.release(runDir);
    // The last window lets go: the service ends, and its socket with it.
    await other.release(runDir);
    assert.ok(await untilGone(pid), 'the service ends when no window uses it');
    assert.deepEqual(readdirSync(socketDir).filter((f) => f.endsWith('.sock') || f.endsWith('.lock')), [], 'no socket or lock file is left');
  } finally {
    await Promise.all([windowA.dispose(), windowB.dispose()]);
  }
});

test('a shared service\'s socket left by a killed service is taken over; kept epochs get a service of their own', async () => {
  const { runDir } = await setup;
  const { base, dir: socketDir } = await socketFolderIn('sockets-stale');
  const windowA = new LatentSessions(TRAINER_JS, { socketBase: base });
  const windowB = new LatentSessions(TRAINER_JS, { socketBase: base });
  const replies: ToLatentTabMessage[] = [];
  const post = (m: ToLatentTabMessage) => void replies.push(m);
  try {
    await windowA.handle({ type: 'latentOpen', dir: runDir }, post);
    const [pid] = windowA.pids();
    const [socket] = readdirSync(socketDir).filter((f) => f.endsWith('.sock'));
    assert.ok(socket, 'the service listens on a socket in the folder');
    // Killed outright (a crash): its socket file stays, and no one answers on it.
    process.kill(pid, 'SIGKILL');
    assert.ok(await untilGone(pid));
    assert.ok(existsSync(join(socketDir, socket)), 'a killed service leaves its socket file');
    assert.equal(await probeSocket(join(socketDir, socket)), false);
    await windowB.handle({ type: 'latentOpen', dir: runDir }, post);
    assert.equal(replies.at(-1)?.type, 'latentInfo', JSON.stringify(replies.at(-1)).slice(0, 300));
    const [next] = windowB.pids();
    assert.ok(next && next !== pid, 'window B started a service of its own on the dead one\'s socket');
    assert.equal(await probeSocket(join(socketDir, socket)), true);
    // Window A's next request finds its service gone and joins window B's.
    await windowA.handle({ type: 'latentDecode', dir: runDir, id: 1, z: new Array(DIMZ).fill(0) }, post);
    assert.equal(replies.at(-1)?.type, 'latentDecoded');
    assert.deepEqual(windowA.pids(), [next]);
    // Another window on a kept epoch's weights (none kept here: the service refuses) is not joined to the latest's.
    await windowA.handle({ type: 'latentOpen', dir: runDir, epoch: 1 }, post);
    assert.equal(replies.at(-1)?.type, 'latentUnavailable');
    assert.deepEqual(windowB.pids(), [next], 'the latest weights\' service is not disturbed');
  } finally {
    await Promise.all([windowA.dispose(), windowB.dispose()]);
  }
});

test('the socket folder is used only when it is private to the user', async () => {
  const { runsDir } = await setup;
  const uid = process.getuid!();
  const open = join(runsDir, 'sockets-open');
  mkdirSync(join(open, `vae-lens-${uid}`), { recursive: true });
  chmodSync(join(open, `vae-lens-${uid}`), 0o755);
  assert.match(serviceSocketFolder(open).why ?? '', /open to other users \(mode 755\)/);
  const linked = join(runsDir, 'sockets-link');
  mkdirSync(linked);
  symlinkSync(tmpdir(), join(linked, `vae-lens-${uid}`));
  assert.match(serviceSocketFolder(linked).why ?? '', /is not a folder/);
  const fresh = join(runsDir, 'sockets-fresh');
  mkdirSync(fresh);
  const made = serviceSocketFolder(fresh);
  assert.ok(made.dir);
  assert.equal(statSync(made.dir).mode & 0o777, 0o700);
  // A window with an unusable folder keeps a service of its own, and its log says why.
  const logs: string[] = [];
  const sessions = new LatentSessions(TRAINER_JS, { socketBase: open, log: (l) => void logs.push(l) });
  const replies: ToLatentTabMessage[] = [];
  await sessions.handle({ type: 'latentOpen', dir: (await setup).runDir }, (m) => void replies.push(m));
  assert.equal(replies.at(-1)?.type, 'latentInfo');
  assert.equal(sessions.pids().length, 1);
  assert.deepEqual(readdirSync(join(open, `vae-lens-${uid}`)), [], 'no socket in a folder others can enter');
  assert.ok(logs.some((l) => /not shared with other windows \(.*open to other users/.test(l)), logs.join('\n'));
  await sessions.dispose();
  // A temporary folder so deep that a socket path would not fit: no socket, a service of its own.
  const deep = join(runsDir, 'x'.repeat(120));
  mkdirSync(deep);
  const deepFolder = serviceSocketFolder(deep);
  assert.ok(deepFolder.dir, deepFolder.why);
  assert.equal(serviceSocketPath(deepFolder.dir, (await setup).runDir, 'latest-2', 'trainer'), undefined);
  const deepSessions = new LatentSessions(TRAINER_JS, { socketBase: deep });
  await deepSessions.handle({ type: 'latentOpen', dir: (await setup).runDir }, (m) => void replies.push(m));
  assert.equal(replies.at(-1)?.type, 'latentInfo', JSON.stringify(replies.at(-1)).slice(0, 300));
  assert.equal(deepSessions.pids().length, 1);
  assert.deepEqual(readdirSync(deepFolder.dir), []);
  await deepSessions.dispose();
});

test('a run that trained on since its service opened: the next open starts a service on the latest checkpoint', async () => {
  const runsDir = tempRunsDir();
  // A trainer killed once its first of two epochs is recorded: the checkpoint holds epoch 1.
  const child = spawnTrainer({ config: { name: 'grows', epochs: 2, trainLimit: 600, testLimit: 120, dimz: DIMZ, backend: 'wasm', seed: 5 }, runsDir });
  const started = await untilMessage(child, (m) => m.type === 'started');
  assert.ok(started?.type === 'started', child.stderr());
  assert.ok(await untilMessage(child, (m) => m.type === 'appended' && m.kind === 'epoch' && m.epoch === 1), child.stderr());
  child.child.kill('SIGKILL');
  await child.exited;
  const dir = started.runDir;
  // As the run store tells the host: the epochs run.json records.
  const sessions = new LatentSessions(TRAINER_JS, { epochsCompleted: (d) => readRunInfo(d).then((info) => info.epochsCompleted) });
  const replies: ToLatentTabMessage[] = [];
  const post = (m: ToLatentTabMessage) => void replies.push(m);
  try {
    await sessions.handle({ type: 'latentOpen', dir }, post);
    const first = replies.pop();
    assert.ok(first?.type === 'latentInfo', JSON.stringify(first));
    const epochAtOpen = first.info.epochsCompleted;
    const [pid] = sessions.pids();
    // Opening again without newer weights keeps the service.
    await sessions.handle({ type: 'latentOpen', dir }, post);
    assert.deepEqual(sessions.pids(), [pid]);
    const resumed = await resumeRun(dir, { output: collectingOutput() });
    assert.equal(resumed.status, 'completed', resumed.message);
    assert.ok(epochAtOpen < 2, `the service opened on epoch ${epochAtOpen}`);
    await sessions.handle({ type: 'latentOpen', dir }, post);
    const second = replies.pop();
    assert.ok(second?.type === 'latentInfo' && second.info.epochsCompleted === 2, JSON.stringify(second));
    assert.notEqual(sessions.pids()[0], pid);
    assert.throws(() => process.kill(pid, 0), 'the service on the older weights is gone');
  } finally {
    await sessions.dispose();
  }
});

test('kept epochs (keepCheckpointEvery): their weights without the optimizer, decoded by the explorer and the service on request', async () => {
  const runsDir = tempRunsDir();
  const outcome = await startRun(
    { config: { name: 'kept', epochs: 2, keepCheckpointEvery: 1, trainLimit: 600, testLimit: 120, dimz: DIMZ, backend: 'wasm', seed: 5 }, runsDir },
    { output: collectingOutput() },
  );
  assert.equal(outcome.status, 'completed', outcome.message);
  const dir = outcome.runDir;
  assert.deepEqual(keptCheckpointEpochs(dir), [1, 2]);
  const kept = (await readKeptCheckpoint(dir, 1))!;
  assert.deepEqual([kept.epochsCompleted, Object.keys(kept.optimizer.slots).length], [1, 0], 'epoch 1, no optimizer slots');
  const dataBytes = (d: string) => statSync(join(dir, d, 'tensors.bin')).size;
  assert.ok(dataBytes(`${KEPT_CHECKPOINTS_DIR}/epoch-0001`) < dataBytes(CHECKPOINT_DIR) / 2, 'a kept copy is much smaller than the checkpoint');
  // Epoch 1's weights decode a test image's μ to epoch 1's own reconstruction.
  const first = await openExplorer(dir, { backend: 'wasm', epoch: 1 });
  const mu3 = Array.from(testMu(first, 3)).join(',');
  try {
    assert.equal(first.epochsCompleted, 1);
    assert.deepEqual(bytes(await decode(first, testMu(first, 3))), trainerReconstruction(dir, first, 3));
  } finally {
    first.dispose();
  }
  await assert.rejects(openExplorer(dir, { epoch: 5 }), /keeps no weights of epoch 5: it keeps epochs 1, 2 \(config keepCheckpointEvery: 1\)/);
  // The CLI's --epoch: epoch 1's weights decode epoch 1's reconstruction; an epoch the run lacks, or 0, is refused.
  const cliOut = join(runsDir, 'epoch-1.png');
  const atOne = await runCli(['decode', dir, '--epoch', '1', `--z=${mu3}`, '--backend', 'wasm', '--out', cliOut]);
  assert.equal(atOne.code, 0, atOne.stderr);
  assert.match(atOne.stderr, /checkpoint after epoch 1,/);
  const png = PNG.sync.read(readFileSync(cliOut));
  assert.deepEqual(tile(png, 0, 0, 28, 28), trainerReconstruction(dir, first, 3));
  const lacking = await runCli(['decode', dir, '--epoch', '5', `--z=${mu3}`, '--backend', 'wasm', '--out', cliOut]);
  assert.notEqual(lacking.code, 0);
  assert.match(lacking.stderr, /keeps no weights of epoch 5/);
  const zero = await runCli(['decode', dir, '--epoch', '0', `--z=${mu3}`, '--out', cliOut]);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /--epoch 0: epochs count from 1/);
  // Through the host's sessions: a kept epoch, then the latest again, then an epoch it lacks.
  const sessions = new LatentSessions(TRAINER_JS);
  const replies: ToLatentTabMessage[] = [];
  const post = (m: ToLatentTabMessage) => void replies.push(m);
  try {
    await sessions.handle({ type: 'latentOpen', dir, epoch: 1 }, post);
    const one = replies.pop();
    assert.ok(one?.type === 'latentInfo', JSON.stringify(one));
    assert.deepEqual([one.info.epochsCompleted, one.info.latest, one.info.keptEpochs], [1, false, [1, 2]]);
    const [pid] = sessions.pids();
    await sessions.handle({ type: 'latentOpen', dir }, post);
    const latest = replies.pop();
    assert.ok(latest?.type === 'latentInfo' && latest.info.latest && latest.info.epochsCompleted === 2, JSON.stringify(latest));
    assert.notEqual(sessions.pids()[0], pid, 'other weights, another service');
    await sessions.handle({ type: 'latentOpen', dir, epoch: 5 }, post);
    const missing = replies.pop();
    assert.ok(missing?.type === 'latentUnavailable' && missing.id === undefined && /keeps no weights of epoch 5/.test(missing.message), JSON.stringify(missing));
  } finally {
    await sessions.dispose();
  }
});
