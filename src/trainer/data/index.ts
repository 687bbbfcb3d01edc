/**
 * The trainer's data: `mnist` (ships with VAE Lens, offline), `fashion-mnist` (downloaded once,
 * verified, cached), `idx:<folder>` (a user's own IDX files, any square size), or `images:<folder>`
 * (a user's PNG and JPEG files, labelled by sub-folder, resized to `imageSize` in `color`, decoded
 * once and cached: see imageFolder.ts). Everything is read and checked before training starts;
 * problems are DataErrors whose messages say what to do.
 *
 * Pixels are divided by 255, as in Chainer's example; RGB images have three interleaved values per
 * pixel, and everything below applies to each value alike. `binarize`: `static` thresholds train and
 * test at 0.5; `dynamic` leaves the training pixels as probabilities for the trainer to resample
 * per batch with binarizeDynamic, and binarizes the test set once with a fixed seed (the same for
 * every run), so test losses are comparable across runs. `trainLimit`/`testLimit` keep the first
 * N images (all of them when N exceeds the set).
 */
import { defaultConfig, type TrainConfig } from '../../shared/config';
import { buildDataset, type Dataset } from './dataset';
import { abortError, DataError } from './errors';
import { DATA_ENV, ensureFashionMnist, resolveCacheDir, resolveUserPath } from './fashion';
import { findIdxFiles, readIdxSet, type IdxPaths } from './files';
import { findMnistDir } from './mnist';
import { fingerprintData, fingerprintDifferences } from './fingerprint';
import { fingerprintImageFolder, listImageFolder, readImageFolder, type ImageFolderListing } from './imageFolder';
import type { RunData } from '../../shared/run';

export type { Dataset } from './dataset';
export { DataError } from './errors';
export { binarizeDynamic, binarizeStatic, TEST_BINARIZATION_SEED, STATIC_THRESHOLD } from './binarize';
export { DATA_ENV, DATA_SETTINGS, defaultCacheDir, FASHION_MNIST_BASE_URL, FASHION_MNIST_FILES } from './fashion';
export { findMnistDir } from './mnist';

export interface LoadDatasetOptions {
  /**
   * Per-user download cache (setting vaeLens.dataCacheDirectory); else $VAE_LENS_DATA_CACHE; else
   * defaultCacheDir(). `~/` and relative paths are resolved.
   */
  cacheDir?: string;
  /** Fashion-MNIST base URL (setting vaeLens.mnistBaseUrl); else $VAE_LENS_FASHION_MNIST_URL; else FASHION_MNIST_BASE_URL. */
  baseUrl?: string;
  /**
   * Phases: 'downloading fashion-mnist train-images' (with fraction 0…1), 'checking fashion-mnist …',
   * 'reading <dataset>'; an images: folder reports 'checking images:<folder>' (its files are read
   * for their fingerprint) and 'reading images:<folder>' (decoding), both with fractions.
   */
  onProgress?: (phase: string, fraction?: number) => void;
  signal?: AbortSignal;
  /** Folder that relative `idx:` folders and cache folders resolve against (the workspace); default process.cwd(). */
  baseDir?: string;
  /** Folder holding the MNIST IDX files; default: found beside the bundle or in a source checkout. */
  mnistDir?: string;
  /** SHA-256 per Fashion-MNIST file name, replacing the canonical ones (tests serve their own files). */
  fashionChecksums?: Record<string, string>;
  /** Connect timeout for downloads, ms (default 5000). */
  connectTimeoutMs?: number;
  /**
   * The folder an `idx:` or `images:` dataset was resolved to when the run started (run.json's
   * data.folder): a resume reads from it, whatever the working folder is now.
   */
  idxFolder?: string;
  /**
   * Called with the images' sizes ([count, rows, cols] from IDX headers, [count, side, side,
   * channels] for an images: folder) before they are decoded; throws to refuse the data (too large to train).
   */
  checkSizes?: (files: RunData['files']) => void;
  /** Read only the test files (for decoding a checkpoint): the training set is empty, trainCount 0. */
  testOnly?: boolean;
}

/** The fields of a config that say which data set it trains on and how an images: folder is read. */
export type DatasetConfig = Pick<TrainConfig, 'dataset'> & Partial<Pick<TrainConfig, 'imageSize' | 'color' | 'testSplit'>>;

type Located = (IdxPaths & { folder: string; images?: undefined }) | { folder: string; images: ImageFolderListing };

const IMAGES_PREFIX = 'images:';

