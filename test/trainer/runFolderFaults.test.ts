/**
 * Run folders under faults: a torn events.jsonl line and resume, data that changed under a run,
 * a full disk (a real tmpfs), and what crashed writers leave behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEvents } from '../../src/shared/events';
import { appendEvent, readRun, readRunInfo, writeRunInfo } from '../../src/node/runFolder';
import { StopRequest, resumeRun, startRun } from '../../src/trainer/train';
import { readCheckpoint, writeCheckpoint } from '../../src/trainer/checkpoint';
import { fixedUniform } from '../../src/trainer/data/binarize';
import { encodeIdx } from '../../src/trainer/data/idx';
import { collectingOutput, epochsOf, tempRunsDir } from './support';

const small = { model: 'chainer-mlp' as const, dimz: 4, epochs: 2, trainLimit: 300, testLimit: 100, backend: 'wasm' as const, seed: 5 };

/** The pid of a process that has exited (nothing runs under it now). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((done) => child.on('exit', done));
  return child.pid!;
}

/** run.json as a trainer that was killed leaves it: live status, its pid, no chance to say more. */
async function markKilled(dir: string): Promise<void> {
  const info = await readRunInfo(dir);
  await writeRunInfo(dir, { ...info, status: 'running', pid: await deadPid(), processStart: undefined });
}

function images(count: number, size: number, seed: number): Uint8Array {
  const random = fixedUniform(seed);
  return encodeIdx([count, size, size], Uint8Array.from({ length: count * size * size }, () => Math.floor(random() * 256)));
}

function idxFolder(parent: string, seed: number, size = 8): string {
  const folder = join(parent, 'data');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'train-images-idx3-ubyte'), images(300, size, seed));
  writeFileSync(join(folder, 't10k-images-idx3-ubyte'), images(100, size, seed + 1));
  return folder;
}

/** Stops the run before the first batch of the given epoch (one check per batch; 3 batches per epoch here). */
class StopAtEpoch extends StopRequest {
  private checks = 0;
  constructor(private readonly epoch: number, private readonly batches: number) {
    super();
  }
  override get requested(): boolean {
    if (++this.checks === (this.epoch - 1) * this.batches + 1) this.request('test stop');
    return super.requested;
  }
}

