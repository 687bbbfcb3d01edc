import type { StopRequest } from './train';

/**
 * Stop requests: IPC {type:'stop'} from the extension, SIGTERM, SIGINT (Ctrl+C). The first lets
 * the current batch finish and checkpoints; a second SIGINT ends the process at once.
 */
export function listenForStop(stop: StopRequest, log: (line: string) => void): () => void {
  const onMessage = (message: unknown) => {
    if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'stop') stop.request('stop requested');
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (signal === 'SIGINT' && stop.requested) {
      log('VAE Lens: second interrupt, exiting without a checkpoint.');
      process.exit(130);
    }
    log(`VAE Lens: ${signal}: finishing the current batch, then saving a checkpoint…`);
    stop.request(signal);
  };
  process.on('message', onMessage);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('message', onMessage);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
