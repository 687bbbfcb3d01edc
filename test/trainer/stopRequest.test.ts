// A run is stopped through its folder by anyone who did not start its trainer (another window, the
// extension for a CLI run, another machine sharing the folder): no signal is needed, and while it
// runs the trainer names itself in run.json precisely enough that nobody mistakes another process for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readRun, requestStop } from '../../src/node/runFolder';
import { localProcessProbe } from '../../src/node/processProbe';
import { trainerLiveness } from '../../src/shared/liveness';
import { STOP_REQUEST_FILE, type RunInfo } from '../../src/shared/run';
import { startRun } from '../../src/trainer/train';
import { collectingOutput, tempRunsDir } from './support';

test('a stop-request file in the run folder stops the run after its batch, with a checkpoint, and is removed', async () => {
  const runsDir = tempRunsDir();
  const output = collectingOutput();
  let requested = false;
  let liveInfo: RunInfo | undefined;
  const send = output.send;
  output.send = (m) => {
    send(m);
    if (m.type === 'progress' && m.phase === 'training' && m.batch >= 1 && !requested) {
      requested = true;
      const dir = output.messages.find((x) => x.type === 'started')!;
      if (dir.type !== 'started') return;
      liveInfo = JSON.parse(readFileSync(join(dir.runDir, 'run.json'), 'utf8')) as RunInfo;
      void requestStop(dir.runDir, 'test');
    }
  };
  const outcome = await startRun({ config: { epochs: 50, trainLimit: 2000, testLimit: 200, backend: 'wasm', seed: 1 }, runsDir }, { output });
  assert.equal(outcome.status, 'stopped', outcome.message);
  assert.match(outcome.message ?? '', /stop requested through the run folder/);
  assert.ok(outcome.epochsCompleted < 50);
  assert.equal(existsSync(join(outcome.runDir, STOP_REQUEST_FILE)), false, 'the request is consumed');
  const run = await readRun(outcome.runDir);
  assert.equal(run.info.status, 'stopped');
  assert.ok(existsSync(join(outcome.runDir, 'checkpoint')), 'a checkpoint to resume from');
  // While live, run.json named this process by pid, host and start id, and the liveness rule verified it.
  assert.ok(liveInfo, 'run.json was read while the run trained');
  assert.equal(liveInfo!.pid, process.pid);
  assert.equal(liveInfo!.host, hostname());
  assert.equal(liveInfo!.processStart, localProcessProbe.startId(process.pid));
  if (process.platform === 'linux') assert.match(liveInfo!.processStart ?? '', /^[0-9a-f-]{36}:\d+$/);
  const verdict = trainerLiveness(liveInfo!, localProcessProbe, new Date());
  assert.deepEqual(verdict, { state: 'alive', pid: process.pid, verified: process.platform === 'linux' || process.platform === 'darwin' });
  // Once stopped, run.json names no process any more.
  assert.equal(run.info.pid, undefined);
  assert.equal(run.info.processStart, undefined);
});
