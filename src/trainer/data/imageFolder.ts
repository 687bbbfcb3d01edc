/**
 * `images:<folder>` data sets: a folder of PNG and JPEG files (see imagePixels.ts for how one file
 * becomes pixels), read once and cached.
 *
 * Layout. Images directly in the folder have no labels. Sub-folders are labels instead: the images
 * anywhere under `cat/` are label `cat`, and the labels are numbered 0…K−1 in the sorted order of
 * their names. A folder with both top-level images and label sub-folders is refused (which label
 * would the loose images have?). Names starting with a dot are skipped; files with other extensions
 * are ignored. A `test/` sub-folder, when there is one, is the test set, laid out the same way with
 * the same label names (it may lack some). Without one, each image is a test image when a hash of
 * its path relative to the folder falls below `testSplit`: the same split every time, and adding
 * files moves none of the others; at least one image is held out and at least one is kept.
 *
 * Within each set the images are ordered by that hash (not by name), so the first N of
 * `trainLimit`/`testLimit` and the reconstruction grids mix the labels.
 *
 * Fingerprint (run.json's data.files): per set, sizes [count, side, side, channels] and the SHA-256
 * of its sorted list of relative paths, sizes and content SHA-256s: any file added, removed,
 * renamed or edited changes it, while copying or touching the folder does not. Every file is
 * read once per load for it (reading is fast next to decoding).
 *
 * Cache: each set's decoded bytes in <cache folder>/images/, named after the folder and keyed by
 * the set's fingerprint, the side, the colour and the label names; a file that does not match in
 * every respect (or fails its trailing SHA-256) is rebuilt, never trusted. Written to a temporary
 * file and renamed, and an older cache of the same folder and set is removed then.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Color } from '../../shared/config';
import { MAX_LABEL_NAMES, type DataFingerprint, type RunData } from '../../shared/run';
import { abortError, DataError } from './errors';
import type { IdxImages, IdxLabels } from './idx';
import { decodeImage, squarePixels } from './imagePixels';

/** The extensions read (any case); the content decides between PNG and JPEG. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;
/** The sub-folder that holds the test set. */
export const TEST_FOLDER = 'test';
/** Changes whenever decoding changes what a cached file would hold. */
const CACHE_FORMAT = 1;
const CACHE_MAGIC = Buffer.from('VAELIMG1', 'latin1');
/** Files read at once while fingerprinting; images decoded between yields to the event loop. */
const READ_PARALLEL = 32;
const DECODE_BETWEEN_YIELDS = 8;

export interface ImageFile {
  /** Path relative to the folder with `/` separators, e.g. `cat/001.png` or `test/cat/001.png`. */
  rel: string;
  path: string;
  label?: number;
  /** Hash of `rel` in [0, 1): decides the split and the order. */
  hash: number;
}

export interface ImageFolderListing {
  folder: string;
  train: ImageFile[];
  test: ImageFile[];
  /** Label names by number, when the folder has label sub-folders. */
  labelNames?: string[];
}

export interface ImageFolderOptions {
  /** The configured data set, `images:<folder>`, as messages and progress phases name it. */
  dataset: string;
  side: number;
  color: Color;
  testSplit: number;
  cacheDir: string;
  onProgress?: (phase: string, fraction?: number) => void;
  signal?: AbortSignal;
  /** Called with the sets' fingerprints (sizes [count, side, side, channels]) before anything is decoded; throws to refuse. */
  checkSizes?: (files: RunData['files']) => void;
  /** Decode only the test set (the training set is empty). */
  testOnly?: boolean;
}

export interface ImageFolderSet {
  train: IdxImages;
  test: IdxImages;
  trainLabels?: IdxLabels;
  testLabels?: IdxLabels;
  labelNames?: string[];
  files: RunData['files'];
  /** Whether each set came from the cache (for tests and logs). */
  cached: { train: boolean; test: boolean };
}

const isImageName = (name: string) => IMAGE_EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext));

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function examples(names: string[]): string {
  return names.slice(0, 3).join(', ') + (names.length > 3 ? `, … (${names.length} in all)` : '');
}

/** The visible entries of `dir` (symbolic links followed), sorted by name. */
function entries(dir: string): { name: string; dir: boolean }[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => ({ name: e.name, dir: e.isSymbolicLink() ? isDirectory(join(dir, e.name)) : e.isDirectory() }));
}

/** Every image file under `dir`, at any depth, as `prefix` + its relative path; `others` collects the rest. */
function imagesUnder(dir: string, prefix: string, others: string[]): string[] {
  const out: string[] = [];
  for (const e of entries(dir)) {
    if (e.dir) out.push(...imagesUnder(join(dir, e.name), `${prefix}${e.name}/`, others));
    else if (isImageName(e.name)) out.push(prefix + e.name);
    else others.push(prefix + e.name);
  }
  return out;
}

