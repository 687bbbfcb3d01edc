import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support';

/** A project whose node_modules holds a fake @tensorflow/tfjs-node that announces itself when loaded. */
function projectWithFakeNative(): string {
  const project = mkdtempSync(join(tmpdir(), 'vae-lens-project-'));
  const pkgDir = join(project, 'node_modules', '@tensorflow', 'tfjs-node');
  mkdirSync(pkgDir, { recursive: true });
  writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0', main: 'index.js' }));
  // Loads, but registers no backend: what a mismatched or half-installed package looks like.
  writeFileSync(join(pkgDir, 'index.js'), 'process.stderr.write("project tfjs-node loaded\\n");\n');
  return project;
}

const TRAIN = ['train', '--epochs', '1', '--train-limit', '200', '--test-limit', '100', '--dimz', '4'];

// `vae-lens train` inside a cloned repository must not run that repository's code: native
// TensorFlow comes from VAE Lens's own install, or from a folder the user names.
test('a native backend package in the working folder\'s node_modules is never loaded', async () => {
  const project = projectWithFakeNative();
  const runsDir = join(project, 'runs');
  const env = { VAE_LENS_NATIVE_MODULES: '' };

  const forced = await runCli([...TRAIN, '--backend', 'tensorflow', '--runs-dir', runsDir], project, env);
  assert.equal(forced.code, 1, forced.stderr);
  assert.doesNotMatch(forced.stderr, /project tfjs-node loaded/);
  assert.match(forced.stderr, /@tensorflow\/tfjs-node is not installed with VAE Lens/);
  assert.match(forced.stderr, /VAE_LENS_NATIVE_MODULES/);

  const auto = await runCli([...TRAIN, '--runs-dir', runsDir], project, env);
  assert.equal(auto.code, 0, auto.stderr);
  assert.doesNotMatch(auto.stderr, /project tfjs-node loaded/);
  assert.match(auto.stderr, /skipped tensorflow: @tensorflow\/tfjs-node is not installed with VAE Lens/);
  assert.match(auto.stderr, /backend: (wasm|cpu)/);
});

test('VAE_LENS_NATIVE_MODULES names a folder to load native TensorFlow from, and a broken package there is named', async () => {
  const project = projectWithFakeNative();
  const runsDir = join(project, 'runs');
  // The folder is named explicitly; the CLI runs elsewhere.
  const elsewhere = mkdtempSync(join(tmpdir(), 'vae-lens-cwd-'));
  for (const named of [project, join(project, 'node_modules')]) {
    const forced = await runCli([...TRAIN, '--backend', 'tensorflow', '--runs-dir', runsDir], elsewhere, { VAE_LENS_NATIVE_MODULES: named });
    assert.equal(forced.code, 1, forced.stderr);
    assert.match(forced.stderr, /project tfjs-node loaded/, `named ${named}`);
    assert.match(forced.stderr, /@tensorflow\/tfjs-node loaded but registered no TensorFlow backend/);
  }
});
