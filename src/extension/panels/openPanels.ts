/**
 * The panels open in this workspace, kept in a file of the extension's workspace storage: which
 * runs each one shows, by its title. VS Code restores a panel with the state its page saved, but in
 * a browser-hosted VS Code a reload can come before that state is written (the last panel opened
 * then comes back with none); the title VS Code does restore finds its runs here. Written
 * synchronously, since a reload may follow at once. No vscode import: tested under plain Node.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PanelKind } from '../../shared/panelState';

export interface OpenPanel {
  kind: PanelKind;
  title: string;
  dirs: string[];
}

const MAX_PANELS = 50;

export class OpenPanels {
  private readonly file: string | undefined;

  /** @param storageDir the extension's workspace storage folder; none (no workspace): nothing is kept. */
  constructor(storageDir: string | undefined) {
    this.file = storageDir ? join(storageDir, 'open-panels.json') : undefined;
  }

  private read(): OpenPanel[] {
    if (!this.file) return [];
    try {
      const value: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      if (!Array.isArray(value)) return [];
      return value.filter((p): p is OpenPanel =>
        typeof p === 'object' && p !== null && (p.kind === 'run' || p.kind === 'compare') && typeof p.title === 'string' &&
        Array.isArray(p.dirs) && p.dirs.every((d: unknown) => typeof d === 'string'));
    } catch {
      return [];
    }
  }

  private write(panels: OpenPanel[]): void {
    if (!this.file) return;
    try {
      mkdirSync(join(this.file, '..'), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(panels.slice(-MAX_PANELS)));
      renameSync(tmp, this.file);
    } catch {
      // Only a fallback for restoring panels: without it a panel with no saved state is not restored.
    }
  }

  /** A panel shows these runs under this title (again: it moves to the end). */
  record(panel: OpenPanel): void {
    const key = panel.dirs.join('\n');
    this.write([...this.read().filter((p) => p.dirs.join('\n') !== key), panel]);
  }


  /** The runs of the most recent panel of this kind and title (entries stay: a reload may dispose panels before it restores them). */
  find(kind: PanelKind, title: string): string[] | undefined {
    return this.read().reverse().find((p) => p.kind === kind && p.title === title)?.dirs;
  }
}
