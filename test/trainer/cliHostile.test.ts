/**
 * `vae-lens list` and `report` on run folders that came from somewhere else: run.json that is JSON
 * but not a usable run, escape sequences in it, a killed run, and images that point out of the run
 * folder. The folders are copies of one real run, changed the way a hand or another tool would.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EpochEvent } from '../../src/shared/events';
import { readRun } from '../../src/node/runFolder';
import { startRun } from '../../src/trainer/train';
import { CLI_JS, collectingOutput, epochsOf, runCli, tempRunsDir } from './support';

let runsDir: string;
let original: string;
let originalId: string;

before(async () => {
  runsDir = tempRunsDir();
  const run = await startRun({ config: { model: 'chainer-mlp', dimz: 4, epochs: 2, trainLimit: 300, testLimit: 100, backend: 'wasm', name: 'clean' }, runsDir }, { output: collectingOutput() });
  assert.equal(run.status, 'completed', run.message);
  original = run.runDir;
  originalId = run.runId;
});

/** A copy of the real run under a new folder name, with run.json changed by `edit`. */
function copyRun(id: string, edit: (info: Record<string, unknown>) => void = () => undefined): string {
  const dir = join(runsDir, id);
  cpSync(original, dir, { recursive: true });
  const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
  info.id = id;
  edit(info);
  writeFileSync(join(dir, 'run.json'), JSON.stringify(info));
  return dir;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((done) => child.on('exit', done));
  return child.pid!;
}

test('list: unusable run.json fields are shown as unreadable with the field, a killed run as interrupted, escapes never reach the terminal', async () => {
  copyRun('b-empty-config', (i) => (i.config = {}));
  copyRun('c-numeric-id', (i) => (i.id = 42));
  const nullTest = copyRun('d-null-test');
  const last = epochsOf((await readRun(nullTest)).events).at(-1)!;
  appendFileSync(join(nullTest, 'events.jsonl'), JSON.stringify({ ...last, epoch: 3, test: null }) + '\n');
  copyRun('e-\u001b[31mred\u001b[0m', (i) => {
    i.id = 'e-\u001b[31mred\u001b[0m\u0007\u001b]0;pwned\u0007';
    i.status = 'failed';
    i.message = 'boom';
  });
  const dead = await deadPid();
  copyRun('f-killed', (i) => {
    i.status = 'running';
    i.pid = dead;
  });
  const listed = await runCli(['list', '--runs-dir', runsDir]);
  assert.equal(listed.code, 0, listed.stderr);
  const out = listed.stdout;
  assert.doesNotMatch(out, /undefined|TypeError/);
  assert.ok(![...out].some((c) => c !== '\n' && (c < ' ' || (c >= '\u007f' && c <= '\u009f'))), 'no control character is printed');
  assert.match(out, new RegExp(`${originalId}\\s+completed\\s+2/2\\s+chainer-mlp z4\\s+\\d+\\.\\d\\d\\s+wasm`));
  assert.match(out, /\nb-empty-config\s+unreadable\n/);
  assert.match(out, /\nb-empty-config: .*run\.json is not a valid VAE Lens run description: config\.model: missing\n/);
  assert.match(out, /\nc-numeric-id\s+unreadable\n/);
  assert.match(out, /\nc-numeric-id: .*run\.json.*\bid\b/);
  // The epoch line with `test: null` breaks the schema and is skipped: the last valid epoch's loss shows.
  assert.match(out, /d-null-test\s+completed\s+2\/2\s+chainer-mlp z4\s+\d+\.\d\d/);
  // Escape sequences are removed whole (colour, window title); a lone control character shows as '?'.
  assert.match(out, /\ne-red\?\s+failed/);
  assert.doesNotMatch(out, /pwned/);
  assert.match(out, /f-killed\s+interrupted\s+2\/2/);
});

