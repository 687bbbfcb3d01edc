/**
 * The trainer's data: `mnist` (ships with VAE Lens, offline), `fashion-mnist` (downloaded once,
 * verified, cached), or `idx:<folder>` (a user's own IDX files, any square size). Everything is
 * read and checked before training starts; problems are DataErrors whose messages say what to do.
 *
 * Pixels are divided by 255, as in Chainer's example. `binarize`: `static` thresholds train and
 * test at 0.5; `dynamic` leaves the training pixels as probabilities for the trainer to resample
 * per batch with binarizeDynamic, and binarizes the test set once with a fixed seed (the same for
 * every run), so test losses are comparable across runs. `trainLimit`/`testLimit` keep the first
 * N images (all of them when N exceeds the set).
 */
import type { TrainConfig } from '../../shared/config';
import { buildDataset, type Dataset } from './dataset';
import { abortError, DataError } from './errors';
import { DATA_ENV, ensureFashionMnist, resolveCacheDir, resolveUserPath } from './fashion';
import { findIdxFiles, readIdxSet, type IdxPaths } from './files';
import { findMnistDir } from './mnist';
import { fingerprintData, fingerprintDifferences } from './fingerprint';
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
  /** Phases: 'downloading fashion-mnist train-images' (with fraction 0…1), 'checking fashion-mnist …', 'reading <dataset>'. */
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
   * The folder an `idx:` dataset was resolved to when the run started (run.json's data.folder): a
   * resume reads from it, whatever the working folder is now.
   */
  idxFolder?: string;
  /** Called with the image files' IDX sizes before they are read; throws to refuse the data (too large to train). */
  checkSizes?: (files: RunData['files']) => void;
  /** Read only the test files (for decoding a checkpoint): the training set is empty, trainCount 0. */
  testOnly?: boolean;
}

async function locate(dataset: string, opts: LoadDatasetOptions, baseDir: string): Promise<IdxPaths & { folder: string }> {
  if (dataset === 'mnist') {
    const folder = opts.mnistDir ?? findMnistDir();
    return { ...findIdxFiles(folder, true, 'dataset "mnist"'), folder };
  }
  if (dataset === 'fashion-mnist') {
    return ensureFashionMnist({
      cacheDir: resolveCacheDir(opts.cacheDir ?? process.env[DATA_ENV.cacheDir], baseDir),
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
  throw new DataError(`Unknown dataset "${dataset}": use mnist, fashion-mnist, or idx:<folder with IDX files>.`);
}

export async function loadDataset(
  config: Pick<TrainConfig, 'dataset' | 'trainLimit' | 'testLimit' | 'binarize'>,
  opts: LoadDatasetOptions = {},
): Promise<Dataset> {
  const baseDir = opts.baseDir ?? process.cwd();
  const paths = await locate(config.dataset, opts, baseDir);
  if (opts.signal?.aborted) throw abortError(opts.signal);
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
 * Before a resume: the run's data must be what it started with. `idx:` folders are read where the
 * run first found them; MNIST and the cached Fashion-MNIST files are compared wherever they are now
 * (a missing Fashion-MNIST cache is downloaded later and checked against its published SHA-256).
 */
export async function checkDataUnchanged(config: Pick<TrainConfig, 'dataset'>, recorded: RunData, opts: LoadDatasetOptions = {}): Promise<void> {
  if (config.dataset === 'fashion-mnist') return;
  let paths: IdxPaths & { folder: string };
  try {
    paths = await locate(config.dataset, { ...opts, idxFolder: recorded.folder }, opts.baseDir ?? process.cwd());
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    throw new DataChangedError(
      `The run's data is gone: ${e.message} The run trained on ${recorded.folder}; put the same files back there to resume, or start a new run on other data.`,
      recorded.folder,
    );
  }
  const differences = fingerprintDifferences(recorded.files, await fingerprintData(paths));
  if (differences.length) {
    throw new DataChangedError(
      `The data in ${paths.folder} changed since the run started (${differences.join('; ')}). Resuming would continue on other data than the ` +
        `epochs so far. Put the original files back to resume, or start a new run with this data.`,
      paths.folder,
    );
  }
}
