/**
 * VAE: Train: what to train (a preset, an experiment file, the last choice), which runs folder it
 * goes to, and handing it to the run manager's queue.
 */
import * as vscode from 'vscode';
import { dirname } from 'node:path';
import type { TrainConfig } from '../shared/config';
import type { RunsRoot } from './model/runStore';
import { TRAIN_PRESETS, experimentNameFromFile, parseExperimentFile, resolveTrainConfig } from './model/presets';
import { starterExperiment, starterFileName } from './model/starter';
import type { CommandDeps } from './commands';
import { trustedFor } from './runPicker';
import { trainDefaults } from './settings';

const LAST_USED_KEY = 'vaeLens.lastTrain';
type LastUsed = { kind: 'preset'; id: string } | { kind: 'file'; uri: string };
/** The picker's choices: what to train, or writing a new experiment file first. */
type Choice = LastUsed | { kind: 'new' };

/** The trainer's working directory for a runs folder: relative paths in a config (idx:<folder>) mean the workspace folder, as in the editor. */
export function cwdFor(runsDir: string): string {
  return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(runsDir))?.uri.fsPath ?? dirname(runsDir);
}

export class TrainFlow {
  constructor(private readonly d: CommandDeps) {}

  /** VAE: Train, from the palette, the view title, or an experiment file (its Uri). */
  async train(arg?: vscode.Uri): Promise<void> {
    if (!trustedFor('train')) return;
    const choice: Choice | undefined = arg instanceof vscode.Uri ? { kind: 'file', uri: arg.toString() } : await this.pickWhat();
    if (!choice) return;
    if (choice.kind === 'new') {
      await this.newExperiment();
      return;
    }
    let config: TrainConfig | undefined;
    let root: RunsRoot | undefined;
    if (choice.kind === 'file') {
      const uri = vscode.Uri.parse(choice.uri);
      config = await this.configFromFile(uri);
      root = this.rootForPath(uri.fsPath) ?? (await this.chooseRoot());
    } else {
      config = this.configFromPreset(choice.id);
      if (config) root = await this.chooseRoot();
    }
    if (!config || !root) return;
    await this.d.context.workspaceState.update(LAST_USED_KEY, choice);
    const position = this.d.manager.enqueue({ config, runsDir: root.runsDir, cwd: cwdFor(root.runsDir) });
    this.d.log.info(`Train "${config.name}" (${config.model}, dimz ${config.dimz}, ${config.epochs} epochs) → ${root.runsDir}${position ? `, queued #${position}` : ''}`);
    if (position > 0) void vscode.window.showInformationMessage(`VAE Lens: "${config.name}" is queued (#${position}); it starts when a running run ends (setting vaeLens.maxConcurrentRuns).`);
  }

  /**
   * VAE: New Experiment File: writes a commented conv VAE for MNIST to experiments/ in a workspace
   * folder (a new name; nothing is overwritten) and opens it to edit.
   */
  async newExperiment(): Promise<vscode.Uri | undefined> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) {
      void vscode.window.showErrorMessage('VAE Lens: open a folder first; the experiment file is written to its experiments/ folder.');
      return undefined;
    }
    const folder = folders.length === 1 ? folders[0] : await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Workspace folder for the new experiment file' });
    if (!folder) return undefined;
    const dir = vscode.Uri.joinPath(folder.uri, 'experiments');
    const taken = new Set<string>();
    try {
      for (const [name] of await vscode.workspace.fs.readDirectory(dir)) taken.add(name.toLowerCase());
    } catch {
      // No experiments/ folder yet.
    }
    const fileName = starterFileName((name) => taken.has(name.toLowerCase()));
    const uri = vscode.Uri.joinPath(dir, fileName);
    try {
      await vscode.workspace.fs.createDirectory(dir);
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(starterExperiment(experimentNameFromFile(fileName))));
    } catch (e) {
      void vscode.window.showErrorMessage(`VAE Lens: cannot write ${vscode.workspace.asRelativePath(uri)}: ${(e as Error).message}`);
      return undefined;
    }
    await vscode.window.showTextDocument(uri, { preview: false });
    this.d.log.info(`New experiment file ${uri.fsPath}`);
    void vscode.window.showInformationMessage(`VAE Lens: wrote ${vscode.workspace.asRelativePath(uri)}, a conv VAE for MNIST. Edit it, then train it.`, 'Train Now').then((c) => {
      if (c) void this.train(uri);
    });
    return uri;
  }

  private async pickWhat(): Promise<Choice | undefined> {
    type Item = vscode.QuickPickItem & { choice?: Choice };
    const items: Item[] = [];
    const last = this.d.context.workspaceState.get<LastUsed>(LAST_USED_KEY);
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
    items.push(
      { label: '', kind: vscode.QuickPickItemKind.Separator },
      { label: '$(new-file) New experiment file…', detail: 'Write a commented conv VAE for MNIST to experiments/ and open it: your own network, likelihood and data.', choice: { kind: 'new' } },
    );
    const picked = await vscode.window.showQuickPick(items, { placeHolder: 'What to train', matchOnDetail: true, title: 'VAE: Train' });
    return picked?.choice;
  }

  private rootForPath(path: string): RunsRoot | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(path));
    return this.d.store.getRoots().find((r) => r.label === folder?.name) ?? this.d.store.rootOf(path);
  }

  private async chooseRoot(): Promise<RunsRoot | undefined> {
    const roots = this.d.store.getRoots();
    if (roots.length === 0) {
      void vscode.window.showErrorMessage('VAE Lens: open a folder first; runs are written to its runs directory (setting vaeLens.runsDirectory).');
      return undefined;
    }
    if (roots.length === 1) return roots[0];
    const picked = await vscode.window.showQuickPick(roots.map((r) => ({ label: r.label, description: r.runsDir, root: r })), { placeHolder: 'Workspace folder to write the run to' });
    return picked?.root;
  }

  private async configFromFile(uri: vscode.Uri): Promise<TrainConfig | undefined> {
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

  private configFromPreset(id: string): TrainConfig | undefined {
    const preset = TRAIN_PRESETS.find((p) => p.id === id);
    if (!preset) return undefined;
    const resolved = resolveTrainConfig(trainDefaults(), preset.config as Record<string, unknown>);
    if (!resolved.ok) {
      void vscode.window.showErrorMessage(`VAE Lens: the settings vaeLens.defaults.* make "${preset.label}" invalid: ${resolved.errors.join('; ')}`);
      return undefined;
    }
    return resolved.config;
  }
}
