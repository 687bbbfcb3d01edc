/** The compare panel: MIN_COMPARE_RUNS to MAX_COMPARE_RUNS runs (runRules); the same set of runs (in any order) has one panel. */
import * as vscode from 'vscode';
import { canCompare, MAX_COMPARE_RUNS, MIN_COMPARE_RUNS } from '../../shared/runRules';
import type { UiState } from '../../shared/panelState';
import { OPENED, RESTORED, RunsPanel, webviewOptions, type PanelContext, type PanelStart } from './runsPanel';

export const COMPARE_PANEL_TYPE = 'vaeLens.compare';

function keyOf(dirs: readonly string[]): string {
  return [...dirs].sort().join('\n');
}

export class ComparePanel extends RunsPanel {
  private static readonly open = new Map<string, ComparePanel>();

  static createOrShow(ctx: PanelContext, dirs: string[], at?: { viewColumn: vscode.ViewColumn; preserveFocus: boolean }, ui?: UiState, start: PanelStart = OPENED): ComparePanel {
    const unique = [...new Set(dirs)];
    if (!canCompare(unique.length)) {
      throw new Error(`Compare Runs needs ${MIN_COMPARE_RUNS} to ${MAX_COMPARE_RUNS} different runs (got ${unique.length}).`);
    }
    const existing = ComparePanel.open.get(keyOf(unique));
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(COMPARE_PANEL_TYPE, `VAE: compare ${unique.length} runs`, at ?? { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, webviewOptions(ctx.extensionUri, unique));
    return new ComparePanel(panel, unique, ctx, start, ui);
  }

  static revive(panel: vscode.WebviewPanel, ctx: PanelContext, dirs: string[], ui: UiState | undefined): ComparePanel {
    const existing = ComparePanel.open.get(keyOf(dirs));
    if (existing) {
      panel.dispose();
      return existing;
    }
    return new ComparePanel(panel, dirs, ctx, RESTORED, ui);
  }

  private constructor(panel: vscode.WebviewPanel, dirs: string[], ctx: PanelContext, start: PanelStart, ui: UiState | undefined) {
    super(panel, 'compare', dirs, ctx, start, ui);
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'vae.svg');
    ComparePanel.open.set(keyOf(dirs), this);
  }

  protected title(): string {
    const names = this.dirs.map((_, i) => this.infoOf(i)?.name).filter((n): n is string => !!n);
    return names.length === this.dirs.length ? `VAE: ${names.join(' vs ')}` : `VAE: compare ${this.dirs.length} runs`;
  }

  protected onDispose(): void {
    const key = keyOf(this.dirs);
    if (ComparePanel.open.get(key) === this) ComparePanel.open.delete(key);
  }
}
