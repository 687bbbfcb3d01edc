/** Helpers for the trainer tests: a collecting output, temp run folders, the built trainer, number comparison. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EpochEvent, RunEvent, TrainerMessage } from '../../src/shared/events';
import type { TrainerOutput } from '../../src/trainer/train';
import { repoRoot } from '../support/repoRoot';

export const ROOT = repoRoot();
export const TRAINER_JS = join(ROOT, 'dist', 'trainer.js');
export const CLI_JS = join(ROOT, 'dist', 'cli.js');

export function tempRunsDir(): string {
  return mkdtempSync(join(tmpdir(), 'vae-lens-trainer-test-'));
}

export function collectingOutput(): TrainerOutput & { messages: TrainerMessage[]; logs: string[] } {
  const messages: TrainerMessage[] = [];
  const logs: string[] = [];
  return { messages, logs, send: (m) => void messages.push(m), log: (l) => void logs.push(l) };
}

export function epochsOf(events: RunEvent[]): EpochEvent[] {
  return events.filter((e): e is EpochEvent => e.type === 'epoch');
}

/** Every number of two epoch events that does not measure time agrees within a relative tolerance. */
export function assertSameEpochNumbers(actual: EpochEvent, expected: EpochEvent, tolerance = 1e-6): void {
  const strip = (e: EpochEvent) => ({ ...e, time: '', samplesPerSecond: 0, secondsPerEpoch: 0 });
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (typeof b === 'number') {
      assert.equal(typeof a, 'number', path);
      const tol = tolerance * Math.max(1, Math.abs(b));
      assert.ok(Math.abs((a as number) - b) <= tol, `${path}: ${a} ≠ ${b}`);
    } else if (Array.isArray(b)) {
      assert.ok(Array.isArray(a) && a.length === b.length, `${path}: length`);
      b.forEach((v, i) => walk((a as unknown[])[i], v, `${path}[${i}]`));
    } else if (typeof b === 'object' && b !== null) {
      for (const k of Object.keys(b)) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    } else assert.equal(a, b, path);
  };
  walk(strip(actual), strip(expected), `epoch ${expected.epoch}`);
}

/** Starts the built trainer with a request; JSON lines on stdout are parsed into messages. */
export function spawnTrainer(request: unknown, env: Record<string, string> = {}): {
  child: ChildProcess;
  messages: TrainerMessage[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  onMessage: (fn: (m: TrainerMessage) => void) => void;
} {
  const child = spawn(process.execPath, [TRAINER_JS, JSON.stringify(request)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VAE_LENS_PROGRESS_MS: '0', ...env },
  });
  const messages: TrainerMessage[] = [];
  const listeners: ((m: TrainerMessage) => void)[] = [];
  let pending = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const m = JSON.parse(line) as TrainerMessage;
      messages.push(m);
      for (const l of listeners) l(m);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  // 'close', not 'exit': every line the trainer wrote has been read by then.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('close', (code, signal) => done({ code, signal })));
  return { child, messages, stderr: () => err, exited, onMessage: (fn) => void listeners.push(fn) };
}

/**
 * The first message (seen from now on) that matches, or null once the trainer has exited without
 * one: awaiting a message alone would leave the test pending with nothing to wake it.
 */
export function untilMessage(trainer: ReturnType<typeof spawnTrainer>, matches: (m: TrainerMessage) => boolean): Promise<TrainerMessage | null> {
  return new Promise((done) => {
    trainer.onMessage((m) => matches(m) && done(m));
    void trainer.exited.then(() => done(null));
  });
}

/** Runs the CLI (the built one, or `script`, a copy of it elsewhere) to completion. */
export function runCli(args: string[], cwd = ROOT, env: Record<string, string> = {}, script = CLI_JS): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}
