import { findWorkerScript } from '../../src/trainer/fast';

/** The benchmark's own bundle of the worker (dist/bench-fast-worker.js), or null. */
export function benchWorkerScript(): string | null {
  return findWorkerScript(['fast-worker.js', 'bench-fast-worker.js']);
}
