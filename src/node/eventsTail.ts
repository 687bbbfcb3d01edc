/**
 * The end of a run's events.jsonl without reading the rest: the last `windowBytes` bytes, from the
 * first line that starts inside them. For readers that show only a run's latest state (the CLI's
 * list) of runs whose event files reach hundreds of MB.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { parseEvents, type RunEvent } from '../shared/events';
import { EVENTS_FILE } from '../shared/run';

export async function readEventsTail(dir: string, windowBytes: number): Promise<{ events: RunEvent[]; partial: boolean }> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(join(dir, EVENTS_FILE), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], partial: false };
    throw e;
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - windowBytes);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    let bytes = buffer.subarray(0, bytesRead);
    // A window that starts mid-file starts mid-line: drop everything up to the first newline.
    if (start > 0) bytes = bytes.subarray(bytes.indexOf(0x0a) + 1);
    return { events: parseEvents(bytes.toString('utf8')).events, partial: start > 0 };
  } finally {
    await handle.close();
  }
}
