/**
 * Incremental reader of one run's events.jsonl: each read returns only the events appended since
 * the last one (the file is never re-read whole while it only grows). A file that shrank or was
 * replaced (another inode, e.g. a run folder deleted and recreated under the same id) is read again
 * from the start, and the caller is told to drop what it had.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { EVENTS_FILE } from '../shared/run';
import { EventLineBuffer, type RunEvent, type SkippedLine } from '../shared/events';

export interface TailRead {
  /** Events appended since the last read (after a reset: all events in the file). */
  events: RunEvent[];
  /** The file was truncated or replaced: forget earlier events, `events` is the whole file. */
  reset: boolean;
  /** Bytes read by this call (0 when nothing changed). */
  bytesRead: number;
  /** The first read started inside a large file (initialWindowBytes): earlier events were not read. */
  partial: boolean;
}

/** Larger appends are read in chunks so one huge events.jsonl cannot allocate one huge buffer. */
const CHUNK = 1 << 20;

export class EventTail {
  private offset = 0;
  private ino: number | undefined;
  private buffer = new EventLineBuffer();
  private decoder = new TextDecoder('utf-8');
  /** Set while a read that started mid-file has not yet passed its first (torn) line. */
  private discardToNewline = false;
  readonly file: string;

  /**
   * @param initialWindowBytes when the file is larger on the first read, start this many bytes
   *   before its end (at the next line): a list of many long runs needs only their recent epochs.
   */
  constructor(readonly runDir: string, private readonly initialWindowBytes = Infinity) {
    this.file = join(runDir, EVENTS_FILE);
  }

  /** Position up to which the file has been consumed (bytes). */
  get bytesConsumed(): number {
    return this.offset;
  }

  get skippedLines(): number {
    return this.buffer.skipped;
  }

  /** The first few skipped lines and why (not valid JSON, not a valid event, a newer version). */
  get skippedProblems(): readonly SkippedLine[] {
    return this.buffer.problems;
  }

  async read(): Promise<TailRead> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        // No events yet (or the file was removed): a later file starts from zero.
        const reset = this.offset > 0;
        this.restart(undefined);
        return { events: [], reset, bytesRead: 0, partial: false };
      }
      throw e;
    }
    try {
      const stat = await handle.stat();
      let reset = false;
      if ((this.ino !== undefined && stat.ino !== this.ino) || stat.size < this.offset) {
        this.restart(stat.ino);
        reset = true;
      }
      const first = this.ino === undefined && this.offset === 0;
      this.ino = stat.ino;
      let partial = false;
      if (first && stat.size > this.initialWindowBytes) {
        this.offset = stat.size - this.initialWindowBytes;
        this.discardToNewline = partial = true;
      }
      if (stat.size === this.offset) return { events: [], reset, bytesRead: 0, partial };
      const events: RunEvent[] = [];
      let bytesRead = 0;
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, stat.size - this.offset));
      while (this.offset < stat.size) {
        const { bytesRead: n } = await handle.read(chunk, 0, Math.min(chunk.length, stat.size - this.offset), this.offset);
        if (n === 0) break;
        this.offset += n;
        bytesRead += n;
        // stream: true keeps a multi-byte character split across chunks intact.
        let text = this.decoder.decode(chunk.subarray(0, n), { stream: true });
        if (this.discardToNewline) {
          const newline = text.indexOf('\n');
          if (newline < 0) continue;
          text = text.slice(newline + 1);
          this.discardToNewline = false;
        }
        events.push(...this.buffer.push(text));
      }
      return { events, reset, bytesRead, partial };
    } finally {
      await handle.close();
    }
  }

  private restart(ino: number | undefined): void {
    this.offset = 0;
    this.ino = ino;
    this.buffer = new EventLineBuffer();
    this.decoder = new TextDecoder('utf-8');
    this.discardToNewline = false;
  }
}
