/**
 * VAE Lens extension host entry point. It never loads TensorFlow.js: training runs in a child
 * process (dist/trainer.js), and everything shown is read from run folders. Activation only
 * wires things up; the first scan of the runs folders runs afterwards, off the activation path.
 */
import * as vscode from 'vscode';
import { RunStore } from './model/runStore';
import { RunManager } from './runManager';
import { RunsTreeProvider, RUN_URI_SCHEME, type RunsNode } from './runsTree';
import { RunStatusBar } from './statusBar';
import { WarningNotifier } from './warnings';
import { registerCommands } from './commands';
import { registerExperimentDiagnostics } from './experimentDiagnostics';
import { healthSettings, runsRoots, SECTION } from './settings';
import { createPanels } from './panels';

let log: vscode.LogOutputChannel | undefined;

/** Live runs are polled as well as watched: watchers can miss appends (network file systems, remote folders). */
const LIVE_POLL_MS = 1000;
/** A slow full rescan finds runs the watchers cannot see (a runs directory outside the workspace). */
const RESCAN_MS = 10_000;

export interface VaeLensApi {
  store: RunStore;
  manager: RunManager;
  tree: RunsTreeProvider;
}

export function activate(context: vscode.ExtensionContext): VaeLensApi {
  const started = performance.now();
  log = vscode.window.createOutputChannel('VAE Lens', { log: true });
  const output = log;
  context.subscriptions.push(output);

  const store = new RunStore({ health: healthSettings() });
  context.subscriptions.push({ dispose: () => store.dispose() });
  const manager = new RunManager(context, store, output);
  context.subscriptions.push(manager);

  const tree = new RunsTreeProvider(store, manager);
  // Decorations first: a view restored on reload renders its items at once, and they must find the provider.
  context.subscriptions.push(tree, vscode.window.registerFileDecorationProvider(tree));
  const treeView = vscode.window.createTreeView<RunsNode>('vaeLens.runs', { treeDataProvider: tree, canSelectMany: true, showCollapseAll: false });
  context.subscriptions.push(treeView);
  const updateBadge = () => {
    const n = tree.warningCount();
    treeView.badge = n ? { value: n, tooltip: `${n} run${n === 1 ? ' has' : 's have'} a warning` } : undefined;
  };
  context.subscriptions.push(store.onDidChange(updateBadge));

  const panels = createPanels(context, output, store);
  context.subscriptions.push(...panels.disposables);
  const openRun = (dir: string) => panels.openRun(dir);
  const compareRuns = (dirs: string[]) => {
    try {
      panels.compare(dirs);
    } catch (e) {
      void vscode.window.showWarningMessage(`VAE Lens: ${(e as Error).message}`);
    }
  };
  context.subscriptions.push(
    new RunStatusBar(store, manager),
    new WarningNotifier(store, output, openRun),
    ...registerCommands({ context, store, manager, tree, treeView, log: output, openRun, compareRuns }),
    registerExperimentDiagnostics(),
  );

  // Watchers per runs directory, re-made when folders or settings change.
  let watchers: vscode.Disposable[] = [];
  const watch = () => {
    for (const w of watchers) w.dispose();
    watchers = [];
    for (const root of store.getRoots()) {
      const base = vscode.Uri.file(root.runsDir);
      const files = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(base, '*/{run.json,events.jsonl}'));
      const onFile = (uri: vscode.Uri) => store.schedule(vscode.Uri.joinPath(uri, '..').fsPath);
      const folders = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(base, '*'));
      const onFolder = () => store.schedule();
      watchers.push(files, folders, files.onDidChange(onFile), files.onDidCreate(onFile), files.onDidDelete(onFile), folders.onDidCreate(onFolder), folders.onDidDelete(onFolder));
    }
  };
  const applyRoots = () => {
    const roots = runsRoots();
    const folders = vscode.workspace.workspaceFolders ?? [];
    const none = folders.length ? `none: the workspace folders are not local files (${folders.map((f) => f.uri.toString()).join(', ')})` : `none (no folder open${vscode.workspace.workspaceFile ? ` in ${vscode.workspace.workspaceFile.toString()}` : ''})`;
    const fromFile = roots.length > 0 && folders.length === 0 ? ' (read from the workspace file: the window reported no folders)' : '';
    output.info(`Runs folders${fromFile}: ${roots.map((r) => `${r.label} → ${r.runsDir}`).join('; ') || none}`);
    store.setRoots(roots);
    watch();
  };
  applyRoots();
  context.subscriptions.push(
    { dispose: () => watchers.forEach((w) => w.dispose()) },
    vscode.workspace.onDidChangeWorkspaceFolders(applyRoots),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      void store.markInterrupted({ persist: true }).catch((e) => output.error(`Marking interrupted runs: ${(e as Error).message}`));
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.runsDirectory`)) applyRoots();
      if (e.affectsConfiguration(`${SECTION}.warnings`)) store.setHealthSettings(healthSettings());
      if (e.affectsConfiguration(`${SECTION}.maxConcurrentRuns`)) manager.pump();
    }),
  );

  const poll = setInterval(() => {
    for (const dir of store.liveRunDirs()) store.schedule(dir);
    // A trainer killed while this window watches (SIGKILL, out of memory): tree, status bar and panels all show it interrupted.
    void store.markInterrupted({ persist: vscode.workspace.isTrusted }).catch((e) => output.error(`Marking interrupted runs: ${(e as Error).message}`));
  }, LIVE_POLL_MS);
  const rescan = setInterval(() => {
    if (treeView.visible) store.schedule();
  }, RESCAN_MS);
  context.subscriptions.push({ dispose: () => { clearInterval(poll); clearInterval(rescan); } });

  // After the first scan: runs whose trainer died while no window watched become 'interrupted'.
  void store.refreshAll().then(async () => {
    // Untrusted: shown as interrupted, written once the workspace is trusted (viewing modifies nothing).
    const marked = await store.markInterrupted({ persist: vscode.workspace.isTrusted });
    for (const m of marked) output.info(`Run ${m.id} was marked running but its trainer is gone: now interrupted (VAE: Resume continues it).`);
    manager.pump();
  }).catch((e) => output.error(`Scanning runs: ${(e as Error).message}`));

  output.info(`VAE Lens ${context.extension.packageJSON.version} activated in ${(performance.now() - started).toFixed(1)} ms (scheme ${RUN_URI_SCHEME})`);
  return { store, manager, tree };
}

export function deactivate(): void {
  // Detached trainers keep running (they survive a reload); listeners are disposed with the subscriptions.
  log = undefined;
}
