// Stop in the extension host: only a trainer this window forked and holds may be signalled; any
// other run, whatever run.json names (pid 1, a negative pid, another host, a pid that is no
// trainer), is stopped through its run folder or marked interrupted, and no signal is sent.
// Real processes (a `sleep`), the real process probe, the real run store and writer.
import { test, describe, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore, interruptedInfo } from '../../src/extension/model/runStore';
import { recordInterrupted, writeStopRequest } from '../../src/extension/model/runWriter';
import { stopRun, type HeldTrainer, type Signaller, type StopDeps } from '../../src/extension/model/stopRun';
import { TrainerProcess, signalGroup, STOP_GRACE_MS } from '../../src/extension/trainerProcess';
import { localProcessProbe, processStartId, isProcessAlive } from '../../src/node/processProbe';
import { readRunInfo } from '../../src/node/runFolder';
import { STOP_REQUEST_FILE, type RunInfo } from '../../src/shared/run';
import { writeRunFolder } from '../support/runFixtures';

/** Every signal anything in this process tries to send (signal 0, a liveness probe, is let through). */
const attempted: { pid: number; signal: string | number }[] = [];
const realKill = process.kill.bind(process);

let sleeper: ChildProcess;
let runs: string;
let store: RunStore;

before(() => {
  // No signal may leave this test file unless a test allows it: a wrong Stop would otherwise hit real processes.
  process.kill = ((pid: number, signal?: string | number) => {
    if (signal === 0) return realKill(pid, 0);
    attempted.push({ pid, signal: signal ?? 'SIGTERM' });
    throw new Error(`signal ${String(signal)} to ${pid} blocked by the test`);
  }) as typeof process.kill;
  sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
});
after(() => {
  process.kill = realKill;
  sleeper.kill('SIGKILL');
});

beforeEach(async () => {
  attempted.length = 0;
  runs = mkdtempSync(join(tmpdir(), 'vae-lens-stop-'));
  store = new RunStore({ debounceMs: 5 });
  store.setRoots([{ label: 'w', runsDir: runs }]);
});
afterEach(() => {
  store.dispose();
  rmSync(runs, { recursive: true, force: true });
});

/** A run folder whose run.json says it is running with these trainer fields. */
function liveRun(id: string, trainer: Partial<Pick<RunInfo, 'pid' | 'host' | 'processStart' | 'updated'>>): string {
  const dir = writeRunFolder(runs, { id, name: id, status: 'running', epochs: 10, completed: 1, hostname: hostname() });
  const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunInfo;
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...info, ...trainer }));
  return dir;
}

/** The deps RunManager gives stopRun, with the signaller injected and recorded. */
function deps(signals: { pid: number; signal: string }[]): StopDeps {
  const signal: Signaller = (pid, s) => {
    signals.push({ pid, signal: s });
    return true;
  };
  return {
    probe: localProcessProbe,
    signal,
    requestStop: writeStopRequest,
    markInterrupted: async (dir, judged) => {
      await recordInterrupted(dir, interruptedInfo(judged, new Date()));
      await store.refreshDirs([dir]);
    },
  };
}

async function stop(dir: string, signals: { pid: number; signal: string }[], held?: HeldTrainer) {
  return stopRun({ dir, name: 'r', info: await readRunInfo(dir), held }, deps(signals));
}

function assertNoSignal(signals: unknown[]): void {
  assert.deepEqual(signals, [], 'the injected signalling function is not called');
  assert.deepEqual(attempted, [], 'no process.kill with a signal');
  assert.ok(isProcessAlive(sleeper.pid), 'the harmless sleep process is still alive');
}