test('report: an unreadable run is refused with the field at fault; a killed run is drawn as interrupted; a null test split is left out', async () => {
  const out = join(runsDir, 'out.html');
  const bad = await runCli(['report', join(runsDir, 'b-empty-config'), '--out', out]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /b-empty-config\/run\.json is not a valid VAE Lens run description: config\.model: missing/);
  const killed = await runCli(['report', join(runsDir, 'f-killed'), '--out', out]);
  assert.equal(killed.code, 0, killed.stderr);
  assert.match(readFileSync(out, 'utf8'), /"status":"interrupted"/);
  const nullTest = await runCli(['report', join(runsDir, 'd-null-test'), '--out', out]);
  assert.equal(nullTest.code, 0, nullTest.stderr);
  const html = readFileSync(out, 'utf8');
  assert.ok(!html.includes('"test":null'), 'the epoch without test numbers is not drawn');
  assert.ok(html.includes('"epoch":1,'), 'the valid epoch is drawn');
});

/** The run's embedded images in a report: [path in the run folder, bytes]. */
function runImages(html: string): [string, Buffer][] {
  return [...html.matchAll(/"([^"]+\.(?:png|txt))":"data:image\/png;base64,([A-Za-z0-9+/=]+)"/g)].map((m) => [m[1], Buffer.from(m[2], 'base64')]);
}

