/**
 * The per-epoch pictures: an 8×8 grid decoded from the run's fixed prior noise (samples/), and 32
 * fixed test images, each directly above its reconstruction (recon/). Grey or RGB PNGs (as the
 * data set is), tiles separated by thin borders.
 */
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import type { VaeModel } from './model';
import { greyByte } from '../shared/latentService';

export const GRID = 8;
export const RECON_IMAGES = 32;
export const BORDER = 2;
const BORDER_GREY = 128;

/** Image size of a grid of rows × cols tiles of w × h with BORDER between and around them. */
export function gridSize(rows: number, cols: number, w: number, h: number): { width: number; height: number } {
  return { width: cols * w + (cols + 1) * BORDER, height: rows * h + (rows + 1) * BORDER };
}

/**
 * Lays out tiles (each w×h×channels values in [0, 1], row-major, channels interleaved) as a PNG,
 * grey for 1 channel and RGB for 3; tiles[i] goes to cell i (row-major); missing cells stay border grey.
 */
export function encodeGrid(tiles: Float32Array[], rows: number, cols: number, w: number, h: number, channels = 1): Buffer {
  if (channels !== 1 && channels !== 3) throw new Error(`encodeGrid: ${channels} channels (1 or 3)`);
  const { width, height } = gridSize(rows, cols, w, h);
  const png = new PNG({ width, height });
  png.data.fill(BORDER_GREY);
  tiles.forEach((tile, i) => {
    const x0 = BORDER + (i % cols) * (w + BORDER);
    const y0 = BORDER + Math.floor(i / cols) * (h + BORDER);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = ((y0 + y) * width + x0 + x) * 4;
        const i = (y * w + x) * channels;
        if (channels === 1) {
          png.data[o] = png.data[o + 1] = png.data[o + 2] = greyByte(tile[i]);
        } else {
          png.data[o] = greyByte(tile[i]);
          png.data[o + 1] = greyByte(tile[i + 1]);
          png.data[o + 2] = greyByte(tile[i + 2]);
        }
        png.data[o + 3] = 255;
      }
    }
  });
  for (let o = 3; o < png.data.length; o += 4) png.data[o] = 255;
  return PNG.sync.write(png, { colorType: channels === 1 ? 0 : 2 });
}

/** Rows of `pixels` values each, as views into `values`. */
export function rowsOf(values: Float32Array, count: number, pixels: number): Float32Array[] {
  return Array.from({ length: count }, (_, i) => values.subarray(i * pixels, (i + 1) * pixels));
}

/** Writes a file through a temp file and a rename, so readers never see half of it. */
export async function writeAtomically(file: string, data: Buffer): Promise<void> {
  await fs.mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

/** A tensor's values, read with await data() (the webgpu backend cannot read synchronously under Node). */
async function readAndDispose(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/** E[x|z] for rows × dimz values of z (sigmoid of the logits for the Bernoulli likelihood): the decoder's mean images, rows × pixels values in [0, 1]. */
export async function decodeMeans(model: VaeModel, z: Float32Array): Promise<Float32Array> {
  const rows = z.length / model.dimz;
  return readAndDispose(tf.tidy(() => model.likelihood.mean(model.decode(tf.tensor2d(z, [rows, model.dimz]), false))));
}

/** The values per pixel of images of `pixels` values at width × height: 1 (grey) or 3 (RGB). */
export function channelsOf(pixels: number, width: number, height: number): number {
  return pixels / (width * height);
}

/** E[x|z] (the likelihood's mean) for the 64 rows of the fixed prior noise, as an 8×8 grid. */
export async function writePriorSamples(model: VaeModel, noise: Float32Array, width: number, height: number, file: string): Promise<void> {
  const means = await decodeMeans(model, noise);
  const channels = channelsOf(model.pixels, width, height);
  await writeAtomically(file, encodeGrid(rowsOf(means, noise.length / model.dimz, model.pixels), GRID, GRID, width, height, channels));
}

/**
 * Reconstructions E[x|z = μ(x)] of the first 32 test images (the mean of q(z|x), so the
 * picture does not flicker with sampling noise). Rows alternate: 8 originals, their 8 reconstructions.
 */
export async function writeReconstructions(model: VaeModel, test: Float32Array, testCount: number, width: number, height: number, file: string): Promise<void> {
  const n = Math.min(RECON_IMAGES, testCount);
  const originals = test.subarray(0, n * model.pixels);
  const recon = await readAndDispose(tf.tidy(() => {
    const { mu } = model.encode(tf.tensor2d(originals, [n, model.pixels]), false);
    return model.likelihood.mean(model.decode(mu, false));
  }));
  const tiles: Float32Array[] = [];
  const o = rowsOf(originals, n, model.pixels);
  const r = rowsOf(recon, n, model.pixels);
  for (let start = 0; start < n; start += GRID) {
    const rowEnd = Math.min(start + GRID, n);
    const blank = new Float32Array(model.pixels).fill(BORDER_GREY / 255);
    for (let i = start; i < start + GRID; i++) tiles.push(i < rowEnd ? o[i] : blank);
    for (let i = start; i < start + GRID; i++) tiles.push(i < rowEnd ? r[i] : blank);
  }
  await writeAtomically(file, encodeGrid(tiles, (2 * RECON_IMAGES) / GRID, GRID, width, height, channelsOf(model.pixels, width, height)));
}
