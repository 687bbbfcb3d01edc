/**
 * Every write the extension host makes into a run folder goes through this module. A live run's
 * folder belongs to its trainer; the host adds only:
 *   - a stop request (`stop-request`), for a run whose trainer this window does not hold;
 *   - the interrupted status of a run whose trainer is gone (run.json and a status event);
 *   - warning events and their dismissals (appended to events.jsonl);
 *   - a new name in run.json (Rename), never while the run is live.
 * Deleting a whole run folder (to the trash) is VS Code's file system call in the Delete command.
 *
 * No vscode import: unit-tested under plain Node. Workspace trust is checked by the callers.
 */
import { hostname } from 'node:os';
import { CONFIG_FIELDS } from '../../shared/config';
import { EVENTS_SCHEMA_VERSION, type WarningEvent } from '../../shared/events';
import { isLiveStatus, type RunInfo } from '../../shared/run';
import { appendEvent, readRunInfo, requestStop, writeRunInfo } from '../../node/runFolder';

/** Who wrote a stop request, as the request records it. */
export const STOP_REQUESTER = `VAE Lens extension host (process ${process.pid} on ${hostname()})`;

/** Asks a run's trainer, through its folder, to stop after its current batch. */
export async function writeStopRequest(dir: string): Promise<void> {
  await requestStop(dir, STOP_REQUESTER);
}

/**
 * Records that a run's trainer is gone: `interrupted` is run.json as it becomes (status
 * 'interrupted', see interruptedInfo in runStore.ts), written atomically, then the matching status
 * event, so a panel reading events sees the same status as the tree.
 */
export async function recordInterrupted(dir: string, interrupted: RunInfo): Promise<void> {
  await writeRunInfo(dir, interrupted);
  await appendEvent(dir, { type: 'status', v: EVENTS_SCHEMA_VERSION, time: interrupted.updated, status: 'interrupted', epoch: interrupted.epochsCompleted, message: interrupted.message });
}

/** Appends a warning raised by the health rules, or its dismissal ("Don't Warn for This Run"). */
export async function appendWarning(dir: string, event: WarningEvent): Promise<void> {
  await appendEvent(dir, event);
}

/** What is wrong with a run name, in words for the input box; undefined when it is fine. */
export function runNameProblem(name: string): string | undefined {
  const spec = CONFIG_FIELDS.name;
  if (name.trim() === '') return 'A name is needed.';
  if (spec.kind !== 'string') return undefined;
  if (spec.pattern && !spec.pattern.test(name)) return `Use ${spec.patternText}.`;
  if (spec.maxLength && name.length > spec.maxLength) return `At most ${spec.maxLength} characters.`;
  return undefined;
}

export class RunWriteRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunWriteRefused';
  }
}

/**
 * Renames a run: only the name in run.json changes (the folder keeps its id). run.json is read
 * again first: a run that became live since the name was asked for is its trainer's to write.
 */
export async function renameRun(dir: string, name: string, now = new Date()): Promise<RunInfo> {
  const trimmed = name.trim();
  const problem = runNameProblem(trimmed);
  if (problem) throw new RunWriteRefused(`"${name}" cannot be a run name: ${problem}`);
  const info = await readRunInfo(dir);
  if (isLiveStatus(info.status)) throw new RunWriteRefused(`"${info.name}" is training; rename it once it has stopped (the trainer rewrites run.json while it runs).`);
  const renamed = { ...info, name: trimmed, updated: now.toISOString() };
  await writeRunInfo(dir, renamed);
  return renamed;
}
