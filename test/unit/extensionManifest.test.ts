import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_HEALTH_SETTINGS } from '../../src/shared/health';
import { repoRoot } from '../support/repoRoot';

const root = repoRoot();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const contributes = pkg.contributes;

interface Setting { type: string | string[]; default: unknown; scope?: string; description?: string; markdownDescription?: string }
const settings = contributes.configuration.properties as Record<string, Setting>;

test('every VAE command is declared once in category "VAE", and every command a menu names is declared', () => {
  const declared = contributes.commands.map((c: { command: string }) => c.command);
  assert.equal(new Set(declared).size, declared.length, 'no command declared twice');
  for (const c of contributes.commands) if (c.command.startsWith('vaeLens.')) assert.equal(c.category, 'VAE', c.command);
  for (const name of ['train', 'stop', 'resume', 'openRun', 'compareRuns', 'renameRun', 'deleteRun', 'exportMetrics', 'showLog', 'revealRunFolder']) {
    assert.ok(declared.includes(`vaeLens.${name}`), `vaeLens.${name} is declared`);
  }
  for (const [menu, items] of Object.entries(contributes.menus as Record<string, { command: string }[]>)) {
    for (const item of items) assert.ok(declared.includes(item.command), `${menu} names ${item.command}, which is not declared`);
  }
});

test('every command the extension registers is declared (or is the status bar\'s internal one)', () => {
  const declared = new Set(contributes.commands.map((c: { command: string }) => c.command));
  const dir = join(root, 'src', 'extension');
  const sources = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  const registered = [...sources.matchAll(/registerCommand\('([^']+)'/g)].map((m) => m[1]);
  assert.ok(registered.length >= 10, `found ${registered.length} registrations`);
  for (const id of registered) assert.ok(declared.has(id), `${id} is registered but not declared in package.json`);
});

test('Train and Resume need a trusted workspace; the editor title offers Train only on *.vae.json', () => {
  const byId = Object.fromEntries(contributes.commands.map((c: { command: string }) => [c.command, c]));
  assert.equal(byId['vaeLens.train'].enablement, 'isWorkspaceTrusted');
  assert.equal(byId['vaeLens.resume'].enablement, 'isWorkspaceTrusted');
  const editorTitle = contributes.menus['editor/title'].find((m: { command: string }) => m.command === 'vaeLens.train');
  assert.match(editorTitle.when, /resourceFilename =~ \/\\\.vae\\\.json\$\//);
  assert.match(editorTitle.when, /isWorkspaceTrusted/);
});

test('every setting has a description, a default and a scope; paths downloaded to or from are machine-only', () => {
  for (const [key, s] of Object.entries(settings)) {
    if (!key.startsWith('vaeLens.')) continue;
    assert.ok(s.description || s.markdownDescription, `${key} has a description`);
    assert.ok('default' in s || key.startsWith('vaeLens.defaults.'), `${key} has a default`);
    assert.ok(s.scope, `${key} has a scope`);
  }
  for (const key of ['vaeLens.dataCacheDirectory', 'vaeLens.mnistBaseUrl']) assert.equal(settings[key].scope, 'machine', key);
  for (const key of ['runsDirectory', 'backend', 'dataset', 'dataCacheDirectory', 'mnistBaseUrl', 'maxConcurrentRuns']) assert.ok(settings[`vaeLens.${key}`], `vaeLens.${key}`);
  assert.equal(settings['vaeLens.maxConcurrentRuns'].default, 1);
});

test('the warning settings default to the health rules\' own defaults', () => {
  for (const [key, value] of Object.entries(DEFAULT_HEALTH_SETTINGS)) {
    const setting = settings[`vaeLens.warnings.${key}`];
    if (key === 'unusedSigmaTolerance') continue; // not a user setting: σ_d ≈ 1 is part of what "unused" means
    assert.ok(setting, `vaeLens.warnings.${key} is a setting`);
    assert.equal(setting.default, value, `vaeLens.warnings.${key}`);
  }
});

test('the extension bundle loads with nothing beside it but the vscode module (an installed .vsix has no node_modules)', async () => {
  const { mkdtempSync, copyFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const nodeModule = await import('node:module');
  const Module = nodeModule.default as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-bundle-'));
  const load = Module._load;
  try {
    copyFileSync(join(root, 'dist', 'extension.js'), join(dir, 'extension.js'));
    // The vscode module exists only in an extension host; loading the bundle touches none of it.
    Module._load = function (request: string, ...rest: unknown[]) {
      return request === 'vscode' ? {} : load.call(this, request, ...rest);
    };
    const loadFromDir = nodeModule.createRequire(join(dir, 'index.js'));
    const ext = loadFromDir('./extension.js') as { activate?: unknown; deactivate?: unknown };
    assert.equal(typeof ext.activate, 'function');
    assert.equal(typeof ext.deactivate, 'function');
  } finally {
    Module._load = load;
    rmSync(dir, { recursive: true, force: true });
  }
});
