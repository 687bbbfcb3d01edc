/** images:<folder> data sets on real PNG and JPEG files written here: layout, pixels, labels, split, cache, fingerprint, errors, one run. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { readRun } from '../../src/node/runFolder';
import { checkRunInfo, epochImageName, RECON_DIR, SAMPLES_DIR } from '../../src/shared/run';
import { BORDER, gridSize } from '../../src/trainer/images';
import { checkDataUnchanged, DataError, loadDataset } from '../../src/trainer/data';
import { listImageFolder, readImageFolder } from '../../src/trainer/data/imageFolder';
import { selectBackend } from '../../src/trainer/backend';
import { startRun } from '../../src/trainer/train';
import { openExplorer } from '../../src/trainer/latent/explorer';
import { buildReportHtml } from '../../src/trainer/report';
import { answer, latentSpaceInfo } from '../../src/trainer/latent/serve';
import { parseServiceMessage } from '../../src/shared/latentService';
import { collectingOutput, tempRunsDir } from './support';

type Rgb = [number, number, number];

/** A temporary folder, removed when test `t` ends. */
function temp(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `vae-lens-images-${prefix}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function write(path: string, bytes: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/** A PNG of width × height filled by `pixel` (RGBA bytes); `colorType` 0 writes grey, 2 RGB, 6 RGBA; `bitDepth` 8 or 16 (values × 257). */
function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number], colorType: 0 | 2 | 6 = 2, bitDepth: 8 | 16 = 8): Buffer {
  const values = new Uint16Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) values.set(pixel(x, y).map((v) => (bitDepth === 16 ? v * 257 : v)), (y * width + x) * 4);
  // pngjs reads 16-bit input as the platform's Uint16 values, 8-bit input as bytes.
  const data = bitDepth === 16 ? Buffer.from(values.buffer) : Buffer.from(Uint8Array.from(values));
  return PNG.sync.write(Object.assign(new PNG({ width, height }), { data }), { colorType, bitDepth, inputColorType: 6, inputHasAlpha: true });
}

const solid = (c: Rgb, size = 8, colorType: 0 | 2 | 6 = 2) => png(size, size, () => [...c, 255], colorType);

function jpeg(width: number, height: number, c: Rgb): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([...c, 255], 4 * i);
  return encodeJpeg({ width, height, data }, 95).data;
}

const none = { trainLimit: null, testLimit: null, binarize: 'none' as const };

/** The values of image `i` of a set. */
const imageOf = (values: Float32Array, pixels: number, i: number) => Array.from(values.subarray(i * pixels, (i + 1) * pixels));

test('colour and grey files become rgb and grey pixels: pure red is [1, 0, 0] in rgb and 0.299 in grey; alpha is composited on white', async (t) => {
  const folder = temp(t, 'colour');
  const cacheDir = temp(t, 'cache');
  write(join(folder, 'red.png'), solid([255, 0, 0]));
  write(join(folder, 'grey.png'), solid([128, 128, 128], 8, 0));
  write(join(folder, 'clear.png'), png(8, 8, () => [0, 0, 0, 0], 6));
  write(join(folder, 'blue.jpg'), jpeg(16, 16, [0, 0, 255]));
  write(join(folder, 'wide16.png'), png(12, 6, () => [0, 255, 0, 255], 2, 16));
  const both = async (color: 'rgb' | 'grey') => {
    const d = await loadDataset({ dataset: `images:${folder}`, imageSize: 4, color, testSplit: 0.5, ...none }, { cacheDir });
    const names = [...listImageFolder(folder, 0.5, 'x').train, ...listImageFolder(folder, 0.5, 'x').test].map((f) => f.rel);
    const all = new Float32Array([...d.train, ...d.test]);
    return { d, byName: (name: string) => imageOf(all, d.pixels, names.indexOf(name)) };
  };
  const rgb = await both('rgb');
  assert.equal(rgb.d.channels, 3);
  assert.equal(rgb.d.pixels, 4 * 4 * 3);
  assert.equal(rgb.d.trainCount + rgb.d.testCount, 5);
  assert.equal(rgb.d.labelNames, undefined);
  assert.equal(rgb.d.trainLabels, undefined);
  const every = (values: number[], expected: number[], tolerance: number, what: string) =>
    values.forEach((v, i) => assert.ok(Math.abs(v - expected[i % expected.length]) <= tolerance, `${what}[${i}] = ${v}, expected ${expected[i % expected.length]}`));
  every(rgb.byName('red.png'), [1, 0, 0], 1e-7, 'red rgb');
  every(rgb.byName('grey.png'), [128 / 255, 128 / 255, 128 / 255], 1e-7, 'grey file in rgb: repeated');
  every(rgb.byName('clear.png'), [1, 1, 1], 1e-7, 'transparent: white');
  every(rgb.byName('blue.jpg'), [0, 0, 1], 3 / 255, 'JPEG blue');
  every(rgb.byName('wide16.png'), [0, 1, 0], 1e-7, '16-bit, centre-cropped');
  const grey = await both('grey');
  assert.equal(grey.d.channels, 1);
  assert.equal(grey.d.pixels, 16);
  every(grey.byName('red.png'), [0.299], 1 / 255, 'red in grey');
  every(grey.byName('blue.jpg'), [0.114], 2 / 255, 'blue in grey');
  every(grey.byName('grey.png'), [128 / 255], 1e-7, 'grey');
});

test('resizing: a centre crop averaged over areas (shrinking) and interpolated (enlarging)', async (t) => {
  const folder = temp(t, 'resize');
  const cacheDir = temp(t, 'cache');
  // 12×8: columns 0-1 and 10-11 red (cropped away), the 8×8 centre left half black, right half white.
  write(join(folder, 'a.png'), png(12, 8, (x) => (x < 2 || x >= 10 ? [255, 0, 0, 255] : x < 6 ? [0, 0, 0, 255] : [255, 255, 255, 255])));
  // A 3×3 checker, shrunk to 2×2 (fractional coverage) and grown to 6×6.
  write(join(folder, 'b.png'), png(3, 3, (x, y) => ((x + y) % 2 ? [255, 255, 255, 255] : [0, 0, 0, 255])));
  const listing = listImageFolder(folder, 0.5, 'images:x');
  const small = await readImageFolder(listing, { dataset: 'images:x', side: 2, color: 'grey', testSplit: 0.5, cacheDir });
  const all = (s: typeof small) => new Uint8Array([...s.train.pixels, ...s.test.pixels]);
  const at = (s: typeof small, rel: string, size: number) => {
    const i = [...listing.train, ...listing.test].findIndex((f) => f.rel === rel);
    return Array.from(all(s).subarray(i * size, (i + 1) * size));
  };
  assert.deepEqual(at(small, 'a.png', 4), [0, 255, 0, 255], 'the red margins are cropped; halves averaged');
  // Output pixel (0, 0) covers source [0, 1.5)²: weights 1, .5, .5, .25 of 0, 255, 255, 0 → (0.5 + 0.5) × 255 / 2.25.
  assert.deepEqual(at(small, 'b.png', 4), [113, 113, 113, 113]);
  const big = await readImageFolder(listing, { dataset: 'images:x', side: 6, color: 'grey', testSplit: 0.5, cacheDir });
  const b6 = at(big, 'b.png', 36);
  // Output x = (i + 0.5) / 2 − 0.5 in source pixels, clamped at the edges: 0 → 0, 3 → 1.25 (¾ of 255, ¼ of 0).
  assert.equal(b6[0], 0, 'corner pixel keeps its value');
  assert.equal(b6[3], 191);
  assert.equal(b6[2 * 6 + 2], 96, '(0.75, 0.75): ¾·¼ of 255 twice');
  for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) assert.equal(b6[y * 6 + x], b6[x * 6 + y], 'symmetric like the checker');
});

/** A labelled folder: `counts` images per label, each label its own colour. */
function labelledFolder(folder: string, counts: Record<string, number>, prefix = ''): void {
  const colours: Rgb[] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]];
  Object.entries(counts).forEach(([label, n], k) => {
    for (let i = 0; i < n; i++) write(join(folder, prefix, label, `${String(i).padStart(3, '0')}.png`), solid(colours[k % colours.length], 6));
  });
}

test('label sub-folders give labels 0…K−1 in name order with their names; the hash split is deterministic and about testSplit', async (t) => {
  const folder = temp(t, 'labels');
  const cacheDir = temp(t, 'cache');
  // Written in another order than their names sort in: dog red, cat green, emu blue.
  labelledFolder(folder, { dog: 150, cat: 150, emu: 100 });
  write(join(folder, 'cat', 'readme.txt'), Buffer.from('not an image'));
  const config = { dataset: `images:${folder}` as const, imageSize: 6, color: 'rgb' as const, testSplit: 0.2, ...none };
  const d = await loadDataset(config, { cacheDir });
  assert.deepEqual(d.labelNames, ['cat', 'dog', 'emu']);
  assert.deepEqual(d.data?.labelNames, ['cat', 'dog', 'emu']);
  assert.equal(d.trainCount + d.testCount, 400);
  assert.ok(d.testCount >= 50 && d.testCount <= 110, `test share about 0.2: ${d.testCount}/400`);
  assert.deepEqual(d.data?.files.trainImages.sizes, [d.trainCount, 6, 6, 3]);
  assert.deepEqual(d.data?.files.testImages.sizes, [d.testCount, 6, 6, 3]);
  // Every image's colour is its label's (0 cat green, 1 dog red, 2 emu blue), in both sets.
  const channelOf = [1, 0, 2];
  for (const [values, labels, count] of [[d.train, d.trainLabels!, d.trainCount], [d.test, d.testLabels!, d.testCount]] as const) {
    for (let i = 0; i < count; i++) assert.equal(values[i * d.pixels + channelOf[labels[i]]], 1, `image ${i} has its label's colour`);
    // Ordered by hash, not by name: the first 30 images mix the labels.
    assert.ok(new Set(labels.subarray(0, 30)).size >= 2);
  }
  // The same split every time; adding files moves none of the others.
  const before = listImageFolder(folder, 0.2, 'x');
  write(join(folder, 'emu', 'new.png'), solid([0, 0, 255], 6));
  const after = listImageFolder(folder, 0.2, 'x');
  const testSet = (l: typeof before) => new Set(l.test.map((f) => f.rel));
  const added = [...testSet(after)].filter((r) => !testSet(before).has(r));
  assert.ok(added.length === 0 || (added.length === 1 && added[0] === 'emu/new.png'));
  assert.ok([...testSet(before)].every((r) => testSet(after).has(r)));
  // trainLimit keeps the first N (of the hash order).
  const limited = await loadDataset({ ...config, trainLimit: 10, testLimit: 5 }, { cacheDir });
  assert.equal(limited.trainCount, 10);
  assert.equal(limited.testCount, 5);
});

