/**
 * The sharded optimizer of the data-parallel chainer-mlp step (parallel.ts): each replica owns
 * half of every weight matrix, applies Adam to it with the summed gradient, and publishes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FastMlpStep } from './mlpStep';
import { Ctl, gradSlot, waitFor, type ParallelLayout, type SharedBuffers } from './sharedMemory';
import { heapView } from './wasmHeap';

/**
 * The elements [start, end) of a layer's flat Wᵀ that `rank` owns: rank 0 the first half (rounded
 * down to a multiple of 4 for the SIMD Adam), rank 1 the rest.
 */
export function shardOf(wSize: number, rank: number): { start: number; end: number } {
  const split = 4 * Math.floor(wSize / 8);
  return rank === 0 ? { start: 0, end: split } : { start: split, end: wSize };
}

/**
 * One replica's side of the sharded update, the same code on both threads. Every copy goes
 * straight between the wasm heap and the shared buffers. The `peer` tensors receive the other
 * replica's gradients of this replica's shard; they are only ever read by Adam, never a matMul
 * operand.
 */
export class ShardedUpdate {
  private readonly peer: tf.Tensor[];
  private readonly other: number;
  /** The step whose updated shard from the other replica is still to be copied in, or 0. */
  private pending = 0;

  constructor(
    private readonly replica: FastMlpStep,
    private readonly layout: ParallelLayout,
    private readonly shared: SharedBuffers,
    readonly rank: number,
  ) {
    this.peer = replica.layers.map((l) => tf.zeros([l.nOut * l.nIn]));
    this.other = 1 - rank;
  }

  /** Copies the other replica's shard of this replica's weight gradients, and all bias gradients, into this rank's slot. */
  publishGradients(stepNo: number): void {
    const slot = gradSlot(this.shared, this.layout, this.rank, stepNo);
    this.replica.layers.forEach((layer, i) => {
      const l = this.layout.layers[i];
      if (layer.gradWT === null) throw new Error('publishGradients before backward');
      const { start, end } = shardOf(l.wSize, this.other);
      slot.set(heapView(layer.gradWT).subarray(start, end), l.wOffset + start);
      slot.set(layer.gradB, l.bOffset);
    });
  }

  /**
   * Once the other's gradients are in: Adam on this replica's shard (and on every bias) with the
   * summed gradients, then publishes the updated shard and says so. The other's updated shard is
   * copied in later, by `settle` (the next step's start): by then it is almost always there, so
   * neither thread sleeps at a second barrier (a futex wake-up here costs ≈ 0.2–0.5 ms).
   */
  finishStep(stepNo: number): void {
    this.updateOwnShard(stepNo);
    const done = this.rank === 0 ? Ctl.doneMain : Ctl.doneWorker;
    Atomics.store(this.shared.control, done, stepNo);
    Atomics.notify(this.shared.control, done);
    this.pending = stepNo;
  }

  /** Copies in the other's updated shard of the last step, waiting for it if needed (before anything reads the weights). */
  settle(check: () => void = () => {}): void {
    if (this.pending === 0) return;
    waitFor(this.shared.control, this.rank === 0 ? Ctl.doneWorker : Ctl.doneMain, this.pending, 1000, check);
    this.loadOtherShard();
    this.pending = 0;
  }

  private updateOwnShard(stepNo: number): void {
    const slot = gradSlot(this.shared, this.layout, this.other, stepNo);
    const adam = this.replica.adamState;
    this.replica.layers.forEach((layer, i) => {
      const l = this.layout.layers[i];
      if (layer.gradWT === null) throw new Error('update before backward');
      const { start, end } = shardOf(l.wSize, this.rank);
      heapView(this.peer[i]).set(slot.subarray(l.wOffset + start, l.wOffset + end), start);
      adam.updateRange(layer.wT, layer.gradWT, this.peer[i], layer.mW, layer.vW, start, end - start);
      const g = layer.gradB;
      const o = slot.subarray(l.bOffset, l.bOffset + l.bSize);
      for (let j = 0; j < g.length; j++) g[j] += o[j];
      adam.update(layer.b, g, layer.mB, layer.vB);
      this.shared.weights.set(heapView(layer.wT).subarray(start, end), l.wOffset + start);
    });
    adam.advance();
  }

  /** Once the other published its updated shard: copies it in, refreshes W, drops the gradients. */
  private loadOtherShard(): void {
    this.replica.layers.forEach((layer, i) => {
      const l = this.layout.layers[i];
      const { start, end } = shardOf(l.wSize, this.other);
      heapView(layer.wT).set(this.shared.weights.subarray(l.wOffset + start, l.wOffset + end), start);
      layer.refreshW();
      layer.dropGradients();
    });
  }

  /** Copies Adam's moments of this replica's shard into rank 1's gradient slots (m: parity 0, v: parity 1), between steps. */
  publishMoments(): void {
    this.moments((heap, shared) => shared.set(heap), this.rank);
  }

  /** Copies the other replica's published moments into this replica's, which then hold the whole state. */
  loadOtherMoments(): void {
    this.moments((heap, shared) => heap.set(shared), this.other);
  }

  private moments(copy: (heap: Float32Array, shared: Float32Array) => void, rank: number): void {
    const mSlot = gradSlot(this.shared, this.layout, 1, 0);
    const vSlot = gradSlot(this.shared, this.layout, 1, 1);
    this.replica.layers.forEach((layer, i) => {
      const l = this.layout.layers[i];
      const { start, end } = shardOf(l.wSize, rank);
      copy(heapView(layer.mW).subarray(start, end), mSlot.subarray(l.wOffset + start, l.wOffset + end));
      copy(heapView(layer.vW).subarray(start, end), vSlot.subarray(l.wOffset + start, l.wOffset + end));
    });
  }

  dispose(): void {
    tf.dispose(this.peer);
  }
}

