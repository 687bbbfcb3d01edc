/**
 * Seeded random numbers for training. Every random stream is derived from a key (seed, stream,
 * epoch, batch…) instead of being drawn from one long sequence, so any point of a run can be
 * recomputed from its coordinates: a run resumed mid-epoch draws exactly the numbers the
 * uninterrupted run would have drawn. The generator (sfc32) is small, fast and its whole state is
 * four 32-bit words, so a stream can still be saved in a checkpoint and continued.
 */

/** Independent streams; a number, so adding one never shifts the others. */
export const Stream = {
  init: 1,
  shuffle: 2,
  trainNoise: 3,
  testNoise: 4,
  prior: 5,
  binarize: 6,
  reconPick: 7,
  /** Posterior samples of the importance-weighted likelihood, keyed by (seed, stream, test image). */
  importance: 8,
  /** The epoch diagnostics' posterior samples (key 0) and prior samples (key 1). */
  diagnostics: 9,
} as const;

export interface RngState {
  /** sfc32's four words. */
  s: [number, number, number, number];
  /** The second value of the last Box–Muller pair, not yet used (null when none). */
  spare: number | null;
}

/** 32-bit finalizer (from MurmurHash3) to spread the key's bits over the initial state. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  private constructor(a: number, b: number, c: number, d: number) {
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = d >>> 0;
  }

  /** A generator determined by a key of integers, e.g. (seed, Stream.trainNoise, epoch, batch). */
  static fromKey(...key: number[]): Rng {
    let h = 0x9e3779b9;
    for (const k of key) {
      if (!Number.isInteger(k)) throw new Error(`Rng key parts must be integers, got ${k}`);
      h = mix32(h ^ mix32((k >>> 0) + Math.imul(Math.floor(k / 2 ** 32), 0x27d4eb2d)));
      h = (h + 0x6d2b79f5) >>> 0;
    }
    const rng = new Rng(mix32(h ^ 0x1b873593), mix32(h ^ 0xcc9e2d51), mix32(h ^ 0xe6546b64), 1);
    // sfc32 needs a few rounds before its output is independent of similar seeds.
    for (let i = 0; i < 15; i++) rng.nextUint32();
    return rng;
  }

  static fromState(state: RngState): Rng {
    const [a, b, c, d] = state.s;
    const rng = new Rng(a, b, c, d);
    rng.spare = state.spare;
    return rng;
  }

  getState(): RngState {
    return { s: [this.a, this.b, this.c, this.d], spare: this.spare };
  }

  /** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator). */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller; the pair's second value is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    // 1 − u keeps the logarithm's argument in (0, 1].
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  fillNormal(out: Float32Array, scale = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal() * scale;
    return out;
  }
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** The order of training images in an epoch: a function of (seed, epoch) only. */
export function epochPermutation(seed: number, epoch: number, n: number): Uint32Array {
  return permutation(n, Rng.fromKey(seed, Stream.shuffle, epoch));
}

/**
 * The run's fixed prior noise, rows × dimz. Row i comes from its own stream keyed by (seed, i),
 * so its first d values do not depend on dimz: runs with dimz 20 and 100 and the same seed decode
 * the same noise in their shared dimensions, as the study compared.
 */
export function priorNoise(seed: number, dimz: number, rows = 64): Float32Array {
  const out = new Float32Array(rows * dimz);
  for (let i = 0; i < rows; i++) {
    Rng.fromKey(seed, Stream.prior, i).fillNormal(out.subarray(i * dimz, (i + 1) * dimz));
  }
  return out;
}
