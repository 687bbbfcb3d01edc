/**
 * The network language of `*.vae.json` files: an encoder and a decoder as lists of layers, and the
 * likelihood p(x|z). VAE Lens adds the rest from dimz, the image shape and the likelihood: after the
 * encoder, two dense heads for μ and ln σ² (a spatial output is flattened first); after the
 * decoder, the output layer — dense to every image value when the decoder ends flat, a 3×3 "same"
 * conv2d to the image's channels when it ends with the image's height and width.
 *
 * One description checks a spec against an image shape (every error names its layer and the shapes
 * that led there), counts parameters and FLOPs, writes layers as readable lines (for the compare
 * panel's diff) and gives the JSON schema VS Code validates `*.vae.json` files with as you type.
 * The study's two networks are presets written in this language. Pure: used by the trainer, the
 * host and the CLI.
 */

export const ACTIVATIONS = ['tanh', 'relu', 'leakyRelu', 'elu', 'softplus', 'sigmoid', 'gelu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const PADDINGS = ['same', 'valid'] as const;
export type Padding = (typeof PADDINGS)[number];

/** Chainer's BatchNormalization defaults, the batchNorm layer's defaults. */
export const BN_EPS = 2e-5;
export const BN_DECAY = 0.9;
export const LN_EPS = 1e-5;
export const LEAKY_RELU_ALPHA = 0.2;

export type LayerSpec =
  | { type: 'dense'; units: number }
  | { type: 'conv2d'; filters: number; kernel: number; stride?: number; padding?: Padding }
  | { type: 'conv2dTranspose'; filters: number; kernel: number; stride?: number; padding?: Padding }
  | { type: 'batchNorm'; eps?: number; decay?: number }
  | { type: 'layerNorm'; eps?: number }
  | { type: 'activation'; fn: Activation; alpha?: number }
  | { type: 'dropout'; rate: number }
  | { type: 'flatten' }
  | { type: 'reshape'; shape: number[] };
export type LayerType = LayerSpec['type'];

export interface Architecture {
  encoder: LayerSpec[];
  decoder: LayerSpec[];
}

/**
 * p(x|z): `bernoulli` on logits (Chainer's example); `continuous-bernoulli` (Loaiza-Ganem &
 * Cunningham 2019), its normalised form for pixels in [0, 1] that are not binary; `gaussian` with a
 * fixed σ, or σ learned as one value (`shared`) or one per image value (`per-pixel`).
 */
export type Likelihood =
  | { type: 'bernoulli' }
  | { type: 'continuous-bernoulli' }
  | { type: 'gaussian'; sigma: number | 'shared' | 'per-pixel' };
export const LIKELIHOOD_TYPES = ['bernoulli', 'continuous-bernoulli', 'gaussian'] as const;
export const DEFAULT_LIKELIHOOD: Likelihood = { type: 'bernoulli' };

/** A tensor's shape without the batch: [n] (flat) or [height, width, channels]. */
export type Shape = readonly number[];

/** The study's networks in this language (their runs use the named parameters of src/trainer/model). */
export const PRESET_ARCHITECTURES: Record<'chainer-mlp' | 'deep-bn', Architecture> = {
  'chainer-mlp': {
    encoder: [{ type: 'dense', units: 500 }, { type: 'activation', fn: 'tanh' }],
    decoder: [{ type: 'dense', units: 500 }, { type: 'activation', fn: 'tanh' }],
  },
  'deep-bn': {
    encoder: [
      { type: 'dense', units: 600 }, { type: 'batchNorm' }, { type: 'activation', fn: 'softplus' },
      { type: 'dense', units: 600 }, { type: 'batchNorm' }, { type: 'activation', fn: 'softplus' },
    ],
    decoder: [
      { type: 'dense', units: 600 }, { type: 'batchNorm' }, { type: 'activation', fn: 'softplus' },
      { type: 'dense', units: 600 }, { type: 'batchNorm' }, { type: 'activation', fn: 'softplus' },
    ],
  },
};

/**
 * The preset whose network these layers are, if any: a file may spell a study net out in layers.
 * Equal means the same layers after defaults (batchNorm's eps and decay) and without a flatten
 * right before a dense layer (dense flattens its input anyway).
 */
export function presetOfLayers(arch: Architecture): keyof typeof PRESET_ARCHITECTURES | undefined {
  const key = (a: Architecture) => JSON.stringify([a.encoder, a.decoder].map(canonicalLayers));
  const wanted = key(arch);
  return (Object.keys(PRESET_ARCHITECTURES) as Array<keyof typeof PRESET_ARCHITECTURES>).find((p) => key(PRESET_ARCHITECTURES[p]) === wanted);
}

function canonicalLayers(layers: readonly LayerSpec[]): string[] {
  return layers
    .filter((l, i) => !(l.type === 'flatten' && layers[i + 1]?.type === 'dense'))
    .map((l) => (l.type === 'batchNorm' ? `batchNorm eps ${l.eps ?? BN_EPS} decay ${l.decay ?? BN_DECAY}` : describeLayer(l)));
}

interface FieldRule {
  kind: 'int' | 'number' | 'enum' | 'shape';
  min?: number;
  max?: number;
  /** Exclusive upper bound. */
  below?: number;
  values?: readonly string[];
  required: boolean;
  description: string;
}

const MAX_UNITS = 65536;
const MAX_KERNEL = 15;
const MAX_STRIDE = 8;

/** The fields of both convolutions; only what padding does to the output side differs. */
function convFields(padding: string): Record<string, FieldRule> {
  return {
    filters: { kind: 'int', min: 1, max: 4096, required: true, description: 'Output channels.' },
    kernel: { kind: 'int', min: 1, max: MAX_KERNEL, required: true, description: 'Kernel side (square).' },
    stride: { kind: 'int', min: 1, max: MAX_STRIDE, required: false, description: 'Stride (default 1).' },
    padding: { kind: 'enum', values: PADDINGS, required: false, description: padding },
  };
}

/** Each layer type's fields: the one description behind the checks and the JSON schema. */
const LAYER_FIELDS: Record<LayerType, { description: string; fields: Record<string, FieldRule> }> = {
  dense: { description: 'Fully connected: units outputs (a spatial input is flattened first).', fields: { units: { kind: 'int', min: 1, max: MAX_UNITS, required: true, description: 'Outputs.' } } },
  conv2d: {
    description: '2-D convolution over an height × width × channels input.',
    fields: convFields('same: output side ⌈input / stride⌉ (default); valid: ⌊(input − kernel) / stride⌋ + 1.'),
  },
  conv2dTranspose: {
    description: 'Transposed 2-D convolution (upsampling).',
    fields: convFields('same: output side input × stride (default); valid: (input − 1) × stride + kernel.'),
  },
  batchNorm: {
    description: 'Batch normalization over the last axis (Chainer\'s defaults: eps 2e-5, moving-average decay 0.9).',
    fields: {
      eps: { kind: 'number', min: 1e-12, max: 1, required: false, description: 'Added to the variance (default 2e-5).' },
      decay: { kind: 'number', min: 0, below: 1, required: false, description: 'Moving-average decay of the statistics used at test time (default 0.9).' },
    },
  },
  layerNorm: { description: 'Layer normalization over the last axis, with a learned scale and shift.', fields: { eps: { kind: 'number', min: 1e-12, max: 1, required: false, description: 'Added to the variance (default 1e-5).' } } },
  activation: {
    description: 'An element-wise nonlinearity.',
    fields: {
      fn: { kind: 'enum', values: ACTIVATIONS, required: true, description: 'The function.' },
      alpha: { kind: 'number', min: 0, max: 10, required: false, description: 'leakyRelu\'s negative slope (default 0.2) or elu\'s α (default 1).' },
    },
  },
  dropout: { description: 'Dropout while training (identity at test time and when decoding).', fields: { rate: { kind: 'number', min: 0, below: 1, required: true, description: 'Share of values set to 0.' } } },
  flatten: { description: 'height × width × channels → one vector.', fields: {} },
  reshape: { description: 'A vector → [height, width, channels] (or another vector): same number of values.', fields: { shape: { kind: 'shape', required: true, description: '[n] or [height, width, channels].' } } },
};
export const LAYER_TYPES = Object.keys(LAYER_FIELDS) as LayerType[];

function describeRule(rule: FieldRule): string {
  switch (rule.kind) {
    case 'int':
      return `an integer from ${rule.min} to ${rule.max}`;
    case 'number':
      return `a number from ${rule.min}${rule.below !== undefined ? ` to below ${rule.below}` : ` to ${rule.max}`}`;
    case 'enum':
      return `one of ${(rule.values ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'shape':
      return 'a list of 1 or 3 positive integers';
  }
}

function ruleAllows(rule: FieldRule, v: unknown): boolean {
  switch (rule.kind) {
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) && v >= (rule.min ?? -Infinity) && v <= (rule.max ?? Infinity);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) && v >= (rule.min ?? -Infinity) && (rule.below === undefined ? v <= (rule.max ?? Infinity) : v < rule.below);
    case 'enum':
      return typeof v === 'string' && (rule.values ?? []).includes(v);
    case 'shape':
      return Array.isArray(v) && (v.length === 1 || v.length === 3) && v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_UNITS * 16);
  }
}

/** A layer's fields checked against its type: the layer, or the errors (each names `where`). */
export function parseLayer(raw: unknown, where: string): { layer?: LayerSpec; errors: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { errors: [`${where}: a layer is an object like {"type": "dense", "units": 500}`] };
  const obj = raw as Record<string, unknown>;
  const type = obj.type;
  if (typeof type !== 'string' || !(type in LAYER_FIELDS)) {
    return { errors: [`${where}: "type" ${JSON.stringify(type ?? null)} is not a layer; use one of ${LAYER_TYPES.join(', ')}`] };
  }
  const spec = LAYER_FIELDS[type as LayerType];
  const errors: string[] = [];
  for (const key of Object.keys(obj)) {
    if (key !== 'type' && !(key in spec.fields)) {
      const known = Object.keys(spec.fields);
      errors.push(`${where}: ${type} has no field "${key}"${known.length ? ` (its fields: ${known.join(', ')})` : ''}`);
    }
  }
  for (const [key, rule] of Object.entries(spec.fields)) {
    const v = obj[key];
    if (v === undefined) {
      if (rule.required) errors.push(`${where}: ${type} needs "${key}" (${describeRule(rule)})`);
    } else if (!ruleAllows(rule, v)) {
      errors.push(`${where}: ${type} "${key}" ${JSON.stringify(v)} is not allowed; expected ${describeRule(rule)}`);
    }
  }
  if (type === 'activation' && obj.alpha !== undefined && obj.fn !== 'leakyRelu' && obj.fn !== 'elu') errors.push(`${where}: "alpha" applies only to leakyRelu and elu`);
  return errors.length ? { errors } : { layer: obj as unknown as LayerSpec, errors };
}

/** A list of layers (`encoder` or `decoder`) checked field by field. */
export function parseLayers(raw: unknown, name: string): { layers?: LayerSpec[]; errors: string[] } {
  if (!Array.isArray(raw)) return { errors: [`"${name}": expected a list of layers like [{"type": "dense", "units": 500}, {"type": "activation", "fn": "relu"}]`] };
  if (raw.length > 64) return { errors: [`"${name}": ${raw.length} layers; at most 64`] };
  const layers: LayerSpec[] = [];
  const errors: string[] = [];
  raw.forEach((item, i) => {
    const r = parseLayer(item, `${name}[${i}]`);
    if (r.layer) layers.push(r.layer);
    errors.push(...r.errors);
  });
  return errors.length ? { errors } : { layers, errors };
}

/** A likelihood in the file's forms ("bernoulli", "gaussian", or {"type": "gaussian", "sigma": 0.1}) as its one normal form. */
export function parseLikelihood(raw: unknown): { likelihood?: Likelihood; errors: string[] } {
  const form = 'expected "bernoulli", "continuous-bernoulli", "gaussian", or {"type": "gaussian", "sigma": <number from 0.001 to 10> | "shared" | "per-pixel"}';
  if (raw === 'bernoulli' || raw === 'continuous-bernoulli') return { likelihood: { type: raw }, errors: [] };
  if (raw === 'gaussian') return { likelihood: { type: 'gaussian', sigma: 'shared' }, errors: [] };
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== 'type' && !(o.type === 'gaussian' && k === 'sigma'));
    if (extra.length) return { errors: [`"likelihood": unknown field ${extra.map((k) => `"${k}"`).join(', ')}; ${form}`] };
    if (o.type === 'bernoulli' || o.type === 'continuous-bernoulli') return { likelihood: { type: o.type }, errors: [] };
    if (o.type === 'gaussian') {
      const sigma = o.sigma ?? 'shared';
      if (sigma === 'shared' || sigma === 'per-pixel' || (typeof sigma === 'number' && Number.isFinite(sigma) && sigma >= 0.001 && sigma <= 10)) {
        return { likelihood: { type: 'gaussian', sigma }, errors: [] };
      }
      return { errors: [`"likelihood": sigma ${JSON.stringify(sigma)} is not allowed; ${form}`] };
    }
  }
  return { errors: [`"likelihood": ${JSON.stringify(raw)} is not allowed; ${form}`] };
}

export function formatShape(shape: Shape): string {
  return shape.length === 1 ? `a vector of ${shape[0]}` : `${shape[0]}×${shape[1]}×${shape[2]}`;
}

const size = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

/** One layer's output shape, parameters and multiply-adds ×2 per image, or why the input does not fit. */
export interface LayerPlan {
  layer: LayerSpec;
  input: Shape;
  output: Shape;
  parameters: number;
  flops: number;
}

function convSide(input: number, kernel: number, stride: number, padding: Padding, transpose: boolean): number {
  if (transpose) return padding === 'same' ? input * stride : (input - 1) * stride + kernel;
  return padding === 'same' ? Math.ceil(input / stride) : Math.floor((input - kernel) / stride) + 1;
}

/** The plan of one layer on `input`; throws an Error whose message explains the shapes (without the layer's name). */
function planLayer(layer: LayerSpec, input: Shape): LayerPlan {
  const plan = (output: Shape, parameters = 0, flops = 0): LayerPlan => ({ layer, input, output, parameters, flops });
  switch (layer.type) {
    case 'dense': {
      const n = size(input);
      return plan([layer.units], n * layer.units + layer.units, 2 * n * layer.units);
    }
    case 'conv2d':
    case 'conv2dTranspose': {
      if (input.length !== 3) throw new Error(`${layer.type} needs a height×width×channels input, got ${formatShape(input)}; put a reshape before it`);
      const [h, w, c] = input;
      const stride = layer.stride ?? 1;
      const padding = layer.padding ?? 'same';
      const transpose = layer.type === 'conv2dTranspose';
      if (!transpose && padding === 'valid' && (layer.kernel > h || layer.kernel > w)) {
        throw new Error(`conv2d with kernel ${layer.kernel} and padding "valid" does not fit a ${formatShape(input)} input`);
      }
      const oh = convSide(h, layer.kernel, stride, padding, transpose);
      const ow = convSide(w, layer.kernel, stride, padding, transpose);
      const weights = layer.kernel * layer.kernel * c * layer.filters;
      const positions = transpose ? h * w : oh * ow;
      return plan([oh, ow, layer.filters], weights + layer.filters, 2 * weights * positions);
    }
    case 'batchNorm':
    case 'layerNorm': {
      const last = input[input.length - 1];
      return plan(input, 2 * last, 4 * size(input));
    }
    case 'activation':
    case 'dropout':
      return plan(input, 0, size(input));
    case 'flatten':
      return plan([size(input)]);
    case 'reshape': {
      if (size(layer.shape) !== size(input)) {
        throw new Error(`reshape to [${layer.shape.join(', ')}] needs ${size(layer.shape)} values, but its input, ${formatShape(input)}, has ${size(input)}`);
      }
      return plan([...layer.shape]);
    }
  }
}

/** The whole network on an image shape: every layer's plan (the added heads and output layer included). */
export interface NetworkPlan {
  encoder: LayerPlan[];
  decoder: LayerPlan[];
  /** The μ and ln σ² heads (two dense layers to dimz, after a flatten of a spatial encoder output). */
  heads: LayerPlan;
  /** The output layer VAE Lens adds: dense or a 3×3 conv2d, with the likelihood's values per image value. */
  output: LayerPlan;
  /** Learned σ of a Gaussian likelihood (1 or one per image value; 0 otherwise). */
  sigmaParameters: number;
  parameters: number;
  /** FLOPs of one image's forward pass (encoder, heads, decoder, output). */
  flops: number;
  /** Largest number of values one image's activations hold at once in a layer (for memory estimates). */
  widest: number;
  /** Sum of every layer's output values per image (what a training step keeps for its backward pass). */
  activations: number;
}

export type PlanResult = { ok: true; plan: NetworkPlan } | { ok: false; errors: string[] };

function planList(layers: LayerSpec[], input: Shape, name: string, trace: string[], errors: string[]): { plans: LayerPlan[]; output: Shape } | null {
  const plans: LayerPlan[] = [];
  let shape = input;
  for (let i = 0; i < layers.length; i++) {
    try {
      const p = planLayer(layers[i], shape);
      plans.push(p);
      shape = p.output;
      trace.push(`${name}[${i}] ${describeLayer(layers[i])} → ${formatShape(shape)}`);
    } catch (e) {
      errors.push(`${name}[${i}]: ${(e as Error).message} (${[...trace.slice(-3), `${name}[${i}]`].join(', ')})`);
      return null;
    }
  }
  return { plans, output: shape };
}

/**
 * Checks an architecture on images of `image` = [height, width, channels] with `dimz` latent
 * dimensions: every layer's shapes, and the decoder's end against the image. Errors name the layer
 * and the shapes that led to it.
 */
export function planNetwork(arch: Architecture, image: Shape, dimz: number, likelihood: Likelihood): PlanResult {
  const errors: string[] = [];
  const enc = planList(arch.encoder, image, 'encoder', [`input ${formatShape(image)}`], errors);
  const dec = planList(arch.decoder, [dimz], 'decoder', [`z ${formatShape([dimz])}`], errors);
  if (!enc || !dec) return { ok: false, errors };
  const encOut = size(enc.output);
  const heads: LayerPlan = { layer: { type: 'dense', units: dimz }, input: enc.output, output: [dimz], parameters: 2 * (encOut * dimz + dimz), flops: 4 * encOut * dimz };
  const [h, w, c] = image;
  const values = h * w * c;
  let output: LayerPlan;
  const last = dec.output;
  if (last.length === 1) {
    output = { layer: { type: 'dense', units: values }, input: last, output: [values], parameters: last[0] * values + values, flops: 2 * last[0] * values };
  } else if (last[0] === h && last[1] === w) {
    const weights = 9 * last[2] * c;
    output = { layer: { type: 'conv2d', filters: c, kernel: 3 }, input: last, output: [h, w, c], parameters: weights + c, flops: 2 * weights * h * w };
  } else {
    const lastIndex = arch.decoder.length - 1;
    return {
      ok: false,
      errors: [
        `decoder[${lastIndex}]: the decoder ends with ${formatShape(last)}, but the images are ${h}×${w}×${c}: end with a vector (VAE Lens adds a dense output layer) ` +
          `or with ${h}×${w}×channels (VAE Lens adds a 3×3 conv2d to ${c} channel${c > 1 ? 's' : ''})`,
      ],
    };
  }
  const sigmaParameters = likelihood.type === 'gaussian' ? (likelihood.sigma === 'per-pixel' ? values : likelihood.sigma === 'shared' ? 1 : 0) : 0;
  const all = [...enc.plans, heads, ...dec.plans, output];
  const parameters = all.reduce((a, p) => a + p.parameters, 0) + sigmaParameters;
  const flops = all.reduce((a, p) => a + p.flops, 0);
  const widest = Math.max(values, ...all.map((p) => size(p.output)));
  const activations = all.reduce((a, p) => a + size(p.output), 0);
  return { ok: true, plan: { encoder: enc.plans, decoder: dec.plans, heads, output, sigmaParameters, parameters, flops, widest, activations } };
}

/** A layer as one readable line: "conv2d 32 filters, 4×4, stride 2, same". */
export function describeLayer(layer: LayerSpec): string {
  switch (layer.type) {
    case 'dense':
      return `dense ${layer.units}`;
    case 'conv2d':
    case 'conv2dTranspose':
      return `${layer.type} ${layer.filters} filters, ${layer.kernel}×${layer.kernel}, stride ${layer.stride ?? 1}, ${layer.padding ?? 'same'}`;
    case 'batchNorm':
      return `batchNorm${layer.eps !== undefined || layer.decay !== undefined ? ` (eps ${layer.eps ?? BN_EPS}, decay ${layer.decay ?? BN_DECAY})` : ''}`;
    case 'layerNorm':
      return `layerNorm${layer.eps !== undefined ? ` (eps ${layer.eps})` : ''}`;
    case 'activation':
      return layer.alpha !== undefined ? `${layer.fn} (α ${layer.alpha})` : layer.fn;
    case 'dropout':
      return `dropout ${layer.rate}`;
    case 'flatten':
      return 'flatten';
    case 'reshape':
      return `reshape to ${layer.shape.join('×')}`;
  }
}

export function describeLikelihood(l: Likelihood): string {
  if (l.type !== 'gaussian') return l.type;
  return typeof l.sigma === 'number' ? `gaussian, σ ${l.sigma}` : `gaussian, σ learned (${l.sigma})`;
}

/** A line-by-line diff of two layer lists (longest common subsequence): what the compare panel shows. */
export interface DiffLine {
  kind: 'same' | 'removed' | 'added';
  text: string;
}

export function diffLines(a: string[], b: string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i] });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      // Removed lines before added ones, as a unified diff reads.
      out.push({ kind: 'removed', text: a[i++] });
    } else {
      out.push({ kind: 'added', text: b[j++] });
    }
  }
  return out;
}

/** JSON schema of one layer list, for `*.vae.json` validation as you type. */
export function layersJsonSchema(description: string): Record<string, unknown> {
  const variants = LAYER_TYPES.map((type) => {
    const spec = LAYER_FIELDS[type];
    const properties: Record<string, unknown> = { type: { const: type } };
    for (const [key, rule] of Object.entries(spec.fields)) {
      const p: Record<string, unknown> = { description: rule.description };
      if (rule.kind === 'int') Object.assign(p, { type: 'integer', minimum: rule.min, maximum: rule.max });
      if (rule.kind === 'number') Object.assign(p, { type: 'number', minimum: rule.min, ...(rule.below !== undefined ? { exclusiveMaximum: rule.below } : { maximum: rule.max }) });
      if (rule.kind === 'enum') p.enum = [...(rule.values ?? [])];
      if (rule.kind === 'shape') Object.assign(p, { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, maxItems: 3 });
      properties[key] = p;
    }
    const required = ['type', ...Object.entries(spec.fields).filter(([, r]) => r.required).map(([k]) => k)];
    return { description: spec.description, type: 'object', additionalProperties: false, properties, required, if: { properties: { type: { const: type } } } };
  });
  return {
    description,
    type: 'array',
    maxItems: 64,
    items: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: LAYER_TYPES, description: 'The layer: ' + LAYER_TYPES.join(', ') + '.' } },
      allOf: variants.map(({ if: cond, ...then }) => ({ if: cond, then })),
    },
  };
}

export function likelihoodJsonSchema(description: string): Record<string, unknown> {
  return {
    description,
    oneOf: [
      { enum: [...LIKELIHOOD_TYPES] },
      {
        type: 'object',
        additionalProperties: false,
        required: ['type'],
        properties: {
          type: { enum: [...LIKELIHOOD_TYPES] },
          sigma: { description: 'gaussian only: a fixed σ (0.001 to 10), or "shared" (one learned σ) or "per-pixel" (one learned σ per image value).', oneOf: [{ type: 'number', minimum: 0.001, maximum: 10 }, { enum: ['shared', 'per-pixel'] }] },
        },
      },
    ],
  };
}
