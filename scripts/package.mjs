// Platform packages of VAE Lens. Each .vsix carries one platform's Dawn binary (dist/dawn/<dir>/,
// the webgpu backend), ~12–22 MB of the package; the rest is the same everywhere. A package
// installed on a machine it has no binary for still trains, on wasm.
//   npm run package                  this machine's platform → vae-lens.vsix
//   npm run package:all              linux-x64, linux-arm64, darwin-arm64, darwin-x64, win32-x64 → vae-lens-<target>.vsix
//   node scripts/package.mjs --target <t>   one target → vae-lens-<t>.vsix
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'darwin-x64', 'win32-x64'];
// Kept equal to VSCE_PACKAGE_ARGS in the E2E support, which packages the test build the same way.
const VSCE_ARGS = ['package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links'];

const args = process.argv.slice(2);
const targetAt = args.indexOf('--target');
const current = `${process.platform}-${process.arch}`;
const jobs = args.includes('--all')
  ? ALL.map((t) => ({ target: t, out: `vae-lens-${t}.vsix` }))
  : targetAt >= 0
    ? [{ target: args[targetAt + 1], out: `vae-lens-${args[targetAt + 1]}.vsix` }]
    : [{ target: current, out: 'vae-lens.vsix' }];

for (const { target, out } of jobs) {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), '--production', '--target', target], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, [join(root, 'node_modules/@vscode/vsce/vsce'), ...VSCE_ARGS, '--target', target, '--out', out], { cwd: root, stdio: 'inherit' });
  console.log(`[vae-lens] ${out}: ${target}, ${(statSync(join(root, out)).size / 2 ** 20).toFixed(1)} MiB`);
}
// A package for another platform leaves its Dawn binary in dist/: rebuild for this machine.
if (jobs.some((j) => j.target !== current)) execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