describe('Stop on a run this window did not start', () => {
  test('pid 1: no signal; the run is marked interrupted on disk, and the message says why', async () => {
    const dir = liveRun('pid-one', { pid: 1, host: hostname() });
    await store.refreshAll();
    const signals: { pid: number; signal: string }[] = [];
    const outcome = await stop(dir, signals);
    assertNoSignal(signals);
    assert.equal(outcome.kind, 'interrupted');
    assert.match(outcome.message, /"r" was not training: run\.json names no valid trainer process \(pid 1\)\. It is now marked interrupted/);
    assert.equal((await readRunInfo(dir)).status, 'interrupted');
    assert.equal(existsSync(join(dir, STOP_REQUEST_FILE)), false, 'nothing to ask: no stop request');
  });

  test('negative and zero pids: no signal, interrupted; a fractional pid makes run.json unreadable', async () => {
    const fractional = liveRun('pid-1_5', { pid: 1.5, host: hostname() });
    await assert.rejects(readRunInfo(fractional), /pid: expected an integer, got 1\.5/);
    for (const pid of [-1, -5, 0]) {
      const dir = liveRun(`pid-${String(pid).replace('.', '_')}`, { pid, host: hostname() });
      const signals: { pid: number; signal: string }[] = [];
      const outcome = await stop(dir, signals);
      assertNoSignal(signals);
      assert.equal(outcome.kind, 'interrupted', `pid ${pid}`);
      assert.equal((await readRunInfo(dir)).status, 'interrupted', `pid ${pid} on disk`);
    }
  });

  test('another host: a stop request in the run folder, no signal even though the pid is alive here', async () => {
    const dir = liveRun('elsewhere', { pid: sleeper.pid, host: 'gpu-box-7' });
    const signals: { pid: number; signal: string }[] = [];
    const outcome = await stop(dir, signals);
    assertNoSignal(signals);
    assert.equal(outcome.kind, 'requested');
    assert.equal(outcome.message, '"r" trains on gpu-box-7; a stop request was written to its run folder, which it reads if it shares this folder.');
    const request = JSON.parse(readFileSync(join(dir, STOP_REQUEST_FILE), 'utf8')) as { by: string };
    assert.match(request.by, new RegExp(`VAE Lens extension host \\(process ${process.pid} on `));
    assert.equal((await readRunInfo(dir)).status, 'running', 'run.json stays the trainer\'s');
  });

  test('a pid that is no longer the trainer (another process start): no signal, interrupted', async () => {
    const start = processStartId(sleeper.pid!);
    assert.ok(start, 'this platform tells process starts apart (Linux /proc)');
    const dir = liveRun('reused', { pid: sleeper.pid, host: hostname(), processStart: `${start}-not-this-one` });
    const signals: { pid: number; signal: string }[] = [];
    const outcome = await stop(dir, signals);
    assertNoSignal(signals);
    assert.equal(outcome.kind, 'interrupted');
    assert.match(outcome.message, new RegExp(`process ${sleeper.pid} is no longer its trainer \\(the pid was reused\\)`));
    assert.equal((await readRunInfo(dir)).status, 'interrupted');
  });

  test('a live trainer on this machine (a CLI run): asked through the run folder, never signalled', async () => {
    for (const [id, processStart] of [['verified', processStartId(sleeper.pid!)], ['unverified', undefined]] as const) {
      const dir = liveRun(id, { pid: sleeper.pid, host: hostname(), processStart });
      const signals: { pid: number; signal: string }[] = [];
      const outcome = await stop(dir, signals);
      assertNoSignal(signals);
      assert.equal(outcome.kind, 'requested', id);
      assert.equal(outcome.message, `"r": asked the trainer (process ${sleeper.pid}) to stop after its current batch.`);
      assert.ok(existsSync(join(dir, STOP_REQUEST_FILE)), `${id}: the stop request is in the run folder`);
    }
  });

  test('a run still starting (no pid yet): a stop request; one that is not live: nothing at all', async () => {
    const starting = liveRun('starting', { pid: undefined, updated: new Date().toISOString() });
    const signals: { pid: number; signal: string }[] = [];
    const s = await stop(starting, signals);
    assert.equal(s.kind, 'requested');
    assert.ok(existsSync(join(starting, STOP_REQUEST_FILE)));
    const done = writeRunFolder(runs, { id: 'done', status: 'completed', epochs: 2, completed: 2, pid: sleeper.pid });
    const d = await stop(done, signals);
    assertNoSignal(signals);
    assert.deepEqual(d, { kind: 'not-running', message: '"r" is not running (it is completed).' });
    assert.equal(existsSync(join(done, STOP_REQUEST_FILE)), false);
  });
});