interface Part {
  files: { rel: string; labelName?: string }[];
  labelNames?: string[];
  others: string[];
}

/** The images of one set's folder: loose (unlabelled) or in label sub-folders, never both. */
function readPart(dir: string, prefix: string, skip: string | undefined, what: string): Part {
  const all = entries(dir);
  const dirs = all.filter((e) => e.dir && e.name !== skip).map((e) => e.name);
  const loose = all.filter((e) => !e.dir && isImageName(e.name)).map((e) => prefix + e.name);
  const others = all.filter((e) => !e.dir && !isImageName(e.name)).map((e) => prefix + e.name);
  if (dirs.length === 0) return { files: loose.map((rel) => ({ rel })), others };
  if (loose.length > 0) {
    throw new DataError(
      `${what}: ${dir} holds images (${examples(loose)}) next to sub-folders (${examples(dirs)}). Sub-folders are labels, so every image must be in one: ` +
        `move the ${loose.length} loose image${loose.length > 1 ? 's' : ''} into a sub-folder named after their label, or move the sub-folders out.`,
      dir,
    );
  }
  if (dirs.length > MAX_LABEL_NAMES) {
    throw new DataError(`${what}: ${dir} has ${dirs.length} sub-folders, and each is a label; VAE Lens takes at most ${MAX_LABEL_NAMES} labels.`, dir);
  }
  const files: Part['files'] = [];
  for (const name of dirs) {
    const found = imagesUnder(join(dir, name), `${prefix}${name}/`, others);
    if (found.length === 0) {
      throw new DataError(
        `${what}: the label sub-folder ${prefix}${name} has no images (${IMAGE_EXTENSIONS.join(', ')}). Add some, or remove the folder.`,
        join(dir, name),
      );
    }
    for (const rel of found) files.push({ rel, labelName: name });
  }
  return { files, labelNames: dirs, others };
}

/** A path's place in [0, 1), from its SHA-256: the same on every machine. */
function pathHash(rel: string): number {
  return createHash('sha256').update(rel).digest().readUInt32BE(0) / 2 ** 32;
}

const byHash = (a: ImageFile, b: ImageFile) => a.hash - b.hash || (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0);

/** The folder's images, labelled and split as the module comment describes; DataErrors say what to change. */
export function listImageFolder(folder: string, testSplit: number, dataset: string): ImageFolderListing {
  const what = `dataset "${dataset}"`;
  if (!isDirectory(folder)) {
    throw new DataError(
      `${what}: folder ${folder} does not exist. Point images: at a folder of ${IMAGE_EXTENSIONS.join(', ')} files (in sub-folders named after their labels, if they have labels).`,
      folder,
    );
  }
  const testDir = join(folder, TEST_FOLDER);
  const hasTest = isDirectory(testDir);
  const main = readPart(folder, '', hasTest ? TEST_FOLDER : undefined, what);
  if (main.files.length === 0) {
    throw new DataError(
      `${what}: no images in ${folder}${hasTest ? ' (besides test/)' : ''}. VAE Lens reads ${IMAGE_EXTENSIONS.join(', ')} files, directly in the folder or in ` +
        `sub-folders named after their labels${main.others.length ? `; the folder has only other files: ${examples(main.others)}` : ''}.`,
      folder,
    );
  }
  const labelNames = main.labelNames;
  const file = (rel: string, labelName?: string): ImageFile => ({
    rel,
    path: join(folder, ...rel.split('/')),
    label: labelName === undefined ? undefined : labelNames!.indexOf(labelName),
    hash: pathHash(rel),
  });
  const files = main.files.map((f) => file(f.rel, f.labelName));
  if (hasTest) {
    const test = readPart(testDir, `${TEST_FOLDER}/`, undefined, what);
    if (test.files.length === 0) {
      throw new DataError(`${what}: ${testDir} has no images. Put the test images there (${IMAGE_EXTENSIONS.join(', ')}), or remove it to split the folder's images by testSplit.`, testDir);
    }
    if (!labelNames !== !test.labelNames) {
      throw new DataError(
        labelNames
          ? `${what}: the training images are in label sub-folders but ${testDir} has loose images; put the test images in sub-folders with the same label names.`
          : `${what}: the training images have no labels but ${testDir} has sub-folders (${examples(test.labelNames!)}); put the test images directly in test/, or the training images in label sub-folders too.`,
        testDir,
      );
    }
    const unknown = (test.labelNames ?? []).filter((n) => !labelNames!.includes(n));
    if (unknown.length) {
      throw new DataError(
        `${what}: ${testDir} has label sub-folders that the training images lack (${examples(unknown)}); labels are ${examples(labelNames!)}. Rename or remove them.`,
        testDir,
      );
    }
    return { folder, train: files.sort(byHash), test: test.files.map((f) => file(f.rel, f.labelName)).sort(byHash), labelNames };
  }
  if (files.length < 2) {
    throw new DataError(`${what}: ${folder} has only ${files.length} image; VAE Lens needs at least 2 (one to train on, one to test on).`, folder);
  }
  files.sort(byHash);
  // The images whose hash falls below testSplit are the first ones in hash order.
  const held = Math.min(files.length - 1, Math.max(1, files.filter((f) => f.hash < testSplit).length));
  return { folder, test: files.slice(0, held), train: files.slice(held), labelNames };
}

