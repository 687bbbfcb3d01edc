/**
 * What this machine can tell about a process, for the liveness rule in shared/liveness.ts: whether
 * a pid exists, and an id of the process's start that changes when the pid is reused.
 *
 * The start id on Linux is `<boot id>:<start time in clock ticks since boot>` (field 22 of
 * /proc/<pid>/stat): two processes never share it within a boot, and a reboot changes the boot id.
 * On macOS it is the start time `ps` prints. Elsewhere (Windows) it is unknown, and a run's trainer
 * is then judged by its pid alone; no signal is ever sent on that judgement (see liveness.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ProcessProbe, TrainerProcess } from '../shared/liveness';
import { isValidPid } from '../shared/liveness';

let bootId: string | undefined | null = null;

function linuxBootId(): string | undefined {
  if (bootId === null) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
    } catch {
      bootId = undefined;
    }
  }
  return bootId;
}

/** The start id of a process on this machine, or undefined when it does not exist or the platform cannot tell. */
export function processStartId(pid: number): string | undefined {
  if (!isValidPid(pid)) return undefined;
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The command name (field 2) is in parentheses and may hold spaces or ')': fields resume after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const startTicks = fields[19]; // field 22 overall: fields 3.. start at index 0
      const boot = linuxBootId();
      return startTicks && boot ? `${boot}:${startTicks}` : undefined;
    } catch {
      return undefined;
    }
  }
  if (process.platform === 'darwin') {
    try {
      const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      return out ? `darwin:${out}` : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Whether a process with this pid exists (signal 0 probes without killing). Never probes pid ≤ 1 or a group. */
export function isProcessAlive(pid: number | undefined): boolean {
  if (!isValidPid(pid)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This machine, as the liveness rule sees it. */
export const localProcessProbe: ProcessProbe = {
  hostname: hostname(),
  isAlive: isProcessAlive,
  startId: processStartId,
};

/** What a trainer records in run.json about itself while it is live. */
export function currentTrainerProcess(): TrainerProcess {
  return { pid: process.pid, host: hostname(), start: processStartId(process.pid) };
}
