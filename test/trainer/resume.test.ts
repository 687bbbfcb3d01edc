import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEvents, type TrainerMessage } from '../../src/shared/events';
import { readRun } from '../../src/node/runFolder';
import type { ModelName } from '../../src/shared/config';
import { StopRequest, resumeRun, startRun } from '../../src/trainer/train';
import { readCheckpoint } from '../../src/trainer/checkpoint';
import { assertSameEpochNumbers, collectingOutput, epochsOf, spawnTrainer, tempRunsDir, untilMessage } from './support';

/** Requests a stop at the n-th check, i.e. before batch n−1 (0-based, counted over the whole run). */
class StopBeforeCheck extends StopRequest {
  private checks = 0;
  constructor(private readonly at: number) {
    super();
  }
  override get requested(): boolean {
    if (++this.checks === this.at) this.request('test stop');
    return super.requested;
  }
}

const small = (model: ModelName) => ({
  model, dimz: model === 'deep-bn' ? 8 : 20, epochs: 2, trainLimit: model === 'deep-bn' ? 400 : 600, testLimit: 200, backend: 'wasm' as const, seed: 3,
});

// On wasm the study's models get the fast step; the stock tape step (the one every other backend
// uses) is checked too, by switching the fast one off.
const variants = [
  { model: 'chainer-mlp', stock: false },
  { model: 'deep-bn', stock: false },
  { model: 'chainer-mlp', stock: true },
] as const;

for (const { model, stock } of variants) {
  test(`${model}${stock ? ' (stock tape step)' : ''}: stop mid-epoch, then resume, gives the numbers of an uninterrupted run`, async (t) => {
    if (stock) {
      process.env.VAE_LENS_STOCK_STEP = '1';
      t.after(() => delete process.env.VAE_LENS_STOCK_STEP);
    }
    const runsDir = tempRunsDir();
    const straight = await startRun({ config: small(model), runsDir }, { output: collectingOutput() });
    assert.equal(straight.status, 'completed', straight.message);

    // One check before each batch: the (batches + 3)th comes before batch index 2 of epoch 2.
    const batches = small(model).trainLimit / 100;
    const first = await startRun({ config: small(model), runsDir }, { output: collectingOutput(), stop: new StopBeforeCheck(batches + 3) });
    assert.equal(first.status, 'stopped', first.message);
    const stoppedRun = await readRun(first.runDir);
    assert.equal(stoppedRun.info.status, 'stopped');
    assert.equal(stoppedRun.info.pid, undefined);
    assert.match(stoppedRun.info.message ?? '', new RegExp(`in epoch 2 after batch 2 of ${batches}`));
    assert.deepEqual(epochsOf(stoppedRun.events).map((e) => e.epoch), [1]);
    const checkpoint = await readCheckpoint(first.runDir);
    assert.deepEqual(checkpoint?.position, { epoch: 2, batch: 2 });
    assert.equal(checkpoint?.optimizer.step, batches + 2);
    assert.equal(checkpoint?.progress.train.n, 200, 'the partial epoch\'s sums are saved');

    const resumed = await resumeRun(first.runDir, { output: collectingOutput() });
    assert.equal(resumed.status, 'completed', resumed.message);
    const a = epochsOf((await readRun(straight.runDir)).events);
    const b = epochsOf((await readRun(first.runDir)).events);
    assert.deepEqual(b.map((e) => e.epoch), [1, 2]);
    for (let i = 0; i < 2; i++) assertSameEpochNumbers(b[i], a[i], 1e-6);
    // Same weights, bit for bit.
    const wa = (await readCheckpoint(straight.runDir))!.parameters;
    const wb = (await readCheckpoint(first.runDir))!.parameters;
    for (const name of Object.keys(wa)) assert.deepEqual(wb[name].values, wa[name].values, name);
    const statuses = (await readRun(first.runDir)).events.flatMap((e) => (e.type === 'status' ? [e.status] : []));
    assert.deepEqual(statuses, ['starting', 'running', 'stopped', 'starting', 'running', 'completed']);
  });
}

async function waitFor(trainer: ReturnType<typeof spawnTrainer>, predicate: (m: TrainerMessage) => boolean): Promise<TrainerMessage> {
  const m = await untilMessage(trainer, predicate);
  if (!m) assert.fail(`the trainer exited first: ${JSON.stringify(await trainer.exited)}\n${trainer.stderr()}`);
  return m;
}

