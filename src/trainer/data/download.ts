/**
 * One verified download: the body streams into a temporary file in the destination's folder
 * while its SHA-256 is computed; only a complete file with the right checksum is renamed to its
 * final name (rename is atomic within a folder), so the cache never holds half a file or a
 * wrong one, even when the process dies mid-download. Unreachable hosts fail quickly: DNS errors
 * and refused connections at once, a silent network or server after the connect timeout.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { abortError, DataError } from './errors';
import { removeDeadWritersFiles } from '../../node/leftovers';

/**
 * What went wrong, so the caller can say what to change. 'local': this machine could not write the
 * file (permissions, a full disk), not a network problem; 'too-large': the server sent more than the
 * file can be; 'downgrade': an https URL redirected to plain http.
 */
export type DownloadFailure = 'unreachable' | 'http' | 'cut' | 'checksum' | 'local' | 'too-large' | 'downgrade';

export class DownloadError extends DataError {
  constructor(
    message: string,
    readonly failure: DownloadFailure,
    url: string,
  ) {
    super(message, url);
  }
}

export interface DownloadOptions {
  /** Expected SHA-256, lowercase hex. */
  sha256: string;
  /** Size to report progress against when the server sends no Content-Length. */
  expectedBytes?: number;
  onProgress?: (received: number, total: number | undefined) => void;
  signal?: AbortSignal;
  /**
   * From the request to the response's headers (DNS, connect, TLS, the server's first answer).
   * Short, so that a network that silently drops packets, or a proxy that never answers, fails
   * almost as fast as a refused connection. Default 5 s.
   */
  connectTimeoutMs?: number;
  /** Longest silence once connected. Default 30 s. */
  idleTimeoutMs?: number;
  maxRedirects?: number;
  /** The most bytes the file may have: a larger Content-Length is refused, and a body that grows past it is cut off. */
  maxBytes?: number;
}

/** Temp files of downloads: `.<file>.<pid>.<hex>.part`. */
const PART_FILE = /^\..+\.(\d+)\.[0-9a-f]+\.part$/;

/** A local file system error, with the folder and what to check. */
function localError(e: unknown, path: string, url: string): DownloadError {
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' :
    err.code === 'ENOSPC' || err.code === 'EDQUOT' ? 'no space left on the disk' :
    err.code === 'EROFS' ? 'read-only file system' : err.message;
  return new DownloadError(`cannot write ${path} (${why}${err.code ? `, ${err.code}` : ''})`, 'local', url);
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_IDLE_TIMEOUT_MS = 30000;

/** Where a redirect leads; an https URL is never followed to plain http (or anything but https). */
export function redirectTarget(from: URL, location: string): URL {
  const next = new URL(location, from);
  if (from.protocol === 'https:' && next.protocol !== 'https:') {
    throw new DownloadError(`${from.href} redirected to ${next.href}, from https to ${next.protocol.replace(':', '')}; VAE Lens does not follow a downgrade`, 'downgrade', from.href);
  }
  return next;
}

/** Resolves with the response of a 200, following redirects; rejects with DownloadError otherwise. */
function get(url: URL, opts: DownloadOptions, redirectsLeft: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!client) {
      reject(new DownloadError(`${url.href}: unsupported URL scheme ${url.protocol} (use http: or https:).`, 'unreachable', url.href));
      return;
    }
    const signal = opts.signal;
    const connectMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    // A fresh connection per file (no keep-alive socket lingers after the load).
    const req = client.get(url, { headers: { 'user-agent': 'vae-lens' }, agent: false });
    const onAbort = () => req.destroy(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const connectTimer = setTimeout(() => {
      req.destroy(new DownloadError(`cannot reach ${url.host}: no answer within ${connectMs / 1000} s`, 'unreachable', url.href));
    }, connectMs);
    const done = () => {
      clearTimeout(connectTimer);
      signal?.removeEventListener('abort', onAbort);
    };
    req.setTimeout(opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => {
      req.destroy(new DownloadError(`${url.href}: the server stopped answering`, 'cut', url.href));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      done();
      if (e instanceof DownloadError || e.name === 'AbortError' || signal?.aborted) {
        reject(signal?.aborted ? abortError(signal) : e);
        return;
      }
      reject(new DownloadError(`cannot reach ${url.host} (${e.code ?? e.message})`, 'unreachable', url.href));
    });
    req.on('response', (res) => {
      done();
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location) {
        res.resume();
        if (redirectsLeft <= 0) {
          reject(new DownloadError(`${url.href}: too many redirects`, 'http', url.href));
          return;
        }
        let next: URL;
        try {
          next = redirectTarget(url, location);
        } catch (e) {
          reject(e);
          return;
        }
        get(next, opts, redirectsLeft - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new DownloadError(`${url.href}: the server answered HTTP ${status} ${res.statusMessage ?? ''}`.trimEnd(), 'http', url.href));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (opts.maxBytes !== undefined && Number.isFinite(declared) && declared > opts.maxBytes) {
        res.destroy();
        reject(new DownloadError(`${url.href}: the server announced ${declared} bytes, more than the file's ${opts.maxBytes}; nothing was written`, 'too-large', url.href));
        return;
      }
      // From here the caller owns the response; keep abort working while the body streams.
      if (signal) {
        const onBodyAbort = () => res.destroy(abortError(signal));
        signal.addEventListener('abort', onBodyAbort, { once: true });
        res.once('close', () => signal.removeEventListener('abort', onBodyAbort));
      }
      resolve(res);
    });
  });
}

