/**
 * Which runs a command acts on: the tree selection, the argument it was given, or a pick from the
 * runs the store knows. Every path is checked (model/runPaths.ts) before a command may act on it,
 * whatever gave it. Also the one wording for commands refused in an untrusted workspace.
 */
import * as vscode from 'vscode';
import type { RunState, RunStore } from './model/runStore';
import { checkRunDir } from './model/runPaths';
import { runItemModel, sortRuns } from './model/treeModel';
import type { RunsNode } from './runsTree';

/** A command's argument: a tree node, a run folder path, a Uri, or nothing (palette). */
export type RunArg = RunsNode | string | vscode.Uri | undefined;

export function argDir(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (arg && typeof arg === 'object' && (arg as RunsNode).kind === 'run') return (arg as { dir: string }).dir;
  return undefined;
}

/** What each command refused in an untrusted workspace would do there, and why that needs trust. */
const NEEDS_TRUST = {
  train: ['train', 'training runs code and reads its configuration and data paths from the workspace'],
  stop: ['stop runs', 'Stop writes into the run folder (a stop request, or the status of a run whose trainer is gone)'],
  delete: ['delete runs', 'Delete removes run folders from the workspace'],
  rename: ['rename runs', 'Rename rewrites run.json in the workspace'],
} as const;

/** Whether the workspace is trusted; if not, says so (the action is refused). */
export function trustedFor(action: keyof typeof NEEDS_TRUST): boolean {
  if (vscode.workspace.isTrusted) return true;
  const [what, why] = NEEDS_TRUST[action];
  void vscode.window.showWarningMessage(`VAE Lens does not ${what} in an untrusted workspace: ${why}. Trust the workspace (Manage Workspace Trust) to ${what}; existing runs can still be viewed.`);
  return false;
}

export interface PickOptions {
  /** The command, as messages name it. */
  action: string;
  placeHolder: string;
  /** Runs offered when the command was given none. */
  filter: (r: RunState) => boolean;
  many?: boolean;
}

export class RunPicker {
  constructor(private readonly store: RunStore) {}

  /** The run folders a command acts on: the tree selection (multi-select), the argument, or a pick; all checked. */
  async targets(arg: RunArg, selected: readonly RunsNode[] | undefined, o: PickOptions): Promise<string[]> {
    const one = argDir(arg);
    // The multi-selection counts only when the clicked run is part of it (a right-click elsewhere means that run).
    const fromSelection = (selected ?? []).map(argDir).filter((x): x is string => !!x);
    if (fromSelection.length > 1 && (!one || fromSelection.includes(one))) return this.checked(fromSelection, o.action);
    if (one !== undefined || (arg !== undefined && typeof arg !== 'object')) return this.checked([one ?? String(arg)], o.action);
    return this.checked(await this.pick(o), o.action);
  }

  /**
   * The dirs if each is a run folder directly inside a current runs folder (as the store names
   * it); otherwise none, and the user is told which one was refused and why.
   */
  async checked(dirs: readonly string[], action: string): Promise<string[]> {
    const runsDirs = this.store.getRoots().map((r) => r.runsDir);
    const out: string[] = [];
    for (const dir of dirs) {
      const check = await checkRunDir(dir, runsDirs);
      if (!check.ok) {
        void vscode.window.showErrorMessage(`VAE Lens: ${action} refused: ${check.reason}. Choose the run in the VAE Runs view instead.`);
        return [];
      }
      out.push(check.dir);
    }
    return out;
  }

  private async pick(o: PickOptions): Promise<string[]> {
    await this.store.flush();
    const candidates = sortRuns(this.store.runs().filter(o.filter));
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(`VAE Lens: no run to choose from (${o.placeHolder.toLowerCase()}).`);
      return [];
    }
    const items = candidates.map((r) => {
      const m = runItemModel(r);
      return { label: m.label, description: m.description, detail: r.dir, dir: r.dir };
    });
    if (o.many) {
      const picked = await vscode.window.showQuickPick(items, { placeHolder: o.placeHolder, canPickMany: true, matchOnDescription: true });
      return picked?.map((p) => p.dir) ?? [];
    }
    const picked = await vscode.window.showQuickPick(items, { placeHolder: o.placeHolder, matchOnDescription: true });
    return picked ? [picked.dir] : [];
  }
}
