/**
 * A WebGPU adapter for the webgpu tests on machines without a GPU: Mesa 25's software Vulkan
 * driver (lavapipe), installed from Debian's backports by .ci/install-software-vulkan when root
 * (as the browser tests install Chromium). The tests then start the backend and FAIL with its
 * reason when no adapter can be had: they never skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repoRoot';

const ROOT = repoRoot();
const INSTALLER = join(ROOT, '.ci', 'install-software-vulkan');

let ensured = false;

/**
 * On Debian, makes sure a Vulkan driver that Dawn accepts is installed (a no-op when it is);
 * elsewhere (macOS, Windows, a Linux without dpkg) the system's own GPU driver is used.
 * Throws with the installer's own words when the driver is missing and cannot be installed.
 */
export function ensureWebGpuDriver(): void {
  if (ensured || process.platform !== 'linux' || !existsSync('/usr/bin/dpkg-query')) return;
  try {
    execFileSync('bash', [INSTALLER], { stdio: 'pipe', timeout: 10 * 60 * 1000 });
    ensured = true;
  } catch (err) {
    const e = err as { stderr?: Buffer; stdout?: Buffer; message: string };
    throw new Error(`The webgpu tests need a Vulkan driver and could not install Mesa's software one: ${e.stderr?.toString().trim() || e.stdout?.toString().trim() || e.message}`);
  }
}
