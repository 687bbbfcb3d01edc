/**
 * Debian's Chromium for the browser-driven test layers (webview, e2e), driven by playwright-core.
 * Never `playwright install`: it downloads browsers, and this machine has no internet.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Flags that work for Debian's Chromium as root on a machine without network: no sandbox, no GPU, and
 * none of the background connections that a closed network refuses; the user-data dir is passed separately.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

let found: string | undefined;

/**
 * The Chromium executable: $CHROME_PATH, else /usr/bin/chromium, else Debian's `chromium`
 * installed with apt-get when running as root. Throws (never skips) when none can be had.
 */
export function findChromium(): string {
  if (found) return found;
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROME_PATH is set to ${fromEnv}, but no file exists there.`);
    return (found = fromEnv);
  }
  if (existsSync(DEBIAN_CHROMIUM)) return (found = DEBIAN_CHROMIUM);
  if (canUseAptGet()) {
    aptGetInstall(['chromium']);
    if (existsSync(DEBIAN_CHROMIUM)) return (found = DEBIAN_CHROMIUM);
  }
  throw new Error(
    'Chromium was not found. The browser tests need it: set CHROME_PATH to a Chromium or Chrome ' +
      'executable, or install Debian\'s package as root: apt-get install -y chromium',
  );
}

/** True when this process is root and apt-get exists, so missing Debian packages can be installed. */
export function canUseAptGet(): boolean {
  return process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
}

/** Installs Debian packages (root only); throws with apt-get's own output when it fails. */
export function aptGetInstall(packages: string[]): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'pipe' });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, stdio: 'pipe' });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`apt-get install ${packages.join(' ')} failed: ${e.stderr?.toString() || e.message}`);
  }
}

/**
 * Starts headless Chromium with a fresh profile. Playwright refuses --user-data-dir in args,
 * so the profile goes through launchPersistentContext. Close the returned context when done.
 */
export async function launchChromium(
  options: { userDataDir?: string; viewport?: { width: number; height: number } } = {},
): Promise<BrowserContext> {
  const ownDir = options.userDataDir === undefined;
  const userDataDir = options.userDataDir ?? mkdtempSync(join(tmpdir(), 'vae-lens-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: findChromium(),
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: options.viewport ?? { width: 1400, height: 900 },
    });
    // Chromium may still be writing to its profile as the context closes: remove it in the
    // background, retrying, and never fail a test over a leftover temp folder.
    if (ownDir) context.once('close', () => void rm(userDataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }).catch(() => undefined));
    return context;
  } catch (err) {
    if (ownDir) rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5 });
    throw err;
  }
}
