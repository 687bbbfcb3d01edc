// In-host integration suite: runs inside a VS Code extension host, with the real `vscode` API.
// `npm test` runs it in code-server's extension host (test/e2e/inHost.test.ts);
// `npm run test:desktop` runs it in desktop VS Code with @vscode/test-cli where VS Code can be downloaded.
import * as assert from 'node:assert/strict';
import { suite, test } from 'mocha';
import * as vscode from 'vscode';

const EXTENSION_ID = 'vae-lens.vae-lens';

suite('VAE Lens in the extension host', () => {
  test('the extension is present and activates', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `extension ${EXTENSION_ID} is not installed in this host`);
    await extension.activate();
    assert.equal(extension.isActive, true);
    assert.equal(extension.packageJSON.displayName, 'VAE Lens');
  });

  test('every command the manifest contributes is registered', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    await extension?.activate();
    const contributed: { command: string }[] = extension?.packageJSON.contributes.commands ?? [];
    assert.ok(contributed.length > 0, 'the manifest contributes no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.map((c) => c.command).filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  test('VAE: Show Log runs', async () => {
    await vscode.commands.executeCommand('vaeLens.showLog');
  });
});
