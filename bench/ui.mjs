// `npm run bench:ui`: the extension host's own costs, measured on the built bundle (dist/extension.js)
// under a stand-in `vscode` module:
//   - activation: require + activate() in a fresh Node process (target < 50 ms), and proof that
//     nothing on that path loads TensorFlow.js;
//   - the VAE Runs view over 200 run folders: the first scan, and a refresh after one run appended
//     an epoch (target < 100 ms), each building every tree item as VS Code would.
// Prints medians. Options: --runs N (default 200), --repeat N.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => `${x.toFixed(1)} ms`;

/** A `vscode` module good enough to activate VAE Lens: every API is a no-op that returns another no-op. */
function installVscodeStub(workspaceDir) {
  const handler = {
    get(target, prop) {
      if (prop === Symbol.toPrimitive) return () => 'stub';
      if (prop === 'then') return undefined;
      if (prop in target) return target[prop];
      return stub();
    },
    apply: () => stub(),
    construct: (target, argv) => Object.assign(stub(), { args: argv }),
    set: (target, prop, value) => Reflect.defineProperty(target, prop, { value, writable: true, configurable: true, enumerable: true }) || Reflect.set(target, prop, value),
  };
  const stub = (props = {}) => new Proxy(Object.assign(function () {}, props), handler);
  const uri = (fsPath) => stub({ scheme: 'file', fsPath, path: fsPath, toString: () => `file://${fsPath}` });
  const config = { get: (_key, fallback) => fallback, inspect: () => undefined, has: () => false };
  // esbuild's namespace import copies the module's own keys: name every top-level API used.
  const names = ['window', 'commands', 'languages', 'env', 'extensions', 'EventEmitter', 'TreeItem', 'ThemeIcon', 'ThemeColor', 'MarkdownString',
    'FileDecoration', 'StatusBarAlignment', 'ProgressLocation', 'RelativePattern', 'TreeItemCollapsibleState', 'QuickPickItemKind', 'Disposable'];
  const vscode = stub({
    ...Object.fromEntries(names.map((n) => [n, stub()])),
    workspace: stub({
      workspaceFolders: [{ uri: uri(workspaceDir), name: 'bench', index: 0 }],
      getConfiguration: () => config,
      isTrusted: true,
    }),
    Uri: stub({ file: uri, from: (c) => uri(c.path), joinPath: (u, ...p) => uri(join(u.fsPath, ...p)) }),
  });
  const Module = require('node:module');
  const load = Module._load;
  Module._load = function (request, ...rest) {
    return request === 'vscode' ? vscode : load.call(this, request, ...rest);
  };
}

function fakeContext(dir) {
  return {
    subscriptions: [],
    extensionPath: root,
    extensionUri: { fsPath: root, path: root, scheme: 'file' },
    logUri: { fsPath: join(dir, 'logs') },
    extension: { packageJSON: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) },
    workspaceState: { get: () => undefined, update: async () => undefined },
    globalState: { get: () => undefined, update: async () => undefined },
  };
}

/** Child mode: one activation in a fresh process; prints JSON. */
async function activateOnce(workspaceDir) {
  installVscodeStub(workspaceDir);
  const t0 = performance.now();
  const ext = require(join(root, 'dist', 'extension.js'));
  const t1 = performance.now();
  const context = fakeContext(workspaceDir);
  const api = ext.activate(context);
  const t2 = performance.now();
  const loadedTf = Object.keys(require.cache).filter((p) => p.includes('@tensorflow') || p.endsWith('trainer.js'));
  // The first scan runs after activation; measure it too, then tear down.
  const t3 = performance.now();
  await api.store.refreshAll();
  const t4 = performance.now();
  for (const d of context.subscriptions) d.dispose?.();
  ext.deactivate();
  console.log(JSON.stringify({ requireMs: t1 - t0, activateMs: t2 - t1, totalMs: t2 - t0, firstScanMs: t4 - t3, runs: api.store.runs().length, loadedTf }));
}

