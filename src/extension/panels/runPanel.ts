/** The run panel: one per run folder; opening a run again reveals its panel. */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { UiState } from '../../shared/panelState';
import { OPENED, RESTORED, RunsPanel, webviewOptions, type PanelContext, type PanelStart } from './runsPanel';

export const RUN_PANEL_TYPE = 'vaeLens.run';

export class RunPanel extends RunsPanel {
  private static readonly open = new Map<string, RunPanel>();

  static createOrShow(ctx: PanelContext, dir: string, at?: { viewColumn: vscode.ViewColumn; preserveFocus: boolean }, ui?: UiState, start: PanelStart = OPENED): RunPanel {
    const existing = RunPanel.open.get(dir);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(RUN_PANEL_TYPE, `VAE: ${basename(dir)}`, at ?? { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, webviewOptions(ctx.extensionUri, [dir]));
    return new RunPanel(panel, dir, ctx, start, ui);
  }

  /** A panel VS Code restores after a reload (WebviewPanelSerializer). */
  static revive(panel: vscode.WebviewPanel, ctx: PanelContext, dir: string, ui: UiState | undefined): RunPanel {
    const existing = RunPanel.open.get(dir);
    if (existing) {
      panel.dispose();
      return existing;
    }
    return new RunPanel(panel, dir, ctx, RESTORED, ui);
  }

  static get(dir: string): RunPanel | undefined {
    return RunPanel.open.get(dir);
  }

  private constructor(panel: vscode.WebviewPanel, readonly dir: string, ctx: PanelContext, start: PanelStart, ui: UiState | undefined) {
    super(panel, 'run', [dir], ctx, start, ui);
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'vae.svg');
    RunPanel.open.set(dir, this);
  }

  protected title(): string {
    return `VAE: ${this.infoOf(0)?.name ?? basename(this.dir)}`;
  }

  protected onDispose(): void {
    if (RunPanel.open.get(this.dir) === this) RunPanel.open.delete(this.dir);
    // The run's decode service serves this panel only (one panel per run).
    void this.ctx.latent.release(this.dir);
  }
}