test('report embeds only PNG files inside the run folder: no `..` sibling, no link out, no other file type', async () => {
  const dir = copyRun('g-run1');
  // A sibling whose name starts with the run's: a string-prefix check without a separator lets it in.
  const secretDir = join(runsDir, 'g-run1-secret');
  mkdirSync(secretDir);
  const png = readFileSync(join(dir, 'samples', 'epoch-0001.png'));
  const secret = Buffer.concat([png.subarray(0, 8), Buffer.from('SECRET-KEY-MATERIAL-0123456789')]);
  writeFileSync(join(secretDir, 'key.png'), secret);
  writeFileSync(join(secretDir, 'key.txt'), 'SECRET-KEY-MATERIAL-0123456789');
  const events = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as EpochEvent);
  for (const e of events) {
    if (e.type !== 'epoch') continue;
    if (e.epoch === 1) e.images = { samples: '../g-run1-secret/key.png', recon: '../g-run1-secret/key.txt' };
  }
  writeFileSync(join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  // Epoch 2's pictures are links: one out of the folder, one to a text file in it, one (allowed) to an image in it.
  rmSync(join(dir, 'samples', 'epoch-0002.png'));
  symlinkSync('/etc/passwd', join(dir, 'samples', 'epoch-0002.png'));
  writeFileSync(join(dir, 'notes.png'), 'not a png');
  rmSync(join(dir, 'recon', 'epoch-0002.png'));
  symlinkSync(join(secretDir, 'key.png'), join(dir, 'recon', 'epoch-0002.png'));
  const out = join(runsDir, 'g.html');
  const r = await runCli(['report', dir, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  const embedded = runImages(html).map(([, bytes]) => bytes);
  for (const bytes of [...html.matchAll(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g)].map((m) => Buffer.from(m[1], 'base64'))) {
    assert.ok(!bytes.includes('SECRET-KEY-MATERIAL'), 'nothing from the sibling folder');
    assert.ok(!bytes.includes('root:'), 'nothing from /etc/passwd');
  }
  assert.ok(!html.includes(Buffer.from(readFileSync('/etc/passwd')).toString('base64').slice(0, 40)));
  assert.ok(!html.includes(Buffer.from('SECRET-KEY-MATERIAL-0123456789').toString('base64').slice(0, 24)));
  assert.equal(embedded.length, 0, 'no image of this run passes');

  // A link that stays inside the folder and leads to a PNG is embedded.
  rmSync(join(dir, 'recon', 'epoch-0002.png'));
  symlinkSync(join(dir, 'recon', 'epoch-0001.png'), join(dir, 'recon', 'epoch-0002.png'));
  assert.equal((await runCli(['report', dir, '--out', out])).code, 0);
  const again = runImages(readFileSync(out, 'utf8'));
  assert.deepEqual(again.map(([path]) => path), ['recon/epoch-0002.png']);
  assert.deepEqual(again[0][1], readFileSync(join(original, 'recon', 'epoch-0001.png')));
});

test('a config file with a UTF-8 byte order mark, comments and a trailing comma is read; a batch larger than the data is said in the log and the events', async () => {
  const dir = tempRunsDir();
  const file = join(dir, 'bom.vae.json');
  const broken = join(dir, 'broken.vae.json');
  writeFileSync(broken, '{\n  "epochs": 1\n  "dimz": 4\n}\n');
  const bad = await runCli(['train', '--config', broken, '--runs-dir', dir]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /broken\.vae\.json:3:3: comma expected/);
  writeFileSync(file, '\uFEFF// one batch: more than the data\n' + JSON.stringify({ name: 'bom', epochs: 1, trainLimit: 300, testLimit: 100, dimz: 4, batchSize: 400, backend: 'wasm' }).replace(/}$/, ', /* a trailing comma */}'));
  const r = await runCli(['train', '--config', file, '--runs-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /batch size 400 is larger than the 300 training images: each epoch is one batch of 300\./);
  const run = await readRun(r.stdout.trim());
  assert.equal(run.info.name, 'bom');
  assert.ok(run.events.some((e) => e.type === 'status' && e.status === 'running' && /batch size 400 is larger than the 300 training images/.test(e.message ?? '')));
});

test('the name error states the 100-character limit', async () => {
  const r = await runCli(['train', '--name', 'n'.repeat(101), '--runs-dir', tempRunsDir()]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /"name": "n{101}" is not allowed; expected a non-empty name without .* of at most 100 characters/);
});

/** The CLI as an unprivileged user (nobody), so that file permissions apply as they do for a user. */
function cliAsNobody(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI_JS, ...args], { cwd: tmpdir(), uid: 65534, gid: 65534, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', (e) => done({ code: null, stderr: `could not start the CLI as user nobody: ${e.message}` }));
    child.on('exit', (code) => done({ code, stderr }));
  });
}

test('a runs folder or cache folder the user cannot write (EACCES) is named with the cause and the flag/setting, without a stack', async () => {
  const root = mkdtempSync(join(tmpdir(), 'vae-lens-eacces-'));
  chmodSync(root, 0o700); // root's alone: nobody may not create anything in it
  const open = mkdtempSync(join(tmpdir(), 'vae-lens-open-'));
  chmodSync(open, 0o777);
  try {
    const runs = await cliAsNobody(['train', '--runs-dir', join(root, 'runs'), '--epochs', '1']);
    assert.equal(runs.code, 1, runs.stderr);
    assert.equal(
      runs.stderr.trim(),
      `vae-lens train: Cannot create a run folder in ${join(root, 'runs')} (permission denied, EACCES). Choose a runs folder you can write: vae-lens --runs-dir <folder>, or the vaeLens.runsDirectory setting in the editor.`,
    );
    const cache = await cliAsNobody(['train', '--dataset', 'fashion-mnist', '--data-cache-dir', join(root, 'cache'), '--runs-dir', open, '--epochs', '1', '--backend', 'wasm']);
    assert.equal(cache.code, 1, cache.stderr);
    assert.match(cache.stderr, new RegExp(`failed: Cannot save Fashion-MNIST: cannot write ${join(root, 'cache', 'fashion-mnist')} \\(permission denied, EACCES\\)\\. This is the cache folder .*, not the network\\. Set vaeLens\\.dataCacheDirectory \\(CLI: --data-cache-dir or VAE_LENS_DATA_CACHE\\) to a folder you can write\\.`));
    assert.doesNotMatch(cache.stderr, /\n\s+at /, 'no stack');
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(open, { recursive: true, force: true });
  }
});

test('a read-only runs folder (EROFS) says so and names the flag', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-readonly-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    assert.fail(`This test needs a read-only file system: mount -t tmpfs -o ro failed (${(e as Error).message.trim()}); run the trainer tests as root.`);
  }
  try {
    const r = await runCli(['train', '--runs-dir', join(dir, 'runs'), '--epochs', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot create a run folder in .*\(the file system is read-only, EROFS\)\. Choose a runs folder you can write: vae-lens --runs-dir <folder>/);
  } finally {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});
