#!/usr/bin/env node
/**
 * The `vae-lens` command line: the same trainer as the extension, without VS Code.
 *   vae-lens train [--config f.vae.json] [options]   vae-lens resume <run>   vae-lens list
 *   vae-lens report <run...> --out file.html          vae-lens nll <run> [--k 5000]   vae-lens demo
 *   vae-lens decode | traverse | interpolate | scatter <run> … --out x.png   (the latent space of a run's checkpoint)
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BACKENDS, CONFIG_FIELDS, type BackendChoice, type TrainConfig } from '../shared/config';
import { readRunInfo, listRunDirs } from '../node/runFolder';
import { localProcessProbe } from '../node/processProbe';
import { EventTail } from '../node/eventTail';
import type { EpochEvent } from '../shared/events';
import { effectiveStatus } from '../shared/liveness';
import { DEFAULT_RUNS_DIR, RUN_FILE } from '../shared/run';
import { parseExperimentFileText } from '../shared/experimentFile';
import { terminalCell, terminalText } from './terminalText';
import { cliOutput } from './progress';
import { writeReport } from './report';
import { runLikelihood } from './runMeasures';
import { listenForStop } from './signals';
import type { LoadDatasetOptions } from './data';
import { ConfigError, StopRequest, resumeRun, startRun, type RunOutcome } from './train';
import {
  DEFAULT_INTERPOLATION_STEPS, DEFAULT_MANIFOLD_STEPS, DEFAULT_TRAVERSAL_STEPS, ExplorerError, LABEL_COLOUR_NAMES, checkZ, dimensionIndices, openExplorer, testMu,
  writeDecoded, writeInterpolation, writeManifold, writeScatter, writeTraversal, type Explorer,
} from './latent';

/** Exit codes: 0 done (completed or stopped), 1 the run failed, 2 bad usage, an invalid config, or a request the run cannot answer. */
class UsageError extends Error {}

/** Flag → config field; the value is parsed as the field's type (validation reports bad values). */
const CONFIG_FLAGS: Record<string, keyof TrainConfig> = {
  name: 'name', model: 'model', dimz: 'dimz', epochs: 'epochs', 'batch-size': 'batchSize', lr: 'learningRate',
  'kl-weight': 'klWeight', 'kl-warmup': 'klWarmupEpochs', 'kl-cycles': 'klCycles', 'free-bits': 'freeBits', 'train-samples': 'trainSamples', 'test-samples': 'testSamples',
  dataset: 'dataset', 'train-limit': 'trainLimit', 'test-limit': 'testLimit', binarize: 'binarize', seed: 'seed',
  backend: 'backend', threads: 'threads', 'diagnostics-every': 'diagnosticsEvery', 'iw-samples': 'iwSamples',
};

/** Importance samples per test image for vae-lens nll (Burda et al.'s figure). */
export const DEFAULT_IW_SAMPLES = 5000;

const DATA_HELP = `  --data-base-url <url>  where fashion-mnist is downloaded from (default: the Fashion-MNIST mirror; also VAE_LENS_FASHION_MNIST_URL)
  --data-cache-dir <dir> where downloaded data sets are cached (default ${'~'}/.cache/vae-lens; also VAE_LENS_DATA_CACHE)`;

const COMMON_HELP = `  --runs-dir <dir>     where runs are kept (default ${DEFAULT_RUNS_DIR} in the current folder)
  --json               machine output: one JSON message per line on stdout
  -h, --help           this help`;

const LATENT_HELP = `  --out <file.png>     the PNG to write (required)
  --backend <b>        decode on this backend instead of the run's own choice
  --epoch <n>          the weights after epoch n (one the run kept: config keepCheckpointEvery, or its
                       latest checkpoint's epoch) instead of its latest checkpoint
${DATA_HELP}
${COMMON_HELP}

The run needs a checkpoint (one is written at each epoch's end and when a run is stopped).`;

