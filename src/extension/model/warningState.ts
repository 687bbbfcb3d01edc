/** Which findings still need raising for a run (pure): one warning event per kind per run (muting: runRules.warningsMuted). */
import type { WarningEvent } from '../../shared/events';
import type { HealthFinding } from '../../shared/health';


/** Findings not yet written for this run (one warning event per kind per run). */
export function newFindings(findings: readonly HealthFinding[], written: readonly WarningEvent[]): HealthFinding[] {
  const seen = new Set(written.map((w) => w.kind));
  return findings.filter((f) => !seen.has(f.kind));
}
