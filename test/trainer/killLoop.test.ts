/**
 * Ten SIGKILLs at random moments (mid-batch, mid-evaluation, mid-checkpoint, mid-append), each
 * followed by a resume; then `list` and `report` must call the killed run interrupted, and a last
 * resume must complete it with every epoch once and the numbers of a run that was never killed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainerMessage } from '../../src/shared/events';
import { parseEvents } from '../../src/shared/events';
import { readRun, readRunInfo } from '../../src/node/runFolder';
import { startRun } from '../../src/trainer/train';
import { CLI_JS, assertSameEpochNumbers, collectingOutput, epochsOf, runCli, spawnTrainer, tempRunsDir, untilMessage } from './support';

const config = { model: 'chainer-mlp' as const, dimz: 4, epochs: 4, trainLimit: 2000, testLimit: 200, backend: 'wasm' as const, seed: 11, name: 'killed' };

test('10 SIGKILLs at random times, each followed by resume: list and report say interrupted, the last resume completes with the uninterrupted numbers', async (t) => {
  const runsDir = tempRunsDir();
  const delays: number[] = [];
  let runDir = '';
  for (let kill = 0; kill < 10; kill++) {
    const child = runDir ? spawnTrainer({ resume: runDir }) : spawnTrainer({ config, runsDir });
    // Each wait also ends when the trainer exits: a resume that finds only the last epoch's
    // evaluation left sends no training progress, and a failing one sends nothing at all.
    const started = await untilMessage(child, (m) => m.type === 'started');
    if (!started) assert.fail(`the trainer exited before it started: ${JSON.stringify(await child.exited)}\n${child.stderr()}`);
    runDir = (started as Extract<TrainerMessage, { type: 'started' }>).runDir;
    // Once training has begun, a random moment within the next 2.5 s (an epoch takes about 1 s here:
    // batches, evaluation, images, checkpoint writes and appends are all hit sooner or later).
    if (!(await untilMessage(child, (m) => m.type === 'progress' && m.phase === 'training'))) {
      const exit = await child.exited;
      assert.equal(exit.code, 0, `the resumed trainer exited before training: ${JSON.stringify(exit)}\n${child.stderr()}`);
      break;
    }
    const delay = Math.floor(Math.random() * 2500);
    delays.push(delay);
    await new Promise((r) => setTimeout(r, delay));
    child.child.kill('SIGKILL');
    const exit = await child.exited;
    if (exit.signal !== 'SIGKILL') {
      // The run finished before the kill landed: nothing left to interrupt.
      assert.equal(exit.code, 0, child.stderr());
      break;
    }
    const info = await readRunInfo(runDir);
    if (info.status === 'completed') break;
  }
  const context = `kill delays (ms): ${delays.join(', ')}`;
  t.diagnostic(`${delays.length} kills; ${context}`);
  const info = await readRunInfo(runDir);
  if (info.status !== 'completed') {
    assert.equal(info.status, 'running', context);
    const listed = await runCli(['list', '--runs-dir', runsDir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${info.id}\\s+interrupted\\s+${info.epochsCompleted}/4`), context);
    const out = join(runsDir, 'report.html');
    const report = await runCli(['report', runDir, '--out', out]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(readFileSync(out, 'utf8'), /"status":"interrupted"/);
    const resumed = await runCli(['resume', runDir]);
    assert.equal(resumed.code, 0, `${context}\n${resumed.stderr}`);
  }
  const events = parseEvents(readFileSync(join(runDir, 'events.jsonl'), 'utf8'));
  assert.equal(events.skipped, 0, `no broken line is left (${context})`);
  const epochs = epochsOf(events.events);
  assert.deepEqual(epochs.map((e) => e.epoch), [1, 2, 3, 4], context);
  assert.equal((await readRunInfo(runDir)).status, 'completed');
  assert.deepEqual(readdirSync(runDir).filter((n) => /tmp|previous|part/.test(n)), [], 'no leftovers');
  const straight = await startRun({ config, runsDir }, { output: collectingOutput() });
  const expected = epochsOf((await readRun(straight.runDir)).events);
  for (let i = 0; i < 4; i++) assertSameEpochNumbers(epochs[i], expected[i], 1e-6);
});

test('a double Ctrl+C leaves run.json saying running; list and report show the run as interrupted, and resume completes it', async () => {
  const runsDir = tempRunsDir();
  const child = spawn(process.execPath, [CLI_JS, 'train', '--runs-dir', runsDir, '--json', '--epochs', '3', '--train-limit', '4000', '--batch-size', '1000', '--test-limit', '200', '--dimz', '4', '--backend', 'wasm'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VAE_LENS_PROGRESS_MS: '0' },
  });
  let runDir = '';
  let pending = '';
  await new Promise<void>((done) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const m = JSON.parse(line) as TrainerMessage;
        if (m.type === 'started') runDir = m.runDir;
        // Batches of 1,000 images: the first Ctrl+C waits for one, so the second lands while it runs.
        if (m.type === 'progress' && m.phase === 'training' && m.batch >= 1) done();
      }
    });
  });
  // The second Ctrl+C once the first has been taken (two pending signals of one kind arrive as one).
  const firstTaken = new Promise<void>((done) => child.stderr.setEncoding('utf8').on('data', (c: string) => /SIGINT: finishing the current batch/.test(c) && done()));
  child.kill('SIGINT');
  await firstTaken;
  child.kill('SIGINT');
  const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
  assert.equal(code, 130);
  assert.equal((await readRunInfo(runDir)).status, 'running');
  const listed = await runCli(['list', '--runs-dir', runsDir]);
  assert.match(listed.stdout, /\s+interrupted\s+\d\/3/);
  const out = join(runsDir, 'report.html');
  assert.equal((await runCli(['report', runDir, '--out', out])).code, 0);
  assert.match(readFileSync(out, 'utf8'), /"status":"interrupted"/);
  const resumed = await runCli(['resume', runDir]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(epochsOf((await readRun(runDir)).events).map((e) => e.epoch), [1, 2, 3]);
});

test('a trainer killed after its last epoch was recorded: resume trains nothing again and completes the run', async (t) => {
  const runsDir = tempRunsDir();
  // The kill must land between the last epoch's append and the final status, a few milliseconds:
  // where the trainer wins the race the run is complete, and the next attempt tries again.
  let runDir = '';
  for (let attempt = 1; attempt <= 5 && !runDir; attempt++) {
    const child = spawnTrainer({ config: { ...config, epochs: 2 }, runsDir });
    const started = await untilMessage(child, (m) => m.type === 'started');
    assert.ok(started?.type === 'started', child.stderr());
    assert.ok(await untilMessage(child, (m) => m.type === 'appended' && m.kind === 'epoch' && m.epoch === 2), child.stderr());
    child.child.kill('SIGKILL');
    await child.exited;
    if ((await readRunInfo(started.runDir)).status === 'running') runDir = started.runDir;
    else t.diagnostic(`attempt ${attempt}: the trainer completed before the kill landed`);
  }
  assert.ok(runDir, 'in five attempts the kill never landed before the final status');
  const resumed = spawnTrainer({ resume: runDir });
  const exit = await resumed.exited;
  assert.equal(exit.code, 0, resumed.stderr());
  assert.ok(!resumed.messages.some((m) => m.type === 'progress' && m.phase === 'training'), 'no batch is trained again');
  assert.equal((await readRunInfo(runDir)).status, 'completed');
  assert.deepEqual(epochsOf((await readRun(runDir)).events).map((e) => e.epoch), [1, 2]);
});
