/** What a panel's webview may load besides the extension's dist/ and media/: kept free of vscode so it can be tested alone. */
import { dirname } from 'node:path';

/** The runs directories that hold the shown runs (each once): their images load from there, nothing else of the disk does. */
export function runsDirectories(runDirs: readonly string[]): string[] {
  return [...new Set(runDirs.map((d) => dirname(d)))];
}
