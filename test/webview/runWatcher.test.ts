// The panels' host side, without VS Code: how a panel follows a run folder while it is open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, renameSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { effectiveInfo, RunWatcher, type RunUpdate } from '../../src/extension/panels/runWatcher';
import { runsDirectories } from '../../src/extension/panels/resourceRoots';
import { appendEvents, fixtureEpoch, tempRunsDir, writeFixtureRun } from './fixtures';
import type { RunInfo } from '../../src/shared/run';

function watch(dir: string): { watcher: RunWatcher; next: () => Promise<RunUpdate>; errors: Error[] } {
  const updates: RunUpdate[] = [];
  const waiters: Array<(u: RunUpdate) => void> = [];
  const errors: Error[] = [];
  const watcher = new RunWatcher(
    dir,
    (u) => {
      const w = waiters.shift();
      if (w) w(u);
      else updates.push(u);
    },
    (e) => errors.push(e),
    100,
  );
  const next = () =>
    new Promise<RunUpdate>((resolve, reject) => {
      const ready = updates.shift();
      if (ready) return resolve(ready);
      const timer = setTimeout(() => reject(new Error('no update from the run watcher within 5 s')), 5000);
      waiters.push((u) => {
        clearTimeout(timer);
        resolve(u);
      });
    });
  return { watcher, next, errors };
}

test('a panel\'s watcher holds every event of the run and reports only what is appended', async () => {
  const dir = writeFixtureRun(tempRunsDir(), { name: 'tail', epochs: 10, written: 3, status: 'running' });
  const { watcher, next, errors } = watch(dir);
  try {
    await watcher.ready;
    assert.equal(watcher.events.filter((e) => e.type === 'epoch').length, 3);
    assert.equal(watcher.info?.name, 'tail');
    appendEvents(dir, [fixtureEpoch(4, { epochs: 10, dimz: 20, active: 12 }), fixtureEpoch(5, { epochs: 10, dimz: 20, active: 12 })]);
    const update = await next();
    assert.deepEqual(update.events.map((e) => e.type === 'epoch' && e.epoch), [4, 5]);
    assert.equal(update.reset, false);
    assert.equal(watcher.events.filter((e) => e.type === 'epoch').length, 5);
    // run.json rewritten (status change): reported as changed info.
    const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunInfo;
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...info, status: 'completed', pid: undefined, updated: new Date().toISOString() }));
    let changed = await next();
    while (!changed.infoChanged) changed = await next();
    assert.equal(watcher.info?.status, 'completed');
    // events.jsonl replaced by a shorter file (run folder recreated): a reset, so the panel sends a full snapshot.
    writeFileSync(join(dir, 'events.jsonl'), JSON.stringify(fixtureEpoch(1, { epochs: 10, dimz: 20, active: 12 })) + '\n');
    let reset = await next();
    while (!reset.reset) reset = await next();
    assert.equal(watcher.events.length, 1);
    assert.deepEqual(errors, []);
  } finally {
    watcher.dispose();
  }
});

test('a status written by rename within the same mtime tick still reaches the panel', async () => {
  const dir = writeFixtureRun(tempRunsDir(), { name: 'stopped-fast', epochs: 10, written: 3, status: 'running' });
  const file = join(dir, 'run.json');
  // Coarse file clocks: pin both writes to one mtime, as two writes within one tick get.
  const tick = new Date(Date.now() - 3_600_000);
  utimesSync(file, tick, tick);
  const { watcher, next, errors } = watch(dir);
  try {
    await watcher.ready;
    assert.equal(watcher.info?.status, 'running');
    const info = JSON.parse(readFileSync(file, 'utf8')) as RunInfo;
    writeFileSync(`${file}.tmp`, JSON.stringify({ ...info, status: 'stopped', pid: undefined }));
    renameSync(`${file}.tmp`, file);
    utimesSync(file, tick, tick);
    let changed = await next();
    while (!changed.infoChanged) changed = await next();
    assert.equal(watcher.info?.status, 'stopped');
    assert.deepEqual(errors, []);
  } finally {
    watcher.dispose();
  }
});

test('a run that says it is running but whose trainer on this machine is gone shows as interrupted', () => {
  const dir = writeFixtureRun(tempRunsDir(), { name: 'crashed', epochs: 10, written: 2, status: 'running' });
  const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunInfo;
  const here = { ...info, environment: { ...info.environment!, hostname: hostname() } };
  assert.equal(effectiveInfo({ ...here, pid: process.pid }).status, 'running', 'its trainer (this process) is alive');
  const dead = effectiveInfo({ ...here, pid: 2 ** 22 + 12345 });
  assert.equal(dead.status, 'interrupted');
  assert.match(dead.message ?? '', /no longer running/);
  // The tree's rule (trainerIsGone): a live run that never wrote a pid is starting for a minute, then gone.
  const updated = Date.parse(here.updated);
  assert.equal(effectiveInfo({ ...here, pid: undefined }, new Date(updated + 1000)).status, 'running', 'no pid yet, within the grace period');
  assert.equal(effectiveInfo({ ...here, pid: undefined }, new Date(updated + 120_000)).status, 'interrupted', 'no pid long after the run was written');
  // A run written by a trainer on another machine (a CLI over SSH) cannot be judged by pid here.
  assert.equal(effectiveInfo({ ...info, environment: { ...info.environment!, hostname: 'elsewhere' }, pid: 2 ** 22 + 12345 }).status, 'running');
});

test('besides dist/ and media/, a panel may load only from the folders holding its runs', () => {
  assert.deepEqual(runsDirectories(['/work/a/.vae-runs/r1', '/work/a/.vae-runs/r2', '/other/runs/r3']), ['/work/a/.vae-runs', '/other/runs']);
});
