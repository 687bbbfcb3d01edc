import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEvents, EventLineBuffer } from '../../src/shared/events';

const status = (s: string) => JSON.stringify({ type: 'status', v: 1, time: '2026-01-01T00:00:00Z', status: s });

test('a torn last line in events.jsonl is skipped, not fatal', () => {
  const text = `${status('running')}\n${status('completed')}\n{"type":"epo`;
  const { events, skipped } = parseEvents(text);
  assert.deepEqual(events.map((e) => e.type === 'status' && e.status), ['running', 'completed']);
  assert.equal(skipped, 1);
});

test('the incremental buffer keeps a partial line until its newline arrives', () => {
  const b = new EventLineBuffer();
  const line = status('running');
  assert.deepEqual(b.push(line.slice(0, 10)), []);
  const events = b.push(line.slice(10) + '\n' + status('stopped').slice(0, 5));
  assert.equal(events.length, 1);
  assert.equal(b.push(status('stopped').slice(5) + '\n').length, 1);
  assert.equal(b.skipped, 0);
});
