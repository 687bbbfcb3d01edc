/**
 * Files a writer leaves behind when it dies mid-write: temp files named with the writer's pid
 * (`run.json.<pid>.<ms>.tmp`, `checkpoint.tmp-<pid>`, `.<file>.<pid>.<hex>.part`). The next writer
 * of the same folder removes those whose pid is no longer running, whoever left them; a live
 * writer's temp files are left alone (it is about to rename or delete them itself).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from './processProbe';

/** Removes the entries of `dir` whose name matches `pattern` (group 1: the writer's pid) and whose writer is gone. Returns their names. */
export async function removeDeadWritersFiles(dir: string, pattern: RegExp, isAlive: (pid: number) => boolean = isProcessAlive): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && isAlive(pid)) continue;
    await fs.rm(join(dir, name), { recursive: true, force: true }).then(
      () => removed.push(name),
      () => undefined,
    );
  }
  return removed;
}

/** Whether an error is the file system running out of room (disk full or quota). */
export function isNoSpaceError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Free bytes for an unprivileged writer on the file system holding `path`, or undefined when unknown. */
export async function freeBytes(path: string): Promise<number | undefined> {
  try {
    const s = await fs.statfs(path);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/** 1234567 → '1.2 MB' (decimal units, as df -H and file managers print). */
export function formatBytes(n: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