/** Streams `url` to `dest` if its SHA-256 matches; leaves nothing behind otherwise. */
export async function downloadVerified(url: string, dest: string, opts: DownloadOptions): Promise<void> {
  if (opts.signal?.aborted) throw abortError(opts.signal);
  const parsed = new URL(url);
  try {
    await mkdir(dirname(dest), { recursive: true });
  } catch (e) {
    throw localError(e, dirname(dest), url);
  }
  // Temp files of downloads whose process died are removed by the next download into the folder.
  await removeDeadWritersFiles(dirname(dest), PART_FILE);
  const tmp = join(dirname(dest), `.${basename(dest)}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
  try {
    const res = await get(parsed, opts, opts.maxRedirects ?? 5);
    const declared = Number(res.headers['content-length']);
    const total = Number.isFinite(declared) && declared > 0 ? declared : opts.expectedBytes;
    const hash = createHash('sha256');
    let received = 0;
    let tooLarge = false;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (opts.maxBytes !== undefined && received > opts.maxBytes) {
          tooLarge = true;
          callback(new Error('too large'));
          return;
        }
        hash.update(chunk);
        opts.onProgress?.(received, total);
        callback(null, chunk);
      },
    });
    // Errors of the file side are this machine's (permissions, a full disk), not the connection's.
    let writeError: unknown;
    const file = createWriteStream(tmp);
    file.once('error', (e) => (writeError = e));
    try {
      await pipeline(res, meter, file);
    } catch (e) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      if (writeError) throw localError(writeError, tmp, url);
      if (tooLarge) throw new DownloadError(`${url}: the server sent more than the file's ${opts.maxBytes} bytes; the download was stopped there and deleted`, 'too-large', url);
      const of = total ? ` of ${total}` : '';
      throw new DownloadError(`${url}: the connection was cut after ${received}${of} bytes (${(e as Error).message})`, 'cut', url);
    }
    if (Number.isFinite(declared) && declared > 0 && received !== declared) {
      throw new DownloadError(`${url}: the connection ended after ${received} of ${declared} bytes`, 'cut', url);
    }
    const actual = hash.digest('hex');
    if (actual !== opts.sha256.toLowerCase()) {
      throw new DownloadError(
        `${url}: SHA-256 ${actual} does not match the expected ${opts.sha256} (${received} bytes received); the downloaded file was deleted`,
        'checksum',
        url,
      );
    }
    // Make the bytes durable before the name appears, so a crash cannot leave a complete-looking empty file.
    try {
      const handle = await open(tmp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, dest);
    } catch (e) {
      throw localError(e, dest, url);
    }
  } finally {
    await rm(tmp, { force: true });
  }
}

/** SHA-256 of a file, lowercase hex. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
