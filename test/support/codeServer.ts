/**
 * A real VS Code for the E2E tests: code-server 4.100.3 (VS Code 1.100.3, the newest release that
 * runs on Node 20), installed from npm into <repo>/.cache on first use, the way
 * @vscode/test-electron caches a desktop build. Each test gets its own server with a fresh
 * user-data dir, extensions dir and XDG folders, with the freshly built VAE Lens .vsix installed.
 * The install pitfalls handled below (root, kerberos headers, ripgrep's download, node-pty's npx)
 * were each seen on a machine without internet access.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync,
  statSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { aptGetInstall, canUseAptGet } from './chromium';
import { repoRoot } from './repoRoot';

export const CODE_SERVER_VERSION = '4.100.3';
/** @vscode/ripgrep's postinstall looks for this asset in os.tmpdir() before downloading it from GitHub. */
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

export { repoRoot };

// ---------------------------------------------------------------------------------------------
// Install (once per machine, shared by every test and every engineer's checkout of this folder)

function installDir(): string {
  return join(repoRoot(), '.cache', `code-server-${CODE_SERVER_VERSION}`);
}

function entryScript(dir: string): string {
  return join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

const COMPLETE_MARKER = '.vae-lens-install-complete';

/**
 * Installs code-server into .cache/code-server-<version> unless already there, and returns its
 * entry script. Concurrent callers (other test files, other checkouts' processes) wait on a lock
 * directory; the install goes to a scratch folder renamed into place only when complete.
 */
export async function ensureCodeServer(log: (line: string) => void = () => {}): Promise<string> {
  const dir = installDir();
  const done = () => existsSync(join(dir, COMPLETE_MARKER)) && existsSync(entryScript(dir));
  if (done()) return entryScript(dir);
  mkdirSync(dirname(dir), { recursive: true });
  const lock = `${dir}.lock`;
  await acquireLock(lock, 10 * 60_000);
  try {
    if (done()) return entryScript(dir);
    const started = Date.now();
    log(`installing code-server ${CODE_SERVER_VERSION} into ${dir} (first use; about a minute)`);
    installCodeServer(dir);
    log(`installed code-server in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return entryScript(dir);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function installCodeServer(dir: string): void {
  ensureBuildPrerequisites();
  const scratch = `${dir}.partial-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const scratchTmp = join(scratch, '.tmp');
  mkdirSync(scratchTmp);
  seedRipgrepCache(scratchTmp);
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'vae-lens-code-server', private: true }));
  const env = {
    ...process.env,
    // code-server's postinstall refuses to run as root otherwise.
    npm_config_unsafe_perm: 'true',
    // node-pty's postinstall runs `npx node-gyp`, which a `yes=false` npm config cancels.
    npm_config_yes: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    // @vscode/ripgrep reads its download cache from os.tmpdir().
    TMPDIR: scratchTmp,
  };
  try {
    execFileSync('npm', ['install', '--no-save', `code-server@${CODE_SERVER_VERSION}`], {
      cwd: scratch, env, stdio: 'pipe', maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
    const output = `${e.stdout?.toString() ?? ''}\n${e.stderr?.toString() ?? ''}`.trim().slice(-4000);
    throw new Error(`npm install code-server@${CODE_SERVER_VERSION} failed in ${scratch}:\n${output || e.message}`);
  }
  if (!existsSync(entryScript(scratch))) throw new Error(`code-server installed, but ${entryScript(scratch)} is missing.`);
  rmSync(scratchTmp, { recursive: true, force: true });
  writeFileSync(join(scratch, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(scratch, dir);
}

/** Debian packages the install needs: headers for the `kerberos` native module, and ripgrep. */
function ensureBuildPrerequisites(): void {
  const missing: string[] = [];
  if (!existsSync('/usr/include/gssapi/gssapi.h')) missing.push('libkrb5-dev');
  if (!which('rg')) missing.push('ripgrep');
  if (missing.length === 0) return;
  if (canUseAptGet()) {
    aptGetInstall(missing);
  } else if (missing.includes('libkrb5-dev')) {
    throw new Error(
      'Installing code-server for the E2E tests needs the Kerberos headers (/usr/include/gssapi/gssapi.h). ' +
        'Install them as root: apt-get install -y libkrb5-dev',
    );
  }
  // Without a local rg, @vscode/ripgrep downloads its own from GitHub (fine where there is internet).
}

/** Puts the local rg where @vscode/ripgrep's postinstall finds a cached download, so it needs no network. */
function seedRipgrepCache(tmp: string): void {
  const rg = which('rg');
  if (!rg) return;
  const cacheDir = join(tmp, `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  const staging = join(tmp, 'rg-staging');
  mkdirSync(cacheDir, { recursive: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'rg'), readFileSync(rg), { mode: 0o755 });
  execFileSync('tar', ['czf', join(cacheDir, RIPGREP_ASSET), '-C', staging, 'rg']);
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

async function acquireLock(lock: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileIfExists(join(lock, 'pid')));
    const lockAgeMs = Date.now() - statSafe(lock);
    if ((holder && !isAlive(holder)) || (!holder && lockAgeMs > 30_000)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lock} (held by pid ${holder}).`);
    await sleep(500);
  }
}

function readFileIfExists(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

function statSafe(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return Date.now();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Packaging: the .vsix that users install, built from the current dist/

/** Every file under a folder, at any depth; none when the folder does not exist. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** What goes into the .vsix; a change to any of these makes a new package. */
function packageInputs(root: string): string[] {
  const files = ['dist', 'media', 'schemas', 'docs'].flatMap((d) => filesUnder(join(root, d)));
  for (const f of ['package.json', '.vscodeignore', 'README.md', 'LICENSE']) files.push(join(root, f));
  return files.filter((f) => existsSync(f)).sort();
}

/**
 * Packages the current build (dist/, as `npm test` has just built it) with vsce, exactly as
 * `npm run package` does but without the production rebuild (which would empty dist/ under other
 * running tests). Cached in .cache/vsix by a hash of the packaged inputs.
 */
export function packageExtension(): string {
  const root = repoRoot();
  if (!existsSync(join(root, 'dist', 'extension.js'))) {
    throw new Error(`${join(root, 'dist', 'extension.js')} is missing: build first (npm run build, or run tests with npm test).`);
  }
  const hash = createHash('sha256');
  for (const f of packageInputs(root)) {
    const s = statSync(f);
    hash.update(`${relative(root, f)}\0${s.size}\0${s.mtimeMs}\n`);
  }
  const outDir = join(root, '.cache', 'vsix');
  const vsix = join(outDir, `vae-lens-${hash.digest('hex').slice(0, 16)}.vsix`);
  if (existsSync(vsix)) return vsix;
  mkdirSync(outDir, { recursive: true });
  const scratch = `${vsix.slice(0, -'.vsix'.length)}-${process.pid}.vsix`;
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), ...VSCE_PACKAGE_ARGS, '--out', scratch], {
      cwd: root, stdio: 'pipe',
    });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`vsce package failed:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? e.message}`);
  }
  // Older packages go, but not so soon that a concurrent test is still installing one.
  for (const old of readdirSync(outDir)) {
    const p = join(outDir, old);
    if (old.endsWith('.vsix') && p !== scratch && Date.now() - statSafe(p) > 10 * 60_000) rmSync(p, { force: true });
  }
  renameSync(scratch, vsix);
  return vsix;
}

