/**
 * `npm run bench:train`: training throughput of the study's two models against two references
 * measured in the same run — the stock step (the trainer's tape step: optimizer.minimize with
 * tf.train.adam, default kernels and gradients, batches from typed-array views) and the backend's
 * matmul peak on a large square product. Stock and fast epochs are interleaved and summarised by
 * medians of per-pair ratios, because the machine is shared and noisy.
 *
 * Options: --epochs N (measured epochs per model, default 5), --batches N (batches per epoch,
 * default 20), --models a,b, --no-cpu, --no-parallel, --quick (fewer of everything), --block N (batches each step runs before
 * the next takes over in the interleaved measurement, default 2), --backend webgpu (the webgpu
 * benchmark instead: batch 100 and 1,000 beside the wasm fast step; see lib/webgpu.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/trainer/backend';
import { createStudyModel, type VaeModel } from '../src/trainer/model';
import { TapeTrainStep } from '../src/trainer/tapeStep';
import { defaultConfig, type PresetModel } from '../src/shared/config';
import { Rng } from '../src/trainer/rng';
import type { TrainStep } from '../src/trainer/step';
import { createFastStep, fastStepReady, fastStepTimer } from '../src/trainer/fast';
import { ParallelMlpStep } from '../src/trainer/fast/parallel';
import { PHASES } from '../src/trainer/fast/timer';
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { loadMnistTrain } from './lib/mnist';
import { matmulFlopsPerSample } from './lib/flops';
import { median, fmt } from './lib/stats';
import { runDiagnosticsBench } from './lib/diagnostics';
import { benchWorkerScript } from './lib/parallel';
import { runWebGpuBench } from './lib/webgpu';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const quick = flag('quick');
const EPOCHS = option('epochs', quick ? 2 : 5);
const BATCHES = option('batches', quick ? 8 : 20);
const BATCH = 100;
const modelsArg = args.indexOf('--models') >= 0 ? args[args.indexOf('--models') + 1].split(',').filter((m) => m !== 'none') : ['chainer-mlp', 'deep-bn'];
for (const m of modelsArg) if (m !== 'chainer-mlp' && m !== 'deep-bn') throw new Error(`--models: unknown model ${m} (chainer-mlp, deep-bn, none)`);

function eps(seed: number, step: number, n: number): Float32Array {
  return Rng.fromKey(seed, 3, 0, step).fillNormal(new Float32Array(n));
}

/** Runs `batches` steps; returns samples/s. */
async function epoch(step: TrainStep, data: Float32Array, pixels: number, dimz: number, batches: number, offset: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) {
    const b = (offset + i) % Math.floor(data.length / (BATCH * pixels));
    await step.step(data.subarray(b * BATCH * pixels, (b + 1) * BATCH * pixels), BATCH, eps(7, offset + i, BATCH * dimz), 1);
  }
  return (batches * BATCH) / ((performance.now() - t0) / 1000);
}

function matmulPeak(): number {
  const n = 1024;
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const times: number[] = [];
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    times.push(performance.now() - t0);
    c.dispose();
  }
  tf.dispose([a, b]);
  // A peak: the best of the repetitions (the machine is shared; the median would measure the neighbours).
  return (2 * n * n * n) / (Math.min(...times.slice(1)) / 1000) / 1e9;
}

/** Same weights, same batches and noise: the fast step's losses against the stock step's. */
async function checkAgainstStock(name: PresetModel, dimz: number, data: Float32Array, pixels: number, steps: number, threads: number): Promise<{ maxAbs: number; maxRel: number }> {
  const config = { ...defaultConfig(name), dimz };
  const a = createStudyModel(name, pixels, dimz, 11);
  const b = createStudyModel(name, pixels, dimz, 11);
  const stock = new TapeTrainStep(a, config);
  const fast = createFastStep(b, config, 'wasm', { threads, workerScript: benchWorkerScript() ?? undefined });
  if (fast === null) throw new Error(`no fast step for ${name}`);
  if ((await fastStepReady(fast)) !== threads) throw new Error(`the fast step did not start ${threads} threads`);
  let maxAbs = 0;
  let maxRel = 0;
  for (let s = 0; s < steps; s++) {
    const x = data.subarray(s * BATCH * pixels, (s + 1) * BATCH * pixels);
    const e = eps(3, s, BATCH * dimz);
    const r1 = await stock.step(x, BATCH, e, 1);
    const r2 = await fast.step(x, BATCH, e, 1);
    const d = Math.abs(r1.loss - r2.loss);
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d / Math.abs(r1.loss));
  }
  stock.dispose();
  fast.dispose();
  a.dispose();
  b.dispose();
  return { maxAbs, maxRel };
}

