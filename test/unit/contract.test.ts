// The run-folder contract: one schema (src/shared/schema.ts, run.ts, events.ts) checks run.json and
// every events.jsonl line for the trainer, the host, the webview and the CLI, and names the field at fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, mkdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRunInfo, runJsonSchema, RUN_SCHEMA_VERSION } from '../../src/shared/run';
import { checkEventLine, eventJsonSchema, parseEvents, EventLineBuffer, EVENTS_SCHEMA_VERSION } from '../../src/shared/events';
import { readRun, readRunInfo, RunFolderError } from '../../src/node/runFolder';
import { parseToWebviewMessage, toRunView } from '../../src/shared/protocol';
import { repoRoot } from '../support/repoRoot';

const root = repoRoot();
const fixtures = join(root, 'test/fixtures/runs');
const fixtureRun = (name: string) => JSON.parse(readFileSync(join(fixtures, name, 'run.json'), 'utf8'));
const runs = readdirSync(fixtures);

test('every recorded run and every line of its events.jsonl satisfy the schema', () => {
  assert.ok(runs.length >= 2);
  for (const run of runs) {
    const info = checkRunInfo(fixtureRun(run));
    assert.ok(info.ok, `${run}/run.json: ${info.ok ? '' : info.error}`);
    const parsed = parseEvents(readFileSync(join(fixtures, run, 'events.jsonl'), 'utf8'));
    assert.equal(parsed.skipped, 0, `${run}: ${JSON.stringify(parsed.problems)}`);
    assert.ok(parsed.events.filter((e) => e.type === 'epoch').length >= 6);
  }
});

test('a run.json written by someone else is refused with the field at fault', () => {
  const good = fixtureRun(runs[0]);
  const error = (value: unknown) => {
    const r = checkRunInfo(value);
    assert.equal(r.ok, false, 'should be refused');
    return r.ok ? '' : r.error;
  };
  assert.match(error({ ...good, config: {} }), /^config\.model: missing/);
  assert.match(error({ ...good, config: { ...good.config, dimz: 'twenty' } }), /^config: "dimz": "twenty" is not allowed/);
  assert.match(error({ ...good, id: 42 }), /^id: expected text, got 42/);
  assert.match(error({ ...good, status: 'exploded' }), /^status: expected one of "queued", .*got the text "exploded"/);
  assert.match(error({ ...good, epochsCompleted: -1 }), /^epochsCompleted: expected an integer ≥ 0, got -1/);
  assert.match(error({ ...good, environment: { ...good.environment, backend: null } }), /^environment\.backend: expected text, got null/);
  assert.match(error(null), /expected an object, got null/);
  assert.match(error({ ...good, schemaVersion: RUN_SCHEMA_VERSION + 1 }), /newer VAE Lens \(run schema 2; this version reads 1\)/);
  // Fields a newer writer adds are kept, not refused; missing config fields take their defaults.
  const extra = checkRunInfo({ ...good, somethingNew: { a: 1 } });
  assert.ok(extra.ok && (extra.info as Record<string, unknown>).somethingNew);
  const minimal = { model: 'deep-bn', dimz: 8, epochs: 3, batchSize: 50, dataset: 'mnist' };
  const filled = checkRunInfo({ ...good, config: minimal });
  assert.ok(filled.ok && filled.info.config.learningRate === 1e-3 && filled.info.config.dimz === 8);
});

