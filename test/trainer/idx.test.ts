import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdxImages, parseIdxLabels, readIdxImages, readIdxLabels } from '../../src/trainer/data/idx';
import { DataError } from '../../src/trainer/data/errors';

/** count images of size×size whose pixel (i, p) is (i * 7 + p) mod 256, so every byte is checkable. */
function images(count: number, rows: number, cols = rows): Uint8Array {
  const values = new Uint8Array(count * rows * cols);
  for (let i = 0; i < values.length; i++) values[i] = (Math.floor(i / (rows * cols)) * 7 + (i % (rows * cols))) % 256;
  return encodeIdx([count, rows, cols], values);
}

function labels(count: number): Uint8Array {
  return encodeIdx([count], Uint8Array.from({ length: count }, (_, i) => i % 10));
}

function withTempDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vae-lens-idx-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('a good IDX3 file parses to its count, size and exact pixels', () => {
  const parsed = parseIdxImages(images(3, 5), 'x');
  assert.equal(parsed.count, 3);
  assert.equal(parsed.rows, 5);
  assert.equal(parsed.cols, 5);
  assert.equal(parsed.pixels.length, 75);
  assert.equal(parsed.pixels[0], 0);
  assert.equal(parsed.pixels[24], 24);
  assert.equal(parsed.pixels[25], 7); // image 1, pixel 0
  assert.equal(parsed.pixels[74], (2 * 7 + 24) % 256);
});

test('a good IDX1 file parses to its labels', () => {
  const parsed = parseIdxLabels(labels(12), 'y');
  assert.equal(parsed.count, 12);
  assert.deepEqual([...parsed.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
});

test('the header is big-endian: a 300-image file (count > 255) parses', () => {
  const parsed = parseIdxImages(images(300, 2), 'x');
  assert.equal(parsed.count, 300);
});

test('gzipped and plain files read the same, whatever the file is called', withTempDir(async (dir) => {
  const bytes = images(4, 6);
  writeFileSync(join(dir, 'plain'), bytes);
  writeFileSync(join(dir, 'zipped-without-gz-suffix'), gzipSync(bytes));
  writeFileSync(join(dir, 'labels.gz'), gzipSync(labels(4)));
  const plain = await readIdxImages(join(dir, 'plain'));
  const zipped = await readIdxImages(join(dir, 'zipped-without-gz-suffix'));
  assert.deepEqual(zipped, plain);
  assert.equal((await readIdxLabels(join(dir, 'labels.gz'))).count, 4);
}));

test('a truncated file names the file, the expected and the found length', withTempDir(async (dir) => {
  const path = join(dir, 'train-images-idx3-ubyte.gz');
  writeFileSync(path, gzipSync(images(10, 28).subarray(0, 5000)));
  await assert.rejects(readIdxImages(path), (e: Error) => {
    assert.ok(e instanceof DataError);
    assert.equal(e.message, `${path}: expected ${16 + 10 * 784} bytes for 10 images of 28×28, found 5000 (truncated?).`);
    return true;
  });
}));

test('a 60,000-image MNIST file cut to 1,000,000 bytes says how many bytes it needs', () => {
  const header = encodeIdx([60000, 28, 28], new Uint8Array(1000000 - 16));
  assert.throws(
    () => parseIdxImages(header, 'train-images-idx3-ubyte.gz'),
    { name: 'DataError', message: 'train-images-idx3-ubyte.gz: expected 47040016 bytes for 60000 images of 28×28, found 1000000 (truncated?).' },
  );
});

test('a gzip stream cut short says the gzip data is damaged', withTempDir(async (dir) => {
  const path = join(dir, 'cut.gz');
  const gz = gzipSync(images(50, 28));
  writeFileSync(path, gz.subarray(0, Math.floor(gz.length / 2)));
  await assert.rejects(readIdxImages(path), { name: 'DataError', message: new RegExp(`^${path}: the gzip data is damaged or cut short`) });
}));

test('extra bytes after the declared images are an error, not ignored', () => {
  const bytes = new Uint8Array(images(2, 3).length + 5);
  bytes.set(images(2, 3));
  assert.throws(() => parseIdxImages(bytes, 'f'), { message: /^f: expected 34 bytes for 2 images of 3×3, found 39 \(extra data/ });
});

test('a wrong magic number is named with the expected one', withTempDir(async (dir) => {
  const path = join(dir, 'photo.png');
  writeFileSync(path, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0]));
  await assert.rejects(readIdxImages(path), {
    name: 'DataError',
    message: `${path}: not an IDX file: magic number 0x89504e47, expected 0x00000803 (IDX3 images of unsigned bytes).`,
  });
}));

test('a labels file given as images, and images as labels, are recognised', () => {
  assert.throws(() => parseIdxImages(labels(5), 'l'), { message: /^l: IDX file with 1 dimensions \(magic 0x00000801\) \(a labels file\?\); expected IDX3 images \(magic 0x00000803\)/ });
  assert.throws(() => parseIdxLabels(images(5, 2), 'i'), { message: /^i: IDX file with 3 dimensions \(magic 0x00000803\) \(an images file\?\); expected IDX1 labels/ });
});

test('IDX data types other than unsigned bytes are refused by name', () => {
  const floats = images(1, 2);
  floats[2] = 0x0d;
  assert.throws(() => parseIdxImages(floats, 'f'), { message: /^f: IDX data type 32-bit float \(magic 0x00000d03\) is not supported/ });
});

test('non-square images are refused with their size', () => {
  assert.throws(() => parseIdxImages(images(4, 28, 20), 'wide'), { name: 'DataError', message: 'wide: images are 28×20 (rows×columns); VAE Lens needs square images.' });
});

test('any square size is accepted, not only 28×28', () => {
  for (const size of [1, 16, 32, 64]) {
    const parsed = parseIdxImages(images(2, size), 's');
    assert.equal(parsed.rows, size);
    assert.equal(parsed.pixels.length, 2 * size * size);
  }
});

test('too-short files and empty sets are refused', () => {
  assert.throws(() => parseIdxImages(new Uint8Array(2), 'tiny'), { message: /^tiny: 2 bytes is too short for an IDX file/ });
  assert.throws(() => parseIdxImages(images(1, 2).subarray(0, 10), 'hdr'), { message: /^hdr: the IDX header is cut short: 10 bytes, the header alone needs 16/ });
  assert.throws(() => parseIdxImages(encodeIdx([0, 28, 28], new Uint8Array(0)), 'none'), { message: /^none: the file declares 0 images of 28×28/ });
  assert.throws(() => parseIdxLabels(labels(3).subarray(0, 9), 'lab'), { message: /^lab: expected 11 bytes for 3 labels, found 9 \(truncated\?\)/ });
});

test('a missing file says so with its path', async () => {
  const path = join(tmpdir(), 'vae-lens-no-such-dir', 'train-images-idx3-ubyte');
  await assert.rejects(readIdxImages(path), { name: 'DataError', message: `${path}: cannot read: file not found.` });
});
