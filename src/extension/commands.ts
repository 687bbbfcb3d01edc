/** The "VAE" commands (declared in package.json with their menus and when clauses). */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CONFIG_FIELDS, type TrainConfig } from '../shared/config';
import { CHECKPOINT_DIR, isLiveStatus } from '../shared/run';
import { readRun, readRunInfo, writeRunInfo } from '../node/runFolder';
import type { RunState, RunStore, RunsRoot } from './model/runStore';
import { TRAIN_PRESETS, experimentNameFromFile, parseExperimentFile, resolveTrainConfig } from './model/presets';
import { metricsCsv } from './model/metricsCsv';
import { runItemModel, sortRuns } from './model/treeModel';
import type { RunManager } from './runManager';
import type { RunsNode, RunsTreeProvider } from './runsTree';
import { trainDefaults } from './settings';

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

const LAST_USED_KEY = 'vaeLens.lastTrain';
type LastUsed = { kind: 'preset'; id: string } | { kind: 'file'; uri: string };

const UNTRUSTED = 'VAE Lens does not train in an untrusted workspace: training runs code and reads its configuration and data paths from the workspace. Trust the workspace (Manage Workspace Trust) to train; existing runs can still be viewed.';

/** A command's argument: a tree node, a run folder path, a Uri, or nothing (palette). */
type RunArg = RunsNode | string | vscode.Uri | undefined;