export const channelsOf = (color: Color): 1 | 3 => (color === 'rgb' ? 3 : 1);

/** Each file's size and content SHA-256, read READ_PARALLEL at a time. */
async function contentHashes(files: ImageFile[], report: (fraction: number) => void, signal?: AbortSignal): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < files.length; i += READ_PARALLEL) {
    if (signal?.aborted) throw abortError(signal);
    const chunk = files.slice(i, i + READ_PARALLEL);
    const hashes = await Promise.all(
      chunk.map(async (f) => {
        let bytes: Buffer;
        try {
          bytes = await readFile(f.path);
        } catch (e) {
          throw new DataError(`${f.path}: cannot read: ${(e as Error).message}.`, f.path);
        }
        return `${bytes.length}\t${createHash('sha256').update(bytes).digest('hex')}`;
      }),
    );
    chunk.forEach((f, k) => out.set(f.rel, hashes[k]));
    report(Math.min(1, (i + chunk.length) / files.length));
  }
  return out;
}

function fingerprintOf(files: ImageFile[], contents: Map<string, string>, side: number, channels: number): DataFingerprint {
  const hash = createHash('sha256');
  for (const rel of files.map((f) => f.rel).sort()) hash.update(`${rel}\t${contents.get(rel)}\n`);
  return { sizes: [files.length, side, side, channels], headSha256: hash.digest('hex') };
}

/** The folder's fingerprint as run.json records it (every file is read). */
export async function fingerprintImageFolder(listing: ImageFolderListing, opts: Pick<ImageFolderOptions, 'dataset' | 'side' | 'color' | 'onProgress' | 'signal'>): Promise<RunData['files']> {
  const all = [...listing.train, ...listing.test];
  const contents = await contentHashes(all, (f) => opts.onProgress?.(`checking ${opts.dataset}`, f), opts.signal);
  const channels = channelsOf(opts.color);
  return { trainImages: fingerprintOf(listing.train, contents, opts.side, channels), testImages: fingerprintOf(listing.test, contents, opts.side, channels) };
}

interface CacheHeader {
  key: string;
  count: number;
  side: number;
  channels: number;
  labelled: boolean;
}

/** One set's cache file: its name and the key a valid file states. */
function cacheEntry(cacheDir: string, folder: string, set: 'train' | 'test', fingerprint: DataFingerprint, side: number, channels: number, labelNames?: string[]) {
  const key = createHash('sha256').update(JSON.stringify({ format: CACHE_FORMAT, fingerprint, side, channels, labelNames: labelNames ?? null })).digest('hex');
  const prefix = `${createHash('sha256').update(folder).digest('hex').slice(0, 16)}-${set}-`;
  const dir = join(cacheDir, 'images');
  return { dir, prefix, path: join(dir, `${prefix}${key.slice(0, 32)}.bin`), key };
}

/** The cached pixels and labels, or undefined when the file is missing or does not match in every respect. */
async function readCache(path: string, expected: CacheHeader): Promise<{ pixels: Uint8Array; labels?: Uint8Array } | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return undefined;
  }
  try {
    if (bytes.length < CACHE_MAGIC.length + 4 + 32 || !bytes.subarray(0, CACHE_MAGIC.length).equals(CACHE_MAGIC)) return undefined;
    const body = bytes.subarray(0, bytes.length - 32);
    if (!createHash('sha256').update(body).digest().equals(bytes.subarray(bytes.length - 32))) return undefined;
    const headerLength = bytes.readUInt32LE(CACHE_MAGIC.length);
    const start = CACHE_MAGIC.length + 4 + headerLength;
    const header = JSON.parse(bytes.subarray(CACHE_MAGIC.length + 4, start).toString('utf8')) as CacheHeader;
    if (JSON.stringify(header) !== JSON.stringify(expected)) return undefined;
    const n = expected.count * expected.side * expected.side * expected.channels;
    if (body.length !== start + n + (expected.labelled ? expected.count : 0)) return undefined;
    // Copies (plain Uint8Arrays): the file's buffer can go.
    return { pixels: new Uint8Array(body.subarray(start, start + n)), labels: expected.labelled ? new Uint8Array(body.subarray(start + n)) : undefined };
  } catch {
    return undefined;
  }
}

