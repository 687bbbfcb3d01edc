/**
 * Every experiment file in examples/ trains one epoch on 1,000 images through the CLI, as a user
 * would run it (`vae-lens train --config examples/<file>`), with only the length of the run
 * shortened by flags. The image-folder example reads a folder of generated RGB PNGs with label
 * sub-folders, put where the example's relative path points.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { readRun } from '../../src/node/runFolder';
import { epochsOf, ROOT, runCli } from './support';

const EXAMPLES = join(ROOT, 'examples');

/** `count` size×size RGB PNGs per label: discs of a label's hue on a darker background, placed and sized by a seeded generator. */
function writeImageFolder(folder: string, labels: string[], count: number, size: number): void {
  let state = 12345;
  const next = (): number => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  labels.forEach((label, l) => {
    mkdirSync(join(folder, label), { recursive: true });
    for (let i = 0; i < count; i++) {
      const png = new PNG({ width: size, height: size });
      const [cx, cy, r] = [size * (0.3 + 0.4 * next()), size * (0.3 + 0.4 * next()), size * (0.15 + 0.2 * next())];
      const hue = [l === 0 ? 230 : 40, l === 1 ? 200 : 60, 90 + 100 * next()];
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const o = (y * size + x) * 4;
          const inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r;
          for (let c = 0; c < 3; c++) png.data[o + c] = inside ? hue[c] : 20 + 10 * c;
          png.data[o + 3] = 255;
        }
      }
      writeFileSync(join(folder, label, `${label}-${String(i).padStart(4, '0')}.png`), PNG.sync.write(png));
    }
  });
}

const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.vae.json')).sort();

test('examples/ has the conv VAE, the β-VAE, the Gaussian image-folder VAE and the two study nets', () => {
  assert.deepEqual(files, ['beta-vae.vae.json', 'chainer-mlp.vae.json', 'conv-mnist.vae.json', 'deep-bn.vae.json', 'gaussian-images.vae.json']);
});

for (const file of files) {
  test(`examples/${file} trains one epoch on 1,000 images`, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'vae-lens-example-'));
    // The image-folder example names ./my-images: relative paths resolve against the folder the CLI runs in.
    writeImageFolder(join(cwd, 'my-images'), ['discs-blue', 'discs-red'], 560, 32);
    const runsDir = join(cwd, 'runs');
    const r = await runCli(
      ['train', '--config', join(EXAMPLES, file), '--epochs', '1', '--train-limit', '1000', '--test-limit', '100', '--backend', 'wasm', '--threads', '1', '--iw-samples', '0', '--runs-dir', runsDir, '--data-cache-dir', join(cwd, 'cache')],
      cwd,
    );
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const [id] = readdirSync(runsDir);
    const run = await readRun(join(runsDir, id));
    const [epoch] = epochsOf(run.events);
    assert.equal(run.info.status, 'completed');
    assert.ok(Number.isFinite(epoch.train.loss) && Number.isFinite(epoch.test.loss), JSON.stringify(epoch.train));
    assert.equal(run.info.config.trainLimit, 1000);
    assert.match(epoch.images.samples, /^samples\/epoch-0001\.png$/);
    assert.match(r.stdout + r.stderr, /network: [\d,]+ parameters/);
    // The study nets keep their fast step; every other example trains with TensorFlow.js gradients.
    const study = /^(chainer-mlp|deep-bn)\.vae\.json$/.exec(file)?.[1];
    assert.match(r.stdout + r.stderr, study ? new RegExp(`training step: fast ${study} step on wasm`) : /training step: general \(TensorFlow\.js gradients\) on wasm/);
  });
}
