/**
 * The latent explorer's pictures, written as PNGs: decoded z, traversal grids, interpolations between
 * two test images, and the scatter of test μ against the prior. Each returns the z it decoded (or the
 * points it drew), so callers and tests see exactly what went into the picture.
 */
import { activeDimsByKl, dimensionPlane, dimsByKl, interpolationZ, planeGridZ, principalPlane, project, traversalZ, type Plane } from '../../shared/latent';
import { GRID, encodeGrid, gridSize, rowsOf, writeAtomically } from '../images';
import { priorNoise } from '../rng';
import { ExplorerError, decode, testMu, type Explorer } from './explorer';
import { renderScatter, scatterExtent } from './scatter';

export { ExplorerError, checkTestIndex, checkZ, decode, dimensionIndices, encodeMeans, openExplorer, testMu, type Explorer } from './explorer';
export { LABEL_COLOUR_NAMES } from './scatter';

export const DEFAULT_TRAVERSAL_STEPS = 7;
export const DEFAULT_INTERPOLATION_STEPS = 10;
export const SCATTER_SIZE = 512;
export const DEFAULT_MANIFOLD_STEPS = 15;

export interface Picture {
  file: string;
  width: number;
  height: number;
}

export interface DecodedPicture extends Picture {
  /** rows × dimz: the z decoded, tile by tile in reading order. */
  z: Float32Array;
  /** rows × pixels: the decoded mean images, in [0, 1]. */
  images: Float32Array;
  rows: number;
  cols: number;
}

/** Decodes z (rows × dimz) and writes the images as a grid of `cols` columns. */
async function writeDecodedGrid(explorer: Explorer, z: Float32Array, cols: number, file: string): Promise<DecodedPicture> {
  const { model, data } = explorer;
  const count = z.length / model.dimz;
  const rows = Math.ceil(count / cols);
  const images = await decode(explorer, z);
  await writeAtomically(file, encodeGrid(rowsOf(images, count, model.pixels), rows, cols, data.width, data.height, data.channels ?? 1));
  return { file, ...gridSize(rows, cols, data.width, data.height), z, images, rows, cols };
}

/** Each z (rows × dimz, checked with checkZ) decoded, up to 8 per row. */
export function writeDecoded(explorer: Explorer, z: Float32Array, file: string): Promise<DecodedPicture> {
  return writeDecodedGrid(explorer, z, Math.min(GRID, z.length / explorer.model.dimz), file);
}

/** The dimensions a traversal shows by default: the active ones, largest KL_d first; all of them by KL_d when none is active. */
export function defaultTraversalDims(explorer: Pick<Explorer, 'latent'>): number[] {
  const active = activeDimsByKl(explorer.latent.dims);
  return active.length ? active : dimsByKl(explorer.latent.dims.kl);
}

export interface TraversalOptions {
  /** 0-based dimensions, one row each; default defaultTraversalDims. */
  dims?: number[];
  steps?: number;
  /** The point the other coordinates stay at; default z = 0, the prior's mean. */
  base?: Float32Array;
}

/** One row per dimension, that coordinate swept from −3 to +3 in `steps`, the others at the base point. */
export async function writeTraversal(explorer: Explorer, options: TraversalOptions, file: string): Promise<DecodedPicture & { dims: number[]; base: Float32Array }> {
  const dims = options.dims ?? defaultTraversalDims(explorer);
  const steps = options.steps ?? DEFAULT_TRAVERSAL_STEPS;
  if (!Number.isInteger(steps) || steps < 2) throw new ExplorerError(`A traversal needs at least 2 steps (got ${steps}).`);
  const base = options.base ?? new Float32Array(explorer.config.dimz);
  const picture = await writeDecodedGrid(explorer, traversalZ(base, dims, steps), steps, file);
  return { ...picture, dims, base };
}

export interface InterpolationOptions {
  from: number;
  to: number;
  steps?: number;
  /** Spherical interpolation (slerp) instead of a straight line. */
  spherical?: boolean;
}

/** `steps` images from test image `from`'s μ to test image `to`'s μ (both ends included), in one row. */
export async function writeInterpolation(explorer: Explorer, options: InterpolationOptions, file: string): Promise<DecodedPicture> {
  const steps = options.steps ?? DEFAULT_INTERPOLATION_STEPS;
  if (!Number.isInteger(steps) || steps < 2) throw new ExplorerError(`An interpolation needs at least 2 steps (got ${steps}).`);
  const a = testMu(explorer, options.from, '(--from)');
  const b = testMu(explorer, options.to, '(--to)');
  return writeDecodedGrid(explorer, interpolationZ(a, b, steps, !!options.spherical), steps, file);
}

export interface ScatterPicture extends Picture {
  plane: Plane;
  /** x, y of each test image's μ on the plane. */
  points: Float64Array;
  /** x, y of each of the run's fixed prior samples. */
  prior: Float64Array;
  /** Half the width shown, in plane units. */
  extent: number;
}

/** The plane of the scatter and the manifold: the first two principal axes of test μ, or dimensions `dims` (0-based). */
export function scatterPlane(explorer: Explorer, dims?: [number, number]): Plane {
  const { dimz } = explorer.config;
  const n = explorer.data.testCount;
  if (dims) return dimensionPlane(explorer.mu, n, dimz, dims[0], dims[1]);
  if (dimz < 2) throw new ExplorerError('The run has one latent dimension: a plane needs two. Use vae-lens traverse to see it.');
  return principalPlane(explorer.mu, n, dimz);
}

/** The test set's μ on the first two principal axes (or on dimensions `dims`, 0-based), coloured by label. */
export async function writeScatter(explorer: Explorer, options: { dims?: [number, number]; size?: number }, file: string): Promise<ScatterPicture> {
  const { dimz, seed } = explorer.config;
  const plane = scatterPlane(explorer, options.dims);
  const noise = priorNoise(seed, dimz);
  const points = project(explorer.mu, explorer.data.testCount, plane);
  const prior = project(noise, noise.length / dimz, plane);
  const size = options.size ?? SCATTER_SIZE;
  await writeAtomically(file, renderScatter({ points, labels: explorer.data.testLabels, prior, size }));
  return { file, width: size, height: size, plane, points, prior, extent: scatterExtent({ points, prior }) };
}

/**
 * The decoded manifold of the scatter's plane: a steps × steps grid of z = x·u + y·v, x and y from −3
 * to +3 (for dimz 2, the whole latent space the prior covers), laid out like the scatter.
 */
export async function writeManifold(explorer: Explorer, options: { dims?: [number, number]; steps?: number }, file: string): Promise<DecodedPicture & { plane: Plane }> {
  const steps = options.steps ?? DEFAULT_MANIFOLD_STEPS;
  if (!Number.isInteger(steps) || steps < 2) throw new ExplorerError(`A manifold grid needs at least 2 steps (got ${steps}).`);
  const plane = scatterPlane(explorer, options.dims);
  return { ...(await writeDecodedGrid(explorer, planeGridZ(plane, steps), steps, file)), plane };
}
