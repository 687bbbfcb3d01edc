/**
 * The panels' API for the rest of the extension: register the serializers once at activation, then
 * open a run or a comparison from commands (Open Run, Compare Runs, the tree, notifications).
 */
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { parsePanelState } from '../../shared/protocol';
import { COMPARE_PANEL_TYPE, ComparePanel } from './comparePanel';
import { RUN_PANEL_TYPE, RunPanel } from './runPanel';
import type { PanelContext } from './runsPanel';

export { RunPanel, ComparePanel, RUN_PANEL_TYPE, COMPARE_PANEL_TYPE };

function panelContext(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): PanelContext {
  const ctx: PanelContext = {
    extensionUri: context.extensionUri,
    log,
    openRun: (dir) => RunPanel.createOrShow(ctx, dir),
  };
  return ctx;
}

/** Opens the run panel of a run folder, or reveals it when it is already open. */
export function openRunPanel(context: vscode.ExtensionContext, runDir: string, log: vscode.LogOutputChannel): RunPanel {
  return RunPanel.createOrShow(panelContext(context, log), runDir);
}

/** Opens the compare panel of 2–6 run folders (throws with a message a user can read otherwise). */
export function openComparePanel(context: vscode.ExtensionContext, runDirs: string[], log: vscode.LogOutputChannel): ComparePanel {
  return ComparePanel.createOrShow(panelContext(context, log), runDirs);
}

/**
 * Brings panels back after a window reload. The webview's saved state names its runs; a panel whose
 * runs are gone (deleted folders) or whose state is unreadable is closed instead of showing an error.
 */
export function registerPanels(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): vscode.Disposable[] {
  const ctx = panelContext(context, log);
  const restore = (kind: 'run' | 'compare') => ({
    async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
      const parsed = parsePanelState(state);
      if (!parsed || parsed.panel !== kind || !parsed.dirs.every((d) => existsSync(d))) {
        log.info(`VAE Lens: not restoring a ${kind} panel (${parsed ? 'its runs are gone' : 'no saved state'}).`);
        panel.dispose();
        return;
      }
      if (kind === 'run') RunPanel.revive(panel, ctx, parsed.dirs[0]);
      else ComparePanel.revive(panel, ctx, parsed.dirs);
    },
  });
  return [
    vscode.window.registerWebviewPanelSerializer(RUN_PANEL_TYPE, restore('run')),
    vscode.window.registerWebviewPanelSerializer(COMPARE_PANEL_TYPE, restore('compare')),
  ];
}