function argDir(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (arg && typeof arg === 'object' && (arg as RunsNode).kind === 'run') return (arg as { dir: string }).dir;
  return undefined;
}

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const { store, manager, log } = d;

  /** The run folders a command acts on: the tree selection (multi-select), the argument, or a pick. */
  async function targets(arg: RunArg, selected: RunsNode[] | undefined, placeHolder: string, filter: (r: RunState) => boolean, many = false): Promise<string[]> {
    const one = argDir(arg);
    // The multi-selection counts only when the clicked run is part of it (a right-click elsewhere means that run).
    const fromSelection = (selected ?? []).map(argDir).filter((x): x is string => !!x);
    if (fromSelection.length > 1 && (!one || fromSelection.includes(one))) return fromSelection;
    if (one) return [one];
    await store.flush();
    const candidates = sortRuns(store.runs().filter(filter));
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(`VAE Lens: no run to choose from (${placeHolder.toLowerCase()}).`);
      return [];
    }
    const items = candidates.map((r) => {
      const m = runItemModel(r);
      return { label: m.label, description: m.description, detail: r.dir, dir: r.dir };
    });
    if (many) {
      const picked = await vscode.window.showQuickPick(items, { placeHolder, canPickMany: true, matchOnDescription: true });
      return picked?.map((p) => p.dir) ?? [];
    }
    const picked = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true });
    return picked ? [picked.dir] : [];
  }

  function rootForPath(path: string): RunsRoot | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(path));
    return store.getRoots().find((r) => r.label === folder?.name) ?? store.rootOf(path);
  }

  async function chooseRoot(): Promise<RunsRoot | undefined> {
    const roots = store.getRoots();
    if (roots.length === 0) {
      void vscode.window.showErrorMessage('VAE Lens: open a folder first; runs are written to its runs directory (setting vaeLens.runsDirectory).');
      return undefined;
    }
    if (roots.length === 1) return roots[0];
    const picked = await vscode.window.showQuickPick(roots.map((r) => ({ label: r.label, description: r.runsDir, root: r })), { placeHolder: 'Workspace folder to write the run to' });
    return picked?.root;
  }

  function cwdFor(runsDir: string): string {
    // Relative paths in a config (idx:<folder>) mean the workspace folder, as in the editor.
    return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(runsDir))?.uri.fsPath ?? dirname(runsDir);
  }

  async function configFromFile(uri: vscode.Uri): Promise<TrainConfig | undefined> {
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    const name = vscode.workspace.asRelativePath(uri);
    const parsed = parseExperimentFile(text, name);
    if (!parsed.ok) {
      void vscode.window.showErrorMessage(`VAE Lens: ${parsed.errors[0]}`);
      return undefined;
    }
    const specific = { name: experimentNameFromFile(uri.fsPath), ...parsed.value };
    const resolved = resolveTrainConfig(trainDefaults(uri), specific);
    if (!resolved.ok) {
      const choice = await vscode.window.showErrorMessage(`VAE Lens: ${name} has ${resolved.errors.length} invalid field(s): ${resolved.errors.join('; ')}`, 'Open File');
      if (choice) await vscode.window.showTextDocument(uri);
      return undefined;
    }
    return resolved.config;
  }

  function configFromPreset(id: string): TrainConfig | undefined {
    const preset = TRAIN_PRESETS.find((p) => p.id === id);
    if (!preset) return undefined;
    const resolved = resolveTrainConfig(trainDefaults(), preset.config as Record<string, unknown>);
    if (!resolved.ok) {
      void vscode.window.showErrorMessage(`VAE Lens: the settings vaeLens.defaults.* make "${preset.label}" invalid: ${resolved.errors.join('; ')}`);
      return undefined;
    }
    return resolved.config;
  }

  async function train(arg?: vscode.Uri): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(UNTRUSTED);
      return;
    }
    let choice: LastUsed | undefined;
    if (arg instanceof vscode.Uri) {
      choice = { kind: 'file', uri: arg.toString() };
    } else {
      type Item = vscode.QuickPickItem & { choice?: LastUsed };
      const items: Item[] = [];
      const last = d.context.workspaceState.get<LastUsed>(LAST_USED_KEY);
      const files = await vscode.workspace.findFiles('**/*.vae.json', '**/node_modules/**', 200);
      if (last) {
        const label = last.kind === 'preset' ? TRAIN_PRESETS.find((p) => p.id === last.id)?.label : vscode.workspace.asRelativePath(vscode.Uri.parse(last.uri));
        if (label) items.push({ label: `$(history) Last used: ${label}`, choice: last }, { label: '', kind: vscode.QuickPickItemKind.Separator });
      }
      for (const p of TRAIN_PRESETS) items.push({ label: p.label, detail: p.detail, choice: { kind: 'preset', id: p.id } });
      if (files.length) {
        items.push({ label: 'Experiment files', kind: vscode.QuickPickItemKind.Separator });
        for (const f of files.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
          items.push({ label: `$(json) ${vscode.workspace.asRelativePath(f)}`, description: '*.vae.json', choice: { kind: 'file', uri: f.toString() } });
        }
      }
      const picked = await vscode.window.showQuickPick(items, { placeHolder: 'What to train', matchOnDetail: true, title: 'VAE: Train' });
      choice = picked?.choice;
    }
    if (!choice) return;
    let config: TrainConfig | undefined;
    let root: RunsRoot | undefined;
    if (choice.kind === 'file') {
      const uri = vscode.Uri.parse(choice.uri);
      config = await configFromFile(uri);
      root = rootForPath(uri.fsPath) ?? (await chooseRoot());
    } else {
      config = configFromPreset(choice.id);
      if (config) root = await chooseRoot();
    }
    if (!config || !root) return;
    await d.context.workspaceState.update(LAST_USED_KEY, choice);
    const position = manager.enqueue({ config, runsDir: root.runsDir, cwd: cwdFor(root.runsDir) });
    log.info(`Train "${config.name}" (${config.model}, dimz ${config.dimz}, ${config.epochs} epochs) → ${root.runsDir}${position ? `, queued #${position}` : ''}`);
    if (position > 0) void vscode.window.showInformationMessage(`VAE Lens: "${config.name}" is queued (#${position}); it starts when a running run ends (setting vaeLens.maxConcurrentRuns).`);
  }

  async function stop(arg?: RunArg, selected?: RunsNode[]): Promise<void> {
    const queuedNodes = [arg, ...(selected ?? [])].filter((n): n is RunsNode & { kind: 'queued' } => typeof n === 'object' && n !== null && (n as RunsNode).kind === 'queued');
    for (const q of queuedNodes) manager.dequeue(q.key);
    if (queuedNodes.length && !(selected ?? []).some((n) => n.kind === 'run')) return;
    const dirs = await targets(arg, selected, 'Run to stop', (r) => !!r.info && isLiveStatus(r.info.status) || manager.isQueued(r.dir));
    for (const dir of dirs) {
      const result = manager.stop(dir);
      const name = store.get(dir)?.info?.name ?? dir;
      log.info(`Stop "${name}": ${result}`);
      if (result === 'not-running') void vscode.window.showInformationMessage(`VAE Lens: "${name}" is not running.`);
    }
  }

  async function resume(arg?: RunArg): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(UNTRUSTED);
      return;
    }
    const resumable = (r: RunState) => !!r.info && ['stopped', 'interrupted', 'failed'].includes(r.info.status);
    const [dir] = await targets(arg, undefined, 'Run to resume', resumable);
    if (!dir) return;
    const run = store.get(dir);
    if (!run?.info) return;
    if (!resumable(run)) {
      void vscode.window.showInformationMessage(`VAE Lens: "${run.info.name}" is ${run.info.status}; only stopped, interrupted or failed runs can be resumed.`);
      return;
    }
    if (!existsSync(join(dir, CHECKPOINT_DIR))) {
      void vscode.window.showErrorMessage(`VAE Lens: "${run.info.name}" has no checkpoint yet (it ended before its first epoch finished), so there is nothing to resume. Train it again instead.`);
      return;
    }
    const position = manager.enqueue({ resume: dir, cwd: cwdFor(run.root.runsDir) });
    log.info(`Resume "${run.info.name}" from epoch ${run.info.epochsCompleted}${position ? `, queued #${position}` : ''}`);
  }

  async function openRun(arg?: RunArg): Promise<void> {
    const [dir] = await targets(arg, undefined, 'Run to open', () => true);
    if (dir) d.openRun(dir);
  }

  async function compare(arg?: RunArg, selected?: RunsNode[]): Promise<void> {
    let dirs = (selected ?? []).map(argDir).filter((x): x is string => !!x);
    const clicked = argDir(arg);
    if (clicked && !dirs.includes(clicked)) dirs = [clicked];
    if (dirs.length < 2) dirs = await targets(undefined, undefined, 'Runs to compare (2 to 6)', (r) => !!r.info, true);
    if (dirs.length === 0) return;
    if (dirs.length < 2 || dirs.length > 6) {
      void vscode.window.showWarningMessage(`VAE Lens: select 2 to 6 runs to compare (${dirs.length} selected). In the VAE Runs view, Ctrl/Cmd-click selects several.`);
      return;
    }
    d.compareRuns(dirs);
  }

  async function rename(arg?: RunArg): Promise<void> {
    const [dir] = await targets(arg, undefined, 'Run to rename', (r) => !!r.info);
    if (!dir) return;
    const info = await readRunInfo(dir);
    if (isLiveStatus(info.status)) {
      void vscode.window.showInformationMessage(`VAE Lens: "${info.name}" is training; rename it once it has stopped (the trainer rewrites run.json while it runs).`);
      return;
    }
    const spec = CONFIG_FIELDS.name;
    const name = await vscode.window.showInputBox({
      title: 'Rename run', value: info.name, prompt: 'The run folder keeps its id; the name shown changes.',
      validateInput: (v) => (v.trim() === '' ? 'A name is needed.' : spec.kind === 'string' && spec.pattern && !spec.pattern.test(v) ? `Use ${spec.patternText}.` : spec.kind === 'string' && spec.maxLength && v.length > spec.maxLength ? `At most ${spec.maxLength} characters.` : undefined),
    });
    if (!name || name === info.name) return;
    await writeRunInfo(dir, { ...info, name: name.trim(), updated: new Date().toISOString() });
    store.schedule(dir);
  }

  async function remove(arg?: RunArg, selected?: RunsNode[]): Promise<void> {
    const dirs = await targets(arg, selected, 'Run to delete', (r) => !r.info || !isLiveStatus(r.info.status));
    if (dirs.length === 0) return;
    const live = dirs.filter((x) => { const s = store.get(x)?.info?.status; return s && isLiveStatus(s); });
    if (live.length) {
      void vscode.window.showWarningMessage(`VAE Lens: stop "${store.get(live[0])?.info?.name}" before deleting it.`);
      return;
    }
    const names = dirs.map((x) => `"${store.get(x)?.info?.name ?? x}"`).join(', ');
    const detail = dirs.length === 1 ? `Its folder ${dirs[0]} (metrics, images, checkpoint) moves to the trash.` : `${dirs.length} run folders (metrics, images, checkpoints) move to the trash.`;
    const confirm = await vscode.window.showWarningMessage(`Delete ${names}?`, { modal: true, detail }, 'Move to Trash');
    if (confirm !== 'Move to Trash') return;
    for (const dir of dirs) {
      try {
        await vscode.workspace.fs.delete(vscode.Uri.file(dir), { recursive: true, useTrash: true });
        log.info(`Deleted run folder ${dir} (moved to the trash)`);
      } catch (e) {
        const again = await vscode.window.showWarningMessage(`The trash is not available here (${(e as Error).message}). Delete ${dir} permanently?`, { modal: true }, 'Delete Permanently');
        if (again !== 'Delete Permanently') continue;
        await vscode.workspace.fs.delete(vscode.Uri.file(dir), { recursive: true, useTrash: false });
        log.info(`Deleted run folder ${dir} permanently`);
      }
    }
    store.schedule();
  }

  async function exportMetrics(arg?: RunArg): Promise<void> {
    const [dir] = await targets(arg, undefined, 'Run to export', (r) => !!r.latest);
    if (!dir) return;
    const run = await readRun(dir);
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(join(dirname(dir), `${run.info.id}-metrics.csv`)),
      filters: { 'CSV': ['csv'] },
      title: `Export metrics of "${run.info.name}"`,
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(metricsCsv(run.events)));
    log.info(`Exported metrics of ${dir} to ${target.fsPath}`);
    void vscode.window.showInformationMessage(`VAE Lens: metrics of "${run.info.name}" written to ${vscode.workspace.asRelativePath(target)}.`);
  }

  async function reveal(arg?: RunArg): Promise<void> {
    const [dir] = await targets(arg, undefined, 'Run folder to reveal', () => true);
    if (!dir) return;
    const uri = vscode.Uri.file(dir);
    if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
    else await vscode.commands.executeCommand('revealFileInOS', uri);
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
    vscode.commands.registerCommand('vaeLens.train', wrap('Train', train)),
    vscode.commands.registerCommand('vaeLens.stop', wrap('Stop', stop)),
    vscode.commands.registerCommand('vaeLens.resume', wrap('Resume', resume)),
    vscode.commands.registerCommand('vaeLens.openRun', wrap('Open Run', openRun)),
    vscode.commands.registerCommand('vaeLens.compareRuns', wrap('Compare Runs', compare)),
    vscode.commands.registerCommand('vaeLens.renameRun', wrap('Rename', rename)),
    vscode.commands.registerCommand('vaeLens.deleteRun', wrap('Delete Run', remove)),
    vscode.commands.registerCommand('vaeLens.exportMetrics', wrap('Export Metrics', exportMetrics)),
    vscode.commands.registerCommand('vaeLens.revealRunFolder', wrap('Reveal Run Folder', reveal)),
    vscode.commands.registerCommand('vaeLens.refresh', wrap('Refresh', async () => {
      store.schedule();
      await store.flush();
    })),
    vscode.commands.registerCommand('vaeLens.showLog', () => log.show(true)),
  ];
}
