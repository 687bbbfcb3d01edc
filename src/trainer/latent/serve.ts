/**
 * The decode service: `node dist/trainer.js '{"serve": "<run folder>"}'`, forked with IPC by the
 * extension host for a run panel's Latent tab. It opens the run's checkpoint (the weights and the
 * test set, encoded once), says `ready` with what it knows of the latent space, then answers
 * requests (decode rows of z; μ and pixels of test images) one at a time, in order. It reads the
 * run folder and writes nothing to it, so a run that is training is not disturbed.
 *
 * Given a socket (`listen`, src/node/serviceSocket.ts) it also serves the other VS Code windows of
 * the user: it claims the socket before opening the run, and exits at once (`elsewhere`) when a
 * live service already holds it. Each connection is a client with its own request ids.
 *
 * It exits when no request has come for `idleMs` (the next request starts another), and when its
 * clients are gone: the parent (IPC disconnects, or it sends `close`) and every socket client.
 * A parent that closes while other windows still use it is told `released`.
 */
import type { Server, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { claimServiceSocket, readJsonLines, writeJsonLine } from '../../node/serviceSocket';
import { activeDimsByKl, dimsByKl, project } from '../../shared/latent';
import {
  SCATTER_DIMS, SCATTER_POINTS, SERVICE_IDLE_MS, MAX_DECODE_ROWS, MAX_TEST_IMAGES, bytesToBase64, parseServiceRequest, toGreyBytes,
  type LatentSpaceInfo, type ServiceMessage, type ServiceRequest,
} from '../../shared/latentService';
import { keptCheckpointEpochs } from '../checkpoint';
import { priorNoise } from '../rng';
import { checkTestIndex, checkZ, decode, openExplorer, scatterPlane, type Explorer } from './index';

export interface ServeOptions {
  idleMs?: number;
  /** A kept epoch's weights instead of the latest checkpoint. */
  epoch?: number;
  /** The socket other windows reach this service on (none: the parent only). */
  listen?: string;
  send(message: ServiceMessage): void;
  /** Requests from the parent, and a call when the parent is gone. */
  onRequest(handler: (request: unknown) => void): void;
  onParentGone(handler: () => void): void;
  log(line: string): void;
}

/** The shown test images' μ and the prior noise rows on `dims` (row-major), for a scatter of any two of them. */
function valuesOnDims(mu: Float32Array, shown: number, noise: Float32Array, dimz: number, dims: number[]): { dims: number[]; muDims: number[]; noiseDims: number[] } {
  const pick = (values: Float32Array, rows: number) => {
    const out: number[] = [];
    for (let i = 0; i < rows; i++) for (const d of dims) out.push(values[i * dimz + d]);
    return out;
  };
  return { dims, muDims: pick(mu, shown), noiseDims: pick(noise, noise.length / dimz) };
}

/** What the Latent tab is told once: sizes, per-dimension KL_d and Var(μ_d), the scatter of test μ. */
export function latentSpaceInfo(explorer: Explorer, device: string, openMs: number, latest = true): LatentSpaceInfo {
  const { dimz, seed } = explorer.config;
  const { dims } = explorer.latent;
  const active = activeDimsByKl(dims);
  const shown = Math.min(SCATTER_POINTS, explorer.data.testCount);
  let scatter: LatentSpaceInfo['scatter'];
  if (dimz >= 2 && explorer.data.testCount > 0) {
    const plane = scatterPlane(explorer);
    const points = project(explorer.mu.subarray(0, shown * dimz), shown, plane);
    const noise = priorNoise(seed, dimz);
    const percent = (share: number) => (Number.isFinite(share) ? ` (${Math.round(share * 100)}% of Var(μ))` : '');
    scatter = {
      axes: [`${plane.labels[0]}${percent(plane.explained[0])}`, `${plane.labels[1]}${percent(plane.explained[1])}`],
      points: Array.from(points),
      labels: explorer.data.testLabels ? Array.from(explorer.data.testLabels.subarray(0, shown)) : null,
      labelNames: explorer.data.labelNames ?? null,
      noise: Array.from(project(noise, noise.length / dimz, plane)),
      ...valuesOnDims(explorer.mu, shown, noise, dimz, (active.length ? active : dimsByKl(dims.kl)).slice(0, SCATTER_DIMS)),
      u: Array.from(plane.u),
      v: Array.from(plane.v),
    };
  } else {
    scatter = { axes: [], points: [], labels: null, labelNames: null, noise: [], dims: [], muDims: [], noiseDims: [], u: [], v: [] };
  }
  return {
    runId: explorer.runId,
    epochsCompleted: explorer.epochsCompleted,
    dimz,
    width: explorer.data.width,
    height: explorer.data.height,
    channels: explorer.data.channels ?? 1,
    testCount: explorer.data.testCount,
    device,
    kl: Array.from(dims.kl),
    varMu: Array.from(dims.varMu),
    order: active.length ? active : dimsByKl(dims.kl),
    anyActive: active.length > 0,
    scatter,
    keptEpochs: keptCheckpointEpochs(explorer.runDir),
    latest,
    openMs,
  };
}

/** One request's answer, or the reason it has none. */
export async function answer(explorer: Explorer, request: ServiceRequest): Promise<ServiceMessage> {
  const { id } = request;
  try {
    if (request.type === 'decode') {
      const started = performance.now();
      const z = checkZ(explorer, request.z);
      const rows = z.length / explorer.config.dimz;
      if (rows > MAX_DECODE_ROWS) throw new Error(`A decode request may carry at most ${MAX_DECODE_ROWS} z (got ${rows}).`);
      const images = await decode(explorer, z);
      return { type: 'decoded', id, rows, pixels: bytesToBase64(toGreyBytes(images)), ms: performance.now() - started };
    }
    if (request.indices.length === 0 || request.indices.length > MAX_TEST_IMAGES) {
      throw new Error(`A request may ask for 1–${MAX_TEST_IMAGES} test images (got ${request.indices.length}).`);
    }
    const { dimz } = explorer.config;
    const pixels = explorer.data.pixels;
    const mu: number[] = [];
    const grey = new Float32Array(request.indices.length * pixels);
    request.indices.forEach((index, k) => {
      checkTestIndex(explorer, index);
      mu.push(...explorer.mu.subarray(index * dimz, (index + 1) * dimz));
      grey.set(explorer.data.test.subarray(index * pixels, (index + 1) * pixels), k * pixels);
    });
    return { type: 'tested', id, indices: [...request.indices], mu, pixels: bytesToBase64(toGreyBytes(grey)) };
  } catch (e) {
    return { type: 'error', id, message: (e as Error).message };
  }
}

/** A request and where its answer goes (the parent, or one socket client). */
interface Queued {
  request: unknown;
  reply(message: ServiceMessage): void;
  /** A socket client's `close`: it leaves; the parent's: it leaves, and is told `released` if the service stays. */
  client: Socket | 'parent';
}

/** Runs the service until it is idle or its clients are gone; resolves with the exit code. */
export async function serve(runDir: string, options: ServeOptions): Promise<number> {
  const idleMs = options.idleMs ?? SERVICE_IDLE_MS;
  const queue: Queued[] = [];
  const sockets = new Set<Socket>();
  let parentGone = false;
  let ready: ServiceMessage | undefined;
  let wake: (() => void) | undefined;
  let ending: string | undefined;
  const end = (why: string) => {
    ending ??= why;
    wake?.();
  };
  const leave = () => {
    if (parentGone && sockets.size === 0) end('its clients are gone');
  };
  const push = (item: Queued) => {
    queue.push(item);
    wake?.();
  };
  options.onRequest((request) => push({ request, reply: options.send, client: 'parent' }));
  options.onParentGone(() => {
    parentGone = true;
    leave();
  });

  let server: Server | undefined;
  if (options.listen) {
    let claimed: Server | 'elsewhere';
    try {
      claimed = await claimServiceSocket(options.listen);
    } catch (e) {
      options.send({ type: 'failed', message: `The decode service cannot take its socket: ${(e as Error).message}` });
      return 1;
    }
    if (claimed === 'elsewhere') {
      options.send({ type: 'elsewhere' });
      options.log(`VAE Lens: a decode service for ${runDir} runs already (another window); this one ends.`);
      return 0;
    }
    server = claimed;
    server.on('connection', (socket) => {
      sockets.add(socket);
      const reply = (m: ServiceMessage) => void writeJsonLine(socket, m);
      readJsonLines(socket, (request) => push({ request, reply, client: socket }), (why) => {
        options.log(`VAE Lens decode service: a client sent ${why}; its connection is closed.`);
        socket.destroy();
      });
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        sockets.delete(socket);
        leave();
      });
      if (ready) reply(ready);
    });
  }

  const started = performance.now();
  let explorer: Explorer | undefined;
  try {
    try {
      explorer = await openExplorer(runDir, { log: options.log, epoch: options.epoch });
    } catch (e) {
      const failed: ServiceMessage = { type: 'failed', message: (e as Error).message };
      options.send(failed);
      for (const socket of sockets) writeJsonLine(socket, failed);
      return 1;
    }
    const device = `${explorer.environment.backend} · ${explorer.environment.device}`;
    const info = latentSpaceInfo(explorer, device, performance.now() - started, options.epoch === undefined);
    options.send({ type: 'ready', info });
    ready = { type: 'ready', info, pid: process.pid };
    for (const socket of sockets) writeJsonLine(socket, ready);
    options.log(`VAE Lens: decode service for run ${explorer.runId} ready (${device}, epoch ${explorer.epochsCompleted}${server ? ', shared with other windows' : ''}).`);
    for (;;) {
      while (queue.length === 0 && !ending) {
        const idle = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), idleMs);
          wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        wake = undefined;
        if (idle && queue.length === 0) end(`idle for ${Math.round(idleMs / 1000)} s`);
      }
      if (ending) break;
      const item = queue.shift()!;
      const parsed = parseServiceRequest(item.request);
      if (!parsed.ok) {
        if (parsed.id !== undefined) item.reply({ type: 'error', id: parsed.id, message: `Bad request: ${parsed.error}.` });
        else options.log(`VAE Lens decode service: ignored a bad request (${parsed.error}).`);
        continue;
      }
      if (parsed.request.type === 'close') {
        if (item.client === 'parent') {
          parentGone = true;
          if (sockets.size > 0) {
            options.log(`VAE Lens: decode service for run ${explorer.runId} stays for ${sockets.size} other window${sockets.size === 1 ? '' : 's'}.`);
            options.send({ type: 'released' });
          }
          leave();
        } else item.client.end();
        continue;
      }
      item.reply(await answer(explorer, parsed.request));
    }
    options.log(`VAE Lens: decode service for run ${explorer.runId} ends (${ending}).`);
    return 0;
  } finally {
    server?.close();
    for (const socket of sockets) socket.destroy();
    explorer?.dispose();
  }
}
