import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendEvent, truncateTornEventLine } from '../../src/node/runFolder';
import { formatBytes, removeDeadWritersFiles } from '../../src/node/leftovers';

const status = { type: 'status' as const, v: 1, time: '2026-01-01T00:00:00.000Z', status: 'running' as const };
const line = JSON.stringify(status) + '\n';

function folder(events?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-writes-'));
  if (events !== undefined) writeFileSync(join(dir, 'events.jsonl'), events);
  return dir;
}

test('truncateTornEventLine cuts only the bytes after the last newline, however long the torn line', async () => {
  assert.equal(await truncateTornEventLine(folder()), 0, 'no file');
  const clean = folder(line + line);
  assert.equal(await truncateTornEventLine(clean), 0);
  assert.equal(readFileSync(join(clean, 'events.jsonl'), 'utf8'), line + line);
  const torn = '{"type":"epoch","dims":[' + '0.5,'.repeat(50_000);
  const long = folder(line + torn);
  assert.equal(await truncateTornEventLine(long), Buffer.byteLength(torn));
  assert.equal(readFileSync(join(long, 'events.jsonl'), 'utf8'), line);
  const only = folder('{"type":"ep');
  assert.equal(await truncateTornEventLine(only), 11);
  assert.equal(readFileSync(join(only, 'events.jsonl'), 'utf8'), '');
});

test('appendEvent starts on a fresh line after a torn one, and adds nothing before a clean or new file', async () => {
  const fresh = folder();
  await appendEvent(fresh, status);
  assert.equal(readFileSync(join(fresh, 'events.jsonl'), 'utf8'), line);
  const torn = folder(line + '{"type":"sta');
  await appendEvent(torn, status);
  assert.equal(readFileSync(join(torn, 'events.jsonl'), 'utf8'), line + '{"type":"sta\n' + line);
});

test('removeDeadWritersFiles removes only matching names of writers that are gone', async () => {
  const dir = folder();
  for (const name of ['run.json.100.1.tmp', 'run.json.200.1.tmp', `run.json.${process.pid}.1.tmp`, 'run.json', 'other.300.tmp']) writeFileSync(join(dir, name), '');
  const removed = await removeDeadWritersFiles(dir, /^run\.json\.(\d+)\.\d+\.tmp$/, (pid) => pid === 200);
  assert.deepEqual(removed.sort(), ['run.json.100.1.tmp', `run.json.${process.pid}.1.tmp`].sort());
  assert.deepEqual(readdirSync(dir).sort(), ['other.300.tmp', 'run.json', 'run.json.200.1.tmp']);
  assert.deepEqual(await removeDeadWritersFiles(join(dir, 'missing'), /x/), []);
  assert.equal(formatBytes(512), '512 bytes');
  assert.equal(formatBytes(430_080), '430 kB');
  assert.equal(formatBytes(4_294_901_760), '4.3 GB');
});
