/**
 * `threads: 2` on wasm: chainer-mlp's step splits each batch between this thread and a worker. Two
 * runs with one seed must give equal numbers, bit for bit, which needs every step of both to split
 * the same way from the first batch on (the worker starts in the background). Runs the built
 * trainer, since the worker bundle lives beside it in dist/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRun } from '../../src/node/runFolder';
import { readCheckpoint } from '../../src/trainer/checkpoint';
import type { TrainerMessage } from '../../src/shared/events';
import { epochsOf, spawnTrainer, tempRunsDir } from './support';

const config = { model: 'chainer-mlp' as const, dimz: 8, epochs: 1, trainLimit: 3000, testLimit: 200, backend: 'wasm' as const, seed: 7, threads: 2 };

async function trainOnce(runsDir: string): Promise<string> {
  const child = spawnTrainer({ config, runsDir });
  const exit = await child.exited;
  assert.equal(exit.code, 0, child.stderr());
  const started = child.messages.find((m): m is Extract<TrainerMessage, { type: 'started' }> => m.type === 'started');
  return started!.runDir;
}

test('two 2-thread runs with one seed are bit-equal (epoch numbers and weights)', async () => {
  const runsDir = tempRunsDir();
  const [a, b] = [await trainOnce(runsDir), await trainOnce(runsDir)];
  const runA = await readRun(a);
  const strip = (e: ReturnType<typeof epochsOf>[number]) => ({ ...e, time: '', samplesPerSecond: 0, secondsPerEpoch: 0 });
  assert.deepEqual(epochsOf((await readRun(b)).events).map(strip), epochsOf(runA.events).map(strip));
  const wa = (await readCheckpoint(a))!;
  const wb = (await readCheckpoint(b))!;
  for (const name of Object.keys(wa.parameters)) assert.deepEqual(wb.parameters[name].values, wa.parameters[name].values, name);
  for (const name of Object.keys(wa.optimizer.slots)) assert.deepEqual(wb.optimizer.slots[name], wa.optimizer.slots[name], name);
});
