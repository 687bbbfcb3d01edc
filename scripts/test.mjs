// `npm test`: builds VAE Lens and its tests, then runs every layer (unit, trainer, webview, e2e)
// with Node's own test runner in one invocation, one file at a time, so the output ends with the
// runner's summary (the runner orders files by path). `node scripts/test.mjs unit` runs one layer.
// A test without its own timeout gets 10 minutes, and the whole run 45, so a hung test fails
// instead of blocking CI.
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
const RUN_LIMIT_MS = 45 * 60 * 1000;
const runner = spawnSync(
  process.execPath,
  ['--enable-source-maps', '--test', '--test-concurrency=1', '--test-timeout=600000', '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, VAE_LENS_ROOT: root }, timeout: RUN_LIMIT_MS, killSignal: 'SIGKILL' },
);
if (runner.error && /ETIMEDOUT/.test(String(runner.error))) {
  console.error(`The tests did not finish within ${RUN_LIMIT_MS / 60000} minutes and were stopped.`);
  process.exit(1);
}
process.exit(runner.status ?? 1);