test('a test/ sub-folder is the test set; two images split one and one; static binarize thresholds each channel', async (t) => {
  const folder = temp(t, 'testdir');
  const pair = temp(t, 'pair');
  const cacheDir = temp(t, 'cache');
  labelledFolder(folder, { a: 5, b: 4 });
  labelledFolder(folder, { a: 2, b: 3 }, 'test');
  const d = await loadDataset({ dataset: `images:${folder}`, imageSize: 5, color: 'rgb', testSplit: 0.5, ...none, binarize: 'static' }, { cacheDir });
  assert.equal(d.trainCount, 9);
  assert.equal(d.testCount, 5);
  assert.deepEqual(d.labelNames, ['a', 'b']);
  assert.deepEqual([...d.testLabels!].sort(), [0, 0, 1, 1, 1]);
  assert.ok(d.train.every((v) => v === 0 || v === 1));
  const testOnly = await loadDataset({ dataset: `images:${folder}`, imageSize: 5, color: 'rgb', testSplit: 0.5, ...none, binarize: 'static' }, { cacheDir, testOnly: true });
  assert.equal(testOnly.trainCount, 0);
  assert.deepEqual(testOnly.test, d.test);
  assert.deepEqual(testOnly.data, d.data, 'the same fingerprint for run.json');
  write(join(pair, 'one.png'), solid([9, 9, 9]));
  write(join(pair, 'two.png'), solid([9, 9, 9]));
  for (const split of [0.01, 0.99]) {
    const p = await loadDataset({ dataset: `images:${pair}`, imageSize: 4, color: 'grey', testSplit: split, ...none }, { cacheDir });
    assert.equal(p.trainCount, 1, `testSplit ${split}`);
    assert.equal(p.testCount, 1);
  }
});