/** Writes the cache atomically and removes older caches of the same folder and set; a cache that cannot be written is skipped. */
async function writeCache(entry: ReturnType<typeof cacheEntry>, header: CacheHeader, pixels: Uint8Array, labels?: Uint8Array): Promise<void> {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const parts = [CACHE_MAGIC, length, json, pixels, ...(labels ? [labels] : [])];
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  const tmp = `${entry.path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(entry.dir, { recursive: true });
    await writeFile(tmp, Buffer.concat([...parts, hash.digest()]));
    await rename(tmp, entry.path);
    const name = entry.path.slice(entry.dir.length + 1);
    for (const old of await readdir(entry.dir)) {
      if (old.startsWith(entry.prefix) && old !== name && !old.endsWith('.tmp')) await unlink(join(entry.dir, old)).catch(() => undefined);
    }
  } catch {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Decodes `files` into one side × side × channels byte block per image, yielding now and then so an abort is seen. */
async function decodeFiles(files: ImageFile[], side: number, channels: 1 | 3, what: string, tick: () => void, signal?: AbortSignal): Promise<Uint8Array> {
  const size = side * side * channels;
  const pixels = new Uint8Array(files.length * size);
  for (let i = 0; i < files.length; i++) {
    if (i % DECODE_BETWEEN_YIELDS === 0) {
      await new Promise((done) => setImmediate(done));
      if (signal?.aborted) throw abortError(signal);
    }
    const f = files[i];
    let bytes: Buffer;
    try {
      bytes = await readFile(f.path);
    } catch (e) {
      throw new DataError(`${f.path}: cannot read: ${(e as Error).message}.`, f.path);
    }
    try {
      const image = decodeImage(bytes);
      if (image.width < 1 || image.height < 1) throw new Error(`it is ${image.width}×${image.height} pixels`);
      squarePixels(image, side, channels, pixels, i * size);
    } catch (e) {
      throw new DataError(
        `${what}: cannot decode ${f.rel} (${(e as Error).message}). Fix or remove the file: VAE Lens trains only when every image in the folder reads.`,
        f.path,
      );
    }
    tick();
  }
  return pixels;
}

/** The folder's two sets, from the cache when it matches, else decoded (and cached). */
export async function readImageFolder(listing: ImageFolderListing, opts: ImageFolderOptions): Promise<ImageFolderSet> {
  const channels = channelsOf(opts.color);
  const files = await fingerprintImageFolder(listing, opts);
  opts.checkSizes?.(files);
  const labelled = listing.labelNames !== undefined;
  const sets = [
    { set: 'train' as const, files: opts.testOnly ? [] : listing.train, fingerprint: files.trainImages },
    { set: 'test' as const, files: listing.test, fingerprint: files.testImages },
  ].map((s) => {
    const entry = cacheEntry(opts.cacheDir, listing.folder, s.set, s.fingerprint, opts.side, channels, listing.labelNames);
    const header: CacheHeader = { key: entry.key, count: s.files.length, side: opts.side, channels, labelled };
    return { ...s, entry, header };
  });
  const cached = await Promise.all(sets.map((s) => (s.files.length ? readCache(s.entry.path, s.header) : undefined)));
  const toDecode = sets.reduce((n, s, i) => n + (cached[i] || !s.files.length ? 0 : s.files.length), 0);
  let decoded = 0;
  const tick = () => {
    decoded++;
    if (decoded === toDecode || decoded % 32 === 0) opts.onProgress?.(`reading ${opts.dataset}`, decoded / toDecode);
  };
  if (toDecode) opts.onProgress?.(`reading ${opts.dataset}`, 0);
  const out: { pixels: Uint8Array; labels?: Uint8Array }[] = [];
  for (const [i, s] of sets.entries()) {
    const hit = cached[i];
    if (hit || !s.files.length) {
      out.push(hit ?? { pixels: new Uint8Array(0), labels: labelled ? new Uint8Array(0) : undefined });
      continue;
    }
    const pixels = await decodeFiles(s.files, opts.side, channels, `dataset "${opts.dataset}"`, tick, opts.signal);
    const labels = labelled ? Uint8Array.from(s.files, (f) => f.label!) : undefined;
    await writeCache(s.entry, s.header, pixels, labels);
    out.push({ pixels, labels });
  }
  const images = (k: number): IdxImages => ({ count: sets[k].files.length, rows: opts.side, cols: opts.side, channels, pixels: out[k].pixels });
  const labels = (k: number): IdxLabels | undefined => (out[k].labels ? { count: sets[k].files.length, labels: out[k].labels! } : undefined);
  return {
    train: images(0),
    test: images(1),
    trainLabels: labels(0),
    testLabels: labels(1),
    labelNames: listing.labelNames,
    files,
    cached: { train: cached[0] !== undefined, test: cached[1] !== undefined },
  };
}
