/**
 * Per-step time breakdown of the fast steps (matmul, elementwise, optimizer, other), cheap enough
 * to stay on: a few performance.now() calls per step. The benchmark prints it beside samples/s.
 */
import { performance } from 'node:perf_hooks';

/** `sync`: waiting for the other replica (two-thread step only). */
export type Phase = 'matmul' | 'elementwise' | 'optimizer' | 'other' | 'sync';
export const PHASES: Phase[] = ['matmul', 'elementwise', 'optimizer', 'other', 'sync'];

export class Timer {
  readonly totals: Record<Phase, number> = { matmul: 0, elementwise: 0, optimizer: 0, other: 0, sync: 0 };
  steps = 0;
  private last = 0;

  begin(): void {
    this.last = performance.now();
  }

  lap(phase: Phase): void {
    const now = performance.now();
    this.totals[phase] += now - this.last;
    this.last = now;
  }

  end(): void {
    this.steps++;
  }

  reset(): void {
    for (const p of PHASES) this.totals[p] = 0;
    this.steps = 0;
  }

  /** Mean milliseconds per step in each phase. */
  perStep(): Record<Phase, number> {
    const out = { ...this.totals };
    for (const p of PHASES) out[p] = this.steps > 0 ? out[p] / this.steps : 0;
    return out;
  }
}