const HELP: Record<string, string> = {
  main: `vae-lens — train variational autoencoders and check whether the latent space converges to the prior

Usage:
  vae-lens train [--config file.vae.json] [options]   start a run
  vae-lens resume <run folder | run id>                continue a stopped or interrupted run
  vae-lens list                                        the runs in the runs folder
  vae-lens report <run...> --out file.html             one HTML file with the run's (or runs') charts and images
  vae-lens nll <run> [--k 5000]                        the test set's importance-weighted negative log-likelihood
  vae-lens demo                                        a one-minute run: chainer-mlp, dimz 20, 10,000 MNIST digits
  vae-lens decode <run> --z a,b,… --out x.png          the image a latent vector z decodes to
  vae-lens traverse <run> [--dims i,j] --out x.png     each dimension swept from −3 to +3, the others fixed
  vae-lens interpolate <run> --from I --to J --out x.png   from one test image's μ to another's
  vae-lens scatter <run> [--dims i,j] --out x.png      the test set's μ against the prior's 1σ/2σ/3σ circles

vae-lens <command> --help describes each command.`,
  train: `vae-lens train [--config file.vae.json] [options]

Starts a run. Options override the config file; everything else takes the defaults of Chainer's MNIST VAE example.
  --config <file>      a *.vae.json experiment file
  --name <name>        run name
  --model <m>          chainer-mlp | deep-bn (custom networks: encoder and decoder in a --config file)
  --dimz <n>           latent dimensions (default 20; deep-bn 100)
  --epochs <n>         passes over the training set (default 100)
  --batch-size <n>     images per batch (default 100)
  --lr <α>             Adam step size (default 0.001)
  --kl-weight <C>      weight of the KL term (default 1)
  --kl-warmup <n>      ramp C linearly from 0 over n epochs (default 0: none)
  --kl-cycles <m>      cyclical KL annealing: m cycles, C ramping from 0 over each one's first half (default 0: none)
  --free-bits <λ>      free bits: no KL penalty on a dimension whose batch KL is below λ nats (default 0: off)
  --train-samples <k>  z samples per image in the training loss (default 1)
  --test-samples <k>   z samples per image in the test loss (default 10)
  --diagnostics-every <n>  measure I(x;z), the marginal KL and prior holes every n epochs (default 5; 0: never)
  --iw-samples <k>     importance samples per image for the IW test NLL with the diagnostics (default 100; 0: none)
  --dataset <d>        mnist | fashion-mnist | idx:<folder> | images:<folder> (default mnist)
  --train-limit <n>    use the first n training images (default all)
  --test-limit <n>     use the first n test images (default all)
  --binarize <b>       none | static | dynamic (default none)
  --seed <n>           seed for weights, batch order, noise (default 0)
  --backend <b>        auto | webgpu | tensorflow-gpu | tensorflow | wasm | cpu (default auto)
  --threads <n>        wasm threads (default 0: automatic)
${DATA_HELP}
${COMMON_HELP}

Ctrl+C stops after the current batch and saves a checkpoint; vae-lens resume continues.`,
  resume: `vae-lens resume <run folder | run id>

Continues a stopped, interrupted or failed run from its checkpoint. With the same seed and backend
it computes the same numbers as a run that was never interrupted.
  --backend <b>        train on this backend instead of the run's own (e.g. wasm on a machine without the GPU)
${DATA_HELP}
${COMMON_HELP}`,
  list: `vae-lens list

The runs in the runs folder: id, status, epochs, latest test loss, backend.
${COMMON_HELP}`,
  report: `vae-lens report <run folder | run id>... --out file.html

Writes one self-contained HTML file: the run panel for one run, the compare panel for several.
  --out <file>         the HTML file to write (required)
${COMMON_HELP}`,
  nll: `vae-lens nll <run folder | run id> [--k <samples>]

The test set's importance-weighted negative log-likelihood (Burda et al. 2015) of the run's latest
checkpoint, in nats per image, beside the test −ELBO at C = 1: log p(x) ≈ log of the mean over k
samples z ~ q(z|x) of p(x|z) p(z) / q(z|x). It is at most the −ELBO and tightens as k grows.
With binarize static or dynamic it compares with published binarized-MNIST figures; with grey
pixels (binarize none) the Bernoulli decoder's value is not a likelihood of the images.
It also prints the latent diagnostics of the first 2,000 test images, as an epoch records them:
I(x; z), the marginal KL(q(z) ‖ p(z)) split into moments and shape, and the prior hole rates.
  --k <samples>        importance samples per test image (default ${DEFAULT_IW_SAMPLES}, as in the literature)
  --images <n>         the first n test images only (default all: at k = 5,000, 10,000 images take an hour or more on a CPU)
  --backend <b>        evaluate on this backend instead of the run's own
${DATA_HELP}
${COMMON_HELP}`,
  decode: `vae-lens decode <run folder | run id> --z a,b,c,… [--z …] --out x.png

Decodes latent vectors with the run's checkpoint: each --z is one vector of dimz numbers (start a
negative first value with --z=-1.5,…); the PNG shows the decoder's mean image of each, up to 8 a row.
${LATENT_HELP}`,
  traverse: `vae-lens traverse <run folder | run id> [--dims i,j,…] [--steps n] [--base I] --out x.png

A traversal grid: one row per dimension, that coordinate of z going from −3 to +3, every other
coordinate at the base point.
  --dims <i,j,…>       dimensions to sweep, numbered from 1 as in the panels (z1 …); default the active
                       ones (Var(μ_d) > 0.01 over the test set), largest KL_d first
  --steps <n>          images per row (default ${DEFAULT_TRAVERSAL_STEPS})
  --base <I>           keep the other coordinates at test image I's μ (default z = 0, the prior's mean)
${LATENT_HELP}`,
  interpolate: `vae-lens interpolate <run folder | run id> --from I --to J [--steps n] [--slerp] --out x.png

One row of images decoded along the way from test image I's μ to test image J's μ (test images are
numbered from 0 in the test set's order; the run's reconstruction grid shows 0–31).
  --from <I>, --to <J> the two test images
  --steps <n>          images, both ends included (default ${DEFAULT_INTERPOLATION_STEPS})
  --slerp              spherical interpolation instead of a straight line
${LATENT_HELP}`,
  scatter: `vae-lens scatter <run folder | run id> [--dims i,j] [--manifold m.png [--steps n]] --out x.png

The test set's μ on the first two principal axes of μ (or on two dimensions), one dot per image
coloured by its label, with the prior N(0, I)'s 1σ, 2σ and 3σ circles and the run's 64 fixed prior
samples (the ones its samples/ images decode) as black crosses.
  --dims <i,j>         two dimensions, numbered from 1 as in the panels (default: principal axes)
  --manifold <file>    also write the plane's decoded manifold: an n × n grid of z from −3 to +3 on
                       both axes, laid out like the scatter (for dimz 2, the whole latent space)
  --steps <n>          the manifold's images per side (default ${DEFAULT_MANIFOLD_STEPS})
${LATENT_HELP}`,
  demo: `vae-lens demo

Trains chainer-mlp (dimz 20) on 10,000 MNIST training and 2,000 test digits for 5 epochs (about a
minute on a laptop), prints the run folder, then writes an HTML report beside it.
${COMMON_HELP}`,
};

