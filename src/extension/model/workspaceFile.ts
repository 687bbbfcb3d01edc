/**
 * The folders a .code-workspace file lists, read from the file itself.
 *
 * Used only when a window has a workspace file open but reports no workspace folders: code-server
 * sometimes starts the extension host that way for a multi-root workspace and never sends the
 * folders afterwards (seen in the multi-root E2E test), which left VAE Runs empty. A workspace
 * file that really lists no folders gives none here too.
 */
import { parse, type ParseError } from 'jsonc-parser';
import { basename, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ListedFolder {
  name: string;
  path: string;
}

/**
 * Folders of a workspace file's text (JSON with comments and trailing commas): `path` entries
 * resolve against the file's folder, `uri` entries count only when they are file: URIs.
 * Unparseable text gives an empty list, never an exception.
 */
export function workspaceFileFolders(text: string, fileDir: string): ListedFolder[] {
  const errors: ParseError[] = [];
  const doc = parse(text, errors, { allowTrailingComma: true, disallowComments: false }) as unknown;
  if (errors.length > 0 || typeof doc !== 'object' || doc === null) return [];
  const folders = (doc as { folders?: unknown }).folders;
  if (!Array.isArray(folders)) return [];
  const out: ListedFolder[] = [];
  for (const f of folders) {
    if (typeof f !== 'object' || f === null) continue;
    const entry = f as { path?: unknown; uri?: unknown; name?: unknown };
    let path: string | undefined;
    if (typeof entry.path === 'string' && entry.path.trim()) {
      path = isAbsolute(entry.path) ? entry.path : resolve(fileDir, entry.path);
    } else if (typeof entry.uri === 'string' && entry.uri.startsWith('file:')) {
      try {
        path = fileURLToPath(entry.uri);
      } catch {
        path = undefined;
      }
    }
    if (path === undefined) continue;
    out.push({ name: typeof entry.name === 'string' && entry.name.trim() ? entry.name : basename(path), path });
  }
  return out;
}
