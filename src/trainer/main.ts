/**
 * The trainer process: `node dist/trainer.js '<TrainerRequest JSON>'`. Forked by the extension it
 * talks over IPC (TrainerMessage out, TrainerCommand in); otherwise it writes the same messages as
 * JSON lines on stdout. stdout carries nothing else; human-readable logs go to stderr.
 * Exit code 0 when the run completed or was stopped, 1 when it failed, 2 for a bad request.
 */
import type { TrainerRequest } from '../shared/events';
import { ipcOutput, jsonLinesOutput, type ClosableOutput } from './progress';
import { listenForStop } from './signals';
import { ConfigError, StopRequest, resumeRun, startRun, type RunOutcome } from './train';
import { serve } from './latent/serve';
import { MAX_SOCKET_PATH } from '../node/serviceSocket';
import { isAbsolute, resolve } from 'node:path';

function parseRequest(text: string | undefined): TrainerRequest {
  if (!text) throw new Error('Usage: trainer.js \'{"config": {…}, "runsDir": "…"}\' or \'{"resume": "<run folder>"}\'');
  const value = JSON.parse(text) as TrainerRequest;
  if (typeof value !== 'object' || value === null) throw new Error('The trainer request must be a JSON object.');
  if ('resume' in value && typeof value.resume === 'string') return value;
  if ('serve' in value && typeof value.serve === 'string') {
    if (value.idleMs !== undefined && !(typeof value.idleMs === 'number' && value.idleMs > 0)) throw new Error('"idleMs" must be a positive number of milliseconds.');
    if (value.epoch !== undefined && !(Number.isInteger(value.epoch) && value.epoch >= 1)) throw new Error('"epoch" must be a whole number of epochs, at least 1.');
    if (value.listen !== undefined && !(typeof value.listen === 'string' && isAbsolute(value.listen) && Buffer.byteLength(value.listen) <= MAX_SOCKET_PATH)) throw new Error(`"listen" must be an absolute socket path of at most ${MAX_SOCKET_PATH} bytes.`);
    return value;
  }
  if ('config' in value && 'runsDir' in value && typeof value.runsDir === 'string') return value;
  throw new Error('The trainer request needs either "config" and "runsDir", or "resume".');
}

/** The decode service: only over IPC, with the extension host (or a test) as its parent. */
async function serveMain(request: Extract<TrainerRequest, { serve: string }>): Promise<number> {
  const send = process.send?.bind(process);
  if (!send) {
    process.stderr.write('VAE Lens trainer: the decode service ("serve") runs only when forked with IPC; use vae-lens decode|traverse|interpolate|scatter from a shell.\n');
    return 2;
  }
  // Once the parent has gone (the service stays for other windows), its stderr pipe is closed:
  // a log line then must not end the service.
  process.stderr.on('error', () => undefined);
  return serve(resolve(request.serve), {
    idleMs: request.idleMs,
    epoch: request.epoch,
    listen: request.listen,
    // A parent that is gone gets nothing (the service may stay for other windows).
    send: (m) => {
      if (process.connected) send(m);
    },
    onRequest: (handler) => void process.on('message', handler),
    onParentGone: (handler) => void process.on('disconnect', handler),
    log: (line) => {
      if (!process.stderr.destroyed) process.stderr.write(`${line}\n`);
    },
  });
}

async function main(): Promise<number> {
  let request: TrainerRequest | undefined;
  let problem: unknown;
  try {
    request = parseRequest(process.argv[2] ?? process.env.VAE_LENS_TRAINER_REQUEST);
  } catch (e) {
    problem = e;
  }
  if (request && 'serve' in request) return serveMain(request);
  const output: ClosableOutput = typeof process.send === 'function' ? ipcOutput() : jsonLinesOutput();
  const stop = new StopRequest();
  const unlisten = listenForStop(stop, output.log);
  let outcome: RunOutcome | undefined;
  let code: number;
  try {
    if (!request) throw problem;
    const options = { output, stop, data: request.data };
    outcome = 'resume' in request ? await resumeRun(request.resume, options) : await startRun(request, options);
    code = outcome.status === 'failed' ? 1 : 0;
  } catch (e) {
    // Before a run folder exists (bad request, invalid config, unreadable run): the parent is told why.
    const message = (e as Error).message;
    output.send({ type: 'notStarted', message });
    output.log(`VAE Lens trainer: ${message}`);
    code = e instanceof ConfigError || e instanceof SyntaxError ? 2 : 1;
  }
  unlisten();
  await output.close();
  return code;
}

void main().then((code) => {
  if (process.connected) process.disconnect();
  process.exit(code);
});