const COMMON_OPTIONS = {
  'runs-dir': { type: 'string' },
  'data-base-url': { type: 'string' },
  'data-cache-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

type Flags = { 'runs-dir'?: string; 'data-base-url'?: string; 'data-cache-dir'?: string; json?: boolean; help?: boolean } & Record<string, string | boolean | undefined>;

function parse(args: string[], extra: ParseArgsConfig['options'] = {}): { values: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...COMMON_OPTIONS, ...extra }, allowPositionals: true, strict: true });
    return { values: values as Flags, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A flag's text as the config field's type; text that is not a number stays text, so validation names it. */
function flagValue(field: keyof TrainConfig, text: string): unknown {
  const spec = CONFIG_FIELDS[field];
  if (spec.kind !== 'integer' && spec.kind !== 'number') return text;
  if (spec.kind === 'integer' && 'nullable' in spec && spec.nullable && /^(all|none|null)$/i.test(text)) return null;
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`Cannot read the config file ${file}: ${(e as Error).message}`);
  }
  // JSON with comments and trailing commas, as the editor writes *.vae.json files.
  const parsed = parseExperimentFileText(text, file);
  if (!parsed.ok) throw new UsageError(`The config file is not valid: ${parsed.error}`);
  return parsed.value;
}

function runsDirOf(values: { 'runs-dir'?: string }): string {
  return resolve(values['runs-dir'] ?? DEFAULT_RUNS_DIR);
}

