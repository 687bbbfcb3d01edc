// `npm test`: builds VAE Lens and its tests, then runs every layer with Node's own test runner.
// Layers run in order (unit, trainer, webview, e2e) in one runner invocation, so the output ends
// with the runner's summary. `node scripts/test.mjs unit` runs one layer.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const allLayers = ['unit', 'trainer', 'webview', 'e2e'];
const layers = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const layer of layers) {
  if (!allLayers.includes(layer)) {
    console.error(`Unknown test layer "${layer}". Layers: ${allLayers.join(', ')}`);
    process.exit(2);
  }
}

const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

const files = (layers.length ? layers : allLayers).flatMap((l) => testFiles(join(root, 'out/test', l)));
if (files.length === 0) {
  console.error('No test files found under out/test.');
  process.exit(1);
}
const runner = spawnSync(
  process.execPath,
  ['--enable-source-maps', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, VAE_LENS_ROOT: root } },
);
process.exit(runner.status ?? 1);
