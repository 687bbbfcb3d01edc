// How a panel follows a run in the extension host: the run store is the one reader of run folders;
// a follower gets the whole history once and then only what is appended, the shown status by the
// shared liveness rule, and word when the folder goes away or comes back.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore, type RunFeedUpdate } from '../../src/extension/model/runStore';
import { OpenPanels } from '../../src/extension/panels/openPanels';
import type { RunInfo } from '../../src/shared/run';
import { appendEvents, healthEpoch, writeRunFolder } from '../support/runFixtures';

let runsDir: string;
let store: RunStore;
beforeEach(() => {
  runsDir = mkdtempSync(join(tmpdir(), 'vae-lens-follow-'));
  store = new RunStore({ debounceMs: 5, initialWindowBytes: 4096, probe: { hostname: 'here', isAlive: () => false, startId: () => undefined } });
  store.setRoots([{ label: 'ws', runsDir }]);
});
afterEach(() => {
  store.dispose();
  rmSync(runsDir, { recursive: true, force: true });
});

function follow(dir: string) {
  const updates: RunFeedUpdate[] = [];
  const sub = store.follow(dir, (u) => updates.push(u));
  const next = async (kind: RunFeedUpdate['kind']): Promise<RunFeedUpdate> => {
    const until = Date.now() + 5000;
    for (;;) {
      const i = updates.findIndex((u) => u.kind === kind);
      if (i >= 0) return updates.splice(0, i + 1).pop()!;
      if (Date.now() > until) throw new Error(`no '${kind}' update within 5 s (got ${JSON.stringify(updates.map((u) => u.kind))})`);
      await store.refreshAll();
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { sub, updates, next };
}

const epochsOf = (events: { type: string }[]) => events.filter((e) => e.type === 'epoch').length;

test('a follower gets the whole history once, even where the tree reads only the end, then only appends', async () => {
  const dir = writeRunFolder(runsDir, { id: 'long', status: 'running', epochs: 60, completed: 40, hostname: 'here', pid: process.pid });
  await store.refreshAll();
  assert.equal(store.get(dir)!.partial, true, 'the tree read only the last 4 KiB');
  const seen: string[] = [];
  store.onDidChange((c) => seen.push(...[...c.newEpochs.keys()]));
  const { sub, next } = follow(dir);
  const history = await store.history(dir);
  assert.equal(epochsOf(history!.events), 40, 'every epoch, from the first byte');
  assert.equal(store.get(dir)!.partial, false);
  assert.deepEqual(seen, [], 're-reading old epochs for a panel is not news (no warnings again)');
  appendEvents(dir, [healthEpoch(41, 60, 20)]);
  const appended = await next('appended');
  assert.deepEqual(appended.kind === 'appended' && appended.events.map((e) => e.type === 'epoch' && e.epoch), [41]);
  assert.equal(epochsOf((await store.history(dir))!.events), 41);
  assert.deepEqual(seen, [dir], 'a new epoch is news');
  // run.json rewritten by rename within one mtime tick (a fast stop): the follower hears of it.
  const file = join(dir, 'run.json');
  const tick = new Date(Date.now() - 3_600_000);
  utimesSync(file, tick, tick);
  await store.refreshAll();
  const info = JSON.parse(readFileSync(file, 'utf8')) as RunInfo;
  writeFileSync(`${file}.tmp`, JSON.stringify({ ...info, status: 'stopped', pid: undefined }));
  renameSync(`${file}.tmp`, file);
  utimesSync(file, tick, tick);
  await store.refreshAll();
  await next('appended');
  assert.equal((await store.history(dir))!.info!.status, 'stopped');
  // events.jsonl replaced by a shorter file: the follower takes a new snapshot.
  writeFileSync(join(dir, 'events.jsonl'), JSON.stringify(healthEpoch(1, 60, 20)) + '\n');
  await next('reset');
  assert.equal(epochsOf((await store.history(dir))!.events), 1);
  sub.dispose();
  assert.equal(await store.history(dir), undefined, 'nobody follows it: no history kept');
});

test('a live run whose trainer is gone shows as interrupted to tree and panel alike', async () => {
  const dir = writeRunFolder(runsDir, { id: 'crashed', status: 'running', completed: 2, hostname: 'here', pid: 2 ** 22 + 12345 });
  await store.refreshAll();
  const { next } = follow(dir);
  await store.history(dir);
  await store.markInterrupted({ persist: false });
  await next('appended');
  assert.equal((await store.history(dir))!.info!.status, 'interrupted');
  assert.equal(store.get(dir)!.info!.status, 'interrupted');
});

test('a followed folder that is deleted is reported gone, and comes back when it does', async () => {
  const dir = writeRunFolder(runsDir, { id: 'r', completed: 3 });
  await store.refreshAll();
  const { next } = follow(dir);
  await store.history(dir);
  const backup = join(tmpdir(), `vae-lens-backup-${process.pid}`);
  cpSync(dir, backup, { recursive: true });
  rmSync(dir, { recursive: true });
  await store.refreshAll();
  await next('gone');
  assert.equal((await store.history(dir))!.gone, true);
  cpSync(backup, dir, { recursive: true });
  rmSync(backup, { recursive: true });
  await next('reset');
  const back = await store.history(dir);
  assert.equal(back!.gone, false);
  assert.equal(epochsOf(back!.events), 3);
});

test('a panel restored before the first scan gets its run, and the scan still lists every run', async () => {
  const a = writeRunFolder(runsDir, { id: 'a', completed: 3 });
  writeRunFolder(runsDir, { id: 'b', completed: 2 });
  const { updates } = follow(a);
  const history = store.history(a);
  const scan = store.refreshAll();
  const [h] = await Promise.all([history, scan]);
  assert.equal(epochsOf(h!.events), 3);
  assert.equal(store.runs().length, 2);
  assert.ok(store.isLoaded);
  assert.ok(updates.every((u) => u.kind !== 'gone'));
});

test('the record of open panels finds a panel\'s runs by its kind and title, the latest first, and keeps its view', () => {
  const storage = mkdtempSync(join(tmpdir(), 'vae-lens-storage-'));
  const panels = new OpenPanels(join(storage, 'ws'));
  assert.equal(panels.find('run', 'VAE: a'), undefined, 'nothing recorded yet');
  panels.record({ kind: 'run', title: 'VAE: a', dirs: ['/w/.vae-runs/a1'] });
  panels.record({ kind: 'compare', title: 'VAE: a vs b', dirs: ['/w/.vae-runs/a1', '/w/.vae-runs/b'] });
  panels.record({ kind: 'run', title: 'VAE: a', dirs: ['/w/.vae-runs/a2'] });
  assert.deepEqual(panels.find('run', 'VAE: a')?.dirs, ['/w/.vae-runs/a2']);
  assert.deepEqual(panels.find('compare', 'VAE: a vs b')?.dirs, ['/w/.vae-runs/a1', '/w/.vae-runs/b']);
  assert.equal(panels.find('compare', 'VAE: a'), undefined);
  // The view, recorded at each change, replaces the entry of the same runs.
  const ui = { tab: 'config', imageEpoch: 3, logY: true, smoothing: 0, heatmapMetric: 'sigma' } as const;
  panels.record({ kind: 'run', title: 'VAE: a', dirs: ['/w/.vae-runs/a1'], ui });
  assert.deepEqual(panels.findByDirs('run', ['/w/.vae-runs/a1'])?.ui, ui);
  assert.equal(panels.findByDirs('compare', ['/w/.vae-runs/a1']), undefined, 'a run panel is not a comparison');
  // A new instance (a reloaded window) reads the same record; a damaged file is no record, not an error.
  const reloaded = new OpenPanels(join(storage, 'ws'));
  assert.deepEqual(reloaded.find('run', 'VAE: a')?.dirs, ['/w/.vae-runs/a1'], 'the latest entry of that title');
  assert.deepEqual(reloaded.find('run', 'VAE: a')?.ui, ui);
  // A view from an older version falls back field by field.
  writeFileSync(join(storage, 'ws', 'open-panels.json'), JSON.stringify([{ kind: 'run', title: 'VAE: c', dirs: ['/w/.vae-runs/c'], ui: { tab: 'nope', imageEpoch: 2 } }]));
  assert.deepEqual(new OpenPanels(join(storage, 'ws')).find('run', 'VAE: c')?.ui, { tab: 'curves', imageEpoch: 2, logY: false, smoothing: 0.6, heatmapMetric: 'kl' });
  writeFileSync(join(storage, 'ws', 'open-panels.json'), '{not json');
  assert.equal(new OpenPanels(join(storage, 'ws')).find('run', 'VAE: a'), undefined);
  assert.equal(new OpenPanels(undefined).find('run', 'VAE: a'), undefined, 'no workspace storage: nothing kept');
  rmSync(storage, { recursive: true, force: true });
});

test('a followed run says how many lines of events.jsonl it could not use, and why', async () => {
  const dir = writeRunFolder(runsDir, { id: 'bad-lines', completed: 3 });
  appendEvents(dir, [{ ...healthEpoch(4, 10, 20), test: null } as never]);
  writeFileSync(join(dir, 'events.jsonl'), readFileSync(join(dir, 'events.jsonl'), 'utf8') + '{"type":"epo\n');
  await store.refreshAll();
  follow(dir);
  const h = await store.history(dir);
  assert.equal(epochsOf(h!.events), 3);
  assert.equal(h!.skipped?.count, 2);
  assert.match(h!.skipped!.problems[0].reason, /^test: expected an object, got null/);
  assert.deepEqual(h!.skipped!.problems.map((p) => p.line), [5, 6]);
});