/** Where downloaded data sets come from and are cached; unset flags fall back to the environment variables, then the defaults. */
function dataOptionsOf(values: Flags): LoadDatasetOptions {
  const data: LoadDatasetOptions = {};
  if (values['data-base-url']) data.baseUrl = values['data-base-url'];
  if (values['data-cache-dir']) data.cacheDir = resolve(values['data-cache-dir']);
  return data;
}

async function runTraining(json: boolean, go: (options: Parameters<typeof startRun>[1]) => Promise<RunOutcome>): Promise<{ code: number; outcome?: RunOutcome }> {
  const output = cliOutput(json);
  const stop = new StopRequest();
  const unlisten = listenForStop(stop, (line) => output.log(line));
  try {
    const outcome = await go({ output, stop });
    await output.close();
    if (!json) {
      const said = outcome.status === 'completed' ? `completed ${outcome.epochsCompleted} epochs` : outcome.status === 'stopped' ? 'stopped' : 'failed';
      process.stderr.write(terminalText(`Run ${outcome.runId} ${said}.\n`));
      process.stdout.write(`${outcome.runDir}\n`);
    }
    return { code: outcome.status === 'failed' ? 1 : 0, outcome };
  } finally {
    unlisten();
    await output.close();
  }
}

async function train(args: string[]): Promise<number> {
  const flagOptions = Object.fromEntries(Object.keys(CONFIG_FLAGS).map((f) => [f, { type: 'string' as const }]));
  const { values, positionals } = parse(args, { config: { type: 'string' }, ...flagOptions });
  if (values.help) return help('train');
  if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}" (options start with --).`);
  const config: Record<string, unknown> = values.config ? readConfigFile(String(values.config)) : {};
  for (const [flag, field] of Object.entries(CONFIG_FLAGS)) {
    const v = (values as Record<string, unknown>)[flag];
    if (typeof v === 'string') config[field] = flagValue(field, v);
  }
  const json = !!values.json;
  return (await runTraining(json, (o) => startRun({ config, runsDir: runsDirOf(values) }, { ...o, data: dataOptionsOf(values) }))).code;
}

async function resume(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { backend: { type: 'string' } });
  if (values.help) return help('resume');
  if (positionals.length !== 1) throw new UsageError('vae-lens resume needs exactly one run (a folder or a run id).');
  const dir = resolveRunDir(positionals[0], runsDirOf(values));
  const backend = values.backend as BackendChoice | undefined;
  return (await runTraining(!!values.json, (o) => resumeRun(dir, { ...o, data: dataOptionsOf(values), backend }))).code;
}

async function list(args: string[]): Promise<number> {
  const { values } = parse(args);
  if (values.help) return help('list');
  const runsDir = runsDirOf(values);
  const rows: (Record<'id' | 'status' | 'epochs' | 'model' | 'testLoss' | 'backend' | 'dir', string> & { problem?: string })[] = [];
  for (const dir of listRunDirs(runsDir)) {
    try {
      // readRunInfo refuses a run.json that breaks the schema, naming the field at fault.
      const info = await readRunInfo(dir);
      const last = await lastEpochEvent(dir);
      const testLoss = last?.test?.loss;
      rows.push({
        id: info.id, status: effectiveStatus(info, localProcessProbe, new Date()), epochs: `${info.epochsCompleted}/${info.config.epochs}`,
        model: `${info.config.model} z${info.config.dimz}`, testLoss: typeof testLoss === 'number' ? testLoss.toFixed(2) : '–',
        backend: typeof info.environment?.backend === 'string' ? info.environment.backend : '–', dir,
      });
    } catch (e) {
      rows.push({ id: basename(dir), status: 'unreadable', epochs: '', model: '', testLoss: '', backend: '', dir, problem: (e as Error).message });
    }
  }
  if (values.json) {
    process.stdout.write(JSON.stringify(rows) + '\n');
    return 0;
  }
  if (!rows.length) {
    process.stdout.write(`No runs in ${runsDir}. Start one with: vae-lens train (or vae-lens demo)\n`);
    return 0;
  }
  const cols = ['id', 'status', 'epochs', 'model', 'testLoss', 'backend'] as const;
  const titles: Record<(typeof cols)[number], string> = { id: 'RUN', status: 'STATUS', epochs: 'EPOCHS', model: 'MODEL', testLoss: 'TEST LOSS', backend: 'BACKEND' };
  for (const r of rows) for (const c of cols) r[c] = terminalCell(r[c]);
  const width = cols.map((c) => Math.max(titles[c].length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i])).join('  ').trimEnd() + '\n';
  process.stdout.write(line(cols.map((c) => titles[c])));
  for (const r of rows) process.stdout.write(line(cols.map((c) => r[c])));
  // Why a run is unreadable is too long for a column: one line each, below the table.
  const unreadable = rows.filter((r) => r.problem);
  if (unreadable.length) process.stdout.write('\n' + unreadable.map((r) => `${r.id}: ${terminalCell(r.problem!)}\n`).join(''));
  return 0;
}

