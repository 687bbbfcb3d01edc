/**
 * Fashion-MNIST (Zalando Research): the four standard IDX files, downloaded once from a
 * configurable base URL, checked against their published SHA-256 and kept in a per-user cache.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, posix, resolve, win32 } from 'node:path';
import { abortError, DataError } from './errors';
import { DownloadError, downloadVerified, sha256File } from './download';
import { ROLES, STANDARD_NAMES, type IdxPaths, type IdxRole } from './files';

/**
 * The files in Zalando Research's own repository (github.com/zalandoresearch/fashion-mnist,
 * data/fashion/), served over https. The README's other mirror (an S3 website endpoint) speaks only
 * plain http. Either way every file is checked against the canonical SHA-256 below.
 */
export const FASHION_MNIST_BASE_URL = 'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/';

/**
 * The canonical files' sizes and SHA-256, as recorded for these URLs by TensorFlow Datasets
 * (tensorflow_datasets/url_checksums/fashion_mnist.txt).
 */
export const FASHION_MNIST_FILES: Record<IdxRole, { file: string; bytes: number; sha256: string }> = {
  trainImages: { file: 'train-images-idx3-ubyte.gz', bytes: 26421880, sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84' },
  trainLabels: { file: 'train-labels-idx1-ubyte.gz', bytes: 29515, sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845' },
  testImages: { file: 't10k-images-idx3-ubyte.gz', bytes: 4422102, sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073' },
  testLabels: { file: 't10k-labels-idx1-ubyte.gz', bytes: 5148, sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5' },
};

/** Names of the knobs a user turns, quoted in error messages (extension settings and CLI flags). */
export const DATA_SETTINGS = {
  baseUrlSetting: 'vaeLens.mnistBaseUrl',
  baseUrlFlag: '--data-base-url',
  cacheDirSetting: 'vaeLens.dataCacheDirectory',
  cacheDirFlag: '--data-cache-dir',
} as const;

/**
 * Environment variables the extension sets for the trainer process from those settings; options
 * passed to loadDataset win over them.
 */
export const DATA_ENV = {
  cacheDir: 'VAE_LENS_DATA_CACHE',
  baseUrl: 'VAE_LENS_FASHION_MNIST_URL',
} as const;

/** The per-user cache: XDG on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows. */
export function defaultCacheDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA && win32.isAbsolute(env.LOCALAPPDATA) ? env.LOCALAPPDATA : win32.join(home, 'AppData', 'Local');
    return win32.join(local, 'vae-lens', 'Cache');
  }
  if (platform === 'darwin') return posix.join(home, 'Library', 'Caches', 'vae-lens');
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME && posix.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : posix.join(home, '.cache');
  return posix.join(xdg, 'vae-lens');
}

/** A folder a user typed: `~` and `~/…` in their home, relative paths against `baseDir` (the workspace). */
export function resolveUserPath(path: string, baseDir: string): string {
  const p = path.trim();
  const expanded = p === '~' || p.startsWith('~/') || p.startsWith('~\\') ? join(homedir(), p.slice(1)) : p;
  return isAbsolute(expanded) ? expanded : resolve(baseDir, expanded);
}

/** The configured cache folder, or the per-user default when none is set. */
export function resolveCacheDir(configured: string | undefined, baseDir: string): string {
  return configured && configured.trim() !== '' ? resolveUserPath(configured, baseDir) : defaultCacheDir();
}

export interface FashionOptions {
  cacheDir: string;
  baseUrl?: string;
  /** SHA-256 per file name (e.g. 'train-images-idx3-ubyte.gz'); tests serve their own files. Default: the canonical ones. */
  checksums?: Record<string, string>;
  onProgress?: (phase: string, fraction?: number) => void;
  signal?: AbortSignal;
  connectTimeoutMs?: number;
}

const BASE_URL_KNOB = `${DATA_SETTINGS.baseUrlSetting} (CLI: ${DATA_SETTINGS.baseUrlFlag} or ${DATA_ENV.baseUrl})`;
const CACHE_KNOB = `Set ${DATA_SETTINGS.cacheDirSetting} (CLI: ${DATA_SETTINGS.cacheDirFlag} or ${DATA_ENV.cacheDir})`;

function offlineAlternatives(folder: string): string {
  const files = ROLES.map((r) => FASHION_MNIST_FILES[r].file).join(', ');
  return (
    `Offline, train on dataset "mnist" (it ships with VAE Lens), put the four files (${files}) into ${folder} by hand ` +
    `(they are checked against their SHA-256; ${DATA_SETTINGS.cacheDirSetting} moves the cache), or use dataset "idx:<folder>" with IDX files you have.`
  );
}

function explain(e: DownloadError, baseUrl: string, folder: string): DataError {
  const where = `Set ${BASE_URL_KNOB} to a server that has the Fashion-MNIST files`;
  switch (e.failure) {
    case 'unreachable':
      return new DataError(`Cannot download Fashion-MNIST: ${e.message}. It is downloaded once from ${baseUrl}. ${where}, or connect to the internet. ${offlineAlternatives(folder)}`, e.file);
    case 'http':
      return new DataError(`Cannot download Fashion-MNIST: ${e.message}. ${where} (the base URL must serve the four standard .gz files). ${offlineAlternatives(folder)}`, e.file);
    case 'cut':
      return new DataError(`Downloading Fashion-MNIST failed: ${e.message}. Nothing was kept in the cache; start the run again to retry. ${offlineAlternatives(folder)}`, e.file);
    case 'checksum':
    case 'too-large':
      return new DataError(`Fashion-MNIST download rejected: ${e.message}. The server at ${baseUrl} does not serve the canonical Fashion-MNIST files; ${where.charAt(0).toLowerCase()}${where.slice(1)}.`, e.file);
    case 'downgrade':
      return new DataError(`Fashion-MNIST download refused: ${e.message}. ${where} over https, or give an http:// base URL yourself if plain http is what you want.`, e.file);
    case 'local':
      return new DataError(`Cannot save Fashion-MNIST: ${e.message}. This is the cache folder ${folder}, not the network. ${CACHE_KNOB} to a folder you can write.`, e.file);
  }
}

/** The cached files, downloading those missing; returns their paths. */
export async function ensureFashionMnist(opts: FashionOptions): Promise<IdxPaths & { folder: string }> {
  const folder = join(opts.cacheDir, 'fashion-mnist');
  const baseUrl = opts.baseUrl && opts.baseUrl.trim() !== '' ? opts.baseUrl.trim() : FASHION_MNIST_BASE_URL;
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol)) {
    throw new DataError(`${BASE_URL_KNOB}: "${baseUrl}" is not an http(s) URL. Leave it empty for ${FASHION_MNIST_BASE_URL}.`);
  }
  const paths: Partial<Record<IdxRole, string>> = {};
  for (const role of ROLES) {
    const { file, bytes } = FASHION_MNIST_FILES[role];
    const sha256 = opts.checksums?.[file] ?? FASHION_MNIST_FILES[role].sha256;
    const dest = join(folder, file);
    const label = STANDARD_NAMES[role].replace(/-idx\d-ubyte$/, '');
    if (opts.signal?.aborted) throw abortError(opts.signal);
    if (existsSync(dest)) {
      opts.onProgress?.(`checking fashion-mnist ${label}`);
      let actual: string;
      try {
        actual = await sha256File(dest);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new DataError(`Cannot read ${dest} in the Fashion-MNIST cache (${code === 'EACCES' ? 'permission denied' : (e as Error).message}). Fix its permissions, or ${CACHE_KNOB.charAt(0).toLowerCase()}${CACHE_KNOB.slice(1)} to another folder.`, dest);
      }
      if (actual !== sha256) {
        throw new DataError(
          `${dest}: SHA-256 ${actual} does not match Fashion-MNIST's ${sha256}. The file in the cache is not the canonical ${file} (copied by hand? damaged?); delete it to download it again.`,
          dest,
        );
      }
    } else {
      const phase = `downloading fashion-mnist ${label}`;
      opts.onProgress?.(phase, 0);
      let reported = 0;
      try {
        await downloadVerified(new URL(file, base).href, dest, {
          sha256,
          expectedBytes: opts.checksums?.[file] ? undefined : bytes,
          // The canonical file's size is all a server may send; tests serving their own files give no cap.
          maxBytes: opts.checksums?.[file] ? undefined : bytes,
          signal: opts.signal,
          connectTimeoutMs: opts.connectTimeoutMs,
          onProgress: (received, total) => {
            if (!total) return;
            // At most ~100 updates per file: they travel over IPC to the editor.
            const fraction = Math.min(1, received / total);
            if (fraction - reported >= 0.01 || fraction === 1) {
              reported = fraction;
              opts.onProgress?.(phase, fraction);
            }
          },
        });
      } catch (e) {
        throw e instanceof DownloadError ? explain(e, base, folder) : e;
      }
    }
    paths[role] = dest;
  }
  return { ...(paths as Required<IdxPaths>), folder };
}
