/**
 * The commands that act on run folders: Stop, Resume, Rename, Delete, Export Metrics, Reveal.
 * Each takes its runs from the run picker (which checks every path it is given); the ones that
 * write need a trusted workspace, and the host's writes go through model/runWriter.ts.
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CHECKPOINT_DIR, isLiveStatus } from '../shared/run';
import { readRunInfo } from '../node/runFolder';
import type { RunState } from './model/runStore';
import { metricsCsv, metricsCsvOfRuns, metricsJson, metricsJsonOfRuns, type ExportedRun } from './model/metricsCsv';
import { exportFileName, jsonExportBeside } from './model/runPaths';
import { RunWriteRefused, renameRun, runNameProblem } from './model/runWriter';
import type { CommandDeps } from './commands';
import { RunPicker, trustedFor, type RunArg } from './runPicker';
import type { RunsNode } from './runsTree';
import { cwdFor } from './trainFlow';

const RESUMABLE = ['stopped', 'interrupted', 'failed'];

export class FolderOps {
  constructor(private readonly d: CommandDeps, private readonly picker: RunPicker) {}

  private name(dir: string): string {
    return this.d.store.get(dir)?.info?.name ?? dir;
  }

  async stop(arg?: RunArg, selected?: RunsNode[]): Promise<void> {
    if (!trustedFor('stop')) return;
    const { manager, log } = this.d;
    const queuedNodes = [arg, ...(selected ?? [])].filter((n): n is RunsNode & { kind: 'queued' } => typeof n === 'object' && n !== null && (n as RunsNode).kind === 'queued');
    for (const q of queuedNodes) manager.dequeue(q.key);
    if (queuedNodes.length && !(selected ?? []).some((n) => n.kind === 'run')) return;
    const dirs = await this.picker.targets(arg, selected, { action: 'Stop', placeHolder: 'Run to stop', filter: (r) => (!!r.info && isLiveStatus(r.info.status)) || manager.isQueued(r.dir) });
    for (const dir of dirs) {
      const outcome = await manager.stop(dir);
      log.info(`Stop ${dir} (${outcome.kind}): ${outcome.message}`);
      // Our own trainer and a dequeued run show the result in the tree at once; the rest is told.
      if (outcome.kind !== 'stopping' && outcome.kind !== 'dequeued') void vscode.window.showInformationMessage(`VAE Lens: ${outcome.message}`);
    }
  }

  async resume(arg?: RunArg): Promise<void> {
    if (!trustedFor('train')) return;
    const resumable = (r: RunState) => !!r.info && RESUMABLE.includes(r.info.status);
    const [dir] = await this.picker.targets(arg, undefined, { action: 'Resume', placeHolder: 'Run to resume', filter: resumable });
    if (!dir) return;
    const run = this.d.store.get(dir);
    if (!run?.info) return;
    if (!resumable(run)) {
      void vscode.window.showInformationMessage(`VAE Lens: "${run.info.name}" is ${run.info.status}; only stopped, interrupted or failed runs can be resumed.`);
      return;
    }
    if (!existsSync(join(dir, CHECKPOINT_DIR))) {
      void vscode.window.showErrorMessage(`VAE Lens: "${run.info.name}" has no checkpoint yet (it ended before its first epoch finished), so there is nothing to resume. Train it again instead.`);
      return;
    }
    const position = this.d.manager.enqueue({ resume: dir, cwd: cwdFor(run.root.runsDir) });
    this.d.log.info(`Resume "${run.info.name}" from epoch ${run.info.epochsCompleted}${position ? `, queued #${position}` : ''}`);
  }

  async rename(arg?: RunArg): Promise<void> {
    if (!trustedFor('rename')) return;
    const [dir] = await this.picker.targets(arg, undefined, { action: 'Rename', placeHolder: 'Run to rename', filter: (r) => !!r.info });
    if (!dir) return;
    const info = await readRunInfo(dir);
    if (isLiveStatus(info.status)) {
      void vscode.window.showInformationMessage(`VAE Lens: "${info.name}" is training; rename it once it has stopped (the trainer rewrites run.json while it runs).`);
      return;
    }
    const name = await vscode.window.showInputBox({ title: 'Rename run', value: info.name, prompt: 'The run folder keeps its id; the name shown changes.', validateInput: runNameProblem });
    if (!name || name === info.name) return;
    try {
      await renameRun(dir, name);
    } catch (e) {
      if (!(e instanceof RunWriteRefused)) throw e;
      void vscode.window.showInformationMessage(`VAE Lens: ${e.message}`);
      return;
    }
    this.d.store.schedule(dir);
  }

  async remove(arg?: RunArg, selected?: RunsNode[]): Promise<void> {
    if (!trustedFor('delete')) return;
    const { store, log } = this.d;
    const dirs = await this.picker.targets(arg, selected, { action: 'Delete Run', placeHolder: 'Run to delete', filter: (r) => !r.info || !isLiveStatus(r.info.status) });
    if (dirs.length === 0) return;
    const live = dirs.filter((x) => { const s = store.get(x)?.info?.status; return s && isLiveStatus(s); });
    if (live.length) {
      void vscode.window.showWarningMessage(`VAE Lens: stop "${this.name(live[0])}" before deleting it.`);
      return;
    }
    const names = dirs.map((x) => `"${this.name(x)}"`).join(', ');
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

  /** One run, or every selected run into one CSV (a run_id and run_name column first) and one JSON. */
  async exportMetrics(arg?: RunArg, selected?: RunsNode[]): Promise<void> {
    const dirs = await this.picker.targets(arg, selected, { action: 'Export Metrics', placeHolder: 'Run to export', filter: (r) => !!r.latest });
    if (dirs.length === 0) return;
    const runs: ExportedRun[] = [];
    for (const dir of dirs) runs.push({ info: this.d.store.get(dir)?.info ?? (await readRunInfo(dir)), events: await this.d.store.allEvents(dir) });
    const [first] = runs;
    const what = runs.length === 1 ? `"${first.info.name}"` : `${runs.length} runs`;
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(join(dirname(dirs[0]), runs.length === 1 ? exportFileName(first.info.id) : exportFileName(`${runs.length}-runs`))),
      filters: { 'CSV': ['csv'] },
      title: `Export metrics of ${what}`,
    });
    if (!target) return;
    // The CSV has the scalars; the JSON beside it has them too, with every per-dimension statistic.
    const json = target.with({ path: jsonExportBeside(target.path) });
    const health = this.d.store.healthSettings;
    const encode = (text: string) => new TextEncoder().encode(text);
    await vscode.workspace.fs.writeFile(target, encode(runs.length === 1 ? metricsCsv(first.events, health) : metricsCsvOfRuns(runs, health)));
    await vscode.workspace.fs.writeFile(json, encode(runs.length === 1 ? metricsJson(first.info, first.events, health) : metricsJsonOfRuns(runs, health)));
    this.d.log.info(`Exported metrics of ${dirs.join(', ')} to ${target.fsPath} and ${json.fsPath}`);
    void vscode.window.showInformationMessage(`VAE Lens: metrics of ${what} written to ${vscode.workspace.asRelativePath(target)} (and per-dimension statistics to ${vscode.workspace.asRelativePath(json)}).`);
  }

  async reveal(arg?: RunArg): Promise<void> {
    const [dir] = await this.picker.targets(arg, undefined, { action: 'Reveal Run Folder', placeHolder: 'Run folder to reveal', filter: () => true });
    if (!dir) return;
    const uri = vscode.Uri.file(dir);
    if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
    else await vscode.commands.executeCommand('revealFileInOS', uri);
  }
}
