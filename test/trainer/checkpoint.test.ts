import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../../src/shared/config';
import { readCheckpoint, writeCheckpoint, type CheckpointContent } from '../../src/trainer/checkpoint';
import { tempRunsDir } from './support';

function content(epoch: number): CheckpointContent {
  return {
    config: defaultConfig(),
    epochsCompleted: epoch,
    position: { epoch: epoch + 1, batch: 0 },
    progress: { train: { n: 0, sums: {} }, trainSeconds: 0 },
    parameters: { 'le1/W': { shape: [2, 3], values: new Float32Array([1, 2, 3, 4, 5, epoch]) } },
    modelState: {},
    optimizer: { step: epoch * 10, slots: { 'le1/W/m': new Float32Array(6).fill(0.5), 'adam/accBeta1': new Float32Array([0.9 ** 3]) } },
  };
}

test('a checkpoint round-trips exactly, and replacing it keeps nothing but the new one', async () => {
  const dir = tempRunsDir();
  assert.equal(await readCheckpoint(dir), null);
  await writeCheckpoint(dir, content(1));
  await writeCheckpoint(dir, content(2));
  const back = await readCheckpoint(dir);
  assert.ok(back);
  assert.equal(back.epochsCompleted, 2);
  assert.deepEqual(back.parameters['le1/W'], { shape: [2, 3], values: new Float32Array([1, 2, 3, 4, 5, 2]) });
  assert.deepEqual(back.optimizer.slots['adam/accBeta1'], new Float32Array([0.9 ** 3]));
  assert.equal(back.optimizer.step, 20);
  assert.deepEqual(readdirSync(dir), ['checkpoint']);
});

test('a crash while a checkpoint is replaced leaves the previous one readable', async () => {
  const dir = tempRunsDir();
  await writeCheckpoint(dir, content(1));
  // The state after moving the old checkpoint aside, with the new one still in its temp folder, half written.
  renameSync(join(dir, 'checkpoint'), join(dir, 'checkpoint.previous'));
  mkdirSync(join(dir, 'checkpoint.tmp-99999'));
  writeFileSync(join(dir, 'checkpoint.tmp-99999', 'tensors.bin'), new Uint8Array(7));
  const back = await readCheckpoint(dir);
  assert.equal(back?.epochsCompleted, 1);
  // The next write cleans up and replaces it.
  await writeCheckpoint(dir, content(2));
  assert.equal((await readCheckpoint(dir))?.epochsCompleted, 2);
  assert.ok(!existsSync(join(dir, 'checkpoint.previous')));
});

test('a truncated tensor file is an error that names the file, not garbage weights', async () => {
  const dir = tempRunsDir();
  await writeCheckpoint(dir, content(1));
  writeFileSync(join(dir, 'checkpoint', 'tensors.bin'), new Uint8Array(12));
  await assert.rejects(readCheckpoint(dir), /tensors\.bin has 12 bytes, expected 52/);
});
