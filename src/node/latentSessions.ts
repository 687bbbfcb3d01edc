/**
 * The host's side of the Latent tab: answers the tab's requests through one decode service per run
 * folder (never two), started on the first request and again after it has ended (idle, or
 * crashed). A service ends when the last panel showing its run releases it. Used by the run panel
 * in the extension host, and by the tests that play the host.
 */
import type { FromLatentTabMessage, ToLatentTabMessage } from '../shared/latentService';
import { LatentServiceClient, type LatentClientOptions } from './latentClient';
import { readRunInfo } from './runFolder';

export interface LatentSessionsOptions extends LatentClientOptions {
  /** A reason the explorer may not run now (an untrusted workspace), or undefined when it may. */
  whyNot?: () => string | undefined;
}

export class LatentSessions {
  private readonly services = new Map<string, LatentServiceClient>();
  private readonly replaced = new WeakSet<LatentServiceClient>();
  private disposed = false;

  constructor(private readonly trainerJs: string, private readonly options: LatentSessionsOptions = {}) {}

  /**
   * The run's service; on `latentOpen`, one that decodes older weights than the run's latest
   * checkpoint (the run trained on) is replaced by one on the latest.
   */
  private async service(dir: string, fresh: boolean): Promise<LatentServiceClient> {
    const running = this.services.get(dir);
    if (running?.alive && fresh && running.latentSpace) {
      const completed = await readRunInfo(dir).then((i) => i.epochsCompleted, () => 0);
      if (completed > running.latentSpace.epochsCompleted && this.services.get(dir) === running) {
        this.options.log?.(`VAE Lens: the run has trained to epoch ${completed}; the decode service on epoch ${running.latentSpace.epochsCompleted} is replaced.`);
        this.replaced.add(running);
        await this.release(dir);
      }
    }
    const current = this.services.get(dir);
    if (current?.alive) return current;
    const client = new LatentServiceClient(this.trainerJs, dir, this.options);
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
    const client = await this.service(dir, message.type === 'latentOpen');
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

  /** pids of the running services. */
  pids(): number[] {
    return [...this.services.values()].filter((c) => c.alive && c.pid !== undefined).map((c) => c.pid!);
  }
}