async function locate(config: DatasetConfig, opts: LoadDatasetOptions, baseDir: string): Promise<Located> {
  const dataset = config.dataset;
  if (dataset === 'mnist') {
    const folder = opts.mnistDir ?? findMnistDir();
    return { ...findIdxFiles(folder, true, 'dataset "mnist"'), folder };
  }
  if (dataset === 'fashion-mnist') {
    return ensureFashionMnist({
      cacheDir: cacheDirOf(opts, baseDir),
      baseUrl: opts.baseUrl ?? process.env[DATA_ENV.baseUrl],
      checksums: opts.fashionChecksums,
      onProgress: opts.onProgress,
      signal: opts.signal,
      connectTimeoutMs: opts.connectTimeoutMs,
    });
  }
  if (dataset.startsWith('idx:') && dataset.length > 4) {
    const folder = opts.idxFolder ?? resolveUserPath(dataset.slice(4), baseDir);
    return { ...findIdxFiles(folder, false, `dataset "${dataset}"`), folder };
  }
  if (dataset.startsWith(IMAGES_PREFIX) && dataset.length > IMAGES_PREFIX.length) {
    const folder = opts.idxFolder ?? resolveUserPath(dataset.slice(IMAGES_PREFIX.length), baseDir);
    return { folder, images: listImageFolder(folder, imageSettings(config).testSplit, dataset) };
  }
  throw new DataError(`Unknown dataset "${dataset}": use mnist, fashion-mnist, idx:<folder with IDX files>, or images:<folder with PNG/JPEG files>.`);
}

function cacheDirOf(opts: LoadDatasetOptions, baseDir: string): string {
  return resolveCacheDir(opts.cacheDir ?? process.env[DATA_ENV.cacheDir], baseDir);
}

/** An images: folder's settings, defaulted as a config defaults them. */
function imageSettings(config: DatasetConfig): Pick<TrainConfig, 'imageSize' | 'color' | 'testSplit'> {
  const d = defaultConfig();
  return { imageSize: config.imageSize ?? d.imageSize, color: config.color ?? d.color, testSplit: config.testSplit ?? d.testSplit };
}

export async function loadDataset(
  config: DatasetConfig & Pick<TrainConfig, 'trainLimit' | 'testLimit' | 'binarize'>,
  opts: LoadDatasetOptions = {},
): Promise<Dataset> {
  const baseDir = opts.baseDir ?? process.cwd();
  const paths = await locate(config, opts, baseDir);
  if (opts.signal?.aborted) throw abortError(opts.signal);
  if (paths.images) {
    const { imageSize, color, testSplit } = imageSettings(config);
    const set = await readImageFolder(paths.images, {
      dataset: config.dataset,
      side: imageSize,
      color,
      testSplit,
      cacheDir: cacheDirOf(opts, baseDir),
      onProgress: opts.onProgress,
      signal: opts.signal,
      checkSizes: opts.checkSizes,
      testOnly: opts.testOnly,
    });
    const labelNames = set.labelNames;
    return { ...buildDataset(config.dataset, set, config, paths.folder), labelNames, data: { folder: paths.folder, files: set.files, ...(labelNames && { labelNames }) } };
  }
  opts.onProgress?.(`reading ${config.dataset}`);
  // The headers first (the fingerprint reads them): a set too large to train is refused before it is read.
  const files = await fingerprintData(paths);
  opts.checkSizes?.(files);
  const set = await readIdxSet(paths, opts.testOnly ? files.trainImages.sizes : undefined);
  if (opts.signal?.aborted) throw abortError(opts.signal);
  return { ...buildDataset(config.dataset, set, config, paths.folder), data: { folder: paths.folder, files } };
}

/** Data that differs from what a run trained on; resuming on it would silently train on something else. */
export class DataChangedError extends DataError {}

/**
 * Before a resume: the run's data must be what it started with. `idx:` and `images:` folders are
 * read where the run first found them (every file of an images: folder); MNIST and the cached Fashion-MNIST files are compared wherever they are now
 * (a missing Fashion-MNIST cache is downloaded later and checked against its published SHA-256).
 */
export async function checkDataUnchanged(config: DatasetConfig, recorded: RunData, opts: LoadDatasetOptions = {}): Promise<void> {
  if (config.dataset === 'fashion-mnist') return;
  let paths: Located;
  try {
    paths = await locate(config, { ...opts, idxFolder: recorded.folder }, opts.baseDir ?? process.cwd());
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    throw new DataChangedError(
      `The run's data is gone: ${e.message} The run trained on ${recorded.folder}; put the same files back there to resume, or start a new run on other data.`,
      recorded.folder,
    );
  }
  const { imageSize, color } = imageSettings(config);
  const now = paths.images ? await fingerprintImageFolder(paths.images, { dataset: config.dataset, side: imageSize, color, signal: opts.signal }) : await fingerprintData(paths);
  const differences = fingerprintDifferences(recorded.files, now, paths.images !== undefined);
  if (differences.length) {
    throw new DataChangedError(
      `The data in ${paths.folder} changed since the run started (${differences.join('; ')}). Resuming would continue on other data than the ` +
        `epochs so far. Put the original files back to resume, or start a new run with this data.`,
      paths.folder,
    );
  }
}
