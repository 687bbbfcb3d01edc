/**
 * The stock training step: TensorFlow.js computes the gradients on its tape and tf.train.adam
 * applies them. Works for any model and backend; it is the reference that faster steps must match.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../shared/config';
import type { VaeModel } from './model';
import type { OptimizerState, StepResult, TrainStep } from './step';
import { vaeLoss } from './loss';

/** Adam keeps β1^t and β2^t as variables; setWeights recomputes them with pow, which is not bit-exact. */
interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

const ACC_BETA1 = 'adam/accBeta1';
const ACC_BETA2 = 'adam/accBeta2';

export class TapeTrainStep implements TrainStep {
  private readonly optimizer: tf.AdamOptimizer;
  private readonly varList: tf.Variable[];
  private readonly canonicalName = new Map<string, string>();

  private readonly freeBits: number;

  constructor(private readonly model: VaeModel, config: Pick<TrainConfig, 'learningRate' | 'beta1' | 'beta2' | 'epsilon'> & Partial<Pick<TrainConfig, 'freeBits'>>) {
    this.freeBits = config.freeBits ?? 0;
    this.optimizer = tf.train.adam(config.learningRate, config.beta1, config.beta2, config.epsilon);
    this.varList = Object.values(model.variables);
    for (const [name, v] of Object.entries(model.variables)) this.canonicalName.set(v.name, name);
  }

  /** Reads its results with `await data()`: the webgpu backend cannot read synchronously under Node. */
  async step(x: Float32Array, batchSize: number, eps: Float32Array, klWeight: number): Promise<StepResult> {
    let aux: tf.Tensor | null = null;
    const cost = this.optimizer.minimize(
      () => {
        const xb = tf.tensor2d(x.subarray(0, batchSize * this.model.pixels), [batchSize, this.model.pixels]);
        const parts = vaeLoss(this.model, xb, eps, klWeight, true, this.freeBits);
        // Everything the loop reports leaves the tape as one small tensor: one read per step.
        aux = tf.keep(tf.stack([parts.loss, parts.reconstruction, parts.kl, tf.sum(parts.mu), tf.sum(tf.exp(tf.mul(parts.lnVar, 0.5)))]));
        return parts.objective;
      },
      true,
      this.varList,
    );
    const values = await (aux as unknown as tf.Tensor).data();
    (aux as unknown as tf.Tensor).dispose();
    cost?.dispose();
    return { loss: values[0], reconstruction: values[1], kl: values[2], sumMu: values[3], sumSigma: values[4] };
  }

  sync(): void {
    // The tape step trains the model's variables in place: nothing to write back.
  }

  async getOptimizerState(): Promise<OptimizerState> {
    const weights = await this.optimizer.getWeights();
    const slots: Record<string, Float32Array> = {};
    let step = 0;
    for (const { name, tensor } of weights) {
      if (name === 'iter') {
        step = (await tensor.data())[0];
        tensor.dispose();
        continue;
      }
      // Slot names are `<engine variable name>/m|v`; checkpoints use canonical parameter names.
      const suffix = name.slice(name.lastIndexOf('/'));
      const canonical = this.canonicalName.get(name.slice(0, name.lastIndexOf('/')));
      if (!canonical) throw new Error(`Adam slot ${name} does not belong to a model parameter`);
      slots[canonical + suffix] = (await tensor.data()) as Float32Array;
    }
    const internals = this.optimizer as unknown as AdamInternals;
    slots[ACC_BETA1] = (await internals.accBeta1.data()) as Float32Array;
    slots[ACC_BETA2] = (await internals.accBeta2.data()) as Float32Array;
    return { step, slots };
  }

  async setOptimizerState(state: OptimizerState): Promise<void> {
    const params = Object.entries(this.model.variables);
    const missing = params.flatMap(([name]) => [`${name}/m`, `${name}/v`]).filter((n) => !state.slots[n]);
    if (missing.length) throw new Error(`Optimizer state lacks ${missing.join(', ')}`);
    // setWeights replaces Adam's moment variables without disposing the old ones.
    for (const w of await this.optimizer.getWeights()) w.tensor.dispose();
    const named: { name: string; tensor: tf.Tensor }[] = [{ name: 'iter', tensor: tf.scalar(state.step, 'int32') }];
    for (const suffix of ['/m', '/v']) {
      for (const [name, v] of params) named.push({ name: v.name + suffix, tensor: tf.tensor(state.slots[name + suffix], v.shape) });
    }
    await this.optimizer.setWeights(named);
    for (const n of named) n.tensor.dispose();
    const internals = this.optimizer as unknown as AdamInternals;
    if (state.slots[ACC_BETA1] && state.slots[ACC_BETA2]) {
      tf.tidy(() => {
        internals.accBeta1.assign(tf.scalar(state.slots[ACC_BETA1][0]));
        internals.accBeta2.assign(tf.scalar(state.slots[ACC_BETA2][0]));
      });
    }
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
