/** Which findings still need raising for a run (pure): one warning event per kind per run, and muting. */
import type { WarningEvent } from '../../shared/events';
import type { HealthFinding } from '../../shared/health';

/** A run is muted once any of its warning events says a user dismissed it. */
export function isMuted(warnings: readonly WarningEvent[]): boolean {
  return warnings.some((w) => w.dismissed);
}

/** Findings not yet written for this run (one warning event per kind per run). */
export function newFindings(findings: readonly HealthFinding[], written: readonly WarningEvent[]): HealthFinding[] {
  const seen = new Set(written.map((w) => w.kind));
  return findings.filter((f) => !seen.has(f.kind));
}
