/**
 * Which folders a panel may show: a run folder directly inside one of the current runs folders,
 * with a run.json, and not a link that leads elsewhere. Used before a panel is restored from
 * webview state (which the page itself wrote) and before a panel is opened on a path. Kept free of
 * vscode so it can be tested alone.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { RUN_FILE } from '../../shared/run';

function realpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Why `dir` is not a run folder in one of `runsDirs`, or undefined when it is one. */
export function whyNotARunFolder(dir: string, runsDirs: readonly string[]): string | undefined {
  if (typeof dir !== 'string' || !isAbsolute(dir) || normalize(dir) !== dir || dir.includes('\0')) return `${String(dir)} is not an absolute, normalised path`;
  const name = basename(dir);
  if (name === '' || name === '.' || name === '..') return `${dir} is not a run folder`;
  const parent = dirname(dir);
  if (!runsDirs.includes(parent)) return `${dir} is not inside a runs folder of this window (${runsDirs.join(', ') || 'none'})`;
  let stat;
  try {
    stat = lstatSync(dir);
  } catch {
    return `${dir} does not exist`;
  }
  if (!stat.isDirectory()) return `${dir} is not a folder (a link or a file)`;
  const realParent = realpath(parent);
  if (!realParent || realpath(dir) !== join(realParent, name)) return `${dir} leads outside its runs folder`;
  try {
    if (!lstatSync(join(dir, RUN_FILE)).isFile()) return `${join(dir, RUN_FILE)} is not a file`;
  } catch {
    return `${dir} has no ${RUN_FILE}`;
  }
  return undefined;
}
