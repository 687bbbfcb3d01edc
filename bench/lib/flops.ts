/**
 * Matmul FLOPs of one training sample, forward and backward: 2·in·out for each product of the
 * forward pass, the same for each weight gradient, and again for each input gradient except the
 * first layer's (the data needs none).
 */
import type { ModelName } from '../../src/shared/config';

export function matmulFlopsPerSample(name: ModelName, pixels: number, dimz: number): number {
  const layers: [number, number, boolean][] =
    name === 'chainer-mlp'
      ? [[pixels, 500, false], [500, 2 * dimz, true], [dimz, 500, true], [500, pixels, true]]
      : [[pixels, 600, false], [600, 600, true], [600, 2 * dimz, true], [dimz, 600, true], [600, 600, true], [600, pixels, true]];
  let f = 0;
  for (const [i, o, inputGrad] of layers) f += 2 * i * o * (inputGrad ? 3 : 2);
  return f;
}