async function report(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string', short: 'o' } });
  if (values.help) return help('report');
  if (!positionals.length) throw new UsageError('vae-lens report needs at least one run (a folder or a run id).');
  if (!values.out) throw new UsageError('vae-lens report needs --out <file.html>.');
  const runsDir = runsDirOf(values);
  const dirs = positionals.map((p) => resolveRunDir(p, runsDir));
  const out = resolve(String(values.out));
  await writeReport(dirs, out);
  process.stdout.write(terminalText(`${out}\n`));
  return 0;
}

async function nll(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { k: { type: 'string' }, images: { type: 'string' }, backend: { type: 'string' } });
  if (values.help) return help('nll');
  if (positionals.length !== 1) throw new UsageError('vae-lens nll needs exactly one run (a folder or a run id).');
  const kText = typeof values.k === 'string' ? values.k : String(DEFAULT_IW_SAMPLES);
  const k = Number(kText);
  if (!/^\s*\d+\s*$/.test(kText) || !Number.isSafeInteger(k) || k < 1) throw new UsageError(`--k must be a positive whole number, got "${kText}".`);
  const imagesText = typeof values.images === 'string' ? values.images : undefined;
  const images = imagesText === undefined ? undefined : Number(imagesText);
  if (imagesText !== undefined && (!/^\s*\d+\s*$/.test(imagesText) || !Number.isSafeInteger(images) || images! < 1)) throw new UsageError(`--images must be a positive whole number, got "${imagesText}".`);
  const dir = resolveRunDir(positionals[0], runsDirOf(values));
  const json = !!values.json;
  let lastProgress = Date.now();
  const result = await runLikelihood(dir, {
    k, images, backend: values.backend as BackendChoice | undefined, data: dataOptionsOf(values),
    log: (line) => process.stderr.write(terminalText(line + '\n')),
    onProgress: (done, total) => {
      if (json || Date.now() - lastProgress < 5000) return;
      lastProgress = Date.now();
      process.stderr.write(`${done}/${total} test images\n`);
    },
  });
  if (json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return 0;
  }
  const lines = [
    `Run ${result.runId} after ${result.epochsCompleted} epochs${result.batchesIntoEpoch ? ` and ${result.batchesIntoEpoch} batches` : ''}, ${result.images} test images (binarize ${result.binarize}, backend ${result.backend})`,
    `IW-NLL, k = ${result.k}: ${result.nll.toFixed(2)} nats per image`,
    `−ELBO at C = 1: ${result.negativeElbo.toFixed(2)} from the same samples, ${result.testLoss.toFixed(2)} as the trainer's test loss (${result.testSamples} samples)`,
  ];
  if (result.binarize === 'none') {
    lines.push('Pixels are grey values in [0, 1] (binarize none): the Bernoulli decoder\'s value is not a likelihood of the images; compare it only with runs like this one.');
  }
  if ('skipped' in result.latent) {
    lines.push(`Latent diagnostics: not measured (${result.latent.skipped}).`);
  } else {
    const d = result.latent;
    const atLeast = d.mutualInformation >= Math.log(d.images) - 0.05 ? ` (at its ceiling ln ${d.images} = ${Math.log(d.images).toFixed(2)}: at least this)` : '';
    lines.push(
      `Latent diagnostics on the first ${d.images} test images:`,
      `  mean KL ${d.meanKl.toFixed(2)} = I(x;z) ${d.mutualInformation.toFixed(2)}${atLeast} + marginal KL(q(z) ‖ p(z)) ${d.marginalKl.toFixed(2)}`,
      `  marginal KL = moments ${d.moments.total.toFixed(2)} (mean shift ${d.moments.meanShift.toFixed(2)}, correlations ${d.moments.correlation.toFixed(2)}) + non-Gaussian ${d.nonGaussian.toFixed(2)}`,
      `  prior holes: ${(100 * d.holeRate).toFixed(1)}% of ${d.priorSamples} samples of N(0, I), ${(100 * d.fixedNoiseHoleRate).toFixed(1)}% of the run's fixed prior noise`,
    );
  }
  process.stdout.write(terminalText(lines.join('\n') + '\n'));
  return 0;
}

