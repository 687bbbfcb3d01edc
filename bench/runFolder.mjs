// `node scripts/build.mjs && node bench/runFolder.mjs`: `vae-lens list` and `vae-lens report` on a
// long run, each in a fresh process: wall time, peak memory (maxRSS) and the report's size. The
// run is the panels' fixture run with 100,000 epochs and dimz 20 (events.jsonl ≈ 265 MB).
// Options: --epochs N (default 100000), --dimz N (20), --repeat N (3; medians are printed).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.env.VAE_LENS_ROOT ??= root;
const require = createRequire(import.meta.url);
const { writeMnistLikeRun: writeFixtureRun } = require(join(root, 'out/test/support/runFixtures.js'));

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const EPOCHS = option('--epochs', 100_000);
const DIMZ = option('--dimz', 20);
const REPEAT = option('--repeat', 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the CLI in a fresh Node process and returns its wall time and peak RSS. */
function measure(cliArgs) {
  const script = `process.on('exit', () => process.stderr.write('\\nmaxrss ' + process.resourceUsage().maxRSS + '\\n'));
    require(${JSON.stringify(join(root, 'dist/cli.js'))}).cli(${JSON.stringify(cliArgs)}).then((c) => { process.exitCode = c; });`;
  const started = performance.now();
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`vae-lens ${cliArgs.join(' ')} failed: ${r.stderr}`);
  const kb = Number(/maxrss (\d+)/.exec(r.stderr)?.[1]);
  return { seconds, mb: kb / 1024 };
}

const runsDir = mkdtempSync(join(tmpdir(), 'vae-lens-bench-runs-'));
try {
  const t0 = performance.now();
  const dir = writeFixtureRun(runsDir, { epochs: EPOCHS, dimz: DIMZ, name: 'long', imagesEvery: Math.max(1, Math.floor(EPOCHS / 100)) });
  const eventsMb = statSync(join(dir, 'events.jsonl')).size / 1e6;
  console.log(`run: ${EPOCHS} epochs, dimz ${DIMZ}, events.jsonl ${eventsMb.toFixed(0)} MB (written in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const out = join(runsDir, 'report.html');
  for (const [label, cliArgs] of [['list', ['list', '--runs-dir', runsDir]], ['report', ['report', dir, '--out', out]]]) {
    const samples = Array.from({ length: REPEAT }, () => measure(cliArgs));
    console.log(`${label.padEnd(6)}: ${median(samples.map((s) => s.seconds)).toFixed(2)} s, peak RSS ${median(samples.map((s) => s.mb)).toFixed(0)} MB (median of ${REPEAT})`);
  }
  console.log(`report.html: ${(statSync(out).size / 1e6).toFixed(1)} MB`);
} finally {
  rmSync(runsDir, { recursive: true, force: true });
}
