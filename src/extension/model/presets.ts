/**
 * What "VAE: Train" offers: the study's two experiments, a quick check, and experiment files.
 * Pure: resolves a preset or a file's JSON into a validated TrainConfig, layering
 * built-in defaults < vaeLens.* settings < the preset or file.
 */
import { validateConfig, type TrainConfig } from '../../shared/config';
import { parseExperimentFileText } from '../../shared/experimentFile';

export interface TrainPreset {
  id: 'experiment-1' | 'experiment-2' | 'quick-check';
  label: string;
  detail: string;
  config: Partial<TrainConfig>;
}

export const TRAIN_PRESETS: readonly TrainPreset[] = [
  {
    id: 'experiment-1',
    label: 'Study, experiment 1 — chainer-mlp, dimz 20, 100 epochs',
    detail: "Chainer's MNIST VAE example as in the study: 784-500-20, Adam, 100 epochs on all 60,000 images.",
    config: { name: 'Study, experiment 1', model: 'chainer-mlp', dimz: 20, epochs: 100 },
  },
  {
    id: 'experiment-2',
    label: 'Study, experiment 2 — deep-bn, dimz 100, 100 epochs',
    detail: 'The deeper net with batch normalization, 100 latent dimensions, 100 epochs: compare it with experiment 1.',
    config: { name: 'Study, experiment 2', model: 'deep-bn', dimz: 100, epochs: 100 },
  },
  {
    id: 'quick-check',
    label: 'Quick check — chainer-mlp, dimz 20, 5 epochs on 10,000 MNIST images',
    detail: 'A short run to see the whole loop (gauges, curves, prior samples) in a minute or two.',
    config: { name: 'Quick check', model: 'chainer-mlp', dimz: 20, epochs: 5, trainLimit: 10000, dataset: 'mnist' },
  },
];

/**
 * Merges layers (later wins) and validates. Settings defaults only fill what the preset or file
 * leaves out; a file's unknown key is an error (a typo must not fall back to a default).
 */
export function resolveTrainConfig(settingsDefaults: Partial<TrainConfig>, specific: Record<string, unknown>): { ok: true; config: TrainConfig } | { ok: false; errors: string[] } {
  const merged: Record<string, unknown> = { ...settingsDefaults };
  // A file that picks the model but not dimz gets that model's own default dimz, not the setting's.
  if (specific.model !== undefined && specific.dimz === undefined && specific.model !== settingsDefaults.model) delete merged.dimz;
  for (const [k, v] of Object.entries(specific)) if (v !== undefined) merged[k] = v;
  return validateConfig(merged);
}

/** Parses the text of a *.vae.json file (JSON with comments) into an object, with a clear error naming the line. */
export function parseExperimentFile(text: string, fileName: string): { ok: true; value: Record<string, unknown> } | { ok: false; errors: string[] } {
  const parsed = parseExperimentFileText(text, fileName);
  return parsed.ok ? parsed : { ok: false, errors: [parsed.error] };
}

/** "experiments/small.vae.json" → "small". */
export function experimentNameFromFile(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  return base.replace(/\.vae\.json$/i, '') || 'experiment';
}
