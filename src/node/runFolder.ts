/**
 * Reading and writing run folders from Node (trainer, CLI, extension host). Writes of run.json are
 * atomic (temp file + rename), so a reader never sees half a file; events.jsonl is append-only.
 */
import { promises as fs, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EVENTS_FILE, RUN_FILE, STOP_REQUEST_FILE, checkRunInfo, type RunInfo } from '../shared/run';
import { parseEvents, type RunEvent, type SkippedLine } from '../shared/events';

export interface RunSnapshot {
  dir: string;
  info: RunInfo;
  events: RunEvent[];
  /** Lines not used (a torn last line after a crash, an invalid or newer event). */
  skipped: number;
  /** The first few skipped lines and why. */
  problems: SkippedLine[];
}

export class RunFolderError extends Error {
  constructor(message: string, readonly dir: string) {
    super(message);
    this.name = 'RunFolderError';
  }
}

export async function readRunInfo(dir: string): Promise<RunInfo> {
  const file = join(dir, RUN_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new RunFolderError(`Cannot read ${file}: ${(e as Error).message}`, dir);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RunFolderError(`${file} is not valid JSON: ${(e as Error).message}`, dir);
  }
  const checked = checkRunInfo(value);
  if (!checked.ok) throw new RunFolderError(`${file} is not a valid VAE Lens run description: ${checked.error}`, dir);
  return checked.info;
}

export async function readRun(dir: string): Promise<RunSnapshot> {
  const info = await readRunInfo(dir);
  let text = '';
  try {
    text = await fs.readFile(join(dir, EVENTS_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new RunFolderError(`Cannot read ${join(dir, EVENTS_FILE)}: ${(e as Error).message}`, dir);
  }
  const { events, skipped, problems } = parseEvents(text);
  return { dir, info, events, skipped, problems };
}

/** Folders under runsDir that contain a run.json (not validated). */
export function listRunDirs(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(runsDir, d.name, RUN_FILE)))
    .map((d) => join(runsDir, d.name))
    .sort();
}

/** Atomically replaces run.json. */
export async function writeRunInfo(dir: string, info: RunInfo): Promise<void> {
  const file = join(dir, RUN_FILE);
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(info, null, 2) + '\n');
  await fs.rename(tmp, file);
}

/** Appends one event as one line. A single write of a whole line keeps concurrent appenders' lines intact. */
export async function appendEvent(dir: string, event: RunEvent): Promise<void> {
  await fs.appendFile(join(dir, EVENTS_FILE), JSON.stringify(event) + '\n');
}

/** Asks a live run's trainer to stop after its current batch, through the run folder (no signal is sent). */
export async function requestStop(dir: string, by: string): Promise<void> {
  await fs.writeFile(join(dir, STOP_REQUEST_FILE), JSON.stringify({ time: new Date().toISOString(), by }) + '\n');
}

/** Whether someone asked this run to stop through its folder. */
export function stopRequested(dir: string): boolean {
  return existsSync(join(dir, STOP_REQUEST_FILE));
}

/** Removes a stop request (the trainer, once it has stopped or when a resume starts). */
export async function clearStopRequest(dir: string): Promise<void> {
  await fs.rm(join(dir, STOP_REQUEST_FILE), { force: true });
}
