/** Reading `vaeLens.*` settings (declared in package.json "contributes.configuration"). */
import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { homedir } from 'node:os';
import { DEFAULT_RUNS_DIR } from '../shared/run';
import type { TrainConfig } from '../shared/config';
import { resolveHealthSettings, type HealthSettings } from '../shared/health';
import type { RunsRoot } from './model/runStore';
import { workspaceFileFolders } from './model/workspaceFile';

export const SECTION = 'vaeLens';

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

/** One runs directory per workspace folder (relative settings resolve against the folder). */
export function runsRoots(): RunsRoot[] {
  const folders: { name: string; uri: vscode.Uri }[] = [...(vscode.workspace.workspaceFolders ?? [])];
  // A workspace file open but no folders reported: take the folders the file lists (workspaceFile.ts says why).
  const file = vscode.workspace.workspaceFile;
  if (folders.length === 0 && file?.scheme === 'file') {
    try {
      for (const f of workspaceFileFolders(readFileSync(file.fsPath, 'utf8'), dirname(file.fsPath))) folders.push({ name: f.name, uri: vscode.Uri.file(f.path) });
    } catch {
      // Unreadable: no folders, as the window says.
    }
  }
  const roots: RunsRoot[] = [];
  for (const folder of folders) {
    if (folder.uri.scheme !== 'file') continue;
    const setting = vscode.workspace.getConfiguration(SECTION, folder.uri).get<string>('runsDirectory')?.trim() || DEFAULT_RUNS_DIR;
    const expanded = expandHome(setting);
    roots.push({ label: folder.name, runsDir: isAbsolute(expanded) ? expanded : join(folder.uri.fsPath, expanded) });
  }
  return roots;
}

export function healthSettings(): HealthSettings {
  const c = vscode.workspace.getConfiguration(`${SECTION}.warnings`);
  return resolveHealthSettings({
    sigmaTolerance: c.get('sigmaTolerance'),
    patience: c.get('patience'),
    warmupEpochs: c.get('warmupEpochs'),
    activeVarianceThreshold: c.get('activeVarianceThreshold'),
    unusedKlThreshold: c.get('unusedKlThreshold'),
    unusedWarningFraction: c.get('unusedWarningFraction'),
    meanMuTolerance: c.get('meanMuTolerance'),
    aggregateVarianceTolerance: c.get('aggregateVarianceTolerance'),
    holeRateTolerance: c.get('holeRateTolerance'),
    overfittingEpochs: c.get('overfittingEpochs'),
  });
}

/** vaeLens.warnings.enabled: false keeps the rules (tree, panel) but raises no notification. */
export function notificationsEnabled(): boolean {
  return vscode.workspace.getConfiguration(`${SECTION}.warnings`).get<boolean>('notifications', true);
}

/** Settings that fill what a preset or experiment file leaves out. */
export function trainDefaults(scope?: vscode.Uri): Partial<TrainConfig> {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const d = vscode.workspace.getConfiguration(`${SECTION}.defaults`, scope);
  const out: Record<string, unknown> = {};
  for (const key of ['epochs', 'dimz', 'batchSize', 'learningRate', 'klWeight', 'klWarmupEpochs', 'binarize', 'seed'] as const) {
    const inspected = d.inspect(key);
    // Only values a user set: the built-in defaults of each model (dimz 20 or 100) must win otherwise.
    const value = inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
    if (value !== undefined) out[key] = value;
  }
  const backend = c.get<string>('backend');
  if (backend) out.backend = backend;
  const dataset = c.get<string>('dataset');
  if (dataset) out.dataset = dataset;
  return out as Partial<TrainConfig>;
}

/** What the trainer needs besides its config: where to cache downloads and where to download from. */
export function trainerEnvironment(): Record<string, string> {
  const c = vscode.workspace.getConfiguration(SECTION);
  const env: Record<string, string> = {};
  const cache = c.get<string>('dataCacheDirectory')?.trim();
  if (cache) env.VAE_LENS_DATA_CACHE = expandHome(cache);
  const baseUrl = c.get<string>('mnistBaseUrl')?.trim();
  if (baseUrl) env.VAE_LENS_FASHION_MNIST_URL = baseUrl;
  return env;
}

export function maxConcurrentRuns(): number {
  const n = vscode.workspace.getConfiguration(SECTION).get<number>('maxConcurrentRuns', 1);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}
