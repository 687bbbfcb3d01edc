/**
 * The four standard IDX files of an MNIST-like data set, found in a folder under their usual
 * names, gzipped or not, and read together.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './errors';
import { readIdxImages, readIdxLabels, type IdxImages, type IdxLabels } from './idx';

export type IdxRole = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';

/** The names MNIST and Fashion-MNIST use (Kaggle's copies write `train-images.idx3-ubyte`). */
export const STANDARD_NAMES: Record<IdxRole, string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

export const ROLES: readonly IdxRole[] = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];

function candidates(role: IdxRole): string[] {
  const name = STANDARD_NAMES[role];
  const dotted = name.replace(/-(idx\d)-/, '.$1-');
  return [name, name + '.gz', dotted, dotted + '.gz'];
}

/** The path of `role`'s file in `dir` (uncompressed preferred: it reads faster), or undefined. */
export function findIdxFile(dir: string, role: IdxRole): string | undefined {
  for (const name of candidates(role)) {
    const p = join(dir, name);
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return undefined;
}

export type IdxPaths = { trainImages: string; testImages: string; trainLabels?: string; testLabels?: string };

/**
 * The files of `dir`. Images are required; labels are optional unless `labelsRequired`
 * (a VAE does not need them, but MNIST and Fashion-MNIST always have them).
 */
export function findIdxFiles(dir: string, labelsRequired: boolean, describe: string): IdxPaths {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DataError(`${describe}: folder ${dir} does not exist.`, dir);
  }
  const found: Partial<Record<IdxRole, string>> = {};
  for (const role of ROLES) found[role] = findIdxFile(dir, role);
  const required: IdxRole[] = labelsRequired ? [...ROLES] : ['trainImages', 'testImages'];
  const missing = required.filter((r) => !found[r]);
  if (missing.length > 0) {
    const present = readdirSync(dir).slice(0, 20);
    throw new DataError(
      `${describe}: folder ${dir} lacks ${missing.map((r) => STANDARD_NAMES[r] + '[.gz]').join(', ')}. ` +
        `It needs the IDX files train-images-idx3-ubyte and t10k-images-idx3-ubyte (optionally .gz)` +
        `${labelsRequired ? ' and their label files train-labels-idx1-ubyte and t10k-labels-idx1-ubyte' : ', labels are optional'}. ` +
        `It contains: ${present.length ? present.join(', ') : 'nothing'}.`,
      dir,
    );
  }
  return found as IdxPaths;
}

export interface IdxSet {
  train: IdxImages;
  test: IdxImages;
  trainLabels?: IdxLabels;
  testLabels?: IdxLabels;
}

/**
 * Reads the files in parallel (gunzip runs on libuv's thread pool) and checks they fit together.
 * With `trainHeader` (the training images' IDX sizes, from their header) the training files are not
 * read: the set's training part is empty, of the size the header declares.
 */
export async function readIdxSet(paths: IdxPaths, trainHeader?: readonly number[]): Promise<IdxSet> {
  const [train, test, trainLabels, testLabels] = await Promise.all([
    trainHeader ? { count: 0, rows: trainHeader[1] ?? 0, cols: trainHeader[2] ?? 0, pixels: new Uint8Array(0) } : readIdxImages(paths.trainImages),
    readIdxImages(paths.testImages),
    paths.trainLabels && !trainHeader ? readIdxLabels(paths.trainLabels) : undefined,
    paths.testLabels ? readIdxLabels(paths.testLabels) : undefined,
  ]);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new DataError(
      `${paths.testImages}: test images are ${test.rows}×${test.cols} but training images (${paths.trainImages}) are ${train.rows}×${train.cols}; both must have the same size.`,
      paths.testImages,
    );
  }
  for (const [images, labels, labelPath, imagePath] of [
    [train, trainLabels, paths.trainLabels, paths.trainImages],
    [test, testLabels, paths.testLabels, paths.testImages],
  ] as const) {
    if (labels && labels.count !== images.count) {
      throw new DataError(`${labelPath}: ${labels.count} labels for ${images.count} images in ${imagePath}; the counts must match.`, labelPath);
    }
  }
  return { train, test, trainLabels, testLabels };
}