test('an events.jsonl line that is not a valid event is skipped with its line number and reason', () => {
  const events = readFileSync(join(fixtures, runs[0], 'events.jsonl'), 'utf8').split('\n').filter(Boolean);
  const epoch = JSON.parse(events.find((l) => l.includes('"type":"epoch"'))!);
  const lines = [
    JSON.stringify(epoch),
    JSON.stringify({ ...epoch, test: null }),
    JSON.stringify({ ...epoch, dims: { ...epoch.dims, kl: epoch.dims.kl.slice(1) } }),
    JSON.stringify({ ...epoch, v: EVENTS_SCHEMA_VERSION + 1 }),
    JSON.stringify({ ...epoch, images: { ...epoch.images, samples: '../../secret.png' } }),
    JSON.stringify({ type: 'status', v: 1, time: 't', status: 'running' }),
    '{"type":"epo',
  ];
  const parsed = parseEvents(lines.join('\n'));
  assert.equal(parsed.events.length, 2);
  assert.equal(parsed.skipped, 5);
  assert.deepEqual(parsed.problems.map((p) => p.line), [2, 3, 4, 5, 7]);
  assert.match(parsed.problems[0].reason, /^test: expected an object, got null/);
  assert.match(parsed.problems[1].reason, /^dims\.kl: expected \d+ values \(one per latent dimension/);
  assert.match(parsed.problems[2].reason, /newer VAE Lens/);
  assert.match(parsed.problems[3].reason, /^images\.samples: expected text matching/);
  assert.match(parsed.problems[4].reason, /not a complete JSON line/);
  assert.match((checkEventLine({ type: 'nonsense', v: 1 }) as { reason: string }).reason, /^type: expected one of "epoch", "status"/);
  // The incremental reader numbers lines across chunks.
  const buffer = new EventLineBuffer();
  buffer.push(lines.slice(0, 1).join('\n') + '\n');
  buffer.push(lines.slice(1, 2).join('\n') + '\n');
  assert.deepEqual(buffer.problems.map((p) => p.line), [2]);
});

test('readRun reports an unreadable run.json as a RunFolderError naming the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-contract-'));
  const run = join(dir, 'r');
  mkdirSync(run);
  cpSync(join(fixtures, runs[0], 'events.jsonl'), join(run, 'events.jsonl'));
  writeFileSync(join(run, 'run.json'), JSON.stringify({ ...fixtureRun(runs[0]), config: {} }));
  await assert.rejects(readRunInfo(run), (e: unknown) => e instanceof RunFolderError && /run\.json is not a valid VAE Lens run description: config\.model: missing/.test(e.message));
  writeFileSync(join(run, 'run.json'), JSON.stringify(fixtureRun(runs[0])));
  const snapshot = await readRun(run);
  assert.equal(snapshot.skipped, 0);
});

test('schemas/run.schema.json and event.schema.json are generated from the same schema and committed up to date', () => {
  for (const [path, schema] of [['schemas/run.schema.json', runJsonSchema()], ['schemas/event.schema.json', eventJsonSchema()]] as const) {
    assert.deepEqual(JSON.parse(readFileSync(join(root, path), 'utf8')), schema, `${path} is stale: run npm run build`);
  }
  const run = runJsonSchema() as { required: string[] };
  assert.deepEqual(run.required.slice(0, 4), ['schemaVersion', 'id', 'name', 'config']);
});

test('the webview checks what it is sent against the same schema before drawing', () => {
  const info = fixtureRun(runs[0]);
  const events = parseEvents(readFileSync(join(fixtures, runs[0], 'events.jsonl'), 'utf8')).events;
  const view = toRunView({ dir: '/w/.vae-runs/r', info, events }, 'https://file+.vscode-resource/w/.vae-runs/r/');
  const snapshot = { type: 'snapshot', v: 1, panel: 'run', interactive: true, runs: [view], health: {} };
  const ok = parseToWebviewMessage(snapshot);
  assert.ok(ok.ok, ok.ok ? '' : ok.error);
  const badEpoch = { ...view, epochs: [{ ...view.epochs[0], test: null }] };
  const refused = parseToWebviewMessage({ ...snapshot, runs: [badEpoch] });
  assert.equal(refused.ok, false);
  assert.match(refused.ok ? '' : refused.error, /^runs\[0\]\.epochs\[0\]\.test: expected an object, got null/);
  const badInfo = parseToWebviewMessage({ type: 'append', dir: '/w/r', info: { ...info, config: {} }, epochs: [], warnings: [] });
  assert.match(badInfo.ok ? '' : badInfo.error, /^info: config\.model: missing/);
  const foreignImage = parseToWebviewMessage({ ...snapshot, runs: [{ ...view, images: { 'samples/epoch-0001.png': 'https://evil.example/x.png' } }] });
  assert.match(foreignImage.ok ? '' : foreignImage.error, /expected a PNG data: URI/);
});
