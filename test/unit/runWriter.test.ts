// The host's writes into run folders (model/runWriter.ts), on real folders.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunWriteRefused, appendWarning, recordInterrupted, renameRun, runNameProblem, writeStopRequest } from '../../src/extension/model/runWriter';
import { interruptedInfo } from '../../src/extension/model/runStore';
import { readRun, readRunInfo, stopRequested } from '../../src/node/runFolder';
import { writeRunFolder } from '../support/runFixtures';

let runs: string;
beforeEach(() => {
  runs = mkdtempSync(join(tmpdir(), 'vae-lens-writer-'));
});
afterEach(() => rmSync(runs, { recursive: true, force: true }));

test('Rename writes the trimmed name into run.json and keeps everything else', async () => {
  const dir = writeRunFolder(runs, { id: 'r', name: 'old', status: 'stopped', completed: 2 });
  const before = await readRunInfo(dir);
  const after = await renameRun(dir, '  new name ', new Date('2026-12-01T10:00:00Z'));
  assert.deepEqual(await readRunInfo(dir), { ...before, name: 'new name', updated: '2026-12-01T10:00:00.000Z' });
  assert.equal(after.name, 'new name');
});

test('Rename refuses a live run and an invalid name, and leaves run.json as it was', async () => {
  const live = writeRunFolder(runs, { id: 'live', name: 'live', status: 'running' });
  const text = readFileSync(join(live, 'run.json'), 'utf8');
  await assert.rejects(renameRun(live, 'other'), (e: Error) => e instanceof RunWriteRefused && /"live" is training; rename it once it has stopped/.test(e.message));
  const done = writeRunFolder(runs, { id: 'done', name: 'done' });
  await assert.rejects(renameRun(done, 'a/b'), /"a\/b" cannot be a run name: Use a non-empty name without/);
  await assert.rejects(renameRun(done, '   '), /A name is needed/);
  assert.equal(readFileSync(join(live, 'run.json'), 'utf8'), text);
  assert.equal((await readRunInfo(done)).name, 'done');
  assert.equal(runNameProblem('x'.repeat(101)), 'At most 100 characters.');
  assert.equal(runNameProblem('fine name'), undefined);
});

test('an interrupted run gets its run.json and a matching status event', async () => {
  const dir = writeRunFolder(runs, { id: 'r', status: 'running', completed: 3, pid: 4_000_000 });
  const info = await readRunInfo(dir);
  await recordInterrupted(dir, interruptedInfo(info, new Date('2026-12-01T10:00:00Z')));
  const run = await readRun(dir);
  assert.equal(run.info.status, 'interrupted');
  assert.equal(run.info.pid, undefined);
  const last = run.events.at(-1);
  assert.deepEqual(last && { ...last }, { type: 'status', v: 1, time: '2026-12-01T10:00:00.000Z', status: 'interrupted', epoch: 3, message: run.info.message });
});

test('a stop request and a warning land in the run folder', async () => {
  const dir = writeRunFolder(runs, { id: 'r', status: 'running' });
  assert.equal(stopRequested(dir), false);
  await writeStopRequest(dir);
  assert.equal(stopRequested(dir), true);
  await appendWarning(dir, { type: 'warning', v: 1, time: 't', kind: 'sigma-far-from-one', severity: 'warning', epoch: 1, message: 'm', dismissed: true });
  const last = (await readRun(dir)).events.at(-1);
  assert.equal(last?.type, 'warning');
});