test('SIGKILL mid-epoch leaves a readable run folder, and resume completes it with the uninterrupted numbers', async () => {
  const runsDir = tempRunsDir();
  const config = { ...small('chainer-mlp'), trainLimit: 800, epochs: 2 };
  const child = spawnTrainer({ config, runsDir });
  const started = (await waitFor(child, (m) => m.type === 'started')) as Extract<TrainerMessage, { type: 'started' }>;
  await waitFor(child, (m) => m.type === 'progress' && m.phase === 'training' && m.epoch === 2 && m.batch >= 3);
  child.child.kill('SIGKILL');
  const exit = await child.exited;
  assert.equal(exit.signal, 'SIGKILL');

  const crashed = await readRun(started.runDir);
  assert.equal(crashed.info.status, 'running', 'run.json still says running: the process had no chance to say otherwise');
  assert.equal(crashed.info.pid, child.child.pid);
  assert.deepEqual(epochsOf(crashed.events).map((e) => e.epoch), [1]);
  assert.ok(!existsSync(join(started.runDir, 'checkpoint.previous')));
  assert.deepEqual((await readCheckpoint(started.runDir))?.position, { epoch: 2, batch: 0 });
  // A torn last line (a crash in the middle of a write) would be skipped, never fatal.
  assert.ok(parseEvents(readFileSync(join(started.runDir, 'events.jsonl'), 'utf8') + '{"type":"epo').skipped === 1);

  const resumed = await resumeRun(started.runDir, { output: collectingOutput() });
  assert.equal(resumed.status, 'completed', resumed.message);
  const straight = await startRun({ config, runsDir }, { output: collectingOutput() });
  const a = epochsOf((await readRun(straight.runDir)).events);
  const b = epochsOf((await readRun(started.runDir)).events);
  assert.deepEqual(b.map((e) => e.epoch), [1, 2]);
  for (let i = 0; i < 2; i++) assertSameEpochNumbers(b[i], a[i], 1e-6);
});

test('SIGTERM and the IPC stop message both finish the batch, checkpoint, and exit 0 with status stopped', async () => {
  const runsDir = tempRunsDir();
  const config = { ...small('chainer-mlp'), trainLimit: 1000, epochs: 3 };
  // SIGTERM, as the extension's process tree kill or a shell sends it.
  const viaSignal = spawnTrainer({ config: { ...config, name: 'sigterm' }, runsDir });
  await waitFor(viaSignal, (m) => m.type === 'progress' && m.phase === 'training' && m.batch >= 2);
  viaSignal.child.kill('SIGTERM');
  assert.equal((await viaSignal.exited).code, 0, viaSignal.stderr());
  const dir = (viaSignal.messages[0] as Extract<TrainerMessage, { type: 'started' }>).runDir;
  const signalled = await readRun(dir);
  assert.equal(signalled.info.status, 'stopped');
  const last = signalled.events.at(-1);
  assert.ok(last?.type === 'status' && last.status === 'stopped', 'the run folder ends with the stopped status event');
  assert.equal(viaSignal.messages.filter((m) => m.type === 'appended').at(-1)?.kind, 'status', 'the parent was nudged after the status was appended');
  assert.ok((await readCheckpoint(dir))!.position.batch >= 2);

  // IPC: fork with a channel, send {type: 'stop'}.
  const { fork } = await import('node:child_process');
  const { TRAINER_JS } = await import('./support');
  const forked = fork(TRAINER_JS, [JSON.stringify({ config: { ...config, name: 'ipc' }, runsDir })], {
    env: { ...process.env, VAE_LENS_PROGRESS_MS: '0' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stdout = '';
  forked.stdout!.on('data', (c) => (stdout += c));
  const received: TrainerMessage[] = [];
  const exited = new Promise<number | null>((done) => forked.on('exit', (code) => done(code)));
  forked.on('message', (m) => {
    received.push(m as TrainerMessage);
    const msg = m as TrainerMessage;
    if (msg.type === 'progress' && msg.phase === 'training' && msg.batch === 2) forked.send({ type: 'stop' });
  });
  assert.equal(await exited, 0);
  assert.equal(stdout, '', 'a forked trainer prints nothing on stdout');
  const ipcDir = (received[0] as Extract<TrainerMessage, { type: 'started' }>).runDir;
  const run = await readRun(ipcDir);
  assert.equal(run.info.status, 'stopped');
  assert.match(run.info.message ?? '', /stop requested/);
  assert.ok(received.some((m) => m.type === 'appended' && m.kind === 'checkpoint'));
});

test('a stop before training begins (e.g. during a download) ends the run as stopped, and resume starts it from the beginning', async () => {
  const runsDir = tempRunsDir();
  const stop = new StopRequest();
  stop.request('test stop');
  const outcome = await startRun({ config: { ...small('chainer-mlp'), epochs: 1, trainLimit: 200, testLimit: 100 }, runsDir }, { output: collectingOutput(), stop });
  assert.equal(outcome.status, 'stopped', outcome.message);
  assert.match(outcome.message ?? '', /before training began/);
  assert.equal(await readCheckpoint(outcome.runDir), null);
  const resumed = await resumeRun(outcome.runDir, { output: collectingOutput() });
  assert.equal(resumed.status, 'completed', resumed.message);
  assert.deepEqual(epochsOf((await readRun(outcome.runDir)).events).map((e) => e.epoch), [1]);
});
