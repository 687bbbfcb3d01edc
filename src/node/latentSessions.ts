/**
 * The host's side of the Latent tab: answers the tab's requests through one decode service per run
 * folder (never two), started on the first request and again after it has ended (idle, or
 * crashed). A service ends when the last panel showing its run releases it. Used by the run panel
 * in the extension host, and by the tests that play the host.
 *
 * Between windows (each has its own extension host, so its own LatentSessions) a service on the
 * same run and weights is shared through a socket in the user's private folder
 * (src/node/serviceSocket.ts): the second window connects to the first one's service, which stays
 * until the last window using it lets go.
 */
import { realpathSync } from 'node:fs';
import type { FromLatentTabMessage, ToLatentTabMessage } from '../shared/latentService';
import { LatentServiceClient, type LatentClientOptions } from './latentClient';
import { serviceSocketFolder, serviceSocketPath } from './serviceSocket';

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

export interface LatentSessionsOptions extends Omit<LatentClientOptions, 'socket'> {
  /**
   * Where services are shared with other windows: the user's private folder under this one
   * (default: the temporary folder), or false for services of this LatentSessions only.
   */
  socketBase?: string | false;
  /** A reason the explorer may not run now (an untrusted workspace), or undefined when it may. */
  whyNot?: () => string | undefined;
  /**
   * How many epochs the run has completed, as its reader knows (in the extension host: the run
   * store, the host's one reader of run folders). Without it a service is never replaced by one
   * on newer weights.
   */
  epochsCompleted?: (dir: string) => number | undefined | Promise<number | undefined>;
}

export class LatentSessions {
  private readonly services = new Map<string, LatentServiceClient>();
  private readonly replaced = new WeakSet<LatentServiceClient>();
  /** The weights each run's tab last asked for, for a service started again after it idled out. */
  private readonly lastEpoch = new Map<string, number>();
  private disposed = false;
  private readonly socketFolder: string | undefined;

  constructor(private readonly trainerJs: string, private readonly options: LatentSessionsOptions = {}) {
    if (options.socketBase === false) return;
    const folder = serviceSocketFolder(options.socketBase);
    if (folder.dir) this.socketFolder = folder.dir;
    else options.log?.(`VAE Lens: decode services are not shared with other windows (${folder.why}).`);
  }

  /**
   * The shared socket for a run's weights: a kept epoch's, or the latest as the run's reader counts
   * them (a window that sees more epochs than an open service has gets a service of its own on them).
   */
  private async socketFor(dir: string, epoch: number | undefined): Promise<string | undefined> {
    if (!this.socketFolder) return undefined;
    const weights = epoch !== undefined ? `epoch-${epoch}` : `latest-${(await this.options.epochsCompleted?.(dir)) ?? 'unknown'}`;
    return serviceSocketPath(this.socketFolder, dir, weights, JSON.stringify([realpathOr(this.trainerJs), this.options.env ?? {}]));
  }

  /**
   * The run's service. A `latentOpen` names the weights the tab wants (a kept epoch, or the latest):
   * a service on other weights — another epoch, or latest weights older than the run's latest
   * checkpoint (the run trained on) — is replaced. Other requests go to the service there is.
   */
  private async service(dir: string, open: { epoch?: number } | undefined): Promise<LatentServiceClient> {
    const running = this.services.get(dir);
    if (running?.alive && open) {
      let stale = running.epoch !== open.epoch;
      if (!stale && open.epoch === undefined && running.latentSpace) {
        const completed = (await this.options.epochsCompleted?.(dir)) ?? 0;
        stale = completed > running.latentSpace.epochsCompleted;
      }
      if (stale && this.services.get(dir) === running) {
        this.options.log?.(`VAE Lens: the decode service of ${dir} is replaced (${open.epoch === undefined ? 'the latest weights' : `epoch ${open.epoch}`} asked for).`);
        this.replaced.add(running);
        await this.release(dir);
      }
    }
    const epoch = open?.epoch ?? this.lastEpoch.get(dir);
    const socket = this.services.get(dir)?.alive ? undefined : await this.socketFor(dir, epoch);
    // Checked after the last await: two requests of this window never start two clients.
    const current = this.services.get(dir);
    if (current?.alive) return current;
    const client = new LatentServiceClient(this.trainerJs, dir, { ...this.options, epoch, socket });
    this.services.set(dir, client);
    void client.exited.then(() => {
      if (this.services.get(dir) === client) this.services.delete(dir);
    });
    return client;
  }

  /** Answers one request of the Latent tab through `post`. */
  async handle(message: FromLatentTabMessage, post: (reply: ToLatentTabMessage) => void): Promise<void> {
    const { dir } = message;
    const id = message.type === 'latentOpen' ? undefined : message.id;
    const why = this.disposed ? 'VAE Lens is shutting down.' : this.options.whyNot?.();
    if (why) {
      post({ type: 'latentUnavailable', dir, message: why });
      return;
    }
    if (message.type === 'latentOpen') {
      if (message.epoch === undefined) this.lastEpoch.delete(dir);
      else this.lastEpoch.set(dir, message.epoch);
    }
    const client = await this.service(dir, message.type === 'latentOpen' ? { epoch: message.epoch } : undefined);
    try {
      const info = await client.ready;
      if (message.type === 'latentOpen') {
        post({ type: 'latentInfo', dir, info });
        return;
      }
    } catch (e) {
      // The service cannot open the run: the whole tab is unavailable, not one request.
      post({ type: 'latentUnavailable', dir, message: (e as Error).message });
      return;
    }
    try {
      if (message.type === 'latentDecode') {
        const { rows, pixels } = await client.decode(message.z);
        post({ type: 'latentDecoded', dir, id: message.id, rows, pixels });
      } else if (message.type === 'latentTest') {
        const { indices, mu, pixels } = await client.test(message.indices);
        post({ type: 'latentTested', dir, id: message.id, indices, mu, pixels });
      }
    } catch (e) {
      // A request to a service replaced by one on newer weights has no answer: the tab asked for
      // the replacement and has started over.
      if (this.replaced.has(client)) return;
      post({ type: 'latentUnavailable', dir, ...(client.alive ? { id } : {}), message: (e as Error).message });
    }
  }

  /** Ends the service of a run (its panel closed). */
  release(dir: string): Promise<void> {
    const client = this.services.get(dir);
    this.services.delete(dir);
    return client ? client.close() : Promise.resolve();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all([...this.services.keys()].map((d) => this.release(d)));
  }

  /** pids of the running services (this window's own, and the other windows' ones it uses). */
  pids(): number[] {
    return [...this.services.values()].filter((c) => c.alive && c.pid !== undefined).map((c) => c.pid!);
  }
}
