/**
 * The parent's side of one decode service (src/trainer/latent/serve.ts): forks the trainer bundle as
 * `{"serve": "<run folder>"}` with IPC, checks every message it sends back, and matches answers to
 * requests by id. The service is this client's own child: closing asks it to exit, and one that
 * does not is terminated — no signal ever goes to any other process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { MAX_DECODE_ROWS, parseServiceMessage, type LatentSpaceInfo, type ServiceMessage } from '../shared/latentService';

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
}

type Decoded = Extract<ServiceMessage, { type: 'decoded' }>;
type Tested = Extract<ServiceMessage, { type: 'tested' }>;

interface Pending {
  resolve(message: Decoded | Tested): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class LatentServiceClient {
  readonly child: ChildProcess;
  /** The latent space as the service found it; rejects with the service's reason when it cannot open the run. */
  readonly ready: Promise<LatentSpaceInfo>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrTail = '';
  private hasExited = false;
  private info: LatentSpaceInfo | undefined;

  constructor(trainerJs: string, readonly runDir: string, private readonly options: LatentClientOptions = {}) {
    const request = { serve: runDir, ...(options.idleMs ? { idleMs: options.idleMs } : {}), ...(options.epoch !== undefined ? { epoch: options.epoch } : {}) };
    this.child = fork(trainerJs, [JSON.stringify(request)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ...options.env, VAE_LENS_PARENT: 'vscode' },
      execArgv: [],
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
      for (const line of chunk.split('\n')) if (line.trim()) options.log?.(line);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.hasExited = true;
        const why = new Error(this.endedText(code, signal));
        for (const [, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(why);
        }
        this.pending.clear();
        resolve({ code, signal });
      });
      this.child.on('error', (e) => {
        options.log?.(`VAE Lens: cannot start the decode service: ${e.message}`);
      });
    });
    this.ready = new Promise<LatentSpaceInfo>((resolve, reject) => {
      this.child.on('message', (raw: unknown) => {
        const parsed = parseServiceMessage(raw);
        if (!parsed.ok) {
          options.log?.(`VAE Lens: the decode service sent a message that breaks its protocol (${parsed.error}); ending it.`);
          this.terminate();
          return;
        }
        const m = parsed.message;
        if (m.type === 'ready') {
          this.info = m.info;
          resolve(m.info);
        } else if (m.type === 'failed') reject(new Error(m.message));
        else this.settle(m);
      });
      void this.exited.then(({ code, signal }) => reject(new Error(this.endedText(code, signal))));
    });
    // A rejection nobody awaited yet must not surface as unhandled: callers read `ready` when they need it.
    this.ready.catch(() => undefined);
  }

  /** The kept epoch it decodes with; undefined: the latest checkpoint. */
  get epoch(): number | undefined {
    return this.options.epoch;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.hasExited;
  }

  private endedText(code: number | null, signal: NodeJS.Signals | null): string {
    const last = this.stderrTail.trim().split('\n').filter((l) => !/decode service for run .* (ready|ends)/.test(l)).at(-1);
    const how = signal ? `was ended by ${signal}` : `exited with code ${code}`;
    return `The decode service ${how}${last ? `: ${last}` : '.'}`;
  }

  private settle(m: Exclude<ServiceMessage, { type: 'ready' | 'failed' }>): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.type === 'error') p.reject(new Error(m.message));
    else p.resolve(m);
  }

  private request<T extends Decoded | Tested>(body: { type: 'decode'; z: number[] } | { type: 'test'; indices: number[] }): Promise<T> {
    if (this.hasExited || !this.child.connected) return Promise.reject(new Error('The decode service is not running.'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`The decode service did not answer within ${REQUEST_TIMEOUT_MS / 1000} s.`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as Pending['resolve'], reject, timer });
      this.child.send({ ...body, id });
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

  /** Asks the service to exit; terminates it (this client's own child) if it has not within a few seconds. */
  close(): Promise<void> {
    if (!this.hasExited) {
      if (this.child.connected) this.child.send({ type: 'close' });
      const timer = setTimeout(() => this.terminate(), CLOSE_GRACE_MS);
      void this.exited.then(() => clearTimeout(timer));
    }
    return this.exited.then(() => undefined);
  }

  private terminate(): void {
    if (!this.hasExited) this.child.kill('SIGTERM');
  }

  /** The latent space info once ready (undefined before). */
  get latentSpace(): LatentSpaceInfo | undefined {
    return this.info;
  }
}
