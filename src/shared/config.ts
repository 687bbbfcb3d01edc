/**
 * The training configuration: one schema, used to validate a config before anything starts
 * (trainer, CLI, extension) and to generate the JSON schema that VS Code uses to validate
 * `*.vae.json` files. Defaults follow Chainer's MNIST VAE example.
 */

import {
  DEFAULT_LIKELIHOOD, PRESET_ARCHITECTURES, layersJsonSchema, presetOfLayers, likelihoodJsonSchema, parseLayers, parseLikelihood, planNetwork,
  type Architecture, type LayerSpec, type Likelihood, type Shape,
} from './architecture';

/** The study's two networks (presets) and `custom`: the file's own `encoder` and `decoder`. */
export const MODELS = ['chainer-mlp', 'deep-bn', 'custom'] as const;
export type ModelName = (typeof MODELS)[number];
export type PresetModel = Exclude<ModelName, 'custom'>;

export const BACKENDS = ['auto', 'webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export const BINARIZE = ['none', 'static', 'dynamic'] as const;
export type Binarize = (typeof BINARIZE)[number];

export const COLORS = ['grey', 'rgb'] as const;
export type Color = (typeof COLORS)[number];

/**
 * `mnist` (ships offline), `fashion-mnist` (downloaded, cached), `idx:<folder>` with a user's IDX
 * files, or `images:<folder>` with PNG and JPEG files (resized to `imageSize`, in `color`).
 */
export type DatasetName = 'mnist' | 'fashion-mnist' | `idx:${string}` | `images:${string}`;

export interface TrainConfig {
  /** Human-readable run name; the run id is derived from it and the start time. */
  name: string;
  model: ModelName;
  /** model custom: the encoder's layers (VAE Lens adds the μ and ln σ² heads); null for the presets. */
  encoder: LayerSpec[] | null;
  /** model custom: the decoder's layers (VAE Lens adds the output layer); null for the presets. */
  decoder: LayerSpec[] | null;
  /** p(x|z), in its normal form (the file may also say "bernoulli", "gaussian", …). */
  likelihood: Likelihood;
  /** Latent dimensionality (Chainer's `--dimz`). */
  dimz: number;
  epochs: number;
  batchSize: number;
  /** Adam step size α. */
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Weight C of the KL term (Chainer's `C`). */
  klWeight: number;
  /** Linear ramp of C from 0 to klWeight over this many epochs; 0 = no warm-up. */
  klWarmupEpochs: number;
  /** Cyclical KL annealing: this many cycles over the run, C ramping from 0 over each cycle's first half; 0 = none. */
  klCycles: number;
  /** Free bits λ, nats per latent dimension: a dimension's batch KL below λ is not penalised; 0 = off. */
  freeBits: number;
  /** Every this many epochs (and the last) the test set's latent diagnostics are taken; 0 = never. */
  diagnosticsEvery: number;
  keepCheckpointEvery: number;
  /** Importance samples per image for the test NLL taken with the diagnostics; 0 = none. */
  iwSamples: number;
  /** Monte-Carlo samples of z per image for the training loss (Chainer's `k`). */
  trainSamples: number;
  /** Monte-Carlo samples of z per image for the test loss. */
  testSamples: number;
  dataset: DatasetName;
  /** `images:` data sets: the side every image is resized to (images are square). */
  imageSize: number;
  /** `images:` data sets: grey (one channel) or rgb (three); files are converted to it. */
  color: Color;
  /** `images:` data sets without a test/ sub-folder: the share of each label's images held out for testing. */
  testSplit: number;
  /** Use only the first N training images (deterministic subset); null = all. */
  trainLimit: number | null;
  testLimit: number | null;
  binarize: Binarize;
  seed: number;
  backend: BackendChoice;
  /** Threads for the wasm backend: 0 = automatic. */
  threads: number;
}

type FieldSpec =
  | { kind: 'parsed'; parse: (value: unknown, key: string) => { value?: unknown; errors: string[] }; schema: (description: string) => Record<string, unknown>; description: string }
  | { kind: 'integer'; min: number; max: number; nullable?: boolean; description: string }
  | { kind: 'number'; exclusiveMin?: number; min?: number; max?: number; exclusiveMax?: number; description: string }
  | { kind: 'enum'; values: readonly string[]; description: string }
  | { kind: 'string'; pattern?: RegExp; patternText?: string; description: string; maxLength?: number };

/** Every field of TrainConfig, with its allowed values. The single source for validation and JSON schema. */
export const CONFIG_FIELDS: Record<keyof TrainConfig, FieldSpec> = {
  name: { kind: 'string', maxLength: 100, pattern: /^[^\\/:*?"<>|]+$/, patternText: 'a non-empty name without / \\ : * ? " < > |', description: 'Run name shown in the VAE Runs view.' },
  model: { kind: 'enum', values: MODELS, description: 'chainer-mlp: Chainer\'s MNIST VAE example (784-500-dimz). deep-bn: deeper encoder/decoder (600-600) with batch normalization. custom: your own network in "encoder" and "decoder".' },
  encoder: { kind: 'parsed', parse: (v, key) => (v === null ? { value: null, errors: [] } : { value: parseLayers(v, key).layers, errors: parseLayers(v, key).errors }), schema: (d) => ({ anyOf: [layersJsonSchema(d), { type: 'null' }], description: d }), description: 'model custom: the encoder as a list of layers (dense, conv2d, conv2dTranspose, batchNorm, layerNorm, activation, dropout, flatten, reshape). VAE Lens adds the μ and ln σ² heads.' },
  decoder: { kind: 'parsed', parse: (v, key) => (v === null ? { value: null, errors: [] } : { value: parseLayers(v, key).layers, errors: parseLayers(v, key).errors }), schema: (d) => ({ anyOf: [layersJsonSchema(d), { type: 'null' }], description: d }), description: 'model custom: the decoder as a list of layers from z. VAE Lens adds the output layer: dense when it ends with a vector, a 3×3 conv2d when it ends with the image\'s height × width.' },
  likelihood: { kind: 'parsed', parse: (v) => { const r = parseLikelihood(v); return { value: r.likelihood, errors: r.errors }; }, schema: (d) => likelihoodJsonSchema(d), description: 'p(x|z): "bernoulli" (Chainer\'s example), "continuous-bernoulli" (for [0, 1] pixels that are not binary), "gaussian" (σ learned, shared), or {"type": "gaussian", "sigma": 0.1 | "shared" | "per-pixel"}. Losses are in nats per image for all.' },
  dimz: { kind: 'integer', min: 1, max: 1024, description: 'Latent dimensionality. Default 20 (chainer-mlp) or 100 (deep-bn).' },
  epochs: { kind: 'integer', min: 1, max: 100000, description: 'Number of passes over the training set.' },
  batchSize: { kind: 'integer', min: 1, max: 60000, description: 'Images per training batch.' },
  learningRate: { kind: 'number', exclusiveMin: 0, max: 10, description: 'Adam step size α.' },
  beta1: { kind: 'number', min: 0, exclusiveMax: 1, description: 'Adam β1.' },
  beta2: { kind: 'number', min: 0, exclusiveMax: 1, description: 'Adam β2.' },
  epsilon: { kind: 'number', exclusiveMin: 0, max: 1, description: 'Adam ε.' },
  klWeight: { kind: 'number', min: 0, max: 1000, description: 'Weight C of the KL term in loss = reconstruction + C·KL.' },
  klWarmupEpochs: { kind: 'integer', min: 0, max: 100000, description: 'Ramp C linearly from 0 over this many epochs (0: no warm-up).' },
  klCycles: { kind: 'integer', min: 0, max: 50000, description: 'Cyclical KL annealing (Fu et al. 2019): split the run into this many cycles; in each, C ramps linearly from 0 to klWeight over the first half and stays there for the second (0: none; at most epochs / 2; not with klWarmupEpochs).' },
  freeBits: { kind: 'number', min: 0, max: 100, description: 'Free bits (Kingma et al. 2016): λ nats per latent dimension. A dimension whose KL, averaged over the batch, is below λ is not pushed further towards the prior, which keeps dimensions from collapsing (0: off; e.g. 0.25). Reported losses stay reconstruction + C·KL.' },
  diagnosticsEvery: { kind: 'integer', min: 0, max: 100000, description: 'Every this many epochs, and at the last, measure the aggregate posterior on the first 2,000 test images: I(x; z), the marginal KL(q(z) ‖ p(z)) split into its moment and non-Gaussian parts, and the share of prior samples that land in holes (0: never).' },
  keepCheckpointEvery: { kind: 'integer', min: 0, max: 100000, description: 'Every this many epochs, keep a copy of that epoch\'s weights (checkpoints/epoch-NNNN, without the optimizer state: about a third of a checkpoint) so the latent explorer can decode with them later (0: keep only the latest checkpoint).' },
  iwSamples: { kind: 'integer', min: 0, max: 100000, description: 'Importance samples per image for the importance-weighted test NLL taken with the diagnostics, on the first 500 test images (0: none; vae-lens nll measures a finished run with any k).' },
  trainSamples: { kind: 'integer', min: 1, max: 100, description: 'Monte-Carlo samples of z per image in the training loss (k).' },
  testSamples: { kind: 'integer', min: 1, max: 1000, description: 'Monte-Carlo samples of z per image in the test loss.' },
  dataset: { kind: 'string', pattern: /^(mnist|fashion-mnist|idx:.+|images:.+)$/, patternText: 'mnist, fashion-mnist, idx:<folder with IDX files>, or images:<folder with PNG/JPEG files>', description: 'Data set: mnist (ships with VAE Lens), fashion-mnist (downloaded once), idx:<folder> with your own IDX files, or images:<folder> with PNG and JPEG files (sub-folder names are the labels; a test/ sub-folder, if any, is the test set).' },
  imageSize: { kind: 'integer', min: 4, max: 256, description: 'For images:<folder> data sets: every image is centre-cropped to a square and resized to imageSize × imageSize. The other data sets are 28 × 28.' },
  color: { kind: 'enum', values: COLORS, description: 'For images:<folder> data sets: grey (one channel; colour files are converted by luminance) or rgb (three channels; grey files are repeated in each). The other data sets are grey.' },
  testSplit: { kind: 'number', exclusiveMin: 0, exclusiveMax: 1, description: 'For images:<folder> data sets without a test/ sub-folder: the share of each label\'s images (chosen by file name, the same every time) held out as the test set.' },
  trainLimit: { kind: 'integer', min: 1, max: 100000000, nullable: true, description: 'Use only the first N training images (null: all).' },
  testLimit: { kind: 'integer', min: 1, max: 100000000, nullable: true, description: 'Use only the first N test images (null: all).' },
  binarize: { kind: 'enum', values: BINARIZE, description: 'none: pixels/255 as in the example; static: threshold at 0.5 once; dynamic: resample Bernoulli pixels every epoch.' },
  seed: { kind: 'integer', min: 0, max: 2 ** 31 - 1, description: 'Seed for weights, batch order, z samples and the fixed prior noise.' },
  backend: { kind: 'enum', values: BACKENDS, description: 'TensorFlow.js backend: auto tries webgpu (on a hardware GPU), tensorflow-gpu, tensorflow, wasm, cpu in that order; webgpu by name also runs on a software adapter.' },
  threads: { kind: 'integer', min: 0, max: 256, description: 'CPU threads for training on the wasm backend: the study models\' fast step runs data-parallel on 2 threads when this is 2 or more (0: automatic, 2 threads on machines with at least 4 cores).' },
};

export function defaultConfig(model: ModelName = 'chainer-mlp'): TrainConfig {
  return {
    name: model,
    model,
    encoder: null,
    decoder: null,
    likelihood: DEFAULT_LIKELIHOOD,
    dimz: model === 'deep-bn' ? 100 : 20,
    epochs: 100,
    batchSize: 100,
    learningRate: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    klWeight: 1,
    klWarmupEpochs: 0,
    klCycles: 0,
    freeBits: 0,
    diagnosticsEvery: 5,
    keepCheckpointEvery: 0,
    iwSamples: 100,
    trainSamples: 1,
    testSamples: 10,
    dataset: 'mnist',
    imageSize: 28,
    color: 'grey',
    testSplit: 0.1,
    trainLimit: null,
    testLimit: null,
    binarize: 'none',
    seed: 0,
    backend: 'auto',
    threads: 0,
  };
}

export type ValidationResult =
  | { ok: true; config: TrainConfig }
  | { ok: false; errors: string[] };

function describeAllowed(spec: Exclude<FieldSpec, { kind: 'parsed' }>): string {
  switch (spec.kind) {
    case 'integer':
      return `an integer from ${spec.min} to ${spec.max}${spec.nullable ? ', or null' : ''}`;
    case 'number': {
      const lo = spec.exclusiveMin !== undefined ? `> ${spec.exclusiveMin}` : spec.min !== undefined ? `>= ${spec.min}` : '';
      const hi = spec.exclusiveMax !== undefined ? `< ${spec.exclusiveMax}` : spec.max !== undefined ? `<= ${spec.max}` : '';
      return `a number ${[lo, hi].filter(Boolean).join(' and ')}`;
    }
    case 'enum':
      return `one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'string':
      return `${spec.patternText ?? 'a string'}${spec.maxLength !== undefined ? ` of at most ${spec.maxLength} characters` : ''}`;
  }
}

function checkField(spec: Exclude<FieldSpec, { kind: 'parsed' }>, value: unknown): boolean {
  switch (spec.kind) {
    case 'integer':
      if (value === null) return !!spec.nullable;
      return typeof value === 'number' && Number.isInteger(value) && value >= spec.min && value <= spec.max;
    case 'number':
      return (
        typeof value === 'number' && Number.isFinite(value) &&
        (spec.exclusiveMin === undefined || value > spec.exclusiveMin) &&
        (spec.min === undefined || value >= spec.min) &&
        (spec.max === undefined || value <= spec.max) &&
        (spec.exclusiveMax === undefined || value < spec.exclusiveMax)
      );
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value);
    case 'string':
      return (
        typeof value === 'string' && value.trim().length > 0 &&
        (spec.maxLength === undefined || value.length <= spec.maxLength) &&
        (spec.pattern === undefined || spec.pattern.test(value))
      );
  }
}

/**
 * Validates a partial config (from a `*.vae.json` file, CLI flags or settings) and fills in defaults.
 * Returns every invalid field at once, each with the allowed values; unknown keys are errors too
 * (a typo must not silently fall back to a default).
 */
export function validateConfig(raw: unknown): ValidationResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: ['The config must be a JSON object.'] };
  }
  const input = raw as Record<string, unknown>;
  const errors: string[] = [];
  // A file with its own encoder or decoder is a custom network unless it names a model.
  const model = input.model ?? (input.encoder !== undefined || input.decoder !== undefined ? 'custom' : 'chainer-mlp');
  const base = defaultConfig(MODELS.includes(model as ModelName) ? (model as ModelName) : 'chainer-mlp');
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(input)) {
    if (key === '$schema') continue;
    const spec = (CONFIG_FIELDS as Record<string, FieldSpec | undefined>)[key];
    if (!spec) {
      errors.push(`"${key}": unknown field (known fields: ${Object.keys(CONFIG_FIELDS).join(', ')})`);
      continue;
    }
    if (value === undefined) continue;
    if (spec.kind === 'parsed') {
      const parsed = spec.parse(value, key);
      if (parsed.errors.length) errors.push(...parsed.errors);
      else out[key] = parsed.value;
      continue;
    }
    if (!checkField(spec, value)) {
      errors.push(`"${key}": ${JSON.stringify(value)} is not allowed; expected ${describeAllowed(spec)}`);
      continue;
    }
    out[key] = value;
  }
  if (input.name === undefined) out.name = out.model as string;
  if (errors.length === 0) errors.push(...architectureErrors(out as unknown as TrainConfig));
  if (errors.length === 0) errors.push(...scheduleErrors(out as unknown as TrainConfig), ...imageFieldErrors(input, out as unknown as TrainConfig));
  return errors.length ? { ok: false, errors } : { ok: true, config: out as unknown as TrainConfig };
}

/** The network of a config: a preset's layers, or the file's own. */
export function architectureOf(c: Pick<TrainConfig, 'model' | 'encoder' | 'decoder'>): Architecture {
  if (c.model === 'custom') return { encoder: c.encoder ?? [], decoder: c.decoder ?? [] };
  return PRESET_ARCHITECTURES[c.model];
}

/**
 * A new run's config: a custom network whose layers are a preset's trains as that preset (its
 * parameter names, its fast step); `preset` says so, for the log. Only for a new run: a run
 * folder's config is used as it was recorded.
 */
export function asPresetWhenSame(c: TrainConfig): { config: TrainConfig; preset?: PresetModel } {
  const preset = c.model === 'custom' ? presetOfLayers(architectureOf(c)) : undefined;
  return preset ? { config: { ...c, model: preset, encoder: null, decoder: null }, preset } : { config: c };
}

/**
 * The image shape [height, width, channels] a config trains on when it is known before the data is
 * read: MNIST and Fashion-MNIST are 28×28 grey, images: folders imageSize² in their color; idx:
 * folders have the size of their files (checked when they are read), so null.
 */
export function imageShapeOf(c: Pick<TrainConfig, 'dataset' | 'imageSize' | 'color'>): Shape | null {
  if (c.dataset === 'mnist' || c.dataset === 'fashion-mnist') return [28, 28, 1];
  if (c.dataset.startsWith('images:')) return [c.imageSize, c.imageSize, c.color === 'rgb' ? 3 : 1];
  return null;
}

/** model custom needs both lists, a preset takes none; the network must fit the images (when their shape is known). */
function architectureErrors(c: TrainConfig): string[] {
  if (c.model === 'custom') {
    const missing = (['encoder', 'decoder'] as const).filter((k) => c[k] === null || c[k]?.length === 0);
    if (missing.length) return missing.map((k) => `"${k}": model custom needs its layers, e.g. [{"type": "dense", "units": 500}, {"type": "activation", "fn": "relu"}]`);
  } else {
    const given = (['encoder', 'decoder'] as const).filter((k) => c[k] !== null);
    if (given.length) return given.map((k) => `"${k}": model ${c.model} is a preset with its own layers; set "model": "custom" to use yours`);
  }
  const shape = imageShapeOf(c);
  if (shape === null) return [];
  const plan = planNetwork(architectureOf(c), shape, c.dimz, c.likelihood);
  return plan.ok ? [] : plan.errors;
}

/** imageSize, color and testSplit describe an images: folder; on another data set they would silently do nothing. */
function imageFieldErrors(input: Record<string, unknown>, c: TrainConfig): string[] {
  if (c.dataset.startsWith('images:')) return [];
  const defaults = defaultConfig();
  return (['imageSize', 'color', 'testSplit'] as const)
    .filter((key) => input[key] !== undefined && input[key] !== defaults[key])
    .map((key) => `"${key}": applies only to images:<folder> data sets; ${c.dataset} has its own (28 × 28 grey, its own test set), so remove it`);
}

/** The KL schedule's fields together: one schedule at a time, and cycles of at least two epochs. */
function scheduleErrors(c: TrainConfig): string[] {
  if (c.klCycles === 0) return [];
  if (c.klWarmupEpochs > 0) return [`"klCycles": ${c.klCycles} cycles and "klWarmupEpochs": ${c.klWarmupEpochs} are two KL schedules; set one of them to 0`];
  if (c.klCycles * 2 > c.epochs) return [`"klCycles": ${c.klCycles} cycles in ${c.epochs} epochs leaves less than 2 epochs per cycle; use at most ${Math.floor(c.epochs / 2)}`];
  return [];
}

/**
 * C for an epoch (constant within it): klWeight; during a warm-up a linear ramp from 0 over
 * klWarmupEpochs; with klCycles, the run's epochs split into that many cycles of whole epochs
 * (as equal as they can be), C ramping linearly from 0 over the first half of each (Fu et al.
 * 2019, R = 0.5) and klWeight after.
 */
export function klWeightForEpoch(c: Pick<TrainConfig, 'klWeight' | 'klWarmupEpochs' | 'klCycles' | 'epochs'>, epoch: number): number {
  if (c.klCycles > 0) {
    // Cycles of whole epochs: cycle k starts at epoch index round(k · epochs / cycles), so each starts at C = 0.
    const start = (k: number) => Math.round((k * c.epochs) / c.klCycles);
    const i = epoch - 1;
    let k = Math.min(c.klCycles - 1, Math.max(0, Math.floor((i * c.klCycles) / c.epochs)));
    while (k + 1 < c.klCycles && start(k + 1) <= i) k++;
    while (k > 0 && start(k) > i) k--;
    const position = (i - start(k)) / (start(k + 1) - start(k));
    return c.klWeight * Math.min(1, position / 0.5);
  }
  if (c.klWarmupEpochs <= 0) return c.klWeight;
  return c.klWeight * Math.min(1, (epoch - 1) / c.klWarmupEpochs);
}

/** JSON schema (draft-07) for `*.vae.json` files, generated from CONFIG_FIELDS. */
export function configJsonSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = { $schema: { type: 'string' } };
  const defaults = defaultConfig() as unknown as Record<string, unknown>;
  for (const [key, spec] of Object.entries(CONFIG_FIELDS)) {
    if (spec.kind === 'parsed') {
      properties[key] = spec.schema(spec.description);
      continue;
    }
    const prop: Record<string, unknown> = { description: spec.description };
    switch (spec.kind) {
      case 'integer':
        prop.type = spec.nullable ? ['integer', 'null'] : 'integer';
        prop.minimum = spec.min;
        prop.maximum = spec.max;
        break;
      case 'number':
        prop.type = 'number';
        if (spec.min !== undefined) prop.minimum = spec.min;
        if (spec.max !== undefined) prop.maximum = spec.max;
        if (spec.exclusiveMin !== undefined) prop.exclusiveMinimum = spec.exclusiveMin;
        if (spec.exclusiveMax !== undefined) prop.exclusiveMaximum = spec.exclusiveMax;
        break;
      case 'enum':
        prop.enum = [...spec.values];
        break;
      case 'string':
        prop.type = 'string';
        prop.minLength = 1;
        if (spec.maxLength) prop.maxLength = spec.maxLength;
        if (spec.pattern) prop.pattern = spec.pattern.source;
        break;
    }
    if (key !== 'name' && key !== 'dimz') prop.default = defaults[key];
    properties[key] = prop;
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'VAE Lens experiment',
    description: 'A VAE training configuration for VAE Lens (*.vae.json).',
    type: 'object',
    additionalProperties: false,
    properties,
  };
}
