/**
 * The panels open in this workspace, kept in a file of the extension's workspace storage: which
 * runs each one shows, by its title, and its view (tab, image epoch, chart choices). VS Code
 * restores a panel with the state its page saved, but in a browser-hosted VS Code a reload can come
 * before that state is written (the last panel opened then comes back with none, the others with
 * an older view); the title VS Code does restore finds its runs here, and its runs its view.
 * Written synchronously, since a reload may follow at once. No vscode import: tested under plain Node.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPlainObject } from '../../shared/schema';
import { parseUiState, type PanelKind, type UiState } from '../../shared/panelState';

export interface OpenPanel {
  kind: PanelKind;
  title: string;
  dirs: string[];
  ui?: UiState;
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
      return value
        .filter((p): p is OpenPanel =>
          typeof p === 'object' && p !== null && (p.kind === 'run' || p.kind === 'compare') && typeof p.title === 'string' &&
          Array.isArray(p.dirs) && p.dirs.every((d: unknown) => typeof d === 'string'))
        .map((p) => ({ kind: p.kind, title: p.title, dirs: p.dirs, ...(isPlainObject(p.ui) ? { ui: parseUiState(p.ui) } : {}) }));
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


  /** The most recent panel of this kind and title (entries stay: a reload may dispose panels before it restores them). */
  find(kind: PanelKind, title: string): OpenPanel | undefined {
    return this.read().reverse().find((p) => p.kind === kind && p.title === title);
  }

  /** The panel of this kind showing these runs. */
  findByDirs(kind: PanelKind, dirs: readonly string[]): OpenPanel | undefined {
    const key = dirs.join('\n');
    return this.read().find((p) => p.kind === kind && p.dirs.join('\n') === key);
  }
}
