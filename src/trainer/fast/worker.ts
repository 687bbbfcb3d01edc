/**
 * The worker side of the two-thread chainer-mlp step (see parallel.ts). Bundled as its own entry
 * (dist/fast-worker.js; the benchmark uses dist/bench-fast-worker.js), started by ParallelMlpStep
 * with a WorkerInit as workerData. It loads its own single-threaded wasm backend, builds a replica
 * from the weights it was sent, then serves commands from the shared control words until told to
 * exit. It blocks in Atomics.wait between steps, so messages (state updates) are read
 * synchronously with receiveMessageOnPort.
 */
import { isMainThread, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend';
import type { BatchSums, FastModel, OptimizerStateLike } from './common';
import { FastMlpStep } from './mlpStep';
import { ShardedUpdate } from './shardedAdam';
import {
  Command, Ctl, publishWorkerTimes, Scalar, sharedViews, waitFor, type WorkerInit,
} from './sharedMemory';
import { performance } from 'node:perf_hooks';

function makeModel(init: WorkerInit): FastModel {
  const variables: Record<string, tf.Variable> = {};
  for (const [name, { data, shape }] of Object.entries(init.weights)) variables[name] = tf.variable(tf.tensor(data, shape), true, `fastWorker/${name}`);
  return { name: 'chainer-mlp', dimz: init.dimz, pixels: init.pixels, variables, state: {}, likelihood: { spec: { type: 'bernoulli' } } };
}

function setWeights(model: FastModel, weights: WorkerInit['weights']): void {
  for (const [name, { data }] of Object.entries(weights)) tf.tidy(() => model.variables[name].assign(tf.tensor(data, model.variables[name].shape)));
}

async function serve(init: WorkerInit): Promise<void> {
  const shared = sharedViews(init.sab);
  const c = shared.control;
  try {
    await selectBackend('wasm', { threads: 1 });
    const model = makeModel(init);
    const replica = new FastMlpStep(model, init.hyper);
    const sharded = new ShardedUpdate(replica, init.layout, shared, 1);
    let seen = 0;
    let stepNo = 0;
    Atomics.store(c, Ctl.ready, 1);
    Atomics.notify(c, Ctl.ready);
    for (;;) {
      waitFor(c, Ctl.seq, seen + 1, 1000);
      const wakeMs = performance.timeOrigin + performance.now() - shared.scalars[Scalar.issuedAt];
      seen = Atomics.load(c, Ctl.seq);
      const command = Atomics.load(c, Ctl.command);
      if (command === Command.exit) break;
      const t = replica.timer;
      t.begin();
      // The main thread's updated shard of the last step (published before it issued anything new).
      sharded.settle();
      if (command === Command.setState) {
        const msg = parentPort ? receiveMessageOnPort(parentPort) : undefined;
        if (!msg) throw new Error('state command without a message');
        const { weights, optimizer } = msg.message as { weights: WorkerInit['weights']; optimizer: OptimizerStateLike | null };
        setWeights(model, weights);
        if (optimizer) replica.setOptimizerState(optimizer);
        Atomics.store(c, Ctl.ack, seen);
        Atomics.notify(c, Ctl.ack);
        continue;
      }
      if (command === Command.gatherMoments) {
        sharded.publishMoments();
        Atomics.store(c, Ctl.ack, seen);
        Atomics.notify(c, Ctl.ack);
        continue;
      }
      // A step: this replica's part of the batch, the gradient exchange, Adam on this replica's
      // shard, the weight exchange.
      stepNo++;
      t.lap('optimizer');
      const B = c[Ctl.batchMain];
      const bw = c[Ctl.batchWorker];
      const K = c[Ctl.samples];
      const klWeight = shared.scalars[Scalar.klWeight];
      let sums: BatchSums = { recSum: 0, klSum: 0, sumMu: 0, sumSigma: 0 };
      if (bw > 0) {
        // Local copies: typed arrays over a SharedArrayBuffer are slower to read in the loops and
        // take tfjs's generic path when a tensor is made from them.
        const x = shared.x.slice(0, bw * init.pixels);
        const eps = shared.eps.slice(0, K * bw * init.dimz);
        sums = replica.computeGradients(x, bw, eps, klWeight, B);
      } else {
        replica.zeroGradients();
      }
      sharded.publishGradients(stepNo);
      shared.scalars[Scalar.recSum] = sums.recSum;
      shared.scalars[Scalar.klSum] = sums.klSum;
      shared.scalars[Scalar.sumMu] = sums.sumMu;
      shared.scalars[Scalar.sumSigma] = sums.sumSigma;
      Atomics.store(c, Ctl.arriveWorker, stepNo);
      Atomics.notify(c, Ctl.arriveWorker);
      t.lap('other');
      waitFor(c, Ctl.arriveMain, stepNo, 1000);
      t.lap('sync');
      sharded.finishStep(stepNo);
      t.lap('optimizer');
      t.end();
      publishWorkerTimes(shared.scalars, t, wakeMs);
    }
  } catch (e) {
    process.stderr.write(`VAE Lens fast step worker: ${(e as Error).stack ?? e}\n`);
    Atomics.store(c, Ctl.failed, 1);
    for (const word of [Ctl.ack, Ctl.arriveWorker, Ctl.doneWorker, Ctl.ready]) Atomics.notify(c, word);
  }
}

if (!isMainThread && (workerData as Partial<WorkerInit> | null)?.vaeLensFastWorker === true) {
  void serve(workerData as WorkerInit);
}
