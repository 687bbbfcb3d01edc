/**
 * Where the extension host opens the run and compare panels (src/extension/panels, owned by the
 * panels' engineer). Until they land, Open Run shows the run's run.json so the command still works.
 */
import * as vscode from 'vscode';
import { join } from 'node:path';
import { RUN_FILE } from '../shared/run';
import type { RunStore } from './model/runStore';

export function registerRunPanels(_context: vscode.ExtensionContext, _store: RunStore, _log: vscode.LogOutputChannel): void {
  // Panels register their WebviewPanelSerializers here once they exist.
}

export function openRunPanel(_context: vscode.ExtensionContext, runDir: string, _log: vscode.LogOutputChannel): void {
  void vscode.window.showTextDocument(vscode.Uri.file(join(runDir, RUN_FILE)), { preview: true });
}

export function openComparePanel(_context: vscode.ExtensionContext, runDirs: string[], log: vscode.LogOutputChannel): void {
  log.info(`Compare ${runDirs.join(', ')}`);
  void vscode.window.showInformationMessage(`VAE Lens: comparing ${runDirs.length} runs needs the compare panel.`);
}