/**
 * The .vsix the E2E tests install: $VAE_LENS_VSIX when set (e.g. the release artifact from
 * `npm run package`), else a package of the current dist/.
 */
export function extensionPackage(): string {
  const given = process.env.VAE_LENS_VSIX;
  if (!given) return packageExtension();
  const path = resolve(repoRoot(), given);
  if (!existsSync(path)) throw new Error(`VAE_LENS_VSIX is set to ${given}, but ${path} does not exist (run npm run package?).`);
  return path;
}

/** Kept equal to the flags in scripts/package.mjs (npm run package). */
export const VSCE_PACKAGE_ARGS = ['package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links'];

// ---------------------------------------------------------------------------------------------
// One running server per test

export interface CodeServerOptions {
  /** The folder the window opens (see makeWorkspace). */
  workspace: string;
  /** User settings written to <user-data-dir>/User/settings.json before start; merged over the defaults. */
  settings?: Record<string, unknown>;
  /**
   * Workspace trust: false (default) starts with --disable-workspace-trust, so every folder is
   * trusted; true leaves trust on, so the workspace opens untrusted (restricted mode).
   */
  workspaceTrust?: boolean;
  /** Extra environment for the server and so for the extension host (and the trainers it forks). */
  env?: Record<string, string>;
  /** Install the VAE Lens .vsix (default true). */
  installExtension?: boolean;
  /** Unpacked extension folders (with a package.json) to add beside VAE Lens, e.g. test fixtures. */
  extraExtensions?: string[];
}

export interface CodeServer {
  /** The workbench URL with the workspace folder open. */
  readonly url: string;
  readonly port: number;
  readonly workspace: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  /** Everything this server wrote to stdout/stderr so far. */
  output(): string;
  /** Full text of an extension's log output channel (e.g. "VAE Lens"), read from the server's log folder; '' if not written yet. */
  readLogChannel(name: string): string;
  /** Kills the whole process group (server and extension hosts) and removes its temporary folders. Idempotent. */
  stop(): Promise<void>;
}

/** Settings every test starts with: nothing pops up uninvited, and nothing phones home. */
export const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.colorTheme': 'Default Dark Modern',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'security.workspace.trust.startupPrompt': 'never',
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
};

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that crashes or is cancelled must not leave code-server and its extension hosts behind.
  process.on('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL');
  });
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      for (const child of running) killGroup(child, 'SIGKILL');
      process.exit(code);
    });
  }
}

const workspaces = new Set<string>();

/**
 * Creates a temporary workspace folder holding the given files (relative path → content).
 * It is removed when the test process exits.
 */
