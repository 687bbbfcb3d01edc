/** The "VAE Runs" view: a TreeDataProvider over the run store, with health badges as file decorations. */
import { warningsMuted } from '../shared/runRules';
import * as vscode from 'vscode';
import type { RunStore, RunsRoot, StoreChange } from './model/runStore';
import { groupRuns, queuedItemModel, runItemModel, type RunItemModel } from './model/treeModel';
import type { RunManager } from './runManager';

export type RunsNode =
  | { kind: 'root'; root: RunsRoot }
  | { kind: 'run'; dir: string }
  | { kind: 'queued'; key: string };

/** Tree items carry this scheme as resourceUri so the decoration provider can badge them. */
export const RUN_URI_SCHEME = 'vae-run';

export function runUri(dir: string): vscode.Uri {
  return vscode.Uri.from({ scheme: RUN_URI_SCHEME, path: dir.startsWith('/') ? dir : `/${dir}` });
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.FileDecorationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly decorationsChanged = new vscode.EventEmitter<vscode.Uri[] | undefined>();
  readonly onDidChangeFileDecorations = this.decorationsChanged.event;
  private readonly models = new Map<string, RunItemModel>();
  private readonly subscriptions: { dispose(): void }[] = [];
  /** Stable node objects, so a refresh keeps selection and expansion. */
  private readonly runNodes = new Map<string, RunsNode>();
  private readonly rootNodes = new Map<string, RunsNode>();

  constructor(private readonly store: RunStore, private readonly manager: RunManager) {
    this.subscriptions.push(
      store.onDidChange((c) => this.refresh(c)),
      manager.onDidChange(() => this.refresh()),
    );
  }

  /**
   * Redraws the runs a store change touched, or the whole tree when runs came or went, the folders
   * changed, or the queue moved. A whole-tree refresh makes VS Code forget every item's handle
   * until the tree is fetched again, and an inline action clicked in that window reaches its
   * command without the run (which then asks which run): live runs refresh every second, so
   * status changes redraw only their own rows.
   */
  refresh(change?: StoreChange): void {
    if (change && !change.rootsChanged && change.added.length === 0 && change.removed.length === 0) {
      const dirs = change.changed.map((r) => r.dir);
      for (const d of dirs) this.models.delete(d);
      const nodes = dirs.map((d) => this.runNodes.get(d)).filter((n): n is RunsNode => n !== undefined);
      if (nodes.length) this.changed.fire(nodes);
      this.decorationsChanged.fire(dirs.map(runUri));
      return;
    }
    this.models.clear();
    this.changed.fire(undefined);
    // Named resources are fetched again at once; a bare "everything changed" was not always re-queried.
    this.decorationsChanged.fire(this.store.runs().map((r) => runUri(r.dir)));
  }

  private model(dir: string): RunItemModel | undefined {
    let m = this.models.get(dir);
    if (!m) {
      const run = this.store.get(dir);
      if (!run) return undefined;
      m = runItemModel(run, this.store.healthSettings);
      if (this.manager.isQueued(dir)) m = { ...m, status: 'queued', description: `queued to resume · ${m.description}`, icon: { id: 'clock' }, contextValue: 'vaeRun-queued' };
      this.models.set(dir, m);
    }
    return m;
  }

  /** The data behind a tree item (commands, tests). */
  itemModel(node: RunsNode): RunItemModel | undefined {
    if (node.kind === 'run') return this.model(node.dir);
    if (node.kind === 'queued') {
      const i = this.manager.queued().findIndex((q) => q.key === node.key);
      return i < 0 ? undefined : queuedItemModel(this.manager.queued()[i], i + 1);
    }
    return undefined;
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'root') {
      const item = new vscode.TreeItem(node.root.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `root:${node.root.runsDir}`;
      item.description = vscode.workspace.asRelativePath(node.root.runsDir, true);
      item.iconPath = new vscode.ThemeIcon('root-folder');
      item.contextValue = 'vaeRunsRoot';
      item.tooltip = node.root.runsDir;
      return item;
    }
    const m = this.itemModel(node);
    if (!m) return new vscode.TreeItem('(gone)');
    const item = new vscode.TreeItem(m.label, vscode.TreeItemCollapsibleState.None);
    item.id = m.id;
    item.description = m.description;
    item.iconPath = new vscode.ThemeIcon(m.icon.id, m.icon.color ? new vscode.ThemeColor(m.icon.color) : undefined);
    item.contextValue = m.contextValue;
    const tooltip = new vscode.MarkdownString(m.tooltip, true);
    tooltip.supportHtml = false;
    item.tooltip = tooltip;
    if (node.kind === 'run') {
      item.resourceUri = runUri(node.dir);
      item.command = { command: 'vaeLens.openRun', title: 'Open Run', arguments: [node] };
    }
    return item;
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (!this.store.isLoaded) await this.store.refreshAll();
    const runNode = (dir: string): RunsNode => {
      let n = this.runNodes.get(dir);
      if (!n) this.runNodes.set(dir, (n = { kind: 'run', dir }));
      return n;
    };
    const { flat, groups } = groupRuns(this.store.getRoots(), this.store.runs());
    const queuedNew = this.manager.queued().filter((q) => !q.resumeDir).map((q): RunsNode => ({ kind: 'queued', key: q.key }));
    if (!node) {
      if (flat) return [...queuedNew, ...(groups[0]?.runs.map((r) => runNode(r.dir)) ?? [])];
      return groups.map((g) => {
        let n = this.rootNodes.get(g.root.runsDir);
        if (!n) this.rootNodes.set(g.root.runsDir, (n = { kind: 'root', root: g.root }));
        return n;
      });
    }
    if (node.kind === 'root') {
      const g = groups.find((x) => x.root.runsDir === node.root.runsDir);
      const queuedHere = this.manager.queued().filter((q) => !q.resumeDir && q.runsDir === node.root.runsDir).map((q): RunsNode => ({ kind: 'queued', key: q.key }));
      return [...queuedHere, ...(g?.runs.map((r) => runNode(r.dir)) ?? [])];
    }
    return [];
  }

  getParent(node: RunsNode): RunsNode | undefined {
    if (node.kind !== 'run') return undefined;
    const { flat } = groupRuns(this.store.getRoots(), []);
    if (flat) return undefined;
    const root = this.store.get(node.dir)?.root;
    return root ? this.rootNodes.get(root.runsDir) : undefined;
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== RUN_URI_SCHEME) return undefined;
    const m = this.model(uri.path) ?? this.model(uri.fsPath);
    if (!m?.badge) return undefined;
    return new vscode.FileDecoration(m.badge.text, m.badge.tooltip.slice(0, 300), m.badge.color ? new vscode.ThemeColor(m.badge.color) : undefined);
  }

  /** How many runs have a warning or error active (the view's badge). */
  warningCount(): number {
    return this.store.runs().filter((r) => !warningsMuted(r.warnings) && r.findings.some((f) => f.severity !== 'info')).length;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
    this.decorationsChanged.dispose();
  }
}
