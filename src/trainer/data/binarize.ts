/**
 * Binarized pixels for the Bernoulli decoder. `static` thresholds once at 0.5. `dynamic` treats
 * each grey value as the probability of a black pixel and draws a fresh binary image every time
 * an image is used for training (the trainer calls binarizeDynamic per batch), which regularizes
 * and is the usual protocol for binarized-MNIST likelihoods. The test set is binarized once,
 * with a fixed seed that does not depend on the run's seed, so test losses of different runs
 * (and seeds) are computed on the very same binary images and can be compared.
 */

/** Seed of the test set's one-time Bernoulli draw under `binarize: dynamic`; never change it. */
export const TEST_BINARIZATION_SEED = 0x5eed7e57;

/** Pixels at or below this value become 0, above it 1 (`binarize: static`). */
export const STATIC_THRESHOLD = 0.5;

/** Each value p in [0, 1] becomes 1 with probability p, else 0: a new array, or `out` when given. */
export function binarizeDynamic(batch: Float32Array, random: () => number, out?: Float32Array): Float32Array {
  const result = out ?? new Float32Array(batch.length);
  if (result.length < batch.length) throw new RangeError(`binarizeDynamic: out has ${result.length} values, batch ${batch.length}`);
  for (let i = 0; i < batch.length; i++) result[i] = random() < batch[i] ? 1 : 0;
  return result;
}

/** Thresholds in place at STATIC_THRESHOLD; returns `values`. */
export function binarizeStatic(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = values[i] > STATIC_THRESHOLD ? 1 : 0;
  return values;
}

/**
 * Uniform numbers in [0, 1) from a 32-bit seed (mulberry32). Only for the fixed test-set draw:
 * it belongs to the data, not to a run, so it does not use the run's random streams.
 */
export function fixedUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