export function makeWorkspace(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-workspace-'));
  if (workspaces.size === 0) {
    process.on('exit', () => {
      for (const w of workspaces) {
        try {
          rmSync(w, { recursive: true, force: true });
        } catch {
          // Best effort at exit.
        }
      }
    });
  }
  workspaces.add(dir);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

/** Installs (if needed) and starts code-server with VAE Lens; always call stop() (withWorkbench does). */
export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  if (!existsSync(options.workspace)) throw new Error(`Workspace folder ${options.workspace} does not exist.`);
  const entry = await ensureCodeServer((line) => console.log(`[code-server] ${line}`));
  const home = mkdtempSync(join(tmpdir(), 'vae-lens-code-server-'));
  const userDataDir = join(home, 'user-data');
  const extensionsDir = join(home, 'extensions');
  const xdg = { XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data'), XDG_CACHE_HOME: join(home, 'cache') };
  for (const d of [userDataDir, extensionsDir, ...Object.values(xdg), join(userDataDir, 'User')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...options.settings }, null, 2));

  const env: NodeJS.ProcessEnv = { ...process.env, ...xdg, ...options.env };
  // code-server reads $PASSWORD/$PORT; a developer's shell must not change what the test starts.
  delete env.PASSWORD;
  delete env.HASHED_PASSWORD;
  delete env.PORT;
  delete env.VSCODE_IPC_HOOK_CLI;
  const dirs = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  if (options.installExtension !== false) {
    const vsix = extensionPackage();
    try {
      execFileSync(process.execPath, [entry, ...dirs, '--install-extension', vsix], { env, stdio: 'pipe' });
    } catch (err) {
      const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
      rmSync(home, { recursive: true, force: true });
      throw new Error(`code-server --install-extension ${vsix} failed:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? e.message}`);
    }
  }

  addUnpackedExtensions(extensionsDir, options.extraExtensions ?? []);

  // Port 0: the server takes a free port itself and logs it (no race with other tests' servers).
  const args = [
    entry, '--bind-addr', '127.0.0.1:0', '--auth', 'none', ...dirs,
    '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override',
    ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
    options.workspace,
  ];
  const logFile = join(home, 'code-server.log');
  const logFd = openSync(logFile, 'a');
  installExitHook();
  // detached: its own process group, so stop() ends the extension hosts and trainers with it.
  const child = spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  running.add(child);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const output = () => readFileIfExists(logFile);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    killGroup(child, 'SIGTERM');
    await Promise.race([exitedPromise, sleep(3000)]);
    // The server may exit before its extension hosts: always finish the whole group.
    killGroup(child, 'SIGKILL');
    running.delete(child);
    try {
      rmSync(home, { recursive: true, force: true, maxRetries: 5 });
    } catch {
      // A leftover temp folder must not fail the test.
    }
  };

  const deadline = Date.now() + 30_000;
  let port = 0;
  for (;;) {
    if (exited) {
      const out = output();
      await stop();
      throw new Error(`code-server exited before it was ready:\n${out.slice(-3000)}`);
    }
    port ||= Number(/HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output())?.[1] ?? 0);
    if (port) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.status === 200) break;
      } catch {
        // Not answering yet.
      }
    }
    if (Date.now() > deadline) {
      const out = output();
      await stop();
      throw new Error(`code-server did not answer /healthz with 200 within 30 s (port ${port || 'not logged yet'}):\n${out.slice(-3000)}`);
    }
    await sleep(200);
  }
  const base = `http://127.0.0.1:${port}`;

  return {
    url: `${base}/?folder=${encodeURIComponent(options.workspace)}`,
    port,
    workspace: options.workspace,
    userDataDir,
    extensionsDir,
    output,
    readLogChannel: (name) => readLogChannel(join(userDataDir, 'logs'), name),
    stop,
  };
}

/**
 * Copies unpacked extension folders into the extensions dir and lists them in its extensions.json,
 * which VS Code 1.100 reads instead of scanning the folder once a .vsix has been installed there.
 */
function addUnpackedExtensions(extensionsDir: string, folders: string[]): void {
  if (folders.length === 0) return;
  const listFile = join(extensionsDir, 'extensions.json');
  const list = existsSync(listFile) ? (JSON.parse(readFileSync(listFile, 'utf8')) as unknown[]) : [];
  for (const folder of folders) {
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
    const relativeLocation = `${manifest.publisher}.${manifest.name}-${manifest.version}`;
    const location = join(extensionsDir, relativeLocation);
    cpSync(folder, location, { recursive: true });
    list.push({
      identifier: { id: `${manifest.publisher}.${manifest.name}`.toLowerCase() },
      version: manifest.version,
      location: { $mid: 1, path: location, scheme: 'file' },
      relativeLocation,
      metadata: { installedTimestamp: Date.now(), source: 'vsix' },
    });
  }
  writeFileSync(listFile, JSON.stringify(list));
}

/** Extension log channels (createOutputChannel(name, { log: true })) are files named "<name>.log" under the logs folder. */
function readLogChannel(logsDir: string, name: string): string {
  const matches = filesUnder(logsDir).filter((p) => basename(p) === `${name}.log`);
  return matches.sort().map((p) => readFileSync(p, 'utf8')).join('');
}