test('the cache: a second load reads it (same bytes, file untouched), an edited file or another size rebuilds it, a corrupt cache is rebuilt', async (t) => {
  const folder = temp(t, 'cache-src');
  const cacheDir = temp(t, 'cache');
  labelledFolder(folder, { x: 60, y: 60 });
  const options = { dataset: `images:${folder}`, side: 16, color: 'rgb' as const, testSplit: 0.25, cacheDir };
  const phases: string[] = [];
  let started = Date.now();
  const first = await readImageFolder(listImageFolder(folder, 0.25, 'x'), { ...options, onProgress: (p) => void phases.push(p) });
  const firstMs = Date.now() - started;
  assert.deepEqual(first.cached, { train: false, test: false });
  assert.ok(phases.includes(`reading images:${folder}`) && phases.includes(`checking images:${folder}`));
  const files = () => readdirSync(join(cacheDir, 'images')).sort();
  assert.equal(files().length, 2);
  const mtimes = files().map((f) => statSync(join(cacheDir, 'images', f)).mtimeMs);
  started = Date.now();
  const second = await readImageFolder(listImageFolder(folder, 0.25, 'x'), options);
  const secondMs = Date.now() - started;
  assert.deepEqual(second.cached, { train: true, test: true });
  assert.deepEqual(second.train.pixels, first.train.pixels);
  assert.deepEqual(second.testLabels, first.testLabels);
  assert.deepEqual(files().map((f) => statSync(join(cacheDir, 'images', f)).mtimeMs), mtimes);
  console.log(`# 120 PNGs at 16×16 rgb: decoded in ${firstMs} ms, from the cache in ${secondMs} ms`);

  // Another file content (same name): the set holding it is rebuilt, the old cache removed.
  const listing = listImageFolder(folder, 0.25, 'x');
  const edited = listing.train[0];
  write(edited.path, solid([1, 2, 3], 6));
  const third = await readImageFolder(listImageFolder(folder, 0.25, 'x'), options);
  assert.deepEqual(third.cached, { train: false, test: true });
  assert.equal(third.train.pixels[0], 1);
  assert.equal(files().length, 2, 'the stale cache of the training set is removed');
  // Another side: another cache.
  const small = await readImageFolder(listImageFolder(folder, 0.25, 'x'), { ...options, side: 8 });
  assert.deepEqual(small.cached, { train: false, test: false });
  // A corrupt cache (flipped byte, truncated, garbage) is rebuilt, with the right pixels.
  for (const damage of [(b: Buffer) => (b[b.length - 40] ^= 0xff, b), (b: Buffer) => b.subarray(0, 100), () => Buffer.from('garbage')]) {
    for (const f of files()) {
      const p = join(cacheDir, 'images', f);
      writeFileSync(p, damage(readFileSync(p)));
    }
    const again = await readImageFolder(listImageFolder(folder, 0.25, 'x'), options);
    assert.deepEqual(again.cached, { train: false, test: false });
    assert.deepEqual(again.train.pixels, third.train.pixels);
  }
});

