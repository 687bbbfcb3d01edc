/**
 * The training step contract. The training loop only talks to a TrainStep; the default one runs
 * any model through TensorFlow.js's tape (optimizer.minimize with tf.train.adam), and the study's
 * two models may get a faster implementation for a backend, which must give the same numbers.
 */

/** Means over the images of one batch (nats per image), and sums for the epoch's μ/σ means. */
export interface StepResult {
  loss: number;
  reconstruction: number;
  kl: number;
  /** Σ over images and dimensions of μ, and of σ = exp(ln σ² / 2), for this batch. */
  sumMu: number;
  sumSigma: number;
}

/**
 * Optimizer state for checkpoints: Adam's step count and named arrays (`<param>/m`, `<param>/v`
 * by canonical parameter name, plus anything else needed to continue bit for bit, e.g. the
 * accumulated β powers), restored exactly by setOptimizerState.
 */
export interface OptimizerState {
  step: number;
  slots: Record<string, Float32Array>;
}

export interface TrainStep {
  /**
   * One optimizer step.
   * @param x batch × pixels, values in [0, 1] (row-major); batchSize rows.
   * @param eps trainSamples × batchSize × dimz standard-normal noise for z = μ + σ·ε.
   * @param klWeight C for this step (KL warm-up).
   * May be async: a GPU backend's results can only be read asynchronously. Callers always await.
   */
  step(x: Float32Array, batchSize: number, eps: Float32Array, klWeight: number): StepResult | Promise<StepResult>;
  /** Writes any state kept outside the model's variables back into them (before eval or checkpoint). */
  sync(): void;
  /**
   * May be async: TensorFlow.js optimizers read and write their weights asynchronously; a step that
   * keeps its state in plain arrays can answer at once. Callers always await.
   */
  getOptimizerState(): OptimizerState | Promise<OptimizerState>;
  setOptimizerState(state: OptimizerState): void | Promise<void>;
  dispose(): void;
}