describe('Stop on a trainer this window holds', () => {
  test('the held trainer is asked (IPC) and given the signaller; nothing is written or signalled by Stop itself', async () => {
    const dir = liveRun('held', { pid: 1, host: hostname() });
    const given: Signaller[] = [];
    const held: HeldTrainer = { pid: 4242, stop: (s) => given.push(s) };
    const signals: { pid: number; signal: string }[] = [];
    const d = deps(signals);
    const outcome = await stopRun({ dir, name: 'r', info: await readRunInfo(dir), held }, d);
    assert.equal(outcome.kind, 'stopping');
    assert.deepEqual(given, [d.signal], 'the held trainer gets the injected signaller');
    assertNoSignal(signals);
    assert.equal(existsSync(join(dir, STOP_REQUEST_FILE)), false);
    assert.equal((await readRunInfo(dir)).status, 'running', 'pid 1 in run.json does not matter: the held process is stopped');
  });

  test('a real forked trainer that obeys IPC stop is never signalled', async (t) => {
    const signals: { pid: number; signal: string }[] = [];
    const child = forkChild(t, false);
    // A grace period longer than the child takes to start and answer, even on a loaded machine.
    child.stop((pid, s) => (signals.push({ pid, signal: s }), true), 20_000);
    const exit = await child.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.deepEqual(signals, []);
  });

  test('a real forked trainer that ignores IPC stop gets SIGTERM to its own group after the grace period', async (t) => {
    const signals: { pid: number; signal: string }[] = [];
    const child = forkChild(t, true);
    child.stop((pid, s) => {
      signals.push({ pid, signal: s });
      return signalGroup(pid, s, realKill);
    }, 200);
    const exit = await child.exited;
    assert.deepEqual(signals, [{ pid: child.pid, signal: 'SIGTERM' }], 'SIGTERM to the held child only, once');
    assert.equal(exit.signal, 'SIGTERM');
    assert.ok(STOP_GRACE_MS >= 30_000, 'the real grace period leaves a trainer time to finish its batch and checkpoint');
  });
});

function forkChild(t: { after(fn: () => void): void }, ignoreStop: boolean): TrainerProcess {
  const logs = mkdtempSync(join(tmpdir(), 'vae-lens-ipc-'));
  const child = new TrainerProcess(join(__dirname, 'fixtures', 'ipcChild.js'), { resume: runs, data: {} }, { env: { VAE_LENS_TEST_IGNORE_STOP: ignoreStop ? '1' : '0' }, stderrFile: join(logs, 'stderr.log') }, {});
  t.after(() => {
    if (child.state !== 'exited' && child.pid) signalGroup(child.pid, 'SIGKILL', realKill);
    rmSync(logs, { recursive: true, force: true });
  });
  return child;
}

describe('signalGroup', () => {
  test('refuses pids that are not one process (≤ 1, negative, fractional, NaN, missing) without calling kill', () => {
    const calls: [number, string][] = [];
    const kill = (pid: number, s: NodeJS.Signals) => void calls.push([pid, s]);
    for (const pid of [1, 0, -1, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, undefined]) {
      assert.equal(signalGroup(pid, 'SIGTERM', kill), false, `pid ${pid}`);
    }
    assert.deepEqual(calls, []);
  });

  test('signals the group a valid pid leads, falling back to the pid alone', () => {
    const calls: [number, string][] = [];
    assert.equal(signalGroup(4242, 'SIGTERM', (pid, s) => void calls.push([pid, s])), true);
    assert.deepEqual(calls, [[-4242, 'SIGTERM']]);
    const fallback: [number, string][] = [];
    assert.equal(signalGroup(4243, 'SIGKILL', (pid, s) => {
      fallback.push([pid, s]);
      if (pid < 0) throw new Error('ESRCH');
    }), true);
    assert.deepEqual(fallback, [[-4243, 'SIGKILL'], [4243, 'SIGKILL']]);
  });
});