test('an abort while decoding stops the load', async (t) => {
  const folder = temp(t, 'abort');
  const cacheDir = temp(t, 'cache');
  labelledFolder(folder, { a: 40, b: 40 });
  const controller = new AbortController();
  const fractions: number[] = [];
  const load = loadDataset({ dataset: `images:${folder}`, imageSize: 8, color: 'grey', testSplit: 0.5, ...none }, {
    cacheDir,
    signal: controller.signal,
    onProgress: (phase, fraction) => {
      if (!phase.startsWith('reading')) return;
      fractions.push(fraction ?? -1);
      if ((fraction ?? 0) > 0) controller.abort();
    },
  });
  await assert.rejects(load, { name: 'AbortError' });
  assert.ok(fractions.length >= 2 && fractions.every((f) => f < 1), `stopped part-way: ${fractions.join(', ')}`);
});

test('checkDataUnchanged refuses a resume when files were added, removed or edited, and names what changed', async (t) => {
  const folder = temp(t, 'changed');
  const cacheDir = temp(t, 'cache');
  labelledFolder(folder, { a: 10, b: 10 });
  const config = { dataset: `images:${folder}` as const, imageSize: 8, color: 'grey' as const, testSplit: 0.3, ...none };
  const d = await loadDataset(config, { cacheDir });
  await checkDataUnchanged(config, d.data!, { cacheDir });
  for (const n of [0, 1, 2]) write(join(folder, 'a', `added-${n}.png`), solid([0, 0, 0], 6));
  await assert.rejects(checkDataUnchanged(config, d.data!, { cacheDir }), (e: Error) => {
    assert.equal(e.name, 'DataError');
    const added = [...e.message.matchAll(/(\d+) files? added/g)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(added, 3, e.message);
    return true;
  });
  for (const n of [0, 1, 2]) rmSync(join(folder, 'a', `added-${n}.png`));
  await checkDataUnchanged(config, d.data!, { cacheDir });
  write(join(folder, 'b', '003.png'), solid([1, 1, 1], 6));
  await assert.rejects(checkDataUnchanged(config, d.data!, { cacheDir }), /same number of files \(\d+\) but some renamed, replaced or edited/);
  rmSync(folder, { recursive: true });
  await assert.rejects(checkDataUnchanged(config, d.data!, { cacheDir }), /The run's data is gone: .* does not exist/);
});

test('bad folders are DataErrors that say what to do', async (t) => {
  const root = temp(t, 'bad');
  const cacheDir = temp(t, 'cache');
  const load = (sub: string, extra: Record<string, unknown> = {}) =>
  loadDataset({ dataset: `images:${join(root, sub)}`, imageSize: 8, color: 'grey', testSplit: 0.5, ...none, ...extra }, { cacheDir });
  const refused = async (sub: string, message: RegExp, extra?: Record<string, unknown>) =>
  assert.rejects(load(sub, extra), (e: Error) => {
    assert.ok(e instanceof DataError, `${sub}: ${e.stack}`);
    assert.match(e.message, message);
    return true;
  });
  await refused('missing', /folder .*missing does not exist\. Point images: at a folder of \.png, \.jpg, \.jpeg files/);
  mkdirSync(join(root, 'empty'));
  write(join(root, 'empty', 'notes.txt'), Buffer.from('x'));
  write(join(root, 'empty', 'pic.gif'), Buffer.from('GIF89a'));
  await refused('empty', /no images in .*empty\. VAE Lens reads \.png, \.jpg, \.jpeg files.*other files: notes\.txt, pic\.gif/);
  write(join(root, 'corrupt', 'good.png'), solid([0, 0, 0]));
  write(join(root, 'corrupt', 'good2.png'), solid([0, 0, 0]));
  write(join(root, 'corrupt', 'broken.png'), solid([0, 0, 0]).subarray(0, 40));
  await refused('corrupt', /cannot decode broken\.png \(.*\)\. Fix or remove the file/);
  write(join(root, 'corrupt', 'broken.png'), Buffer.from('this is text, not a picture'));
  await refused('corrupt', /cannot decode broken\.png \(neither PNG nor JPEG content/);
  write(join(root, 'mixed', 'loose.png'), solid([0, 0, 0]));
  labelledFolder(join(root, 'mixed'), { cat: 2 });
  await refused('mixed', /holds images \(loose\.png\) next to sub-folders \(cat\).*move the 1 loose image into a sub-folder/);
  write(join(root, 'one', 'only.png'), solid([0, 0, 0]));
  await refused('one', /has only 1 image; VAE Lens needs at least 2/);
  labelledFolder(join(root, 'emptylabel'), { cat: 2 });
  mkdirSync(join(root, 'emptylabel', 'dog'));
  await refused('emptylabel', /the label sub-folder dog has no images/);
  labelledFolder(join(root, 'testlabels'), { cat: 2 });
  labelledFolder(join(root, 'testlabels'), { cow: 2 }, 'test');
  await refused('testlabels', /has label sub-folders that the training images lack \(cow\)/);
  // Too large to train: refused with the would-be sizes, before anything is decoded.
  labelledFolder(join(root, 'sized'), { a: 3, b: 3 });
  let sizes: number[][] = [];
  const sizedCache = join(root, 'sized-cache');
  await assert.rejects(
    loadDataset({ dataset: `images:${join(root, 'sized')}`, imageSize: 32, color: 'rgb', testSplit: 0.5, ...none }, {
      cacheDir: sizedCache,
      checkSizes: (f) => {
        sizes = [f.trainImages.sizes, f.testImages.sizes];
        throw new DataError('too large');
      },
    }),
    /too large/,
  );
  assert.equal(sizes[0][0] + sizes[1][0], 6);
  assert.deepEqual(sizes[0].slice(1), [32, 32, 3]);
  assert.ok(!existsSync(sizedCache), 'nothing decoded or cached');
});

test('a 1-epoch run on an rgb images: folder records the folder, fingerprints and label names in run.json, and draws RGB pictures', async (t) => {
  const folder = temp(t, 'run');
  const cacheDir = temp(t, 'cache');
  const runsDir = tempRunsDir();
  t.after(() => rmSync(runsDir, { recursive: true, force: true }));
  labelledFolder(folder, { circle: 24, square: 24 });
  await selectBackend('wasm');
  const outcome = await startRun(
    {
      config: { name: 'images', model: 'chainer-mlp', dimz: 2, epochs: 1, batchSize: 16, dataset: `images:${folder}`, imageSize: 8, color: 'rgb', testSplit: 0.25, backend: 'wasm', seed: 1 },
      runsDir,
    },
    { output: collectingOutput(), data: { cacheDir } },
  );
  assert.equal(outcome.status, 'completed', outcome.message);
  const run = await readRun(outcome.runDir);
  assert.equal(run.info.data?.folder, folder);
  assert.deepEqual(run.info.data?.labelNames, ['circle', 'square']);
  const { trainImages, testImages } = run.info.data!.files;
  assert.equal(trainImages.sizes[0] + testImages.sizes[0], 48);
  assert.deepEqual(trainImages.sizes.slice(1), [8, 8, 3]);
  assert.match(trainImages.headSha256, /^[0-9a-f]{64}$/);
  // run.json's label names are bounded: labels are bytes.
  const withNames = (labelNames: unknown) => checkRunInfo({ ...run.info, data: { ...run.info.data, labelNames } }).ok;
  assert.ok(withNames(Array.from({ length: 256 }, (_, i) => `l${i}`)));
  assert.ok(!withNames(Array.from({ length: 257 }, (_, i) => `l${i}`)));
  assert.ok(!withNames(['']));
  // The per-epoch pictures are RGB: the first original in recon/ is the first test image, in colour.
  const size = gridSize(8, 8, 8, 8);
  const samples = PNG.sync.read(readFileSync(join(outcome.runDir, SAMPLES_DIR, epochImageName(1))));
  assert.deepEqual([samples.width, samples.height], [size.width, size.height]);
  const recon = PNG.sync.read(readFileSync(join(outcome.runDir, RECON_DIR, epochImageName(1))));
  assert.deepEqual([recon.width, recon.height], [size.width, size.height]);
  const d = await loadDataset({ dataset: `images:${folder}`, imageSize: 8, color: 'rgb', testSplit: 0.25, ...none }, { cacheDir });
  const first: number[] = [];
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const o = ((BORDER + y) * recon.width + BORDER + x) * 4;
      first.push(recon.data[o], recon.data[o + 1], recon.data[o + 2]);
    }
  }
  assert.deepEqual(first, Array.from(d.test.subarray(0, 8 * 8 * 3), (v) => Math.round(v * 255)));
  assert.ok(new Set(first).size > 1 && first.some((v, i) => i % 3 === 0 && v !== first[i + 1]), 'a coloured tile, not grey');
  // The report embeds these RGB pictures as they are (the panels load the same files).
  const report = await buildReportHtml([outcome.runDir]);
  for (const dir of [SAMPLES_DIR, RECON_DIR]) {
    const png = readFileSync(join(outcome.runDir, dir, epochImageName(1))).toString('base64');
    assert.ok(report.includes(`data:image/png;base64,${png}`), `the report embeds ${dir}/${epochImageName(1)} unchanged`);
  }
  // The Latent tab's service: RGB bytes, the label names for its legend.
  const explorer = await openExplorer(outcome.runDir, { backend: 'wasm', data: { cacheDir } });
  const info = latentSpaceInfo(explorer, 'wasm', 0);
  assert.equal(info.channels, 3);
  assert.deepEqual(info.scatter.labelNames, ['circle', 'square']);
  assert.ok(parseServiceMessage({ type: 'ready', info }).ok, 'the info passes the service schema');
  const tested = await answer(explorer, { type: 'test', id: 1, indices: [0] });
  assert.equal(tested.type, 'tested');
  if (tested.type === 'tested') assert.equal(Buffer.from(tested.pixels, 'base64').length, 8 * 8 * 3);
});
