/** The repository root, for every test and test support module. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** $VAE_LENS_ROOT (set by scripts/test.mjs), else the nearest folder above this file with the package and its build script. */
export function repoRoot(): string {
  if (process.env.VAE_LENS_ROOT) return process.env.VAE_LENS_ROOT;
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'scripts', 'build.mjs'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`Cannot find the VAE Lens repository root above ${__dirname}; set VAE_LENS_ROOT.`);
    dir = up;
  }
  return dir;
}