/** Per-kernel profile of the stock step, grouped like the fast step's breakdown. */
async function stockProfile(step: TrainStep, data: Float32Array, pixels: number, dimz: number): Promise<string> {
  const groups: Record<string, number> = {};
  const kernels: Record<string, number> = {};
  const reps = 3;
  const wall0 = performance.now();
  for (let r = 0; r < reps; r++) {
    const info = await tf.profile(async () => {
      await step.step(data.subarray(0, BATCH * pixels), BATCH, eps(5, r, BATCH * dimz), 1);
    });
    for (const k of info.kernels) {
      const ms = Number(k.kernelTimeMs) || 0;
      const g = /MatMul/.test(k.name) ? 'matmul' : /Transpose|Reshape|Slice|Concat|Pack|Cast|Identity/.test(k.name) ? 'layout' : 'elementwise+optimizer';
      groups[g] = (groups[g] ?? 0) + ms / reps;
      kernels[k.name] = (kernels[k.name] ?? 0) + ms / reps;
    }
  }
  const wall = (performance.now() - wall0) / reps;
  const top = Object.entries(kernels).sort((x, y) => y[1] - x[1]).slice(0, 6).map(([k, ms]) => `${k} ${fmt(ms, 1)}`).join(', ');
  const g = Object.entries(groups).map(([k, ms]) => `${k} ${fmt(ms, 1)}`).join(', ');
  return `stock per step (tf.profile, ${fmt(wall, 1)} ms wall incl. profiling): ${g} ms; top kernels: ${top} ms`;
}

interface ModelResult {
  stock: number[];
  fast: number[];
  ratios: number[];
  parallel: number[];
  parallelRatios: number[];
}