export const DEMO_CONFIG: Partial<TrainConfig> = {
  name: 'demo', model: 'chainer-mlp', dimz: 20, epochs: 5, trainLimit: 10_000, testLimit: 2_000, dataset: 'mnist',
};

async function demo(args: string[]): Promise<number> {
  const { values } = parse(args);
  if (values.help) return help('demo');
  const started = Date.now();
  const { code, outcome } = await runTraining(!!values.json, (o) => startRun({ config: DEMO_CONFIG, runsDir: runsDirOf(values) }, o));
  if (!outcome || outcome.status !== 'completed') return code;
  process.stderr.write(terminalText(`Demo trained in ${((Date.now() - started) / 1000).toFixed(1)} s. Run folder: ${outcome.runDir}\n`));
  const reportFile = join(outcome.runDir, 'report.html');
  try {
    await writeReport([outcome.runDir], reportFile);
    process.stderr.write(terminalText(`Report: ${reportFile}\n`));
    if (!values.json) process.stdout.write(`${reportFile}\n`);
  } catch (e) {
    // The training part succeeded; the report is a separate feature that may not be available.
    process.stderr.write(terminalText(`No HTML report: ${(e as Error).message} The run folder above has the run's events and images.\n`));
  }
  return 0;
}

const LATENT_OPTIONS = { out: { type: 'string', short: 'o' }, backend: { type: 'string' }, epoch: { type: 'string' } } satisfies ParseArgsConfig['options'];

/** A flag's comma-separated numbers. */
function numberList(text: string, flag: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const bad = parts.find((p) => p === '' || !Number.isFinite(Number(p)));
  if (bad !== undefined) throw new UsageError(`--${flag} ${text}: "${bad}" is not a number (give numbers separated by commas).`);
  return parts.map(Number);
}

/** A flag's whole number, or undefined when the flag is absent. */
function integerFlag(values: Flags, flag: string): number | undefined {
  const text = values[flag];
  if (typeof text !== 'string') return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n)) throw new UsageError(`--${flag} ${text} is not a whole number.`);
  return n;
}

interface LatentResult {
  file: string;
  width: number;
  height: number;
  /** What the picture shows, in words (stderr) … */
  said: string;
  /** … and in numbers (--json). */
  details: Record<string, unknown>;
}

/**
 * A latent command: the one run named, its checkpoint opened (after the flags that need no run are
 * checked), the picture written by `draw`, and its path printed (with --json, a line of what it shows).
 */
