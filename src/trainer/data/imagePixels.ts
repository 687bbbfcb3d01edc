/**
 * One image file to the bytes an `images:<folder>` data set trains on. PNG (any bit depth, palette,
 * grey or colour; 16-bit channels are rescaled to 8 bits by pngjs) and JPEG (baseline or progressive,
 * grey, colour or CMYK, via jpeg-js) are recognized by their content, whatever the file is named.
 *
 * The steps, the same for every file and deterministic:
 * - transparency is composited on white (a transparent pixel is white, a half-transparent one is
 *   half-way to white), as an image viewer shows it on a light background;
 * - the image is centre-cropped to a square (the shorter side; an odd surplus leaves the extra
 *   column or row on the right or bottom);
 * - the square is resized to side × side by area averaging when it shrinks (every source pixel
 *   counts in proportion to how much of it an output pixel covers) and bilinearly when it grows;
 *   values are averaged as stored (sRGB), as most image tools do;
 * - the pixels become grey (luminance 0.299 R + 0.587 G + 0.114 B, ITU-R BT.601) or RGB (a grey
 *   file's value repeated in each channel), rounded to bytes 0…255, row-major with channels
 *   interleaved.
 */
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';

export type ImageFormat = 'PNG' | 'JPEG';

/** A decoded image: width × height RGBA bytes. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Luminance weights of R, G and B (ITU-R BT.601). */
export const LUMINANCE = [0.299, 0.587, 0.114] as const;

/** Images larger than this (megapixels) are refused before they are decoded (a JPEG of 100 MP needs 400 MB). */
export const MAX_MEGAPIXELS = 100;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format a file's first bytes announce, or undefined for anything else. */
export function formatOf(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'PNG';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'JPEG';
  return undefined;
}

/** The file's pixels as RGBA bytes; throws an Error saying why when the content cannot be decoded. */
export function decodeImage(bytes: Buffer): Rgba {
  const format = formatOf(bytes);
  if (format === 'PNG') {
    const megapixels = bytes.length >= 24 ? (bytes.readUInt32BE(16) * bytes.readUInt32BE(20)) / 1e6 : 0;
    if (megapixels > MAX_MEGAPIXELS) throw new Error(`${megapixels.toFixed(0)} megapixels, more than the ${MAX_MEGAPIXELS} VAE Lens decodes; shrink it`);
    const png = PNG.sync.read(bytes);
    return { width: png.width, height: png.height, data: png.data };
  }
  if (format === 'JPEG') {
    return decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 4 * MAX_MEGAPIXELS + 64 });
  }
  throw new Error('neither PNG nor JPEG content (the first bytes are not a PNG or JPEG signature)');
}

/** Per output index along one axis: the source indices it reads and their weights (summing to 1). */
interface AxisTaps {
  index: Int32Array;
  weight: Float64Array;
  /** Taps of output i are [start[i], start[i + 1]). */
  start: Int32Array;
}

/**
 * The taps that resize `length` source pixels starting at `offset` to `out` pixels: area coverage
 * when shrinking (or keeping the size), bilinear between pixel centres when growing.
 */
function axisTaps(offset: number, length: number, out: number): AxisTaps {
  const index: number[] = [];
  const weight: number[] = [];
  const start = new Int32Array(out + 1);
  const scale = length / out;
  for (let i = 0; i < out; i++) {
    start[i] = index.length;
    if (scale >= 1) {
      const a = i * scale;
      const b = (i + 1) * scale;
      for (let j = Math.floor(a); j < Math.ceil(b) && j < length; j++) {
        const w = Math.min(b, j + 1) - Math.max(a, j);
        if (w > 1e-12) {
          index.push(offset + j);
          weight.push(w / scale);
        }
      }
    } else {
      const x = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), length - 1);
      const j = Math.min(Math.floor(x), length - 1);
      const f = x - j;
      index.push(offset + j);
      weight.push(1 - f);
      if (f > 0) {
        index.push(offset + j + 1);
        weight.push(f);
      }
    }
  }
  start[out] = index.length;
  return { index: Int32Array.from(index), weight: Float64Array.from(weight), start };
}

/**
 * `image` centre-cropped, resized to side × side and converted to `channels` (1: grey, 3: RGB),
 * written as bytes into `out` at `at` (side × side × channels of them).
 */
export function squarePixels(image: Rgba, side: number, channels: 1 | 3, out: Uint8Array, at = 0): void {
  const { width, height, data } = image;
  const crop = Math.min(width, height);
  const xs = axisTaps(Math.floor((width - crop) / 2), crop, side);
  const ys = axisTaps(Math.floor((height - crop) / 2), crop, side);
  // The source rows the vertical taps read, resized horizontally and converted (composited on white).
  const rows = new Map<number, Float64Array>();
  const row = (y: number): Float64Array => {
    let r = rows.get(y);
    if (r) return r;
    r = new Float64Array(side * channels);
    const base = y * width * 4;
    for (let i = 0; i < side; i++) {
      let cr = 0;
      let cg = 0;
      let cb = 0;
      for (let t = xs.start[i]; t < xs.start[i + 1]; t++) {
        const p = base + xs.index[t] * 4;
        const w = xs.weight[t];
        const alpha = data[p + 3] / 255;
        const white = 255 * (1 - alpha);
        cr += w * (data[p] * alpha + white);
        cg += w * (data[p + 1] * alpha + white);
        cb += w * (data[p + 2] * alpha + white);
      }
      if (channels === 1) r[i] = LUMINANCE[0] * cr + LUMINANCE[1] * cg + LUMINANCE[2] * cb;
      else {
        r[3 * i] = cr;
        r[3 * i + 1] = cg;
        r[3 * i + 2] = cb;
      }
    }
    rows.set(y, r);
    return r;
  };
  const values = side * channels;
  const acc = new Float64Array(values);
  for (let o = 0; o < side; o++) {
    acc.fill(0);
    for (let t = ys.start[o]; t < ys.start[o + 1]; t++) {
      const r = row(ys.index[t]);
      const w = ys.weight[t];
      for (let k = 0; k < values; k++) acc[k] += w * r[k];
    }
    // Rows above the next output row's first tap are not read again.
    const next = o + 1 < side ? ys.index[ys.start[o + 1]] : Infinity;
    for (const y of rows.keys()) if (y < next) rows.delete(y);
    const base = at + o * values;
    for (let k = 0; k < values; k++) out[base + k] = Math.min(255, Math.max(0, Math.round(acc[k])));
  }
}