async function benchModel(name: PresetModel, data: Float32Array, pixels: number, peakBefore: number): Promise<void> {
  const dimz = name === 'deep-bn' ? 100 : 20;
  const config = { ...defaultConfig(name), dimz };
  console.log(`\n== ${name} (dimz ${dimz}, batch ${BATCH}, wasm) ==`);
  const workerScript = benchWorkerScript() ?? undefined;
  const parallelOk = name === 'chainer-mlp' && !flag('no-parallel') && workerScript !== undefined;
  for (const threads of parallelOk ? [1, 2] : [1]) {
    const check = await checkAgainstStock(name, dimz, data, pixels, 5, threads);
    console.log(`fast (${threads} thread${threads > 1 ? 's' : ''}) vs stock from the same weights, batches and noise (5 steps): max |Δloss| ${check.maxAbs.toExponential(2)} nats (relative ${check.maxRel.toExponential(2)})`);
  }

  const models: VaeModel[] = [];
  const make = () => {
    const m = createStudyModel(name, pixels, dimz, 5);
    models.push(m);
    return m;
  };
  const stock = new TapeTrainStep(make(), config);
  const fast = createFastStep(make(), config, 'wasm', { threads: 1 });
  if (fast === null) throw new Error(`no fast step for ${name}`);
  const parallel = parallelOk ? createFastStep(make(), config, 'wasm', { threads: 2, workerScript }) : null;
  if (parallel && (await fastStepReady(parallel)) !== 2) throw new Error('the two-thread step did not start its worker');
  const flops = matmulFlopsPerSample(name, pixels, dimz);
  const r: ModelResult = { stock: [], fast: [], ratios: [], parallel: [], parallelRatios: [] };
  // Warm-up epoch for each (XNNPACK operator creation, JIT), then interleaved measured epochs.
  await epoch(stock, data, pixels, dimz, 3, 0);
  await epoch(fast, data, pixels, dimz, BATCHES, 0);
  if (parallel) await epoch(parallel, data, pixels, dimz, BATCHES, 0);
  fastStepTimer(fast)?.reset();
  fastStepTimer(parallel ?? fast)?.reset();
  if (parallel instanceof ParallelMlpStep) parallel.resetWorkerTimes();
  // Each measured epoch gives every step the same BATCHES batches, interleaved in blocks of
  // BLOCK batches (stock, fast, fast×2, stock, …), so that load from the machine's other users
  // falls on all of them alike; samples/s per epoch = images / time spent in that step.
  const BLOCK = option('block', 2);
  for (let e = 0; e < EPOCHS; e++) {
    const ms = { stock: 0, fast: 0, parallel: 0 };
    for (let b0 = 0; b0 < BATCHES; b0 += BLOCK) {
      const n = Math.min(BLOCK, BATCHES - b0);
      const off = e * BATCHES + b0;
      ms.stock += (n * BATCH * 1000) / await epoch(stock, data, pixels, dimz, n, off);
      ms.fast += (n * BATCH * 1000) / await epoch(fast, data, pixels, dimz, n, off);
      if (parallel) ms.parallel += (n * BATCH * 1000) / await epoch(parallel, data, pixels, dimz, n, off);
    }
    const sps = (t: number) => (BATCHES * BATCH * 1000) / t;
    r.stock.push(sps(ms.stock));
    r.fast.push(sps(ms.fast));
    r.ratios.push(ms.stock / ms.fast);
    if (parallel) {
      r.parallel.push(sps(ms.parallel));
      r.parallelRatios.push(ms.stock / ms.parallel);
    }
    console.log(`  epoch ${e + 1}: stock ${fmt(sps(ms.stock), 0)}  fast ${fmt(sps(ms.fast), 0)}${parallel ? `  fast×2 ${fmt(sps(ms.parallel), 0)}` : ''} samples/s`);
  }
  const peak = Math.max(peakBefore, matmulPeak());
  console.log(`matmul peak (best of before and after this model): ${fmt(peak, 1)} GFLOP/s`);
  const gf = (sps: number) => (sps * flops) / 1e9;
  console.log(`load average now ${loadavg().map((l) => l.toFixed(1)).join(' ')} (2 cores; others' work shows up as noise)`);
  const line = (label: string, sps: number[], ratios: number[] | null) =>
    `${label.padEnd(22)} ${fmt(median(sps), 0).padStart(6)} samples/s  ${fmt(gf(median(sps)), 1).padStart(5)} GFLOP/s  ${fmt((100 * gf(median(sps))) / peak, 0).padStart(3)}% of peak` +
    (ratios ? `  ×${fmt(median(ratios), 2)} stock (median of per-epoch ratios)` : '');
  console.log(`matmul FLOPs per sample (forward + backward): ${fmt(flops / 1e6, 2)} M`);
  console.log(line('stock (tape + adam)', r.stock, null));
  console.log(line('fast, 1 thread', r.fast, r.ratios));
  if (parallel) console.log(line('fast, 2 threads', r.parallel, r.parallelRatios));
  const t = fastStepTimer(fast);
  if (t) {
    const ps = t.perStep();
    const total = PHASES.reduce((s, p) => s + ps[p], 0);
    console.log(`fast 1-thread breakdown per step: ${PHASES.map((p) => `${p} ${fmt(ps[p], 2)} ms (${fmt((100 * ps[p]) / total, 0)}%)`).join(', ')}; total ${fmt(total, 2)} ms`);
  }
  if (parallel) {
    console.log(await coresProbe());
    const pt = fastStepTimer(parallel);
    if (pt) {
      const ps = pt.perStep();
      console.log(`fast 2-thread breakdown per step (main thread): ${PHASES.map((p) => `${p} ${fmt(ps[p], 2)} ms`).join(', ')}`);
    }
    if (parallel instanceof ParallelMlpStep) {
      const w = parallel.workerTimes();
      console.log(
        `fast 2-thread breakdown per step (worker, ${w.steps} steps): ${PHASES.map((p) => `${p} ${fmt(w.perStep[p], 2)} ms`).join(', ')}; ` +
          `woke ${fmt(w.wakeMs, 2)} ms after the step was issued`,
      );
    }
  }
  console.log(await stockProfile(stock, data, pixels, dimz));
  stock.dispose();
  fast.dispose();
  parallel?.dispose();
  for (const m of models) m.dispose();
}

