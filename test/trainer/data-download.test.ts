import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DATA_ENV, DATA_SETTINGS, defaultCacheDir, FASHION_MNIST_BASE_URL, FASHION_MNIST_FILES, loadDataset } from '../../src/trainer/data/index';
import { fixedUniform } from '../../src/trainer/data/binarize';
import { encodeIdx } from '../../src/trainer/data/idx';
import { downloadVerified, redirectTarget } from '../../src/trainer/data/download';

// Small Fashion-MNIST look-alikes: random (incompressible) 28×28 images, so a cut lands mid-body.
const TRAIN = 200;
const TEST = 50;
function randomBytes(n: number, seed: number): Uint8Array {
  const random = fixedUniform(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
}
const files: Record<string, Buffer> = {
  'train-images-idx3-ubyte.gz': gzipSync(encodeIdx([TRAIN, 28, 28], randomBytes(TRAIN * 784, 1))),
  'train-labels-idx1-ubyte.gz': gzipSync(encodeIdx([TRAIN], randomBytes(TRAIN, 2).map((v) => v % 10))),
  't10k-images-idx3-ubyte.gz': gzipSync(encodeIdx([TEST, 28, 28], randomBytes(TEST * 784, 3))),
  't10k-labels-idx1-ubyte.gz': gzipSync(encodeIdx([TEST], randomBytes(TEST, 4).map((v) => v % 10))),
};
const checksums = Object.fromEntries(Object.entries(files).map(([name, body]) => [name, createHash('sha256').update(body).digest('hex')]));
const config = { dataset: 'fashion-mnist', trainLimit: null, testLimit: null, binarize: 'none' } as const;

let server: Server;
let base: string;
const requests: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const [, mode, name] = (req.url ?? '').split('/');
    const body = files[name];
    if (!['good', 'redirect', 'cut', 'hang', 'grow', 'announce'].includes(mode)) {
      res.writeHead(404).end('not here');
    } else if (mode === 'redirect') {
      res.writeHead(302, { location: `../good/${name}` }).end();
    } else if (!body) {
      res.writeHead(404).end('not here');
    } else if (mode === 'good') {
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } else if (mode === 'grow') {
      // No Content-Length, and far more than the file: a server that never stops.
      res.writeHead(200);
      for (let i = 0; i < 20; i++) res.write(body);
      res.end();
    } else if (mode === 'announce') {
      res.writeHead(200, { 'content-length': body.length * 20 });
      res.write(body);
      res.end();
    } else {
      // Half the body, then the connection dies (cut) or goes silent (hang).
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, Math.floor(body.length / 2)));
      if (mode === 'cut') setTimeout(() => res.socket?.destroy(), 20);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

function cache(): string {
  return mkdtempSync(join(tmpdir(), 'vae-lens-cache-'));
}

/** What a load left in the cache's fashion-mnist folder (temporary files included). */
function cached(cacheDir: string): string[] {
  const folder = join(cacheDir, 'fashion-mnist');
  return existsSync(folder) ? readdirSync(folder).sort() : [];
}

