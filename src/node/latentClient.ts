/**
 * The host's side of one decode service (src/trainer/latent/serve.ts). With a shared socket
 * (src/node/serviceSocket.ts) it first connects to the service another window started on the same
 * run and weights; only when none answers does it fork the trainer bundle as
 * `{"serve": "<run folder>", "listen": <socket>}` with IPC, and if that service finds another
 * window was quicker (`elsewhere`) it connects to that one. Every message the service sends back
 * is checked, and answers are matched to requests by id.
 *
 * Closing ends this client's use: a forked service exits when no other window uses it (or says it
 * stays, `released`, and the client lets go of it), and one that neither exits nor answers within a
 * few seconds is terminated — it is this client's own child. A service of another window is never
 * signalled: its connection is just closed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { MAX_DECODE_ROWS, parseServiceMessage, type LatentSpaceInfo, type ServiceMessage } from '../shared/latentService';
import { connectSocket, readJsonLines, writeJsonLine } from './serviceSocket';

/** How long a closed service may take to exit before it is terminated. */
const CLOSE_GRACE_MS = 3000;
/** How long one request may take (a 512-row decode on a slow CPU is well under a second). */
const REQUEST_TIMEOUT_MS = 60_000;

export interface LatentClientOptions {
  idleMs?: number;
  /** A kept epoch's weights instead of the latest checkpoint. */
  epoch?: number;
  log?: (line: string) => void;
  env?: Record<string, string>;
  /** The socket where a service on these weights is shared between windows (none: this client's own service only). */
  socket?: string;
}

type Decoded = Extract<ServiceMessage, { type: 'decoded' }>;
type Tested = Extract<ServiceMessage, { type: 'tested' }>;

