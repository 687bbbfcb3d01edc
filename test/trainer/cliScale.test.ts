/**
 * A 100,000-epoch run: `list` reads only the end of events.jsonl and `report` streams it and draws a
 * downsampled history. Both run with a small JavaScript heap, so reading the whole file into memory
 * (as they once did: 700 MB and 1.6 GB for a 265 MB file) fails the test. The run has 4 latent
 * dimensions, so the file is about 110 MB and the test stays quick; dimz 20 gives the 265 MB case.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, createWriteStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import type { EpochEvent } from '../../src/shared/events';
import { readRun, readRunInfo, writeRunInfo } from '../../src/node/runFolder';
import { DEFAULT_HISTORY_LIMITS } from '../../src/shared/history';
import { startRun } from '../../src/trainer/train';
import { CLI_JS, collectingOutput, epochsOf, tempRunsDir } from './support';

const EPOCHS = 100_000;
let runsDir: string;
let runDir: string;

/** The CLI with a JavaScript heap of `heapMb`. */
function cliWithHeap(heapMb: number, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, CLI_JS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

before(async () => {
  runsDir = tempRunsDir();
  // A real run gives the shape of every line; its epoch is then repeated to 100,000.
  const run = await startRun({ config: { model: 'chainer-mlp', dimz: 4, epochs: 1, trainLimit: 200, testLimit: 100, backend: 'wasm', name: 'long' }, runsDir }, { output: collectingOutput() });
  assert.equal(run.status, 'completed', run.message);
  runDir = join(runsDir, 'long-run');
  cpSync(run.runDir, runDir, { recursive: true });
  const template = epochsOf((await readRun(runDir)).events)[0];
  const out = createWriteStream(join(runDir, 'events.jsonl'));
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    const wiggle = Math.sin(epoch / 997) + (epoch === 31_337 ? 1000 : 0);
    const e: EpochEvent = { ...template, epoch, epochs: EPOCHS, test: { ...template.test, loss: 100 + wiggle }, train: { ...template.train, loss: 101 + wiggle } };
    if (!out.write(JSON.stringify(e) + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const info = await readRunInfo(runDir);
  await writeRunInfo(runDir, { ...info, id: 'long-run', epochsCompleted: EPOCHS, config: { ...info.config, epochs: EPOCHS } });
});

test('list on a 100,000-epoch run reads only the end of its events.jsonl (a 64 MB heap is enough)', async () => {
  const bytes = statSync(join(runDir, 'events.jsonl')).size;
  assert.ok(bytes > 100e6, `${bytes} bytes of events`);
  const r = await cliWithHeap(64, ['list', '--runs-dir', runsDir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /long-run\s+completed\s+100000\/100000\s+chainer-mlp z4\s+\d+\.\d\d/);
  const lastLoss = (100 + Math.sin(EPOCHS / 997)).toFixed(2);
  assert.match(r.stdout, new RegExp(`long-run .*${lastLoss.replace('.', '\\.')}`));
});

test('report on a 100,000-epoch run streams it (a 128 MB heap is enough) and writes a few MB: the last epochs whole, the spike kept', async () => {
  const out = join(runsDir, 'long.html');
  const small = join(runsDir, 'short.html');
  const base = await cliWithHeap(128, ['report', join(runsDir, readRunDirName()), '--out', small]);
  assert.equal(base.code, 0, base.stderr);
  const r = await cliWithHeap(128, ['report', runDir, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const added = statSync(out).size - statSync(small).size;
  assert.ok(added < 4e6, `the history adds ${(added / 1e6).toFixed(1)} MB to the page`);
  const html = readFileSync(out, 'utf8');
  const epochs = [...html.matchAll(/"type":"epoch","v":1,"time":"[^"]*","epoch":(\d+),/g)].map((m) => Number(m[1]));
  assert.ok(epochs.length < 2000, `${epochs.length} epochs drawn`);
  const last = Array.from({ length: DEFAULT_HISTORY_LIMITS.keepLast }, (_, i) => EPOCHS - DEFAULT_HISTORY_LIMITS.keepLast + 1 + i);
  assert.deepEqual(epochs.slice(-last.length), last);
  assert.ok(epochs.includes(1) && epochs.includes(31_337), 'the first epoch and the spike are drawn');
});

/** The folder name of the original one-epoch run (the only other one). */
function readRunDirName(): string {
  return readdirSync(runsDir).find((n) => n !== 'long-run' && !n.endsWith('.html'))!;
}