/** `--probe`: median ms of a one-thread chainer-mlp fast step, printed as JSON (for coresProbe). */
async function probe(): Promise<void> {
  await selectBackend('wasm', { threads: 1 });
  const { images, pixels } = loadMnistTrain(2000);
  const m = createStudyModel('chainer-mlp', pixels, 20, 5);
  const step = createFastStep(m, defaultConfig('chainer-mlp'), 'wasm', { threads: 1 }) as TrainStep;
  const ms: number[] = [];
  for (let i = 0; i < 45; i++) {
    const t0 = performance.now();
    await epoch(step, images, pixels, 20, 1, i);
    if (i >= 5) ms.push(performance.now() - t0);
  }
  console.log(JSON.stringify({ ms: median(ms) }));
}

/**
 * How many cores this run really gets: the one-thread step alone, then two copies at once in
 * separate processes. On a free 2-core machine both copies keep their speed (≈ 2 cores); when
 * the machine's other users hold a core, each copy slows down to about half (≈ 1 core), and no
 * two-thread scheme can gain.
 */
async function coresProbe(): Promise<string> {
  const run = () =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [__filename, '--probe'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('exit', (code) => (code === 0 ? resolve((JSON.parse(out.trim().split('\n').pop() ?? '{}') as { ms: number }).ms) : reject(new Error(`probe exited ${code}`))));
    });
  const alone = await run();
  const [a, b] = await Promise.all([run(), run()]);
  const cores = (2 * alone) / ((a + b) / 2);
  return `cores available to this run (one-thread fast step, separate processes): alone ${fmt(alone, 1)} ms/step; two at once ${fmt(a, 1)} and ${fmt(b, 1)} ms/step → ≈ ${fmt(cores, 2)} cores`;
}

async function main(): Promise<void> {
  if (flag('probe')) return probe();
  const backendArg = args.indexOf('--backend') >= 0 ? args[args.indexOf('--backend') + 1] : 'wasm';
  if (backendArg === 'webgpu') {
    const t0 = performance.now();
    console.log(`VAE Lens bench:train --backend webgpu — ${new Date().toISOString()}, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    await runWebGpuBench(modelsArg as PresetModel[], quick);
    console.log(`\nbench:train finished in ${fmt((performance.now() - t0) / 1000, 0)} s`);
    return;
  }
  if (backendArg !== 'wasm') throw new Error(`--backend: ${backendArg} (wasm, the default, or webgpu)`);
  const started = performance.now();
  const { images, pixels } = loadMnistTrain(BATCHES * BATCH * 2);
  console.log(`VAE Lens bench:train — ${new Date().toISOString()}, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${EPOCHS} measured epochs × ${BATCHES} batches of ${BATCH} (MNIST), after one warm-up epoch`);
  await selectBackend('wasm', { threads: 1 });
  const peak = matmulPeak();
  console.log(`wasm (tfjs ${tf.version_core}): matmul peak 1024×1024×1024, one thread: ${fmt(peak, 1)} GFLOP/s`);
  for (const name of modelsArg) await benchModel(name as PresetModel, images, pixels, peak);
  if (!flag('no-diagnostics')) await runDiagnosticsBench(quick);
  if (!flag('no-cpu')) {
    await selectBackend('cpu');
    const cpuPeak = matmulPeak();
    const m = createStudyModel('chainer-mlp', pixels, 20, 5);
    const stock = new TapeTrainStep(m, defaultConfig('chainer-mlp'));
    await epoch(stock, images, pixels, 20, 1, 0);
    const sps: number[] = [];
    for (const e of [0, 1, 2]) sps.push(await epoch(stock, images, pixels, 20, 2, e * 2));
    console.log(`\ncpu (plain JS): matmul peak ${fmt(cpuPeak, 1)} GFLOP/s; chainer-mlp stock step ${fmt(median(sps), 0)} samples/s (no fast step on cpu)`);
    stock.dispose();
    m.dispose();
  }
  console.log(`\nbench:train finished in ${fmt((performance.now() - started) / 1000, 0)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