async function withCache(fn: (cacheDir: string) => Promise<void>): Promise<void> {
  const dir = cache();
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('fashion-mnist downloads the four files once, verifies them, reports progress, and then reads the cache', () =>
  withCache(async (cacheDir) => {
    const progress: [string, number | undefined][] = [];
    requests.length = 0;
    const d = await loadDataset(config, { cacheDir, baseUrl: `${base}/good`, fashionChecksums: checksums, onProgress: (p, f) => progress.push([p, f]) });
    assert.equal(d.name, 'fashion-mnist');
    assert.equal(d.trainCount, TRAIN);
    assert.equal(d.testCount, TEST);
    assert.equal(d.pixels, 784);
    assert.equal(d.trainLabels!.length, TRAIN);
    assert.equal(d.source, join(cacheDir, 'fashion-mnist'));
    assert.deepEqual(cached(cacheDir), Object.keys(files).sort());
    assert.deepEqual(requests.sort(), Object.keys(files).map((f) => `/good/${f}`).sort());
    const trainImages = progress.filter(([p]) => p === 'downloading fashion-mnist train-images').map(([, f]) => f!);
    assert.equal(trainImages[0], 0);
    assert.equal(trainImages.at(-1), 1);
    assert.deepEqual(trainImages, [...trainImages].sort((a, b) => a - b));
    for (const label of ['train-labels', 't10k-images', 't10k-labels']) {
      assert.ok(progress.some(([p, f]) => p === `downloading fashion-mnist ${label}` && f === 1), label);
    }
    assert.deepEqual(progress.at(-1), ['reading fashion-mnist', undefined]);

    requests.length = 0;
    const again = await loadDataset(config, { cacheDir, baseUrl: `${base}/good`, fashionChecksums: checksums });
    assert.deepEqual(requests, [], 'the second load downloads nothing');
    assert.deepEqual(again.train, d.train);
  }));

test('HTTP redirects are followed (relative Location)', () =>
  withCache(async (cacheDir) => {
    const d = await loadDataset(config, { cacheDir, baseUrl: `${base}/redirect/`, fashionChecksums: checksums });
    assert.equal(d.trainCount, TRAIN);
    assert.deepEqual(cached(cacheDir), Object.keys(files).sort());
  }));

test('a wrong checksum deletes the download, says so, and names the setting', () =>
  withCache(async (cacheDir) => {
    const wrong = { ...checksums, 'train-images-idx3-ubyte.gz': '0'.repeat(64) };
    await assert.rejects(loadDataset(config, { cacheDir, baseUrl: `${base}/good`, fashionChecksums: wrong }), (e: Error) => {
      assert.equal(e.name, 'DataError');
      assert.match(e.message, /train-images-idx3-ubyte\.gz: SHA-256 [0-9a-f]{64} does not match the expected 0{64}/);
      assert.match(e.message, /the downloaded file was deleted/);
      assert.match(e.message, new RegExp(DATA_SETTINGS.baseUrlSetting.replace('.', '\\.')));
      return true;
    });
    assert.deepEqual(cached(cacheDir), []);
  }));

test('a connection cut mid-file leaves nothing in the cache', () =>
  withCache(async (cacheDir) => {
    await assert.rejects(loadDataset(config, { cacheDir, baseUrl: `${base}/cut`, fashionChecksums: checksums }), (e: Error) => {
      assert.equal(e.name, 'DataError');
      const half = Math.floor(files['train-images-idx3-ubyte.gz'].length / 2);
      assert.match(e.message, new RegExp(`the connection was cut after ${half} of ${files['train-images-idx3-ubyte.gz'].length} bytes`));
      assert.match(e.message, /Nothing was kept in the cache/);
      return true;
    });
    assert.deepEqual(cached(cacheDir), []);
  }));

test('a cancelled download stops at once and leaves nothing in the cache', () =>
  withCache(async (cacheDir) => {
    const controller = new AbortController();
    const started = performance.now();
    const load = loadDataset(config, {
      cacheDir,
      baseUrl: `${base}/hang`,
      fashionChecksums: checksums,
      signal: controller.signal,
      onProgress: (_phase, fraction) => {
        if (fraction !== undefined && fraction > 0) controller.abort();
      },
    });
    await assert.rejects(load, { name: 'AbortError' });
    assert.ok(performance.now() - started < 2000);
    assert.deepEqual(cached(cacheDir), []);
  }));

test('HTTP 404 names the URL and the setting to change', () =>
  withCache(async (cacheDir) => {
    await assert.rejects(loadDataset(config, { cacheDir, baseUrl: `${base}/nothing-here`, fashionChecksums: checksums }), {
      name: 'DataError',
      message: new RegExp(`${base}/nothing-here/train-images-idx3-ubyte.gz: the server answered HTTP 404 Not Found\\. Set vaeLens\\.mnistBaseUrl \\(CLI: --data-base-url or VAE_LENS_FASHION_MNIST_URL\\)`),
    });
    assert.deepEqual(cached(cacheDir), []);
  }));

async function assertFailsFastOffline(baseUrl: string, cacheDir: string, connectTimeoutMs?: number): Promise<number> {
  const started = performance.now();
  await assert.rejects(loadDataset(config, { cacheDir, baseUrl, connectTimeoutMs }), (e: Error) => {
    assert.equal(e.name, 'DataError');
    assert.match(e.message, /^Cannot download Fashion-MNIST: cannot reach /);
    assert.match(e.message, /Set vaeLens\.mnistBaseUrl \(CLI: --data-base-url or VAE_LENS_FASHION_MNIST_URL\)/);
    assert.match(e.message, /train on dataset "mnist" \(it ships with VAE Lens\)/);
    assert.ok(e.message.includes(`put the four files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) into ${join(cacheDir, 'fashion-mnist')} by hand (they are checked against their SHA-256; vaeLens.dataCacheDirectory moves the cache)`), e.message);
    assert.match(e.message, /dataset "idx:<folder>"/);
    return true;
  });
  assert.deepEqual(cached(cacheDir), []);
  return performance.now() - started;
}

test('connection refused fails at once with the setting and the offline alternatives', (t) =>
  withCache(async (cacheDir) => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const ms = await assertFailsFastOffline(`http://127.0.0.1:${port}/`, cacheDir);
    t.diagnostic(`refused after ${ms.toFixed(0)} ms`);
    assert.ok(ms < 1000, `${ms} ms`);
  }));