async function main() {
  const runCount = option('--runs', 200);
  const repeat = option('--repeat', 15);
  const fixtures = require(join(root, 'out', 'test', 'support', 'runFixtures.js'));
  const workspace = mkdtempSync(join(tmpdir(), 'vae-lens-bench-ui-'));
  const runsDir = join(workspace, '.vae-runs');
  try {
    // 200 runs like a busy study folder: chainer-mlp (dimz 20) and deep-bn (dimz 100), 5–100 epochs, a few live.
    let bytes = 0;
    const dirs = [];
    for (let i = 0; i < runCount; i++) {
      const deep = i % 4 === 3;
      const completed = 5 + ((i * 37) % 96);
      const dir = fixtures.writeRunFolder(runsDir, {
        id: `20261128-${String(100000 + i)}-run-${i}`, name: `run ${i}`, status: i % 25 === 0 ? 'running' : 'completed',
        epochs: 100, completed, pid: i % 25 === 0 ? process.pid : undefined, config: { model: deep ? 'deep-bn' : 'chainer-mlp', dimz: deep ? 100 : 20 },
      });
      dirs.push(dir);
      bytes += readFileSync(join(dir, 'events.jsonl')).length;
    }
    console.log(`VAE Lens UI benchmark: ${runCount} run folders, ${(bytes / 1e6).toFixed(1)} MB of events.jsonl`);

    // Activation, each in a fresh process.
    const samples = [];
    for (let i = 0; i < repeat; i++) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--activate-once', workspace], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`activation run failed:\n${r.stderr}`);
      samples.push(JSON.parse(r.stdout.trim().split('\n').pop()));
    }
    const loadedTf = samples.flatMap((s) => s.loadedTf);
    const bundle = readFileSync(join(root, 'dist', 'extension.js'), 'utf8');
    console.log(`activation (require + activate, fresh process, n=${repeat}): median ${ms(median(samples.map((s) => s.totalMs)))} ` +
      `(require ${ms(median(samples.map((s) => s.requireMs)))}, activate ${ms(median(samples.map((s) => s.activateMs)))}); target < 50 ms`);
    console.log(`  TensorFlow.js on the activation path: ${loadedTf.length === 0 && !bundle.includes('tfjs-core') ? 'none (no @tensorflow module loaded; dist/extension.js does not contain tfjs)' : `LOADED: ${loadedTf.join(', ')}`}; bundle ${(bundle.length / 1024).toFixed(0)} KiB`);
    console.log(`first scan of ${runCount} runs after activation (fresh process): median ${ms(median(samples.map((s) => s.firstScanMs)))}`);

    // Tree refresh in this process: one run appends an epoch, then the store refreshes and every item is rebuilt.
    installVscodeStub(workspace);
    const ext = require(join(root, 'dist', 'extension.js'));
    const context = fakeContext(workspace);
    const api = ext.activate(context);
    await api.store.refreshAll();
    const renderAll = async () => {
      const nodes = await api.tree.getChildren();
      for (const n of nodes) api.tree.getTreeItem(n);
      return nodes.length;
    };
    await renderAll();
    const full = [];
    const single = [];
    for (let i = 0; i < Math.max(repeat, 20); i++) {
      const dir = dirs[(i * 7) % dirs.length];
      appendFileSync(join(dir, 'events.jsonl'), JSON.stringify(fixtures.healthEpoch(101 + i, 200, 20)) + '\n');
      let t = performance.now();
      await api.store.refreshAll();
      const shown = await renderAll();
      full.push(performance.now() - t);
      if (shown !== runCount) throw new Error(`the tree showed ${shown} runs, expected ${runCount}`);
      appendFileSync(join(dir, 'events.jsonl'), JSON.stringify(fixtures.healthEpoch(301 + i, 400, 20)) + '\n');
      t = performance.now();
      await api.store.refreshDirs([dir]);
      await renderAll();
      single.push(performance.now() - t);
    }
    console.log(`tree refresh, ${runCount} runs, full rescan + all items rebuilt: median ${ms(median(full))}; target < 100 ms`);
    console.log(`tree refresh, one run changed (watcher path) + all items rebuilt: median ${ms(median(single))}`);
    for (const d of context.subscriptions) d.dispose?.();
    ext.deactivate();
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

if (args[0] === '--activate-once') await activateOnce(args[1]);
else await main();
