/**
 * Where a run's messages go. Forked by the extension: typed TrainerMessages over IPC. From the
 * command line: JSON lines on stdout with --json, a progress bar on a terminal, plain lines
 * otherwise. Human-readable logs always go to stderr, so stdout carries only machine output.
 */
import { MultiBar, type SingleBar } from 'cli-progress';
import type { TrainerMessage } from '../shared/events';
import type { TrainerOutput } from './train';
import { terminalText } from './terminalText';

export interface ClosableOutput extends TrainerOutput {
  /** Waits until every message has left the process. */
  close(): Promise<void>;
}

/** Log lines may quote run folders' contents (names, messages): control characters never reach the terminal raw. */
const logToStderr = (line: string) => {
  const safe = terminalText(line);
  process.stderr.write(safe.endsWith('\n') ? safe : safe + '\n');
};

/** IPC to the parent; messages sent after the parent went away are dropped (the run folder has them). */
export function ipcOutput(): ClosableOutput {
  const pending = new Set<Promise<void>>();
  return {
    send(message: TrainerMessage) {
      if (!process.send || !process.connected) return;
      const sent = new Promise<void>((done) => {
        try {
          process.send!(message, undefined, undefined, () => done());
        } catch {
          done();
        }
      });
      pending.add(sent);
      void sent.then(() => pending.delete(sent));
    },
    log: logToStderr,
    async close() {
      await Promise.all([...pending]);
    },
  };
}

/** One JSON object per line on stdout. */
export function jsonLinesOutput(): ClosableOutput {
  return {
    send(message: TrainerMessage) {
      process.stdout.write(JSON.stringify(message) + '\n');
    },
    log: logToStderr,
    close: () => new Promise<void>((done) => process.stdout.write('', () => done())),
  };
}

function formatPhase(message: Extract<TrainerMessage, { type: 'progress' }>): string {
  return message.phase === 'training' ? `epoch ${message.epoch}/${message.epochs}` : message.phase;
}

/** A progress bar for the batches of the current epoch; log lines print above it. */
export function terminalOutput(): ClosableOutput {
  const multi = new MultiBar({
    format: ' {phase} |{bar}| {value}/{total} batches | loss {loss} | {speed} samples/s | eta {eta_formatted}',
    barsize: 30,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  });
  let bar: SingleBar | undefined;
  let barEpoch = 0;
  return {
    send(message) {
      if (message.type !== 'progress' || message.batches === 0) return;
      const payload = {
        phase: terminalText(formatPhase(message)),
        loss: Number.isFinite(message.loss) ? message.loss.toFixed(2) : '–',
        speed: Math.round(message.samplesPerSecond),
      };
      if (!bar) bar = multi.create(message.batches, message.batch, payload);
      else if (message.epoch !== barEpoch) bar.start(message.batches, message.batch, payload); // a fresh ETA per epoch
      else {
        bar.setTotal(message.batches);
        bar.update(message.batch, payload);
      }
      barEpoch = message.epoch;
    },
    log(line) {
      const safe = terminalText(line);
      if (bar) multi.log(safe.endsWith('\n') ? safe : safe + '\n');
      else logToStderr(line);
    },
    async close() {
      multi.stop();
    },
  };
}

/** Not a terminal: a line every few seconds and the epoch summaries. */
export function plainOutput(intervalMs = 10_000): ClosableOutput {
  let last = 0;
  let lastPhase = '';
  return {
    send(message) {
      if (message.type !== 'progress') return;
      const t = Date.now();
      const phaseChanged = message.phase !== lastPhase && message.phase !== 'training' && message.phase !== 'evaluating';
      lastPhase = message.phase;
      if (phaseChanged) logToStderr(`${message.phase}…`);
      else if (message.phase === 'training' && t - last >= intervalMs) {
        last = t;
        logToStderr(`epoch ${message.epoch}/${message.epochs}: batch ${message.batch}/${message.batches}, loss ${message.loss.toFixed(2)}, ${Math.round(message.samplesPerSecond)} samples/s`);
      }
    },
    log: logToStderr,
    close: async () => undefined,
  };
}

export function cliOutput(json: boolean): ClosableOutput {
  if (json) return jsonLinesOutput();
  return process.stderr.isTTY ? terminalOutput() : plainOutput();
}
