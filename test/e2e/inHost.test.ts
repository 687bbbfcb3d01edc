// Runs the in-host integration suite (test/desktop, the one `npm run test:desktop` runs in desktop
// VS Code) inside code-server's Node extension host: the web workbench accepts
// extensionDevelopmentPath/extensionTestsPath in its `payload` URL parameter, and the runner is
// @vscode/test-cli's own, so both hosts run the suite the same way.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runInHostSuite } from '../support/inHost';
import { repoRoot } from '../support/codeServer';
import { E2E_TIMEOUT_MS } from '../support/workbench';

test('the in-host suite (test/desktop) passes in code-server\'s extension host', { timeout: E2E_TIMEOUT_MS }, async () => {
  const dir = join(repoRoot(), 'out', 'test', 'desktop');
  assert.ok(existsSync(dir), `${dir} is missing: build first`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.test.js')).map((f) => join(dir, f));
  assert.ok(files.length > 0, `no compiled in-host tests in ${dir}`);
  const result = await runInHostSuite(files);
  const failed = result.failures.map((f) => `  ✖ ${f.fullTitle}: ${f.message}`).join('\n');
  assert.equal(result.failures.length, 0, `in-host tests failed:\n${failed}`);
  assert.ok(result.passes.length > 0, 'the in-host suite ran no tests');
  assert.equal(result.exitCode, 0, 'the extension host reported a failing test run');
  assert.equal(result.passes.length, result.tests, `some in-host tests neither passed nor failed: ${result.report}`);
});