test('an unresolvable host fails fast with the same advice', (t) =>
  withCache(async (cacheDir) => {
    // .invalid never resolves (RFC 2606).
    const ms = await assertFailsFastOffline('http://fashion-mnist.vae-lens.invalid/', cacheDir);
    t.diagnostic(`DNS failure after ${ms.toFixed(0)} ms`);
    assert.ok(ms < 5000, `${ms} ms`);
  }));

test('a host that accepts the connection but never answers fails after the connect timeout', (t) =>
  withCache(async (cacheDir) => {
    // What a network that drops packets, or a stuck proxy, looks like from the client.
    const held: Socket[] = [];
    const silent = createNetServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const ms = await assertFailsFastOffline(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, cacheDir, 300);
      t.diagnostic(`silent host given up after ${ms.toFixed(0)} ms`);
      assert.ok(ms >= 290 && ms < 2000, `${ms} ms`);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  }));

test('a wrong file put in the cache by hand is reported, not used and not downloaded over', () =>
  withCache(async (cacheDir) => {
    mkdirSync(join(cacheDir, 'fashion-mnist'));
    const path = join(cacheDir, 'fashion-mnist', 'train-images-idx3-ubyte.gz');
    writeFileSync(path, 'not the file');
    requests.length = 0;
    await assert.rejects(loadDataset(config, { cacheDir, baseUrl: `${base}/good`, fashionChecksums: checksums }), {
      name: 'DataError',
      message: new RegExp(`${path}: SHA-256 [0-9a-f]{64} does not match Fashion-MNIST's ${checksums['train-images-idx3-ubyte.gz']}.*delete it to download it again`),
    });
    assert.deepEqual(requests, []);
    assert.deepEqual(cached(cacheDir), ['train-images-idx3-ubyte.gz']);
  }));

test('files put in the cache by hand are used offline when their checksums match', () =>
  withCache(async (cacheDir) => {
    mkdirSync(join(cacheDir, 'fashion-mnist'));
    for (const [name, body] of Object.entries(files)) writeFileSync(join(cacheDir, 'fashion-mnist', name), body);
    const d = await loadDataset({ ...config, trainLimit: 10 }, { cacheDir, baseUrl: 'http://127.0.0.1:9/', fashionChecksums: checksums });
    assert.equal(d.trainCount, 10);
  }));

