import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readRun } from '../../src/node/runFolder';
import type { ErrorEvent } from '../../src/shared/events';
import { ConfigError, startRun } from '../../src/trainer/train';
import { BackendError, selectBackend } from '../../src/trainer/backend';
import { collectingOutput, runCli, spawnTrainer, tempRunsDir } from './support';

test('an invalid config is rejected before anything starts, with every invalid field and its allowed values', async () => {
  const runsDir = tempRunsDir();
  const bad = { model: 'resnet', dimz: 0, learningRate: -1, batchSize: 2.5, binarize: 'yes', dataset: 'cifar', backend: 'tpu', epochz: 3 };
  await assert.rejects(
    startRun({ config: bad, runsDir }, { output: collectingOutput() }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.errors.length, 8, e.message);
      for (const field of ['model', 'dimz', 'learningRate', 'batchSize', 'binarize', 'dataset', 'backend', 'epochz']) {
        assert.match(e.message, new RegExp(`"${field}"`));
      }
      assert.match(e.message, /one of "chainer-mlp", "deep-bn"/);
      assert.match(e.message, /an integer from 1 to 1024/);
      return true;
    },
  );
  assert.deepEqual(readdirSync(runsDir), [], 'no run folder for an invalid config');

  // The trainer process: exit code 2 and the error as a message; the CLI: every field on stderr.
  const child = spawnTrainer({ config: bad, runsDir });
  assert.equal((await child.exited).code, 2);
  const error = child.messages.find((m) => m.type === 'notStarted');
  assert.ok(error && error.type === 'notStarted' && /"dimz"/.test(error.message), JSON.stringify(child.messages));
  const cli = await runCli(['train', '--model', 'resnet', '--dimz', 'many', '--lr=-1', '--runs-dir', runsDir]);
  assert.equal(cli.code, 2);
  for (const field of ['"model"', '"dimz"', '"learningRate"']) assert.ok(cli.stderr.includes(field), cli.stderr);
  assert.deepEqual(readdirSync(runsDir), []);
});

test('a forced backend that cannot load fails the run and says why', async () => {
  await assert.rejects(selectBackend('tensorflow'), (e: unknown) => {
    assert.ok(e instanceof BackendError);
    assert.match(e.message, /@tensorflow\/tfjs-node is not installed/);
    assert.match(e.message, /optional dependency/);
    return true;
  });
  const runsDir = tempRunsDir();
  const outcome = await startRun({ config: { backend: 'tensorflow-gpu', epochs: 1, trainLimit: 100, testLimit: 100 }, runsDir }, { output: collectingOutput() });
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.message ?? '', /@tensorflow\/tfjs-node-gpu is not installed/);
  const run = await readRun(outcome.runDir);
  assert.equal(run.info.status, 'failed');
  assert.match(run.info.message ?? '', /tfjs-node-gpu/);
  assert.ok(run.events.some((e) => e.type === 'error' && /tfjs-node-gpu/.test(e.message)));
});

test('auto picks the best backend that loads (wasm here) and records it', async () => {
  const logs: string[] = [];
  const env = await selectBackend('auto', { log: (l) => logs.push(l) });
  assert.equal(env.backend, 'wasm');
  assert.equal(env.backendVersion, '4.22.0');
  assert.equal(env.tfjsVersion, '4.22.0');
  assert.ok(logs.some((l) => /skipped tensorflow-gpu: .*not installed/.test(l)), logs.join('\n'));
  const cpu = await selectBackend('cpu', { log: (l) => logs.push(l) });
  assert.equal(cpu.backend, 'cpu');
  await selectBackend('wasm');
});

test('a loss that becomes NaN fails the run with the epoch, the batch and a suggested fix; the process exits non-zero', async () => {
  const runsDir = tempRunsDir();
  const config = { learningRate: 10, epochs: 2, trainLimit: 1000, testLimit: 100, backend: 'wasm' };
  const outcome = await startRun({ config, runsDir }, { output: collectingOutput() });
  assert.equal(outcome.status, 'failed');
  const run = await readRun(outcome.runDir);
  const error = run.events.find((e): e is ErrorEvent => e.type === 'error');
  assert.ok(error, 'an error event');
  assert.equal(error.epoch, 1);
  assert.ok(typeof error.batch === 'number' && error.batch >= 1 && error.batch <= 10, `batch ${error.batch}`);
  assert.match(error.message, new RegExp(`epoch 1, batch ${error.batch} of 10`));
  assert.match(error.message, /NaN|Infinity/);
  assert.match(error.message, /lower the learning rate/);
  assert.match(error.message, /KL warm-up/);
  assert.equal(run.info.status, 'failed');
  assert.equal(run.events.at(-1)?.type, 'status');

  const child = spawnTrainer({ config, runsDir });
  assert.equal((await child.exited).code, 1);
  assert.equal(child.messages.filter((m) => m.type === 'appended').at(-1)?.kind, 'status', 'the parent was nudged after the failed status was appended');
});