async function latentCommand(
  command: 'decode' | 'traverse' | 'interpolate' | 'scatter',
  args: string[],
  extra: ParseArgsConfig['options'],
  prepare: (values: Flags) => (explorer: Explorer, out: string) => Promise<LatentResult>,
): Promise<number> {
  const { values, positionals } = parse(args, { ...LATENT_OPTIONS, ...extra });
  if (values.help) return help(command);
  if (positionals.length !== 1) throw new UsageError(`vae-lens ${command} needs exactly one run (a folder or a run id).`);
  if (!values.out) throw new UsageError(`vae-lens ${command} needs --out <file.png>.`);
  const backend = values.backend as BackendChoice | undefined;
  if (backend !== undefined && !BACKENDS.includes(backend)) throw new UsageError(`--backend ${backend}: use one of ${BACKENDS.join(', ')}.`);
  const epoch = integerFlag(values, 'epoch');
  if (epoch !== undefined && epoch < 1) throw new UsageError(`--epoch ${epoch}: epochs count from 1.`);
  const draw = prepare(values);
  const dir = resolveRunDir(positionals[0], runsDirOf(values));
  const log = (line: string) => process.stderr.write(terminalText(`${line}\n`));
  const explorer = await openExplorer(dir, { backend, data: dataOptionsOf(values), log, ...(epoch !== undefined ? { epoch } : {}) });
  try {
    const result = await draw(explorer, resolve(String(values.out)));
    const { runId, epochsCompleted, position, environment } = explorer;
    const checkpoint = position.batch ? `epoch ${position.epoch}, batch ${position.batch}` : `epoch ${epochsCompleted}`;
    if (values.json) {
      const { file, width, height, details } = result;
      process.stdout.write(JSON.stringify({ file, width, height, runId, epochsCompleted, position, backend: environment.backend, ...details }) + '\n');
    } else {
      log(`Run ${runId} (checkpoint after ${checkpoint}, ${environment.backend}): ${result.said}, ${result.width}×${result.height} pixels.`);
      process.stdout.write(terminalText(`${result.file}\n`));
    }
    return 0;
  } finally {
    explorer.dispose();
  }
}

const oneBased = (dims: number[]) => dims.map((d) => d + 1);
const dimNames = (dims: number[]) => dims.map((d) => `z${d + 1}`).join(', ');

function decodeCommand(args: string[]): Promise<number> {
  return latentCommand('decode', args, { z: { type: 'string', multiple: true } }, (values) => {
    const texts = (values as { z?: string[] }).z ?? [];
    if (!texts.length) throw new UsageError('vae-lens decode needs --z a,b,c,… (dimz numbers; repeat --z for more images).');
    const rows = texts.map((t) => numberList(t, 'z'));
    return async (explorer, out) => {
      rows.forEach((row) => checkZ(explorer, row));
      const picture = await writeDecoded(explorer, checkZ(explorer, rows.flat()), out);
      return { ...picture, said: `decoded ${rows.length} z`, details: { count: rows.length } };
    };
  });
}

function traverseCommand(args: string[]): Promise<number> {
  return latentCommand('traverse', args, { dims: { type: 'string' }, steps: { type: 'string' }, base: { type: 'string' } }, (values) => {
    const numbers = typeof values.dims === 'string' ? numberList(values.dims, 'dims') : undefined;
    const steps = integerFlag(values, 'steps') ?? DEFAULT_TRAVERSAL_STEPS;
    const baseImage = integerFlag(values, 'base');
    return async (explorer, out) => {
      const dims = numbers && dimensionIndices(explorer, numbers);
      const base = baseImage === undefined ? undefined : testMu(explorer, baseImage, '(--base)');
      const picture = await writeTraversal(explorer, { dims, steps, base }, out);
      const at = baseImage === undefined ? 'z = 0' : `test image ${baseImage}'s μ`;
      return {
        ...picture,
        said: `traversal of ${dimNames(picture.dims)} from −3 to +3 in ${steps} steps, the others at ${at}`,
        details: { dims: oneBased(picture.dims), steps, base: Array.from(picture.base) },
      };
    };
  });
}

function interpolateCommand(args: string[]): Promise<number> {
  return latentCommand('interpolate', args, { from: { type: 'string' }, to: { type: 'string' }, steps: { type: 'string' }, slerp: { type: 'boolean' } }, (values) => {
    const from = integerFlag(values, 'from');
    const to = integerFlag(values, 'to');
    if (from === undefined || to === undefined) throw new UsageError('vae-lens interpolate needs --from I and --to J (test image numbers, from 0).');
    const steps = integerFlag(values, 'steps') ?? DEFAULT_INTERPOLATION_STEPS;
    const spherical = !!values.slerp;
    return async (explorer, out) => {
      const picture = await writeInterpolation(explorer, { from, to, steps, spherical }, out);
      return { ...picture, said: `${spherical ? 'spherical' : 'linear'} interpolation from test image ${from} to ${to} in ${steps} steps`, details: { from, to, steps, spherical } };
    };
  });
}