interface Pending {
  resolve(message: Decoded | Tested): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export interface ServiceEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class LatentServiceClient {
  /** The forked service (undefined while connected to another window's, or before it is started). */
  child: ChildProcess | undefined;
  /** The latent space as the service found it; rejects with the service's reason when it cannot open the run. */
  readonly ready: Promise<LatentSpaceInfo>;
  /** When this client's service is gone for it: its child exited, or the shared service's connection closed. */
  readonly exited: Promise<ServiceEnd>;
  private resolveReady!: (info: LatentSpaceInfo) => void;
  private rejectReady!: (error: Error) => void;
  private resolveExited!: (end: ServiceEnd) => void;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrTail = '';
  private hasExited = false;
  private info: LatentSpaceInfo | undefined;
  private socket: Socket | undefined;
  private servicePid: number | undefined;
  private released = false;

  constructor(private readonly trainerJs: string, readonly runDir: string, private readonly options: LatentClientOptions = {}) {
    this.ready = new Promise<LatentSpaceInfo>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // A rejection nobody awaited yet must not surface as unhandled: callers read `ready` when they need it.
    this.ready.catch(() => undefined);
    this.exited = new Promise((resolve) => {
      this.resolveExited = resolve;
    });
    void this.start();
  }

  private async start(): Promise<void> {
    const { socket } = this.options;
    const joined = socket ? await connectSocket(socket) : undefined;
    if (joined) this.join(joined);
    else this.fork();
  }

  private fork(): void {
    const { idleMs, epoch, socket, log } = this.options;
    const request = { serve: this.runDir, ...(idleMs ? { idleMs } : {}), ...(epoch !== undefined ? { epoch } : {}), ...(socket ? { listen: socket } : {}) };
    const child = fork(this.trainerJs, [JSON.stringify(request)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ...this.options.env, VAE_LENS_PARENT: 'vscode' },
      execArgv: [],
    });
    this.child = child;
    this.servicePid = child.pid;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
      for (const line of chunk.split('\n')) if (line.trim()) log?.(line);
    });
    child.on('error', (e) => log?.(`VAE Lens: cannot start the decode service: ${e.message}`));
    child.on('exit', (code, signal) => {
      if (this.child === child && !this.released) this.ended({ code, signal }, this.endedText(code, signal));
    });
    child.on('message', (raw: unknown) => {
      const m = this.checked(raw);
      if (!m) {
        if (!child.killed) child.kill('SIGTERM');
        return;
      }
      if (m.type === 'elsewhere') {
        // Another window's service holds these weights: this child exits by itself; use that one.
        this.child = undefined;
        this.servicePid = undefined;
        void connectSocket(socket!).then((joined) => {
          if (joined) this.join(joined);
          else this.ended({ code: null, signal: null }, 'The decode service of another window on this run could not be reached.');
        });
      } else if (m.type === 'released') this.letGo(child);
      else this.receive(m);
    });
  }

  private join(socket: Socket): void {
    this.socket = socket;
    readJsonLines(socket, (raw) => {
      const m = this.checked(raw);
      if (!m) socket.destroy();
      else if (m.type === 'ready') {
        this.servicePid = m.pid;
        this.receive(m);
      } else if (m.type !== 'elsewhere' && m.type !== 'released') this.receive(m);
    }, (why) => {
      this.options.log?.(`VAE Lens: the shared decode service sent ${why}; its connection is closed.`);
      socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.ended({ code: null, signal: null }, 'The decode service (shared with another window) has ended.'));
    this.options.log?.(`VAE Lens: using the decode service another window started for ${this.runDir}.`);
  }

  /** A message from the service, checked against its protocol; undefined (and logged) when it breaks it. */
  private checked(raw: unknown): ServiceMessage | undefined {
    const parsed = parseServiceMessage(raw);
    if (parsed.ok) return parsed.message;
    this.options.log?.(`VAE Lens: the decode service sent a message that breaks its protocol (${parsed.error}); ending it.`);
    return undefined;
  }

  private receive(m: Exclude<ServiceMessage, { type: 'elsewhere' | 'released' }>): void {
    if (m.type === 'ready') {
      this.info = m.info;
      this.resolveReady(m.info);
    } else if (m.type === 'failed') this.rejectReady(new Error(m.message));
    else this.settle(m);
  }

  private ended(end: ServiceEnd, why: string): void {
    if (this.hasExited) return;
    this.hasExited = true;
    const error = new Error(why);
    this.rejectReady(error);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
    this.resolveExited(end);
  }

  /** The service stays for other windows: stop holding it (no IPC, no stderr, not kept alive by this process). */
  private letGo(child: ChildProcess): void {
    this.released = true;
    this.options.log?.(`VAE Lens: the decode service for ${this.runDir} stays for another window that uses it.`);
    if (child.connected) child.disconnect();
    child.stderr?.destroy();
    child.unref();
    this.ended({ code: null, signal: null }, 'The decode service was released; it stays for another window.');
  }

  /** The kept epoch it decodes with; undefined: the latest checkpoint. */
  get epoch(): number | undefined {
    return this.options.epoch;
  }

  /** The service's pid: this client's child, or (once ready) the shared service's. */
  get pid(): number | undefined {
    return this.servicePid;
  }

  /** Whether the service is another window's (reached through the shared socket). */
  get shared(): boolean {
    return this.socket !== undefined;
  }

  get alive(): boolean {
    return !this.hasExited;
  }

  private endedText(code: number | null, signal: NodeJS.Signals | null): string {
    const last = this.stderrTail.trim().split('\n').filter((l) => !/decode service for run .* (ready|ends|stays)/.test(l)).at(-1);
    const how = signal ? `was ended by ${signal}` : `exited with code ${code}`;
    return `The decode service ${how}${last ? `: ${last}` : '.'}`;
  }

  private settle(m: Extract<ServiceMessage, { id: number }>): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.type === 'error') p.reject(new Error(m.message));
    else p.resolve(m);
  }

  private send(message: object): boolean {
    if (this.socket) return writeJsonLine(this.socket, message);
    if (!this.child?.connected) return false;
    this.child.send(message);
    return true;
  }

  private request<T extends Decoded | Tested>(body: { type: 'decode'; z: number[] } | { type: 'test'; indices: number[] }): Promise<T> {
    if (this.hasExited) return Promise.reject(new Error('The decode service is not running.'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`The decode service did not answer within ${REQUEST_TIMEOUT_MS / 1000} s.`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as Pending['resolve'], reject, timer });
      if (!this.send({ ...body, id })) {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(new Error('The decode service is not running.'));
      }
    });
  }

  /** Decodes rows of z (rows × dimz values): grey bytes in base64, rows × width × height. */
  async decode(z: number[]): Promise<{ rows: number; pixels: string; ms: number }> {
    const info = await this.ready;
    const rows = z.length / info.dimz;
    // Checked here too, so a bad request never reaches the service.
    if (!Number.isInteger(rows) || rows < 1) throw new Error(`z has ${z.length} values; this run's latent space has dimz ${info.dimz}.`);
    if (rows > MAX_DECODE_ROWS) throw new Error(`At most ${MAX_DECODE_ROWS} z per request (got ${rows}).`);
    const m = await this.request<Decoded>({ type: 'decode', z });
    if (m.rows !== rows || m.pixels.length !== Math.ceil((rows * info.width * info.height) / 3) * 4) throw new Error('The decode service answered with images of the wrong size.');
    return { rows: m.rows, pixels: m.pixels, ms: m.ms };
  }

  /** μ (indices × dimz) and pixels (grey bytes, base64) of test images. */
  async test(indices: number[]): Promise<{ indices: number[]; mu: number[]; pixels: string }> {
    const info = await this.ready;
    const m = await this.request<Tested>({ type: 'test', indices });
    if (m.mu.length !== indices.length * info.dimz) throw new Error('The decode service answered with μ of the wrong size.');
    return { indices: m.indices, mu: m.mu, pixels: m.pixels };
  }

  /**
   * Ends this client's use of the service: a shared service's connection is closed; this client's
   * own service is asked to go, and exits (or stays for other windows, `released`). One that does
   * neither within a few seconds is terminated: it is this client's child.
   */
  close(): Promise<void> {
    if (this.hasExited) return this.exited.then(() => undefined);
    if (this.socket) {
      writeJsonLine(this.socket, { type: 'close' });
      this.socket.end();
      const socket = this.socket;
      const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
      void this.exited.then(() => clearTimeout(timer));
    } else if (this.child) {
      const child = this.child;
      if (child.connected) child.send({ type: 'close' });
      const timer = setTimeout(() => {
        if (!this.hasExited && !child.killed) child.kill('SIGTERM');
      }, CLOSE_GRACE_MS);
      void this.exited.then(() => clearTimeout(timer));
    } else {
      // Not started yet, or between its own child and another window's service: done once either settles.
      void this.ready.then(() => this.close(), () => undefined);
    }
    return this.exited.then(() => undefined);
  }

  /** The latent space info once ready (undefined before). */
  get latentSpace(): LatentSpaceInfo | undefined {
    return this.info;
  }
}
