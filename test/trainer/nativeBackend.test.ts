import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support';

// An installed extension ships no node_modules: a native TensorFlow package installed in the
// user's project (the folder the trainer runs in) is looked up there too.
test('a native backend package is looked up in the folder the trainer runs in, and a broken one is named', async () => {
  const project = mkdtempSync(join(tmpdir(), 'vae-lens-project-'));
  const pkgDir = join(project, 'node_modules', '@tensorflow', 'tfjs-node');
  mkdirSync(pkgDir, { recursive: true });
  writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0', main: 'index.js' }));
  // Loads, but registers no backend: what a mismatched or half-installed package looks like.
  writeFileSync(join(pkgDir, 'index.js'), 'process.stderr.write("project tfjs-node loaded\\n");\n');
  const runsDir = join(project, 'runs');

  const forced = await runCli(['train', '--backend', 'tensorflow', '--epochs', '1', '--train-limit', '200', '--test-limit', '100', '--runs-dir', runsDir], project);
  assert.equal(forced.code, 1, forced.stderr);
  assert.match(forced.stderr, /project tfjs-node loaded/);
  assert.match(forced.stderr, /@tensorflow\/tfjs-node loaded but registered no TensorFlow backend/);

  const auto = await runCli(['train', '--epochs', '1', '--train-limit', '200', '--test-limit', '100', '--dimz', '4', '--runs-dir', runsDir], project);
  assert.equal(auto.code, 0, auto.stderr);
  assert.match(auto.stderr, /skipped tensorflow: @tensorflow\/tfjs-node loaded but registered no TensorFlow backend/);
  assert.match(auto.stderr, /backend: (wasm|cpu)/);
});