test('the extension\'s environment variables choose the cache folder and base URL; options win over them', () =>
  withCache(async (cacheDir) => {
    const saved = { cache: process.env[DATA_ENV.cacheDir], url: process.env[DATA_ENV.baseUrl] };
    process.env[DATA_ENV.cacheDir] = cacheDir;
    process.env[DATA_ENV.baseUrl] = `${base}/good`;
    try {
      const d = await loadDataset(config, { fashionChecksums: checksums });
      assert.equal(d.source, join(cacheDir, 'fashion-mnist'));
      assert.deepEqual(cached(cacheDir), Object.keys(files).sort());
      const other = join(cacheDir, 'other');
      await assert.rejects(loadDataset(config, { cacheDir: other, baseUrl: `${base}/missing`, fashionChecksums: checksums }), { message: /\/missing\/train-images-idx3-ubyte\.gz: the server answered HTTP 404/ });
      assert.deepEqual(cached(other), []);
    } finally {
      for (const [key, value] of [[DATA_ENV.cacheDir, saved.cache], [DATA_ENV.baseUrl, saved.url]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  }));

test('a base URL that is not http(s) is refused with the setting\'s name', () =>
  withCache(async (cacheDir) => {
    await assert.rejects(loadDataset(config, { cacheDir, baseUrl: 'ftp://example.org/' }), {
      name: 'DataError',
      message: /^vaeLens\.mnistBaseUrl \(CLI: --data-base-url or VAE_LENS_FASHION_MNIST_URL\): "ftp:\/\/example\.org\/" is not an http\(s\) URL/,
    });
  }));

test('production defaults: the Zalando base URL and the canonical checksums; cache folders per platform', () => {
  assert.equal(FASHION_MNIST_BASE_URL, 'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/');
  assert.deepEqual(Object.values(FASHION_MNIST_FILES).map((f) => f.file).sort(), Object.keys(files).sort());
  for (const f of Object.values(FASHION_MNIST_FILES)) assert.match(f.sha256, /^[0-9a-f]{64}$/);
  assert.equal(defaultCacheDir('linux', {}, '/home/ada'), '/home/ada/.cache/vae-lens');
  assert.equal(defaultCacheDir('linux', { XDG_CACHE_HOME: '/xdg' }, '/home/ada'), '/xdg/vae-lens');
  assert.equal(defaultCacheDir('linux', { XDG_CACHE_HOME: 'relative' }, '/home/ada'), '/home/ada/.cache/vae-lens');
  assert.equal(defaultCacheDir('darwin', {}, '/Users/ada'), '/Users/ada/Library/Caches/vae-lens');
  assert.equal(defaultCacheDir('win32', { LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' }, 'C:\\Users\\ada'), 'C:\\Users\\ada\\AppData\\Local\\vae-lens\\Cache');
});

test('a download is capped at the file\'s size: a body that grows past it, or a larger Content-Length, is stopped and nothing is kept', () =>
  withCache(async (cacheDir) => {
    const name = 'train-images-idx3-ubyte.gz';
    const body = files[name];
    const dest = join(cacheDir, name);
    let received = 0;
    await assert.rejects(downloadVerified(`${base}/grow/${name}`, dest, { sha256: checksums[name], maxBytes: body.length, onProgress: (r) => (received = r) }), {
      name: 'DataError',
      failure: 'too-large',
      message: new RegExp(`sent more than the file's ${body.length} bytes; the download was stopped there and deleted`),
    });
    assert.ok(received <= body.length, `no more than the cap was accepted (${received})`);
    await assert.rejects(downloadVerified(`${base}/announce/${name}`, dest, { sha256: checksums[name], maxBytes: body.length }), {
      failure: 'too-large',
      message: new RegExp(`announced ${body.length * 20} bytes, more than the file's ${body.length}; nothing was written`),
    });
    assert.deepEqual(readdirSync(cacheDir), []);
  }));

test('an https URL is never followed to http; https → https and http → https are', () => {
  assert.throws(() => redirectTarget(new URL('https://mirror.example/f.gz'), 'http://mirror.example/f.gz'), {
    name: 'DataError',
    failure: 'downgrade',
    message: 'https://mirror.example/f.gz redirected to http://mirror.example/f.gz, from https to http; VAE Lens does not follow a downgrade',
  });
  assert.equal(redirectTarget(new URL('https://a.example/x/f.gz'), '../y/f.gz').href, 'https://a.example/y/f.gz');
  assert.equal(redirectTarget(new URL('http://a.example/f.gz'), 'https://b.example/f.gz').href, 'https://b.example/f.gz');
});

test('a cache folder that cannot be written is named with the setting that moves it, not reported as a network problem', () =>
  withCache(async (dir) => {
    const notAFolder = join(dir, 'file');
    writeFileSync(notAFolder, 'x');
    await assert.rejects(loadDataset(config, { cacheDir: notAFolder, baseUrl: `${base}/good/`, fashionChecksums: checksums }), (e: Error) => {
      assert.equal(e.name, 'DataError');
      assert.match(e.message, new RegExp(`^Cannot save Fashion-MNIST: cannot write ${notAFolder}/fashion-mnist \\(.*ENOTDIR\\)\\. This is the cache folder ${notAFolder}/fashion-mnist, not the network\\. Set vaeLens\\.dataCacheDirectory \\(CLI: --data-cache-dir or VAE_LENS_DATA_CACHE\\) to a folder you can write\\.$`));
      return true;
    });
  }));

test('a disk that fills up during a download is a local write error that names the cache setting; the partial file is removed', (t) => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'vae-lens-full-cache-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', cacheDir], { stdio: 'pipe' });
  } catch (e) {
    assert.fail(`This test needs a small file system that fills up: mount -t tmpfs failed (${(e as Error).message.trim()}); run the trainer tests as root.`);
  }
  t.after(() => {
    execFileSync('umount', [cacheDir]);
    rmSync(cacheDir, { recursive: true, force: true });
  });
  return assert.rejects(loadDataset(config, { cacheDir, baseUrl: `${base}/good/`, fashionChecksums: checksums }), (e: Error) => {
    assert.match(e.message, /^Cannot save Fashion-MNIST: cannot write .*\.part \(no space left on the disk, ENOSPC\)\. This is the cache folder .*, not the network\. Set vaeLens\.dataCacheDirectory \(CLI: --data-cache-dir or VAE_LENS_DATA_CACHE\) to a folder you can write\.$/);
    assert.doesNotMatch(e.message, /connection/);
    assert.deepEqual(cached(cacheDir), []);
    return true;
  });
});

test('partial downloads of a process that died are removed by the next download into the folder', () =>
  withCache(async (cacheDir) => {
    const folder = join(cacheDir, 'fashion-mnist');
    mkdirSync(folder, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(folder, `.train-images-idx3-ubyte.gz.${dead}.0a1b2c3d.part`), new Uint8Array(1000));
    await loadDataset(config, { cacheDir, baseUrl: `${base}/good/`, fashionChecksums: checksums });
    assert.deepEqual(cached(cacheDir), Object.keys(files).sort());
  }));
