import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync, readFileSync, renameSync, statSync, utimesSync, type Stats } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { EventTail } from '../../src/node/eventTail';
import { FileStamp } from '../../src/extension/model/fileStamp';
import { RunStore, type StoreChange } from '../../src/extension/model/runStore';
import { trainerIsGone } from '../../src/shared/liveness';
import {
  runItemModel, runDescription, formatDuration, secondsLeft, groupRuns, queuedItemModel, escapeMarkdown, healthBadge, sortRuns,
} from '../../src/extension/model/treeModel';
import { defaultConfig } from '../../src/shared/config';
import { DEFAULT_HEALTH_SETTINGS } from '../../src/shared/health';
import { appendEvents, healthEpoch, writeRunFolder } from '../support/runFixtures';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vae-lens-tree-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const statusLine = (s: string) => JSON.stringify({ type: 'status', v: 1, time: 't', status: s }) + '\n';

describe('event tail', () => {
  test('reads only the bytes appended since the last read, keeping a partial line for later', async () => {
    const run = join(dir, 'r');
    writeRunFolder(dir, { id: 'r', completed: 2 });
    const tail = new EventTail(run);
    const first = await tail.read();
    assert.equal(first.events.length, 3);
    const size = statSync(join(run, 'events.jsonl')).size;
    assert.equal(tail.bytesConsumed, size);
    assert.deepEqual((await tail.read()).bytesRead, 0);
    const line = JSON.stringify(healthEpoch(3, 10, 20)) + '\n';
    appendFileSync(join(run, 'events.jsonl'), line.slice(0, 100));
    const partial = await tail.read();
    assert.equal(partial.bytesRead, 100);
    assert.equal(partial.events.length, 0);
    appendFileSync(join(run, 'events.jsonl'), line.slice(100));
    const rest = await tail.read();
    assert.equal(rest.bytesRead, Buffer.byteLength(line) - 100);
    assert.equal(rest.events.length, 1);
    assert.equal(rest.reset, false);
  });

  test('a truncated or replaced file is read again from the start, with reset set', async () => {
    const run = join(dir, 'r');
    writeRunFolder(dir, { id: 'r', completed: 3 });
    const tail = new EventTail(run);
    assert.equal((await tail.read()).events.length, 4);
    writeFileSync(join(run, 'events.jsonl'), statusLine('running'));
    const truncated = await tail.read();
    assert.equal(truncated.reset, true);
    assert.equal(truncated.events.length, 1);
    // Replacement by rename (another inode) even when the new file is larger.
    writeFileSync(join(run, 'new.jsonl'), statusLine('running').repeat(5));
    renameSync(join(run, 'new.jsonl'), join(run, 'events.jsonl'));
    const replaced = await tail.read();
    assert.equal(replaced.reset, true);
    assert.equal(replaced.events.length, 5);
  });

  test('a missing file is no error; a large file can be read from a window at its end', async () => {
    const run = join(dir, 'r');
    assert.deepEqual(await new EventTail(run).read(), { events: [], reset: false, bytesRead: 0, partial: false });
    writeRunFolder(dir, { id: 'r', completed: 30 });
    const oneLine = JSON.stringify(healthEpoch(1, 10, 20)).length;
    const tail = new EventTail(run, oneLine * 4);
    const read = await tail.read();
    assert.equal(read.partial, true);
    assert.ok(read.events.length >= 2 && read.events.length <= 4, `read ${read.events.length} events`);
    assert.equal(read.events.at(-1)?.type === 'epoch' && read.events.at(-1)?.epoch, 30);
    assert.equal(tail.skippedLines, 0);
  });
});

