import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainerMessage } from '../../src/shared/events';
import { readRun } from '../../src/node/runFolder';
import { runCli, tempRunsDir } from './support';

test('vae-lens --help and every command\'s --help describe the command', async () => {
  const main = await runCli(['--help']);
  assert.equal(main.code, 0);
  for (const command of ['train', 'resume', 'list', 'report', 'demo']) assert.match(main.stdout, new RegExp(`vae-lens ${command}`));
  for (const command of ['train', 'resume', 'list', 'report', 'demo']) {
    const r = await runCli([command, '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^vae-lens ${command}`));
  }
  assert.match((await runCli(['train', '--help'])).stdout, /--kl-warmup <n>[\s\S]*--runs-dir/);
  const unknown = await runCli(['trian']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "trian"/);
  const badFlag = await runCli(['train', '--learning-rate', '1']);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--learning-rate/);
});

test('vae-lens train (config file + flags, --json), list, resume by run id, report', async () => {
  const runsDir = tempRunsDir();
  const empty = await runCli(['list', '--runs-dir', runsDir]);
  assert.equal(empty.code, 0);
  assert.match(empty.stdout, /No runs/);

  const configFile = join(runsDir, 'small.vae.json');
  writeFileSync(configFile, JSON.stringify({ $schema: './vae.schema.json', name: 'from file', epochs: 1, trainLimit: 300, testLimit: 100, dimz: 4, binarize: 'dynamic' }));
  const trained = await runCli(['train', '--config', configFile, '--dimz', '6', '--backend', 'wasm', '--runs-dir', runsDir, '--json']);
  assert.equal(trained.code, 0, trained.stderr);
  const messages = trained.stdout.trim().split('\n').map((l) => JSON.parse(l) as TrainerMessage);
  const started = messages[0];
  assert.equal(started.type, 'started');
  const run = await readRun((started as Extract<TrainerMessage, { type: 'started' }>).runDir);
  assert.equal(run.info.name, 'from file');
  assert.equal(run.info.config.dimz, 6, 'flags override the file');
  assert.equal(run.info.config.binarize, 'dynamic');
  assert.equal(run.info.status, 'completed');
  assert.ok(messages.some((m) => m.type === 'appended' && m.kind === 'epoch'));
  assert.match(trained.stderr, /epoch 1\/1: train loss/);

  const listed = await runCli(['list', '--runs-dir', runsDir]);
  assert.match(listed.stdout, /RUN\s+STATUS\s+EPOCHS/);
  assert.match(listed.stdout, new RegExp(`${run.info.id}\\s+completed\\s+1/1\\s+chainer-mlp z6`));

  const again = await runCli(['resume', run.info.id, '--runs-dir', runsDir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already completed/);
  const missing = await runCli(['resume', 'no-such-run', '--runs-dir', runsDir]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No run "no-such-run"/);

  const report = await runCli(['report', run.info.id, '--runs-dir', runsDir, '--out', join(runsDir, 'r.html')]);
  const noOut = await runCli(['report', run.info.id, '--runs-dir', runsDir]);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /--out/);
  assert.equal(report.code, 0, report.stderr);
  assert.equal(report.stdout.trim(), join(runsDir, 'r.html'));
  assert.ok(readdirSync(runsDir).includes('r.html'));
});