test('a torn last events.jsonl line and resume: every epoch present exactly once, the file parses cleanly', async () => {
  const runsDir = tempRunsDir();
  const run = await startRun({ config: small, runsDir }, { output: collectingOutput() });
  assert.equal(run.status, 'completed', run.message);
  // The trainer dies in the middle of appending epoch 2's line: the checkpoint is complete, the line is half written.
  const file = join(run.runDir, 'events.jsonl');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('{"type":"epoch","v":1', text.indexOf('"epoch":1,') + 1);
  assert.ok(start > 0);
  truncateSync(file, Buffer.byteLength(text.slice(0, start)) + 200);
  await markKilled(run.runDir);
  assert.deepEqual(epochsOf((await readRun(run.runDir)).events).map((e) => e.epoch), [1]);

  const output = collectingOutput();
  const resumed = await resumeRun(run.runDir, { output });
  assert.equal(resumed.status, 'completed', resumed.message);
  assert.ok(output.logs.some((l) => /torn line \(200 bytes/.test(l)), output.logs.join('\n'));
  const after = readFileSync(file, 'utf8');
  const parsed = parseEvents(after);
  assert.equal(parsed.skipped, 0, 'no line is broken');
  assert.deepEqual(epochsOf(parsed.events).map((e) => e.epoch), [1, 2]);
  assert.ok(after.endsWith('\n'));
  assert.equal((await readRunInfo(run.runDir)).status, 'completed');
});

test('an append after a torn line starts on a fresh line', async () => {
  const runsDir = tempRunsDir();
  const run = await startRun({ config: { ...small, epochs: 1 }, runsDir }, { output: collectingOutput() });
  const file = join(run.runDir, 'events.jsonl');
  writeFileSync(file, readFileSync(file, 'utf8') + '{"type":"status","v":1,"ti', { flag: 'w' });
  await appendEvent(run.runDir, { type: 'status', v: 1, time: new Date().toISOString(), status: 'interrupted' });
  const parsed = parseEvents(readFileSync(file, 'utf8'));
  assert.equal(parsed.skipped, 1, 'only the torn line is lost');
  const last = parsed.events.at(-1);
  assert.equal(last?.type === 'status' ? last.status : last?.type, 'interrupted');
});

test('resume reads an idx: run\'s data where the run found it, and refuses data that changed', async () => {
  const home = mkdtempSync(join(tmpdir(), 'vae-lens-data-home-'));
  const elsewhere = mkdtempSync(join(tmpdir(), 'vae-lens-data-elsewhere-'));
  try {
    const folder = idxFolder(home, 1);
    idxFolder(elsewhere, 50); // same relative name, other pixels
    const runsDir = tempRunsDir();
    const config = { ...small, dataset: 'idx:data', epochs: 3 };
    const first = await startRun({ config, runsDir }, { output: collectingOutput(), stop: new StopAtEpoch(2, 3), data: { baseDir: home } });
    assert.equal(first.status, 'stopped', first.message);
    const info = await readRunInfo(first.runDir);
    assert.equal(info.data?.folder, folder);
    assert.deepEqual(info.data?.files.trainImages.sizes, [300, 8, 8]);
    assert.deepEqual(info.data?.files.testImages.sizes, [100, 8, 8]);
    assert.match(info.data?.files.trainImages.headSha256 ?? '', /^[0-9a-f]{64}$/);

    // From another working folder with its own data/: the run continues on the data it started with.
    const straight = await startRun({ config, runsDir }, { output: collectingOutput(), data: { baseDir: home } });
    const resumed = await resumeRun(first.runDir, { output: collectingOutput(), data: { baseDir: elsewhere } });
    assert.equal(resumed.status, 'completed', resumed.message);
    const a = epochsOf((await readRun(straight.runDir)).events);
    const b = epochsOf((await readRun(first.runDir)).events);
    assert.deepEqual(b.map((e) => e.test.loss), a.map((e) => e.test.loss));

    // The files in the run's folder change: resume refuses, naming the folder and what changed, and writes nothing.
    const second = await startRun({ config, runsDir }, { output: collectingOutput(), stop: new StopAtEpoch(2, 3), data: { baseDir: home } });
    writeFileSync(join(folder, 'train-images-idx3-ubyte'), images(300, 8, 99));
    const before = readFileSync(join(second.runDir, 'events.jsonl'), 'utf8');
    await assert.rejects(resumeRun(second.runDir, { output: collectingOutput(), data: { baseDir: home } }), (e: Error) => {
      assert.equal(e.name, 'DataError');
      assert.match(e.message, new RegExp(`The data in ${folder} changed since the run started \\(training images: same sizes \\(300×8×8\\) but different pixels\\)`));
      assert.match(e.message, /Put the original files back to resume, or start a new run/);
      return true;
    });
    writeFileSync(join(folder, 'train-images-idx3-ubyte'), images(200, 8, 1));
    await assert.rejects(resumeRun(second.runDir, { output: collectingOutput() }), /training images: 300×8×8 when the run started, 200×8×8 now/);
    rmSync(folder, { recursive: true });
    await assert.rejects(resumeRun(second.runDir, { output: collectingOutput() }), /The run's data is gone: .*put the same files back there to resume/);
    assert.equal(readFileSync(join(second.runDir, 'events.jsonl'), 'utf8'), before);
    assert.equal((await readRunInfo(second.runDir)).status, 'stopped');
  } finally {
    rmSync(home, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  }
});

/** A small tmpfs (the test runs as root, as CI does); fails with the reason when it cannot be mounted. */
function mountTmpfs(size: string): { dir: string; remount(size: string): void; unmount(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-full-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    assert.fail(`This test needs a small file system that fills up: mount -t tmpfs failed (${(e as Error).message.trim()}); run the trainer tests as root.`);
  }
  return {
    dir,
    remount: (s) => void execFileSync('mount', ['-o', `remount,size=${s}`, dir]),
    unmount: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('a full disk fails the run with the folder, the free space and the fix; earlier epochs and the checkpoint stay; no temp files', async () => {
  const data = mkdtempSync(join(tmpdir(), 'vae-lens-data-'));
  const disk = mountTmpfs('1300k');
  try {
    idxFolder(data, 3);
    // 8×8 images: a chainer-mlp checkpoint is about 850 kB, so the first fits in 1.3 MB and the second's temp copy does not.
    const config = { ...small, dataset: `idx:${join(data, 'data')}`, epochs: 3 };
    const output = collectingOutput();
    const run = await startRun({ config, runsDir: disk.dir }, { output });
    assert.equal(run.status, 'failed');
    assert.equal(run.epochsCompleted, 1);
    assert.match(run.message ?? '', new RegExp(`^The disk holding ${run.runDir} is full \\(ENOSPC; [\\d.]+ (bytes|kB) free\\)\\. Epochs 1–1 are saved and the checkpoint is intact; free some space there \\(or keep runs elsewhere: --runs-dir, or the vaeLens\\.runsDirectory setting\\), then resume the run \\(vae-lens resume ${run.runId}\\)\\.$`));
    const info = await readRunInfo(run.runDir);
    assert.equal(info.status, 'failed');
    assert.equal(info.message, run.message);
    assert.deepEqual(readdirSync(run.runDir).filter((n) => /tmp|previous/.test(n)), []);
    assert.equal((await readCheckpoint(run.runDir))?.epochsCompleted, 1);
    const events = (await readRun(run.runDir)).events;
    assert.deepEqual(epochsOf(events).map((e) => e.epoch), [1]);
    assert.ok(events.some((e) => e.type === 'error' && e.message === run.message));
    assert.ok(!output.logs.some((l) => /\n\s+at /.test(l)), 'no stack trace for a full disk');

    // Space is freed: the run resumes from its checkpoint and completes.
    disk.remount('4m');
    const resumed = await resumeRun(run.runDir, { output: collectingOutput() });
    assert.equal(resumed.status, 'completed', resumed.message);
    assert.deepEqual(epochsOf((await readRun(run.runDir)).events).map((e) => e.epoch), [1, 2, 3]);
  } finally {
    disk.unmount();
    rmSync(data, { recursive: true, force: true });
  }
});

test('crash leftovers of dead writers are removed on resume and on the next write; a live writer\'s are kept', async () => {
  const runsDir = tempRunsDir();
  const run = await startRun({ config: { ...small, epochs: 2 }, runsDir }, { output: collectingOutput(), stop: new StopAtEpoch(2, 3) });
  assert.equal(run.status, 'stopped', run.message);
  const dead = await deadPid();
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    const d = run.runDir;
    mkdirSync(join(d, `checkpoint.tmp-${dead}`));
    writeFileSync(join(d, `checkpoint.tmp-${dead}`, 'tensors.bin'), new Uint8Array(100));
    mkdirSync(join(d, 'checkpoint.previous'));
    writeFileSync(join(d, `run.json.${dead}.1700000000000.tmp`), '');
    writeFileSync(join(d, `run.json.${live.pid}.1700000000000.tmp`), '{');
    const resumed = await resumeRun(d, { output: collectingOutput() });
    assert.equal(resumed.status, 'completed', resumed.message);
    assert.deepEqual(readdirSync(d).filter((n) => /tmp|previous/.test(n)), [`run.json.${live.pid}.1700000000000.tmp`]);

    // The next checkpoint write removes a dead writer's temp folder too.
    mkdirSync(join(d, `checkpoint.tmp-${dead}`));
    const checkpoint = (await readCheckpoint(d))!;
    await writeCheckpoint(d, checkpoint);
    assert.ok(!existsSync(join(d, `checkpoint.tmp-${dead}`)));
  } finally {
    live.kill();
  }
});