describe('run store', () => {
  test('scans runs, tails events, evaluates health, and reports new epochs once', async () => {
    const store = new RunStore({ debounceMs: 1 });
    store.setRoots([{ label: 'ws', runsDir: dir }]);
    writeRunFolder(dir, { id: 'a', status: 'completed', completed: 10 });
    const b = writeRunFolder(dir, { id: 'b', status: 'running', completed: 1, pid: process.pid, hostname: hostname() });
    const changes: StoreChange[] = [];
    store.onDidChange((c) => changes.push(c));
    await store.refreshAll();
    assert.equal(store.runs().length, 2);
    assert.equal(changes[0].newEpochs.get(b)?.length, 1);
    const a = store.get(join(dir, 'a'))!;
    assert.equal(a.latest?.epoch, 10);
    assert.deepEqual(a.findings.map((f) => [f.kind, f.severity]), [['sigma-far-from-one', 'info']]);
    // Nothing changed: nothing emitted.
    await store.refreshAll();
    assert.equal(changes.length, 1);
    appendEvents(b, [healthEpoch(2, 10, 20)]);
    await store.refreshDirs([b]);
    assert.equal(changes.length, 2);
    assert.deepEqual(changes[1].newEpochs.get(b)?.map((e) => e.epoch), [2]);
    assert.deepEqual([...changes[1].appended], [b]);
    // A non-epoch event (the trainer's error before a failed status) is reported as appended too.
    appendEvents(b, [{ type: 'error', v: 1, time: 't', message: 'Loss is NaN at batch 3', epoch: 3 }]);
    await store.refreshDirs([b]);
    assert.deepEqual([...changes[2].appended], [b]);
    assert.equal(changes[2].newEpochs.size, 0);
    assert.equal(store.get(b)!.findings[0].kind, 'diverged');
    assert.equal(store.get(b)!.latest?.epoch, 2);
    rmSync(b, { recursive: true });
    await store.refreshAll();
    assert.deepEqual(changes[3].removed, [b]);
  });

  test('a run marked running whose pid is gone becomes interrupted, on disk and as a status event', async () => {
    const store = new RunStore();
    store.setRoots([{ label: 'ws', runsDir: dir }]);
    const gone = writeRunFolder(dir, { id: 'gone', status: 'running', completed: 3, pid: 2 ** 22 + 12345, hostname: hostname() });
    const alive = writeRunFolder(dir, { id: 'alive', status: 'running', completed: 3, pid: process.pid, hostname: hostname() });
    const remote = writeRunFolder(dir, { id: 'remote', status: 'running', completed: 3, pid: 2 ** 22 + 12345, hostname: 'gpu-box' });
    await store.refreshAll();
    const marked = await store.markInterrupted({ persist: true });
    assert.deepEqual(marked.map((m) => m.id), ['gone']);
    const info = JSON.parse(readFileSync(join(gone, 'run.json'), 'utf8'));
    assert.equal(info.status, 'interrupted');
    assert.equal(info.pid, undefined);
    assert.match(readFileSync(join(gone, 'events.jsonl'), 'utf8'), /"status":"interrupted"/);
    assert.equal(store.get(gone)!.info!.status, 'interrupted');
    assert.equal(store.get(alive)!.info!.status, 'running');
    assert.equal(store.get(remote)!.info!.status, 'running');
  });

  test('a trainer that completed and exited after the store last read run.json is not marked interrupted', async () => {
    const store = new RunStore();
    store.setRoots([{ label: 'ws', runsDir: dir }]);
    // The store read run.json while the trainer ran its last epoch ...
    const r = writeRunFolder(dir, { id: 'finishing', status: 'running', completed: 2, pid: 2 ** 22 + 12345, hostname: hostname() });
    await store.refreshAll();
    assert.equal(store.get(r)!.info!.status, 'running');
    // ... then the trainer wrote its final status and exited, before the next refresh.
    const info = JSON.parse(readFileSync(join(r, 'run.json'), 'utf8'));
    writeFileSync(join(r, 'run.json'), JSON.stringify({ ...info, status: 'completed', pid: undefined, host: undefined, processStart: undefined }));
    appendFileSync(join(r, 'events.jsonl'), statusLine('completed'));
    assert.deepEqual(await store.markInterrupted({ persist: true }), [], 'the cached "running" is not judged: run.json is read again');
    assert.equal(JSON.parse(readFileSync(join(r, 'run.json'), 'utf8')).status, 'completed', 'the final status stays on disk');
    assert.doesNotMatch(readFileSync(join(r, 'events.jsonl'), 'utf8'), /interrupted/);
    assert.equal(store.get(r)!.info!.status, 'completed', 'and the store shows it');
  });

  test('Stop\'s run.json, replaced by rename within the same mtime, is still seen: the tree leaves "running"', async () => {
    const store = new RunStore();
    store.setRoots([{ label: 'ws', runsDir: dir }]);
    const r = writeRunFolder(dir, { id: 'r', status: 'running', completed: 2, pid: process.pid, hostname: hostname() });
    const file = join(r, 'run.json');
    // File clocks are coarse: two writes within one tick share an mtime. Pin both writes to one.
    const tick = new Date(Date.now() - 3_600_000);
    utimesSync(file, tick, tick);
    await store.refreshAll();
    assert.equal(store.get(r)!.info!.status, 'running');
    const info = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(`${file}.tmp`, JSON.stringify({ ...info, status: 'stopped', pid: undefined }, null, 2));
    renameSync(`${file}.tmp`, file);
    utimesSync(file, tick, tick);
    const changes: StoreChange[] = [];
    store.onDidChange((c) => changes.push(c));
    await store.refreshDirs([r]);
    assert.equal(store.get(r)!.info!.status, 'stopped');
    assert.equal(runItemModel(store.get(r)!).description.split(' · ')[0], 'stopped');
    assert.equal(changes.length, 1, 'listeners (the tree) were told');
    // Read again with nothing new: no change is reported.
    await store.refreshDirs([r]);
    assert.equal(changes.length, 1);
  });

  test('run.json is read again when its stamp differs, or when it was written too close to the last read', () => {
    const st = (o: Partial<Stats>) => ({ ino: 1, size: 100, mtimeMs: 1_000_000, ctimeMs: 1_000_000, ...o }) as Stats;
    const stamp = new FileStamp();
    assert.equal(stamp.needsRead(st({})), true, 'never read');
    stamp.recordRead(st({}), 1_000_000 + 10_000);
    assert.equal(stamp.needsRead(st({})), false, 'read well after its last write, unchanged');
    assert.equal(stamp.needsRead(st({ ino: 2 })), true, 'replaced by rename');
    assert.equal(stamp.needsRead(st({ size: 101 })), true);
    assert.equal(stamp.needsRead(st({ ctimeMs: 1_000_001 })), true);
    stamp.recordRead(st({}), 1_000_000 + 3);
    assert.equal(stamp.needsRead(st({})), true, 'read within the mtime tick of a write: a later write may share its stamp');
    stamp.invalidate();
    stamp.recordRead(st({}), 1_000_000 + 10_000);
    stamp.invalidate();
    assert.equal(stamp.needsRead(st({})), true);
  });

  test('untrusted: a dead run is shown interrupted without writing a byte; trusted later, it is written', async () => {
    const store = new RunStore();
    store.setRoots([{ label: 'ws', runsDir: dir }]);
    const gone = writeRunFolder(dir, { id: 'gone', status: 'running', completed: 3, pid: 2 ** 22 + 12345, hostname: hostname() });
    const files = () => [readFileSync(join(gone, 'run.json'), 'utf8'), readFileSync(join(gone, 'events.jsonl'), 'utf8')];
    const before = files();
    await store.refreshAll();
    const changes: StoreChange[] = [];
    store.onDidChange((c) => changes.push(c));
    const marked = await store.markInterrupted({ persist: false });
    assert.deepEqual(marked.map((m) => m.id), ['gone']);
    assert.deepEqual(files(), before, 'run.json and events.jsonl untouched');
    assert.equal(store.get(gone)!.info!.status, 'interrupted');
    assert.match(runItemModel(store.get(gone)!).description, /^interrupted · epoch 3\//);
    assert.deepEqual(changes.map((c) => c.changed.map((r) => r.id)), [['gone']], 'the tree is told');
    // Refreshes and a second pass keep it interrupted, still without writing, and do not report it again.
    await store.refreshAll();
    await store.refreshDirs([gone]);
    assert.deepEqual(await store.markInterrupted({ persist: false }), []);
    assert.equal(store.get(gone)!.info!.status, 'interrupted');
    assert.deepEqual(files(), before);
    // The workspace is trusted: now it is written, as on a trusted start.
    await store.markInterrupted({ persist: true });
    assert.equal(JSON.parse(readFileSync(join(gone, 'run.json'), 'utf8')).status, 'interrupted');
    assert.match(readFileSync(join(gone, 'events.jsonl'), 'utf8'), /"status":"interrupted"/);
    assert.equal(store.get(gone)!.info!.status, 'interrupted');
  });

  test('a run that moves on after being shown interrupted in memory shows what run.json says', async () => {
    const store = new RunStore();
    store.setRoots([{ label: 'ws', runsDir: dir }]);
    const r = writeRunFolder(dir, { id: 'r', status: 'running', completed: 3, pid: 2 ** 22 + 12345, hostname: hostname() });
    await store.refreshAll();
    await store.markInterrupted({ persist: false });
    assert.equal(store.get(r)!.info!.status, 'interrupted');
    // Another (trusted) window resumed it: its trainer rewrote run.json.
    const info = JSON.parse(readFileSync(join(r, 'run.json'), 'utf8'));
    writeFileSync(join(r, 'run.json'), JSON.stringify({ ...info, pid: process.pid, updated: new Date().toISOString() }));
    await store.refreshDirs([r]);
    assert.equal(store.get(r)!.info!.status, 'running');
  });

  test('which live runs have lost their trainer (shared/liveness.ts)', () => {
    const info = { status: 'running', pid: 42, updated: '2026-01-01T00:00:00.000Z', environment: { hostname: 'here' } } as never;
    const now = new Date('2026-01-01T00:00:30.000Z');
    const probe = { hostname: 'here', isAlive: () => false, startId: () => undefined };
    assert.equal(trainerIsGone(info, probe, now), true);
    assert.equal(trainerIsGone(info, { ...probe, isAlive: () => true }, now), false, 'its trainer is alive');
    assert.equal(trainerIsGone({ ...(info as object), environment: { hostname: 'gpu-box' } } as never, probe, now), false, 'another host: not judged');
    assert.equal(trainerIsGone({ ...(info as object), pid: undefined } as never, probe, now), false, 'no pid yet, within the grace period');
    assert.equal(trainerIsGone({ ...(info as object), pid: undefined } as never, probe, new Date('2026-01-01T00:02:00.000Z')), true);
    assert.equal(trainerIsGone({ ...(info as object), status: 'stopped' } as never, probe, now), false);
    const alive = { ...probe, isAlive: () => true, startId: () => 'boot:100' };
    assert.equal(trainerIsGone({ ...(info as object), processStart: 'boot:100' } as never, alive, now), false, 'the same process');
    assert.equal(trainerIsGone({ ...(info as object), processStart: 'boot:99' } as never, alive, now), true, 'the pid was reused by another process');
    assert.equal(trainerIsGone({ ...(info as object), pid: 1 } as never, { ...probe, isAlive: () => true }, now), true, 'pid 1 is never a trainer');
    assert.equal(trainerIsGone({ ...(info as object), pid: -5 } as never, { ...probe, isAlive: () => true }, now), true, 'a negative pid names a group');
    assert.equal(trainerIsGone({ ...(info as object), host: 'gpu-box' } as never, probe, now), false, 'run.json host wins over the environment');
  });

  test('an unreadable run.json shows as a problem, not a crash', async () => {
    const store = new RunStore();
    store.setRoots([{ label: 'ws', runsDir: dir }]);
    const r = writeRunFolder(dir, { id: 'broken' });
    writeFileSync(join(r, 'run.json'), '{"id": ');
    await store.refreshAll();
    const state = store.get(r)!;
    assert.match(state.problem!, /not valid JSON/);
    assert.equal(runItemModel(state).description, 'unreadable run.json');
    assert.equal(runItemModel(state).icon.id, 'warning');
  });

  test('a change of runs folders is emitted even when no run changed, and runs take their folder\'s new label', async () => {
    const store = new RunStore({ debounceMs: 1 });
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    store.setRoots([{ label: 'first', runsDir: a }]);
    const r = writeRunFolder(a, { id: 'r', status: 'completed', completed: 3 });
    await store.refreshAll();
    const changes: StoreChange[] = [];
    store.onDidChange((c) => changes.push(c));
    // A second, empty workspace folder: no run changes, but the tree must now show two groups.
    store.setRoots([{ label: 'first', runsDir: a }, { label: 'second', runsDir: b }]);
    await store.flush();
    assert.equal(changes.length, 1);
    assert.equal(changes[0].rootsChanged, true);
    assert.deepEqual(changes[0].changed, []);
    assert.deepEqual(groupRuns(store.getRoots(), store.runs()).groups.map((g) => [g.root.label, g.runs.length]), [['first', 1], ['second', 0]]);
    // The same folders again: nothing to say.
    store.setRoots([{ label: 'first', runsDir: a }, { label: 'second', runsDir: b }]);
    await store.flush();
    assert.equal(changes.length, 1);
    // The first folder renamed: its run is reported changed, under the new label.
    store.setRoots([{ label: 'renamed', runsDir: a }, { label: 'second', runsDir: b }]);
    await store.flush();
    assert.equal(changes.length, 2);
    assert.deepEqual(changes[1].changed.map((s) => s.dir), [r]);
    assert.equal(store.get(r)?.root.label, 'renamed');
  });

  test('flush waits for the first scan: a command run right after activation sees the runs', async () => {
    const r = writeRunFolder(dir, { id: 'r', status: 'completed', completed: 2 });
    const store = new RunStore({ debounceMs: 1 });
    store.setRoots([{ label: 'ws', runsDir: dir }]);
    // Activation starts the first scan without awaiting it; a palette command flushes at once.
    void store.refreshAll();
    await store.flush();
    assert.deepEqual(store.runs().map((s) => s.dir), [r]);
    // A store nobody scanned yet: flush scans.
    const fresh = new RunStore({ debounceMs: 1 });
    fresh.setRoots([{ label: 'ws', runsDir: dir }]);
    await fresh.flush();
    assert.deepEqual(fresh.runs().map((s) => s.dir), [r]);
  });

  test('scheduled refreshes are debounced into one', async () => {
    const store = new RunStore({ debounceMs: 20 });
    store.setRoots([{ label: 'ws', runsDir: dir }]);
    await store.flush();
    const r = writeRunFolder(dir, { id: 'r', status: 'running', completed: 1 });
    let emitted = 0;
    store.onDidChange(() => emitted++);
    for (let i = 0; i < 5; i++) store.schedule(r);
    store.schedule();
    // Wait for the debounced refresh (however slow a loaded machine is), then for several more
    // debounce periods, in which no second refresh may come.
    const deadline = Date.now() + 10_000;
    while (emitted === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(emitted, 1);
    assert.equal(store.runs().length, 1);
  });
});

describe('tree model', () => {
  async function load(opts: Parameters<typeof writeRunFolder>[1]) {
    const store = new RunStore();
    store.setRoots([{ label: 'ws', runsDir: dir }]);
    const r = writeRunFolder(dir, opts);
    await store.refreshAll();
    return store.get(r)!;
  }

  test('a running run: label, "status · epoch x/N · test loss", spinning icon, Stop in its context value', async () => {
    const m = runItemModel(await load({ id: 'r1', name: 'Study, experiment 1', status: 'running', epochs: 100, completed: 7 }));
    assert.equal(m.label, 'Study, experiment 1');
    // Seven epochs completed, the eighth training: the tree names the epoch in progress, as the status bar does.
    assert.match(m.description, /^running · epoch 8\/100 · test loss \d+\.\d$/);
    assert.equal(m.icon.id, 'sync~spin');
    assert.equal(m.contextValue, 'vaeRun-running');
    assert.equal(m.health, 'info');
    assert.equal(m.badge?.text, 'i');
  });

  test('icons per status', async () => {
    const icons: Record<string, string> = { completed: 'pass', stopped: 'debug-stop', failed: 'error', interrupted: 'debug-disconnect', queued: 'clock', starting: 'loading~spin' };
    for (const [status, icon] of Object.entries(icons)) {
      const m = runItemModel(await load({ id: `s-${status}`, status: status as never, completed: 1 }));
      assert.equal(m.icon.id, icon, status);
      assert.equal(m.contextValue, `vaeRun-${status}`);
    }
  });

  test('a run without epochs yet shows epoch 0/N and no loss', async () => {
    assert.equal(runDescription(await load({ id: 'new', status: 'starting', epochs: 5, completed: 0 })), 'starting · epoch 0/5');
  });

  test('a σ warning with the aggregate off is a warning badge, and the tooltip explains it and lists config and metrics', async () => {
    const run = await load({
      id: 'narrow', status: 'running', epochs: 20, completed: 8, sigma: () => 0.05,
      dims: () => ({ varMu: 0.2, sigmaSq: 0.003, kl: 4 }),
    });
    const m = runItemModel(run);
    assert.equal(m.health, 'warning');
    assert.equal(m.badge?.text, '⚠');
    assert.equal(m.badge?.color, 'list.warningForeground');
    assert.match(m.tooltip, /\| mean σ \| 0\.050 \| 0\.050 \|/);
    assert.match(m.tooltip, /never trained/);
    assert.match(m.tooltip, /model `chainer-mlp` · dimz `20` · epochs `20`/);
    assert.match(m.tooltip, /Epoch 9\/20 in progress, 8 completed · 28\.5 s\/epoch · 2100 samples\/s · 5 min 42 s left/);
    assert.match(m.description, /^running · epoch 9\/20 · test loss /);
    assert.equal(secondsLeft(run), 12 * 28.5);
  });

  test('the tooltip counts active units with the user\'s threshold, not the trainer\'s default', async () => {
    // Var(μ_d) = 0.02 for even d, 0.5 for odd: all 20 active above 0.01, only the 10 odd ones above 0.05.
    const run = await load({ id: 'thr', status: 'completed', epochs: 3, completed: 3, dims: (_e, d) => ({ varMu: d % 2 ? 0.5 : 0.02, sigmaSq: 0.5, kl: 1 }) });
    assert.match(runItemModel(run).tooltip, /Active units 20 of 20 \(Var\(μ_d\) > 0\.01\) · aggregate variance of active dimensions 0\.76 /);
    const strict = { ...DEFAULT_HEALTH_SETTINGS, activeVarianceThreshold: 0.05 };
    assert.match(runItemModel(run, strict).tooltip, /Active units 10 of 20 \(Var\(μ_d\) > 0\.05\) · aggregate variance of active dimensions 1\.00 /);
  });

  test('queued runs, grouping by workspace folder, newest first', async () => {
    const q = queuedItemModel({ key: 'k', name: 'Quick check', config: { ...defaultConfig(), epochs: 5 } }, 2);
    assert.equal(q.status, 'queued');
    assert.match(q.description, /^queued · #2 · chainer-mlp, dimz 20, 5 epochs$/);
    const a = await load({ id: '20261128-090000-a' });
    const b = await load({ id: '20261128-100000-b' });
    a.info!.created = '2026-11-28T09:00:00Z';
    b.info!.created = '2026-11-28T10:00:00Z';
    assert.deepEqual(sortRuns([a, b]).map((r) => r.id), ['20261128-100000-b', '20261128-090000-a']);
    const roots = [{ label: 'one', runsDir: dir }, { label: 'two', runsDir: '/elsewhere' }];
    const grouped = groupRuns(roots, [a, b]);
    assert.equal(grouped.flat, false);
    assert.deepEqual(grouped.groups.map((g) => [g.root.label, g.runs.length]), [['one', 2], ['two', 0]]);
    assert.equal(groupRuns(roots.slice(0, 1), [a]).flat, true);
  });

  test('helpers: durations, Markdown escaping, no badge when healthy', () => {
    assert.equal(formatDuration(12.4), '12 s');
    assert.equal(formatDuration(250), '4 min 10 s');
    assert.equal(formatDuration(3900), '1 h 05 min');
    assert.equal(escapeMarkdown('a*b_[c]'), 'a\\*b\\_\\[c\\]');
    assert.equal(healthBadge([]), undefined);
  });
});
