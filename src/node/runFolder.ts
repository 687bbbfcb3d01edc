/**
 * Reading and writing run folders from Node (trainer, CLI, extension host). Writes of run.json are
 * atomic (temp file + rename), so a reader never sees half a file; events.jsonl is append-only.
 */
import { promises as fs, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EVENTS_FILE, RUN_FILE, STOP_REQUEST_FILE, checkRunInfo, type RunInfo } from '../shared/run';
import { parseEvents, type RunEvent, type SkippedLine } from '../shared/events';
import { removeDeadWritersFiles } from './leftovers';

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

/** Temp files of run.json writes: `run.json.<pid>.<ms>.tmp`. */
const RUN_INFO_TMP = /^run\.json\.(\d+)\.\d+\.tmp$/;

/**
 * Atomically replaces run.json. A failed write (a full disk) removes its temp file; temp files of
 * writers that died mid-write are removed on the next write.
 */
export async function writeRunInfo(dir: string, info: RunInfo): Promise<void> {
  const file = join(dir, RUN_FILE);
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await fs.writeFile(tmp, JSON.stringify(info, null, 2) + '\n');
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await removeDeadWritersFiles(dir, RUN_INFO_TMP);
}

/** Removes run.json temp files whose writer is gone (a crash or kill mid-write). */
export function removeRunInfoLeftovers(dir: string): Promise<string[]> {
  return removeDeadWritersFiles(dir, RUN_INFO_TMP);
}

/**
 * Appends one event as one line. A single write of a whole line keeps concurrent appenders' lines
 * intact. The line always starts on a fresh line: after a torn last line (a crash or a full disk
 * mid-append) a newline goes first, so the torn bytes never swallow the new event.
 */
export async function appendEvent(dir: string, event: RunEvent): Promise<void> {
  const handle = await fs.open(join(dir, EVENTS_FILE), 'a+');
  try {
    const { size } = await handle.stat();
    let lead = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) lead = '\n';
    }
    await handle.appendFile(lead + JSON.stringify(event) + '\n');
  } finally {
    await handle.close();
  }
}

/**
 * Cuts a torn last line (bytes after the last newline: a crash or a full disk mid-append) off
 * events.jsonl and returns how many bytes it held (0 when the file ends cleanly). A resume calls it
 * before it re-appends, from the checkpoint, the epoch that line was.
 */
export async function truncateTornEventLine(dir: string): Promise<number> {
  const file = join(dir, EVENTS_FILE);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  try {
    const { size } = await handle.stat();
    // Read backwards in blocks until a newline (or the start of the file) is found.
    const block = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await handle.read(block, 0, end - start, start);
      const nl = block.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl >= 0) {
        const keep = start + nl + 1;
        if (keep < size) await handle.truncate(keep);
        return size - keep;
      }
      end = start;
    }
    if (size > 0) await handle.truncate(0);
    return size;
  } finally {
    await handle.close();
  }
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
