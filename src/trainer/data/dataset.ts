/**
 * From parsed IDX files (or an images: folder's decoded bytes) to the trainer's Dataset: the first N
 * images, values / 255, binarized as configured (each channel value alike, RGB included).
 */
import type { Binarize } from '../../shared/config';
import { binarizeDynamic, fixedUniform, STATIC_THRESHOLD, TEST_BINARIZATION_SEED } from './binarize';
import type { IdxImages, IdxLabels } from './idx';
import type { IdxSet } from './files';
import type { RunData } from '../../shared/run';

export interface Dataset {
  /** `mnist`, `fashion-mnist`, `idx:<folder>` or `images:<folder>` as configured. */
  name: string;
  width: number;
  height: number;
  /** Values per pixel: 1 (grey) or 3 (RGB, an images: folder with color rgb), interleaved. */
  channels: number;
  /** Values per image: width × height × channels. */
  pixels: number;
  /**
   * trainCount × pixels, row-major with channels interleaved, in [0, 1] (0 or 1 when binarized,
   * except dynamic train pixels, which are probabilities).
   */
  train: Float32Array;
  trainCount: number;
  test: Float32Array;
  testCount: number;
  trainLabels?: Uint8Array;
  testLabels?: Uint8Array;
  /** The name of each label number (an images: folder's label sub-folders), when the labels have names. */
  labelNames?: string[];
  /** Where the files were read from (a folder), for run.json and messages. */
  source?: string;
  /** The resolved folder and the files' fingerprint, for run.json (set by loadDataset). */
  data?: RunData;
}

export interface Limits {
  trainLimit: number | null;
  testLimit: number | null;
  binarize: Binarize;
}

function lookupTable(binarizeStatic: boolean): Float32Array {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = binarizeStatic ? (v / 255 > STATIC_THRESHOLD ? 1 : 0) : v / 255;
  return table;
}

/** The first `count` images as floats through `table` (one pass; no intermediate copy). */
function convert(images: IdxImages, count: number, table: Float32Array): Float32Array {
  const n = count * images.rows * images.cols * (images.channels ?? 1);
  const out = new Float32Array(n);
  const src = images.pixels;
  for (let i = 0; i < n; i++) out[i] = table[src[i]];
  return out;
}

/** A copy, so the decompressed file's buffer can be garbage-collected. */
function firstLabels(labels: IdxLabels | undefined, count: number): Uint8Array | undefined {
  return labels ? labels.labels.slice(0, count) : undefined;
}

/** Limits larger than the set use all of it (trainCount/testCount say how many there are). */
export function buildDataset(name: string, set: IdxSet, limits: Limits, source?: string): Dataset {
  const trainCount = Math.min(set.train.count, limits.trainLimit ?? Infinity);
  const testCount = Math.min(set.test.count, limits.testLimit ?? Infinity);
  const table = lookupTable(limits.binarize === 'static');
  const train = convert(set.train, trainCount, table);
  const test = convert(set.test, testCount, table);
  if (limits.binarize === 'dynamic') binarizeDynamic(test, fixedUniform(TEST_BINARIZATION_SEED), test);
  return {
    name,
    width: set.train.cols,
    height: set.train.rows,
    channels: set.train.channels ?? 1,
    pixels: set.train.rows * set.train.cols * (set.train.channels ?? 1),
    train,
    trainCount,
    test,
    testCount,
    trainLabels: firstLabels(set.trainLabels, trainCount),
    testLabels: firstLabels(set.testLabels, testCount),
    source,
  };
}
