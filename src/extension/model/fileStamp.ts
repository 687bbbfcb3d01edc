/**
 * Whether a small file that writers replace by atomic rename (run.json) has to be read again.
 *
 * mtime alone misses rewrites: file times come from a coarse clock (one kernel tick, several ms),
 * so a status change written within the tick of the previous write keeps the same mtime, and the
 * run looked "running" forever after Stop. A rename also brings a new inode, but inode numbers are
 * reused. So, as git does for "racily clean" files: a file whose mtime was not safely older than
 * the moment it was last read is read again; an older one only when inode, size, mtime or ctime
 * differ. Readers compare what they read with what they had, so a re-read changes nothing by itself.
 */
import type { Stats } from 'node:fs';

/** A write this close to a read (ms) may share its mtime with a later write. */
const RACY_MS = 2000;

export class FileStamp {
  private stamp: string | undefined;
  private readAtMs = -Infinity;
  private mtimeMs = 0;

  private static key(st: Stats): string {
    return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  }

  /** True when the file behind `st` may differ from what was last read. */
  needsRead(st: Stats): boolean {
    if (FileStamp.key(st) !== this.stamp) return true;
    return this.readAtMs - this.mtimeMs < RACY_MS;
  }

  /** Call with the stat taken before reading and the time the read started. */
  recordRead(st: Stats, readAtMs = Date.now()): void {
    this.stamp = FileStamp.key(st);
    this.mtimeMs = st.mtimeMs;
    this.readAtMs = readAtMs;
  }

  /** Forget the stamp: the next check reads the file. */
  invalidate(): void {
    this.stamp = undefined;
  }
}
