// The path checks every run command makes before it acts, on real folders and symbolic links,
// and the file name Export proposes from a run id anyone could have written.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRunDir, exportFileName, EXPORT_NAME_MAX, jsonExportBeside } from '../../src/extension/model/runPaths';
import { writeRunFolder } from '../support/runFixtures';

let base: string;
let runs: string;
let run: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'vae-lens-paths-'));
  runs = join(base, 'ws', '.vae-runs');
  run = writeRunFolder(runs, { id: '20261128-090000-a' });
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

async function refused(candidate: unknown, reason: RegExp, runsDirs = [runs]): Promise<void> {
  const check = await checkRunDir(candidate, runsDirs);
  assert.equal(check.ok, false, `${String(candidate)} must be refused`);
  if (!check.ok) assert.match(check.reason, reason);
}

describe('checkRunDir', () => {
  test('a run folder directly inside a runs folder is accepted, named as the store names it', async () => {
    assert.deepEqual(await checkRunDir(run, [runs]), { ok: true, dir: run });
    assert.deepEqual(await checkRunDir(run + '/', [join(base, 'other'), runs]), { ok: true, dir: run });
  });

  test('paths outside the runs folders are refused with the reason', async () => {
    await refused('/etc', /"\/etc" is not a run folder directly inside a runs folder of this workspace/);
    await refused(runs, /is not a run folder directly inside/);
    await refused(join(base, 'ws'), /is not a run folder directly inside/);
    const nested = writeRunFolder(run, { id: 'nested' });
    await refused(nested, /is not a run folder directly inside/);
    const outside = writeRunFolder(join(base, 'elsewhere'), { id: 'x' });
    await refused(outside, /is not a run folder directly inside/);
  });

  test('"..", relative paths, control characters, non-strings and missing folders are refused', async () => {
    await refused(`${run}/../20261128-090000-a`, /contains "\.\."/);
    await refused(`${runs}/../.vae-runs/20261128-090000-a`, /contains "\.\."/);
    await refused('.vae-runs/20261128-090000-a', /is not an absolute path/);
    await refused(`${run}\n`, /control characters/);
    await refused(`${run}\u202e`, /control characters/);
    await refused(42, /no run folder was given/);
    await refused({ fsPath: run }, /no run folder was given/);
    await refused('', /no run folder was given/);
    await refused(join(runs, 'missing'), /is not an existing folder/);
    await refused(run, /no runs folder is open/, []);
  });

  test('a folder inside the runs folder needs a run.json that is a plain file', async () => {
    mkdirSync(join(runs, 'empty'));
    await refused(join(runs, 'empty'), /has no run\.json, so it is not a run folder/);
    mkdirSync(join(runs, 'linked-json'));
    symlinkSync(join(run, 'run.json'), join(runs, 'linked-json', 'run.json'));
    await refused(join(runs, 'linked-json'), /run\.json is not a plain file/);
    writeFileSync(join(runs, 'file'), 'x');
    await refused(join(runs, 'file'), /is not an existing folder/);
  });

  test('a symbolic link in the runs folder that leads out is refused; the runs folder itself may be a link', async () => {
    const outside = writeRunFolder(join(base, 'elsewhere'), { id: 'victim' });
    symlinkSync(outside, join(runs, 'escape'));
    await refused(join(runs, 'escape'), /\(it leads to .*elsewhere\/victim\) is not a run folder directly inside/);
    const linkedRuns = join(base, 'linked-runs');
    symlinkSync(runs, linkedRuns);
    assert.deepEqual(await checkRunDir(join(linkedRuns, '20261128-090000-a'), [linkedRuns]), { ok: true, dir: join(linkedRuns, '20261128-090000-a') });
    assert.deepEqual(await checkRunDir(run, [linkedRuns]), { ok: true, dir: join(linkedRuns, '20261128-090000-a') }, 'the real path is named as the configured runs folder names it');
  });
});

describe('exportFileName', () => {
  test('an id VAE Lens made is kept as it is', () => {
    assert.equal(exportFileName('20261128-090000-quick-check'), '20261128-090000-quick-check-metrics.csv');
  });

  test('path separators, reserved and control characters never reach the file name', () => {
    assert.equal(exportFileName('../../etc/passwd'), 'etc-passwd-metrics.csv');
    assert.equal(exportFileName('a\\b:c*d?e"f<g>h|i'), 'a-b-c-d-e-f-g-h-i-metrics.csv');
    assert.equal(exportFileName('run\u0000\n\u001b[31mred'), 'run[31mred-metrics.csv');
    assert.equal(exportFileName('evil\u202egpj.exe'), 'evilgpj.exe-metrics.csv');
    for (const name of [exportFileName('/'), exportFileName('..'), exportFileName(''), exportFileName(undefined), exportFileName('\u0007')]) assert.equal(name, 'run-metrics.csv');
  });

  test('the length is bounded', () => {
    const name = exportFileName('x'.repeat(10_000));
    assert.equal(name, `${'x'.repeat(EXPORT_NAME_MAX)}-metrics.csv`);
  });
});

describe('jsonExportBeside', () => {
  test('the JSON export takes the CSV\'s name with .json, whatever the case of .csv; another ending gets .json appended', () => {
    assert.equal(jsonExportBeside('/w/runs/a-metrics.csv'), '/w/runs/a-metrics.json');
    assert.equal(jsonExportBeside('/w/runs/A.CSV'), '/w/runs/A.json');
    assert.equal(jsonExportBeside('/w/runs/metrics.txt'), '/w/runs/metrics.txt.json');
    assert.equal(jsonExportBeside('/w/csv/metrics'), '/w/csv/metrics.json');
  });
});
