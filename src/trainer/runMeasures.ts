/**
 * What `vae-lens nll` measures on a run's latest checkpoint: the importance-weighted NLL of the
 * whole test set (likelihood.ts) and the latent diagnostics an epoch records (epochDiagnostics.ts),
 * so a run trained without them, or stopped, can be measured afterwards.
 */
import type { BackendChoice } from '../shared/config';
import type { EpochDiagnostics } from '../shared/events';
import { readRunInfo } from '../node/runFolder';
import { selectBackend } from './backend';
import { readCheckpoint, restoreModel } from './checkpoint';
import { checkDataUnchanged, loadDataset, type LoadDatasetOptions } from './data';
import { DIAGNOSTICS_IMAGES, measureEpochDiagnostics } from './epochDiagnostics';
import { evaluateTestSet } from './evaluate';
import { importanceWeightedNll, type ImportanceWeighted } from './likelihood';
import { createModel, imageShapeOfData } from './model';
import { priorNoise } from './rng';
import { validatedConfig } from './validConfig';

export interface RunLikelihood extends ImportanceWeighted {
  /** The aggregate-posterior diagnostics of the first test images (as an epoch records them), or why they are missing. */
  latent: EpochDiagnostics | { skipped: string };
  runId: string;
  /** Epochs the checkpoint's weights have completed. */
  epochsCompleted: number;
  /** Batches of the next epoch trained as well (a run stopped mid-epoch), else 0. */
  batchesIntoEpoch: number;
  binarize: string;
  backend: string;
  /** The test loss at C = 1 as the trainer computes it (config.testSamples samples, analytic KL). */
  testLoss: number;
  testSamples: number;
}

export interface RunLikelihoodOptions {
  k: number;
  /** Measure the IW-NLL on the first this many test images only (default: all). */
  images?: number;
  /** Evaluate on this backend instead of the run's own. */
  backend?: BackendChoice;
  data?: LoadDatasetOptions;
  onProgress?: (done: number, total: number) => void;
  log?: (line: string) => void;
}

/** The IW-NLL of a run's latest checkpoint on the run's own test images (same data, limit and binarization). */
export async function runLikelihood(runDir: string, options: RunLikelihoodOptions): Promise<RunLikelihood> {
  const info = await readRunInfo(runDir);
  const checkpoint = await readCheckpoint(runDir);
  if (!checkpoint) throw new Error(`Run ${info.id} has no checkpoint yet: it has no trained weights to evaluate.`);
  // A backend given here is checked like a resume's: an unknown name is a ConfigError that lists the choices.
  const config = validatedConfig(options.backend ? { ...checkpoint.config, backend: options.backend } : checkpoint.config);
  if (info.data) await checkDataUnchanged(config, info.data, options.data);
  const environment = await selectBackend(config.backend, { threads: config.threads, log: options.log });
  const data = await loadDataset(config, { ...options.data, idxFolder: info.data?.folder });
  const model = createModel(config, imageShapeOfData(data));
  try {
    restoreModel(model, checkpoint);
    const tested = await evaluateTestSet(model, data.test, data.testCount, config.testSamples, 1, config.seed, DIAGNOSTICS_IMAGES);
    const measured = await measureEpochDiagnostics(model, data.test, data.testCount, { seed: config.seed, iwSamples: 0 }, tested.posteriors!, priorNoise(config.seed, config.dimz));
    const count = Math.min(data.testCount, options.images ?? data.testCount);
    const iw = await importanceWeightedNll(model, data.test, count, options.k, config.seed, options.onProgress);
    return {
      ...iw, latent: 'skipped' in measured ? measured : measured.diagnostics, runId: info.id, epochsCompleted: checkpoint.epochsCompleted,
      batchesIntoEpoch: checkpoint.position.batch, binarize: config.binarize, backend: environment.backend,
      testLoss: tested.metrics.loss, testSamples: config.testSamples,
    };
  } finally {
    model.dispose();
  }
}
