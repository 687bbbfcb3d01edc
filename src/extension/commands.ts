/**
 * The "VAE" commands (declared in package.json with their menus and when clauses): registration
 * and error reporting here; the work in the run picker (runPicker.ts), the train flow
 * (trainFlow.ts) and the run folder operations (folderOps.ts).
 */
import * as vscode from 'vscode';
import type { RunStore } from './model/runStore';
import type { RunManager } from './runManager';
import type { RunsNode, RunsTreeProvider } from './runsTree';
import { FolderOps } from './folderOps';
import { RunPicker, argDir, type RunArg } from './runPicker';
import { TrainFlow } from './trainFlow';
import { MAX_COMPARE_RUNS, MIN_COMPARE_RUNS, canCompare } from '../shared/runRules';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  store: RunStore;
  manager: RunManager;
  tree: RunsTreeProvider;
  treeView: vscode.TreeView<RunsNode>;
  log: vscode.LogOutputChannel;
  openRun(runDir: string): unknown;
  compareRuns(runDirs: string[]): unknown;
}

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const { store, log } = d;
  const picker = new RunPicker(store);
  const trainFlow = new TrainFlow(d);
  const ops = new FolderOps(d, picker);

  async function openRun(arg?: RunArg): Promise<void> {
    const [dir] = await picker.targets(arg, undefined, { action: 'Open Run', placeHolder: 'Run to open', filter: () => true });
    if (dir) d.openRun(dir);
  }

  async function compare(arg?: RunArg, selected?: RunsNode[]): Promise<void> {
    let dirs = (selected ?? []).map(argDir).filter((x): x is string => !!x);
    const clicked = argDir(arg);
    if (clicked && !dirs.includes(clicked)) dirs = [clicked];
    dirs = dirs.length < 2
      ? await picker.targets(undefined, undefined, { action: 'Compare Runs', placeHolder: `Runs to compare (${MIN_COMPARE_RUNS} to ${MAX_COMPARE_RUNS})`, filter: (r) => !!r.info, many: true })
      : await picker.checked(dirs, 'Compare Runs');
    if (dirs.length === 0) return;
    if (!canCompare(dirs.length)) {
      void vscode.window.showWarningMessage(`VAE Lens: select ${MIN_COMPARE_RUNS} to ${MAX_COMPARE_RUNS} runs to compare (${dirs.length} selected). In the VAE Runs view, Ctrl/Cmd-click selects several.`);
      return;
    }
    d.compareRuns(dirs);
  }

  const wrap = <A extends unknown[]>(name: string, fn: (...args: A) => Promise<void>) => async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      log.error(`${name}: ${(e as Error).stack ?? e}`);
      void vscode.window.showErrorMessage(`VAE Lens: ${name} failed: ${(e as Error).message}`);
    }
  };

  return [
    vscode.commands.registerCommand('vaeLens.train', wrap('Train', (arg?: vscode.Uri) => trainFlow.train(arg))),
    vscode.commands.registerCommand('vaeLens.newExperiment', wrap('New Experiment File', async () => { await trainFlow.newExperiment(); })),
    vscode.commands.registerCommand('vaeLens.stop', wrap('Stop', (arg?: RunArg, selected?: RunsNode[]) => ops.stop(arg, selected))),
    vscode.commands.registerCommand('vaeLens.resume', wrap('Resume', (arg?: RunArg) => ops.resume(arg))),
    vscode.commands.registerCommand('vaeLens.openRun', wrap('Open Run', openRun)),
    vscode.commands.registerCommand('vaeLens.compareRuns', wrap('Compare Runs', compare)),
    vscode.commands.registerCommand('vaeLens.renameRun', wrap('Rename', (arg?: RunArg) => ops.rename(arg))),
    vscode.commands.registerCommand('vaeLens.deleteRun', wrap('Delete Run', (arg?: RunArg, selected?: RunsNode[]) => ops.remove(arg, selected))),
    vscode.commands.registerCommand('vaeLens.exportMetrics', wrap('Export Metrics', (arg?: RunArg, selected?: RunsNode[]) => ops.exportMetrics(arg, selected))),
    vscode.commands.registerCommand('vaeLens.revealRunFolder', wrap('Reveal Run Folder', (arg?: RunArg) => ops.reveal(arg))),
    vscode.commands.registerCommand('vaeLens.refresh', wrap('Refresh', async () => {
      store.schedule();
      await store.flush();
    })),
    vscode.commands.registerCommand('vaeLens.showLog', () => log.show(true)),
  ];
}
