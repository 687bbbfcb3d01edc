/**
 * The IDX format of MNIST and its relatives (http://yann.lecun.com/exdb/mnist/): a 4-byte magic
 * number (two zero bytes, a data type, the number of dimensions), one big-endian 32-bit size per
 * dimension, then the values. VAE Lens reads unsigned-byte images (IDX3, magic 0x00000803) and
 * labels (IDX1, magic 0x00000801), gzipped or not, and checks everything it can before training
 * starts, so a wrong or truncated file fails here with its name instead of as NaNs later.
 */
import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { DataError } from './errors';

const gunzipAsync = promisify(gunzip);

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** Values per pixel, interleaved: 1 (grey) unless stated; 3 for RGB images: folders. */
  channels?: number;
  /** count × rows × cols × channels bytes, row-major (a view into the file's buffer, not a copy). */
  pixels: Uint8Array;
}

export interface IdxLabels {
  count: number;
  labels: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;
const DATA_TYPES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: '16-bit integer',
  0x0c: '32-bit integer',
  0x0d: '32-bit float',
  0x0e: '64-bit float',
};

function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Checks the magic number for `dims` dimensions of unsigned bytes and returns the sizes.
 * `name` is the file's path or name, used in error messages.
 */
function readHeader(bytes: Uint8Array, dims: 1 | 3, name: string): number[] {
  const what = dims === 3 ? 'IDX3 images' : 'IDX1 labels';
  const wanted = hex32(0x0800 | dims);
  if (bytes.length < 4) {
    throw new DataError(`${name}: ${bytes.length} bytes is too short for an IDX file (expected ${what}, magic ${wanted}).`, name);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (bytes[0] !== 0 || bytes[1] !== 0 || DATA_TYPES[bytes[2]] === undefined) {
    throw new DataError(`${name}: not an IDX file: magic number ${hex32(magic)}, expected ${wanted} (${what} of unsigned bytes).`, name);
  }
  if (bytes[2] !== UNSIGNED_BYTE) {
    throw new DataError(
      `${name}: IDX data type ${DATA_TYPES[bytes[2]]} (magic ${hex32(magic)}) is not supported; VAE Lens reads unsigned-byte pixels (magic ${wanted}).`,
      name,
    );
  }
  if (bytes[3] !== dims) {
    const guess = bytes[3] === 1 ? ' (a labels file?)' : bytes[3] === 3 ? ' (an images file?)' : '';
    throw new DataError(`${name}: IDX file with ${bytes[3]} dimensions (magic ${hex32(magic)})${guess}; expected ${what} (magic ${wanted}).`, name);
  }
  const headerBytes = 4 + 4 * dims;
  if (bytes.length < headerBytes) {
    throw new DataError(`${name}: the IDX header is cut short: ${bytes.length} bytes, the header alone needs ${headerBytes} (truncated?).`, name);
  }
  const sizes: number[] = [];
  for (let i = 0; i < dims; i++) sizes.push(view.getUint32(4 + 4 * i));
  return sizes;
}

function checkLength(bytes: Uint8Array, expected: number, what: string, name: string): void {
  if (bytes.length === expected) return;
  const why = bytes.length < expected ? 'truncated?' : 'extra data after the last item: the header does not describe this file';
  throw new DataError(`${name}: expected ${expected} bytes for ${what}, found ${bytes.length} (${why}).`, name);
}

/** Parses an uncompressed IDX3 file of unsigned-byte images; they must be square. */
export function parseIdxImages(bytes: Uint8Array, name: string): IdxImages {
  const [count, rows, cols] = readHeader(bytes, 3, name);
  if (count === 0 || rows === 0 || cols === 0) {
    throw new DataError(`${name}: the file declares ${count} images of ${rows}×${cols}: there is nothing to train on.`, name);
  }
  const pixelCount = count * rows * cols;
  checkLength(bytes, 16 + pixelCount, `${count} images of ${rows}×${cols}`, name);
  if (rows !== cols) {
    throw new DataError(`${name}: images are ${rows}×${cols} (rows×columns); VAE Lens needs square images.`, name);
  }
  return { count, rows, cols, pixels: bytes.subarray(16, 16 + pixelCount) };
}

/** Parses an uncompressed IDX1 file of unsigned-byte labels. */
export function parseIdxLabels(bytes: Uint8Array, name: string): IdxLabels {
  const [count] = readHeader(bytes, 1, name);
  checkLength(bytes, 8 + count, `${count} labels`, name);
  return { count, labels: bytes.subarray(8, 8 + count) };
}

/** The file's bytes, decompressed when they start with the gzip magic (whatever the file is called). */
export async function readIdxBytes(path: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'file not found' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new DataError(`${path}: cannot read: ${why}.`, path);
  }
  if (!isGzip(raw)) return raw;
  try {
    // Large output chunks: the default 16 KiB made MNIST's 47 MB take ~2.5× longer (one thread-pool round trip per chunk).
    return await gunzipAsync(raw, { chunkSize: 1 << 20 });
  } catch (e) {
    throw new DataError(`${path}: the gzip data is damaged or cut short (${(e as Error).message}); download or copy the file again.`, path);
  }
}

export async function readIdxImages(path: string): Promise<IdxImages> {
  return parseIdxImages(await readIdxBytes(path), path);
}

export async function readIdxLabels(path: string): Promise<IdxLabels> {
  return parseIdxLabels(await readIdxBytes(path), path);
}

/** An IDX file's bytes for tests and tools: the inverse of parseIdxImages / parseIdxLabels. */
export function encodeIdx(sizes: number[], values: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * sizes.length + values.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 | sizes.length);
  sizes.forEach((s, i) => view.setUint32(4 + 4 * i, s));
  out.set(values, 4 + 4 * sizes.length);
  return out;
}
