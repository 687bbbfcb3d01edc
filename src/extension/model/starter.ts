/**
 * What "VAE: New Experiment File" writes: a commented `*.vae.json` (JSON with comments) for a
 * convolutional VAE on MNIST, meant to be edited, and the name it gets in a folder. Pure.
 */

/** The starter experiment, named `name`. */
export function starterExperiment(name: string): string {
  return `// A VAE Lens experiment: edit it, then run "VAE: Train" (or the ▶ above) and pick this file.
// Every field is optional; hover a field for what it does, and errors show as you type.
{
  "name": ${JSON.stringify(name)},
  // Your own network: the encoder and decoder as lists of layers. VAE Lens adds the μ and ln σ²
  // heads after the encoder and the output layer after the decoder (from dimz and the likelihood).
  "model": "custom",
  "encoder": [
    // 28×28×1 → 14×14×32 → 7×7×64 → 256
    { "type": "conv2d", "filters": 32, "kernel": 4, "stride": 2, "padding": "same" },
    { "type": "activation", "fn": "relu" },
    { "type": "conv2d", "filters": 64, "kernel": 4, "stride": 2, "padding": "same" },
    { "type": "activation", "fn": "relu" },
    { "type": "flatten" },
    { "type": "dense", "units": 256 },
    { "type": "activation", "fn": "relu" }
  ],
  "decoder": [
    // z → 256 → 7×7×64 → 14×14×32 → 28×28×32 (then a 3×3 conv to the image's channel)
    { "type": "dense", "units": 256 },
    { "type": "activation", "fn": "relu" },
    { "type": "dense", "units": 3136 },
    { "type": "activation", "fn": "relu" },
    { "type": "reshape", "shape": [7, 7, 64] },
    { "type": "conv2dTranspose", "filters": 32, "kernel": 4, "stride": 2, "padding": "same" },
    { "type": "activation", "fn": "relu" },
    { "type": "conv2dTranspose", "filters": 32, "kernel": 4, "stride": 2, "padding": "same" },
    { "type": "activation", "fn": "relu" }
  ],
  // p(x|z): "bernoulli" (binarized pixels), "continuous-bernoulli", or "gaussian".
  "likelihood": "bernoulli",
  "dimz": 16,
  "epochs": 20,
  "batchSize": 100,
  // "mnist", "fashion-mnist", "idx:<folder>" or "images:<folder of PNG/JPEG files>".
  "dataset": "mnist",
  // Train on the first N images only (null: all of them); handy for a first try.
  "trainLimit": 10000
}
`;
}

/** The first of conv-vae.vae.json, conv-vae-2.vae.json, … that `exists` says is free. */
export function starterFileName(exists: (fileName: string) => boolean): string {
  for (let i = 1; ; i++) {
    const fileName = i === 1 ? 'conv-vae.vae.json' : `conv-vae-${i}.vae.json`;
    if (!exists(fileName)) return fileName;
  }
}
