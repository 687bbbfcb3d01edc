// In the extension host, with the real `vscode` API: run commands given a path (as a link, a
// webview message or another extension would give one) act only on run folders directly inside
// a runs folder of the workspace. A command that did not check would ask something (Rename's
// input box, Export's save dialog) and not return here. Delete's confirmation is modal, and a test
// host answers modal dialogs itself with Cancel: for Delete the test shows only that nothing is
// deleted; it takes its runs through the same check as Rename and Export (runPicker.ts).
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { VaeLensApi } from '../../src/extension/extension';
import { STOP_REQUEST_FILE } from '../../src/shared/run';
import { writeRunFolder } from '../support/runFixtures';

const EXTENSION_ID = 'vae-lens.vae-lens';
/** A command that refuses returns at once; one that asks the user waits for an answer that never comes. */
const ANSWER_MS = 5000;

async function runPromptly(command: string, arg: unknown): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const asked = new Promise<'asked'>((resolve) => (timer = setTimeout(() => resolve('asked'), ANSWER_MS)));
  const result = await Promise.race([vscode.commands.executeCommand(command, arg).then(() => 'returned' as const), asked]);
  clearTimeout(timer);
  assert.equal(result, 'returned', `${command}(${String(arg)}) should refuse at once; it is waiting for an answer (a dialog or an input box)`);
}

suite('Run commands check the paths they are given', () => {
  let runsDir: string;
  let elsewhere: string;
  let inside: string;
  let outside: string;
  let escape: string;
  const files = (dir: string) => ['run.json', 'events.jsonl'].map((f) => readFileSync(join(dir, f), 'utf8'));

  suiteSetup(async () => {
    const api = (await vscode.extensions.getExtension<VaeLensApi>(EXTENSION_ID)?.activate()) as VaeLensApi;
    runsDir = api.store.getRoots()[0]?.runsDir;
    assert.ok(runsDir, 'the workspace has a runs folder');
    inside = writeRunFolder(runsDir, { id: '20261201-100000-inside', name: 'inside', status: 'completed', epochs: 2, completed: 2 });
    elsewhere = mkdtempSync(join(tmpdir(), 'vae-lens-elsewhere-'));
    outside = writeRunFolder(elsewhere, { id: '20261201-100000-outside', name: 'outside', status: 'completed', epochs: 2, completed: 2 });
    escape = join(runsDir, 'escape');
    symlinkSync(outside, escape);
  });
  suiteTeardown(() => rmSync(elsewhere, { recursive: true, force: true }));

  test('Delete, Rename and Export refuse a folder outside the runs folders, a link leading out, and ".."', async () => {
    const before = files(outside);
    const dotdot = `${runsDir}/../${basename(runsDir)}/${basename(inside)}`;
    for (const command of ['vaeLens.deleteRun', 'vaeLens.renameRun', 'vaeLens.exportMetrics']) {
      for (const arg of [outside, vscode.Uri.file(outside), escape, dotdot, '/', 'relative/path']) await runPromptly(command, arg);
    }
    assert.deepEqual(files(outside), before, 'the folder outside is untouched');
    assert.ok(existsSync(inside), 'the run reached through ".." is not deleted');
    assert.equal(JSON.parse(readFileSync(join(inside, 'run.json'), 'utf8')).name, 'inside');
  });

  test('Stop given a path outside writes nothing there; given a run of this workspace on another host, it writes the stop request', async () => {
    const live = writeRunFolder(elsewhere, { id: '20261201-110000-live', name: 'live outside', status: 'running', epochs: 10, completed: 1, pid: 1, hostname: hostname() });
    const before = files(live);
    await runPromptly('vaeLens.stop', live);
    assert.deepEqual(files(live), before);
    assert.equal(existsSync(join(live, STOP_REQUEST_FILE)), false);

    const remote = writeRunFolder(runsDir, { id: '20261201-120000-remote', name: 'remote', status: 'running', epochs: 10, completed: 1, pid: 4242, hostname: 'gpu-box-7' });
    writeFileSync(join(remote, 'run.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(remote, 'run.json'), 'utf8')), host: 'gpu-box-7' }));
    await runPromptly('vaeLens.stop', remote);
    assert.ok(existsSync(join(remote, STOP_REQUEST_FILE)), 'a stop request in the run folder inside the runs folder');
  });
});
