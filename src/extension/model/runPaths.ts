/**
 * Which paths a run command may act on. A command's argument can come from anywhere (a tree item,
 * a link, another extension's executeCommand), so Delete, Rename, Export, Stop, Resume, Reveal and
 * Open check it first: a run folder directly inside one of the current runs folders, judged on real
 * paths (no `..`, no symbolic link leading out). And the file name Export proposes comes from
 * run.json, which anyone can write: it is made safe to be a file name.
 *
 * No vscode import: unit-tested under plain Node.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { RUN_FILE } from '../../shared/run';

export type RunDirCheck = { ok: true; dir: string } | { ok: false; reason: string };

/** Control characters, and bidirectional overrides that make a name read differently from what it is. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

async function realDir(path: string): Promise<string | undefined> {
  try {
    const real = await fs.realpath(path);
    return (await fs.stat(real)).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks that `candidate` is a run folder directly inside one of `runsDirs`. On success `dir` is
 * the folder as the run store names it (the runs folder as configured, joined with the run's
 * folder name), so it matches the store's keys even when the runs folder is reached by a link.
 */
export async function checkRunDir(candidate: unknown, runsDirs: readonly string[]): Promise<RunDirCheck> {
  if (typeof candidate !== 'string' || candidate === '') return { ok: false, reason: 'no run folder was given' };
  const shown = JSON.stringify(candidate);
  if (UNPRINTABLE.test(candidate)) return { ok: false, reason: `the path ${shown} contains control characters` };
  if (!isAbsolute(candidate)) return { ok: false, reason: `${shown} is not an absolute path` };
  if (candidate.split(/[\\/]/).includes('..')) return { ok: false, reason: `${shown} contains ".."` };
  if (runsDirs.length === 0) return { ok: false, reason: 'no runs folder is open (open a folder; runs live in its vaeLens.runsDirectory)' };
  const real = await realDir(candidate);
  if (!real) return { ok: false, reason: `${shown} is not an existing folder` };
  for (const runsDir of runsDirs) {
    const realRuns = await realDir(runsDir);
    if (!realRuns || dirname(real) !== realRuns || basename(real) === '') continue;
    try {
      const runFile = await fs.lstat(join(real, RUN_FILE));
      if (!runFile.isFile()) return { ok: false, reason: `${join(real, RUN_FILE)} is not a plain file` };
    } catch {
      return { ok: false, reason: `${shown} has no ${RUN_FILE}, so it is not a run folder` };
    }
    return { ok: true, dir: join(runsDir, basename(real)) };
  }
  const where = real === candidate ? '' : ` (it leads to ${real})`;
  return { ok: false, reason: `${shown}${where} is not a run folder directly inside a runs folder of this workspace (${runsDirs.join(', ')})` };
}

/** Longest run id kept in an exported file name (ids VAE Lens makes are under 60 characters). */
export const EXPORT_NAME_MAX = 80;

/** The metrics CSV's proposed file name: the run id without path separators, control characters or reserved characters, bounded. */
export function exportFileName(runId: unknown): string {
  const safe = String(runId ?? '')
    .normalize('NFC')
    .replace(new RegExp(UNPRINTABLE.source, 'g'), '')
    .replace(/[\\/:*?"<>|]+/g, '-')
    .replace(/^[\s.-]+/, '')
    .slice(0, EXPORT_NAME_MAX)
    .replace(/[\s.]+$/, '');
  return `${safe || 'run'}-metrics.csv`;
}

/** The JSON export written beside the chosen CSV: the same name with .json for .csv (appended when the name has another ending). */
export function jsonExportBeside(csvPath: string): string {
  return /\.csv$/i.test(csvPath) ? csvPath.replace(/\.csv$/i, '.json') : `${csvPath}.json`;
}