function scatterCommand(args: string[]): Promise<number> {
  return latentCommand('scatter', args, { dims: { type: 'string' }, manifold: { type: 'string' }, steps: { type: 'string' } }, (values) => {
    const numbers = typeof values.dims === 'string' ? numberList(values.dims, 'dims') : undefined;
    if (numbers && numbers.length !== 2) throw new UsageError(`--dims ${String(values.dims)}: a scatter shows exactly two dimensions (e.g. --dims 1,2).`);
    const manifoldFile = typeof values.manifold === 'string' ? resolve(values.manifold) : undefined;
    const steps = integerFlag(values, 'steps');
    if (steps !== undefined && !manifoldFile) throw new UsageError('--steps sets the grid of --manifold <file.png>; give both.');
    return async (explorer, out) => {
      const dims = numbers && (dimensionIndices(explorer, numbers) as [number, number]);
      const manifold = manifoldFile ? await writeManifold(explorer, { dims, steps }, manifoldFile) : undefined;
      const picture = await writeScatter(explorer, { dims }, out);
      const { labels, explained } = picture.plane;
      const share = explained.map((e) => `${(100 * e).toFixed(0)}%`);
      const coloured = explorer.data.testLabels ? `coloured by label (${LABEL_COLOUR_NAMES.map((c, i) => `${i} ${c}`).join(', ')})` : 'unlabelled';
      return {
        ...picture,
        said:
          `${explorer.data.testCount} test μ on ${labels[0]} (${share[0]} of Var μ) × ${labels[1]} (${share[1]}), ${coloured}; ` +
          `grey circles: the prior's 1σ, 2σ, 3σ; black crosses: the run's ${picture.prior.length / 2} fixed prior samples; axes ±${picture.extent.toFixed(2)}` +
          (manifold ? `; the plane's decoded manifold (${manifold.cols}×${manifold.cols}, −3 to +3) in ${manifold.file}` : ''),
        details: {
          axes: labels, explained, extent: picture.extent, points: picture.points.length / 2, priorSamples: picture.prior.length / 2,
          manifold: manifold && { file: manifold.file, width: manifold.width, height: manifold.height, steps: manifold.cols },
        },
      };
    };
  });
}

/**
 * The latest epoch event of a run, read from the end of events.jsonl: `list` prints one number per
 * run, and a run of 100,000 epochs has a file of hundreds of MB. The window grows only while it
 * holds no epoch (a run whose last lines are long warnings).
 */
async function lastEpochEvent(dir: string): Promise<EpochEvent | undefined> {
  for (const window of [256 << 10, 16 << 20, Infinity]) {
    const { events, partial } = await new EventTail(dir, window).read();
    const last = [...events].reverse().find((e): e is EpochEvent => e.type === 'epoch');
    if (last || !partial) return last;
  }
  return undefined;
}

/** A run named on the command line: a run folder, or a run id under the runs folder. */
export function resolveRunDir(runOrId: string, runsDir: string): string {
  if (existsSync(join(runOrId, RUN_FILE))) return resolve(runOrId);
  const inRuns = join(runsDir, runOrId);
  if (existsSync(join(inRuns, RUN_FILE))) return resolve(inRuns);
  throw new Error(`No run "${runOrId}": neither a run folder nor a run id under ${resolve(runsDir)}.`);
}

function help(command: keyof typeof HELP): number {
  process.stdout.write(HELP[command] + '\n');
  return 0;
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  train, resume, list, report, nll, demo, decode: decodeCommand, traverse: traverseCommand, interpolate: interpolateCommand, scatter: scatterCommand,
};

export async function cli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') return help(rest[0] && rest[0] in HELP ? rest[0] : 'main');
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(terminalText(`vae-lens: unknown command "${command}".\n\n${HELP.main}\n`));
    return 2;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError || e instanceof ExplorerError) {
      process.stderr.write(terminalText(`vae-lens ${command}: ${(e as Error).message}\n`));
      if (e instanceof UsageError) process.stderr.write(`See: vae-lens ${command} --help\n`);
      return 2;
    }
    process.stderr.write(terminalText(`vae-lens ${command}: ${(e as Error).message}\n`));
    return 1;
  }
}

if (require.main === module) {
  void cli(process.argv.slice(2)).then((code) => process.exit(code));
}
