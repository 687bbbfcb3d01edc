/**
 * Where a decode service can be found by every VS Code window of the user: a Unix socket per run
 * folder and weights, in a folder only the user can enter. The first window to open a run's Latent
 * tab starts the service, which claims the socket; other windows (each has its own extension host)
 * connect to it instead of starting a second service on the same weights.
 *
 * The folder is `<tmpdir>/vae-lens-<uid>`, created with mode 0700 and used only when it is a real
 * folder (not a link) owned by the user and closed to everyone else: the socket then accepts no
 * other user, so the test images a service holds stay the user's. Windows has no such folder and
 * named pipes are open more widely, so there each window keeps its own service (undefined here).
 *
 * Claiming is atomic among claimants: each takes a lock file (O_EXCL) around "is a live service on
 * the socket? if not, remove the dead one's socket file and listen", so two windows opening the
 * same run at once never both start a service, and a service that crashed leaves nothing that
 * blocks the next one.
 */
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, openSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A lock file older than this was left by a claimant that died while holding it. */
const STALE_LOCK_MS = 10_000;
/** How long a claimant waits for another's lock before giving up. */
const CLAIM_TIMEOUT_MS = 15_000;
/** How long connecting to a socket may take before the service behind it counts as gone. */
const PROBE_TIMEOUT_MS = 2000;
/** The longest socket path used, in bytes: Unix socket addresses hold 104 on macOS, 108 on Linux. */
export const MAX_SOCKET_PATH = 100;
/** The longest message line a socket accepts (a full decode request is about 1.5 MB of JSON). */
export const MAX_LINE_CHARS = 32 * 1024 * 1024;

/**
 * The user's private folder for service sockets, created when missing; undefined (with the reason)
 * where it cannot be private.
 */
export function serviceSocketFolder(base = tmpdir()): { dir: string; why?: undefined } | { dir?: undefined; why: string } {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return { why: 'decode services are not shared between windows on this platform' };
  const uid = process.getuid();
  const dir = join(base, `vae-lens-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return { why: `cannot create ${dir}: ${(e as Error).message}` };
  }
  try {
    const stat = lstatSync(dir);
    if (!stat.isDirectory()) return { why: `${dir} is not a folder` };
    if (stat.uid !== uid) return { why: `${dir} belongs to another user` };
    if ((stat.mode & 0o077) !== 0) return { why: `${dir} is open to other users (mode ${(stat.mode & 0o777).toString(8)})` };
  } catch (e) {
    return { why: `cannot read ${dir}: ${(e as Error).message}` };
  }
  return { dir };
}

/**
 * The socket of the service on `runDir`'s weights (`latest` or a kept epoch) in `folder`: one name
 * per real path of the run folder, so two windows that reach it by different paths share it, and
 * per `service` (what starts it: the trainer bundle and its environment), so a window never joins
 * a service another version of VAE Lens, or other settings, started. Undefined when the run folder
 * cannot be resolved (a service started anyway reports why) or the path would be too long for a
 * socket (a long temporary folder): the window then keeps a service of its own.
 */
export function serviceSocketPath(folder: string, runDir: string, weights: string, service: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(runDir);
  } catch {
    return undefined;
  }
  const key = createHash('sha256').update(`${real}\0${weights}\0${service}`).digest('hex').slice(0, 32);
  const path = join(folder, `${key}.sock`);
  return Buffer.byteLength(path) <= MAX_SOCKET_PATH ? path : undefined;
}

/** A connection to the service on the socket; undefined when none answers within a few seconds. */
export function connectSocket(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    const done = (connected: boolean) => {
      clearTimeout(timer);
      socket.removeAllListeners('connect').removeAllListeners('error');
      if (!connected) socket.destroy();
      resolve(connected ? socket : undefined);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Whether a service answers on the socket (connects, sends nothing, hangs up). */
export async function probeSocket(path: string): Promise<boolean> {
  const socket = await connectSocket(path);
  socket?.destroy();
  return socket !== undefined;
}

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function tryLock(lock: string): boolean {
  try {
    closeSync(openSync(lock, 'wx', 0o600));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) unlinkSync(lock);
    } catch {
      // Gone meanwhile: the next try takes it.
    }
    return false;
  }
}

function removeIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Listens on `path` unless a live service already does: the server, or `elsewhere` (connect to
 * that one instead). A socket file no service answers on is a dead service's, and is replaced.
 */
export async function claimServiceSocket(path: string): Promise<Server | 'elsewhere'> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + CLAIM_TIMEOUT_MS;
  while (!tryLock(lock)) {
    if (Date.now() > deadline) throw new Error(`another decode service has been claiming ${path} for ${CLAIM_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  try {
    if (await probeSocket(path)) return 'elsewhere';
    removeIfThere(path);
    return await listen(path);
  } finally {
    removeIfThere(lock);
  }
}

/** Newline-delimited JSON over a socket: `onValue` for each parsed line, `onBad` for a line that is not JSON or too long. */
export function readJsonLines(socket: Socket, onValue: (value: unknown) => void, onBad: (why: string) => void): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        onBad('a line that is not JSON');
        continue;
      }
      onValue(value);
    }
    if (buffer.length > MAX_LINE_CHARS) {
      buffer = '';
      onBad(`a line longer than ${MAX_LINE_CHARS} characters`);
    }
  });
}

/** Writes one value as a JSON line; false when the socket is closed. */
export function writeJsonLine(socket: Socket, value: unknown): boolean {
  if (socket.destroyed || !socket.writable) return false;
  socket.write(`${JSON.stringify(value)}\n`);
  return true;
}
