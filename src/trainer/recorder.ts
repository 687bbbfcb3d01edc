/**
 * The trainer's writes to its run folder: run.json (replaced atomically, naming this process while
 * the run is live) and events.jsonl (appended), the parent nudged after each append. The run-folder
 * contract is in docs/DESIGN.md.
 */
import { EVENTS_SCHEMA_VERSION, type RunEvent, type StatusEvent } from '../shared/events';
import { appendEvent, writeRunInfo } from '../node/runFolder';
import { currentTrainerProcess } from '../node/processProbe';
import { isLiveStatus, type RunInfo, type RunStatus } from '../shared/run';
import type { TrainerOutput } from './train';

export function now(): string {
  return new Date().toISOString();
}

/** Writes run.json and events.jsonl and tells the parent what kind of event it appended. */
export class RunRecorder {
  constructor(readonly dir: string, readonly info: RunInfo, private readonly output: TrainerOutput) {}

  async event(event: RunEvent): Promise<void> {
    await appendEvent(this.dir, event);
    this.output.send({ type: 'appended', runId: this.info.id, kind: event.type, ...(event.type === 'epoch' ? { epoch: event.epoch } : {}) });
  }

  async update(changes: Partial<RunInfo>): Promise<void> {
    Object.assign(this.info, changes, { updated: now() });
    await writeRunInfo(this.dir, this.info);
  }

  async status(status: RunStatus, extra: { message?: string; epoch?: number } = {}): Promise<void> {
    const me = currentTrainerProcess();
    const live = isLiveStatus(status);
    await this.update({ status, message: extra.message, pid: live ? me.pid : undefined, host: live ? me.host : undefined, processStart: live ? me.start : undefined });
    const event: StatusEvent = { type: 'status', v: EVENTS_SCHEMA_VERSION, time: now(), status, ...extra };
    await this.event(event);
  }
}

