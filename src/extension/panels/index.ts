/**
 * The panels' API for the rest of the extension: created once at activation (serializers
 * registered), then a run or a comparison is opened from commands (Open Run, Compare Runs, the
 * tree, notifications).
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { LatentSessions } from '../../node/latentSessions';
import { trainerEnvironment } from '../settings';
import { parsePanelState } from '../../shared/panelState';
import type { RunStore } from '../model/runStore';
import { COMPARE_PANEL_TYPE, ComparePanel } from './comparePanel';
import { checkRunDir } from '../model/runPaths';
import { OpenPanels } from './openPanels';
import { RUN_PANEL_TYPE, RunPanel } from './runPanel';
import type { PanelContext } from './runsPanel';

export { RunPanel, ComparePanel, RUN_PANEL_TYPE, COMPARE_PANEL_TYPE };

export interface Panels {
  /** Opens the run panel of a run folder, or reveals it when it is already open. */
  openRun(dir: string): RunPanel;
  /** Opens the compare panel of 2–6 run folders (throws with a message a user can read otherwise). */
  compare(dirs: string[]): ComparePanel;
  disposables: vscode.Disposable[];
}

/**
 * Creates the panels' context and brings panels back after a window reload. The webview's saved
 * state names its runs; it is the page's own word, so each folder must still be a run folder inside
 * one of this window's runs folders. A panel whose runs are gone or not allowed, or whose state is
 * unreadable, is closed instead of showing an error.
 */
export function createPanels(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, store: RunStore): Panels {
  const openPanels = new OpenPanels(context.storageUri?.fsPath);
  // The explorer decodes with the extension's own trainer code on a run's checkpoint: like training,
  // only in a trusted workspace (a run folder's config names the data it reads).
  const latent = new LatentSessions(join(context.extensionPath, 'dist', 'trainer.js'), {
    env: { ...trainerEnvironment(), VAE_LENS_ROOT: context.extensionPath },
    log: (line) => log.debug(`Decode service: ${line}`),
    epochsCompleted: (dir) => store.get(dir)?.info?.epochsCompleted,
    whyNot: () =>
      vscode.workspace.isTrusted
        ? undefined
        : 'The latent explorer decodes with VAE Lens\'s trainer on this run\'s checkpoint, which, like training, runs only in a trusted workspace. Trust the workspace (Manage Workspace Trust) to explore this run.',
  });
  const ctx: PanelContext = {
    latent,
    extensionUri: context.extensionUri,
    log,
    store,
    openPanels,
    openRun: (dir) => RunPanel.createOrShow(ctx, dir),
    reopen: (kind, dirs, viewColumn, start, ui) => {
      const at = { viewColumn, preserveFocus: true };
      if (kind === 'run') RunPanel.createOrShow(ctx, dirs[0], at, ui, start);
      else ComparePanel.createOrShow(ctx, [...dirs], at, ui, start);
    },
  };
  const restore = (kind: 'run' | 'compare') => ({
    async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
      // The page's saved state names its runs; failing that (a reload before VS Code wrote it), the record of open panels does.
      const saved = parsePanelState(state);
      const recorded = saved ? openPanels.findByDirs(kind, saved.dirs) : openPanels.find(kind, panel.title);
      const parsed = saved ?? (recorded ? { panel: kind, dirs: recorded.dirs } : undefined);
      const runsDirs = store.getRoots().map((r) => r.runsDir);
      const checks = parsed && parsed.panel === kind ? await Promise.all(parsed.dirs.map((d) => checkRunDir(d, runsDirs))) : [];
      const refused = !parsed || parsed.panel !== kind ? 'no saved state' : checks.map((c) => (c.ok ? undefined : c.reason)).find(Boolean);
      if (refused) {
        log.info(`VAE Lens: not restoring a ${kind} panel: ${refused}.`);
        panel.dispose();
        return;
      }
      if (!saved) log.info(`VAE Lens: restoring ${panel.title} from the record of open panels (VS Code handed it no saved state).`);
      const dirs = checks.map((c) => (c.ok ? c.dir : ''));
      // The view: the host's record is written at each change, VS Code's saved state maybe not.
      const ui = recorded?.ui ?? saved?.ui;
      if (kind === 'run') RunPanel.revive(panel, ctx, dirs[0], ui);
      else ComparePanel.revive(panel, ctx, dirs, ui);
    },
  });
  return {
    openRun: (dir) => RunPanel.createOrShow(ctx, dir),
    compare: (dirs) => ComparePanel.createOrShow(ctx, dirs),
    disposables: [
      { dispose: () => void latent.dispose() },
      vscode.window.registerWebviewPanelSerializer(RUN_PANEL_TYPE, restore('run')),
      vscode.window.registerWebviewPanelSerializer(COMPARE_PANEL_TYPE, restore('compare')),
    ],
  };
}
