import { findWorkerScript } from '../../src/trainer/fast';

export function parallelAvailable(): boolean {
  return findWorkerScript() !== null;
}
