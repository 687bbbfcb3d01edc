/**
 * The messages between a panel's host (extension host, or the static report's shim) and its
 * webview: one discriminated union per direction, one interface per message (the shape of
 * microsoft/vscode-hexeditor's shared/protocol.ts). Both sides import this file; neither sends an
 * untyped object. The host validates every message from the webview with parseFromWebviewMessage
 * before acting on it: a webview is a browser page and its messages are input, not trusted calls.
 *
 * Flow: the page's boot script says `loading` as soon as the page runs; the host answers with a
 * complete `snapshot` (run info, every epoch, warnings, where the images are), which the boot
 * script holds until the bundle listens. The bundle says `ready` when it listens (a page whose
 * `loading` the host did not act on gets its snapshot then). While a run trains, the host posts
 * `append` with the new epochs. A hidden webview drops messages, so the host sends a full snapshot
 * again whenever the panel becomes visible (never a delta that could land on a stale page).
 *
 * What a page persists across reloads is in panelState.ts; how epochs fold (the later event for an
 * epoch wins, also when an append rewrites one) in runRules.ts.
 */
import { epochEventSchema, warningEventSchema, type EpochEvent, type RunEvent, type SkippedLine, type WarningEvent } from './events';
import { DEFAULT_HEALTH_SETTINGS, resolveHealthSettings, type HealthSettings } from './health';
import { checkRunInfo, type RunInfo } from './run';
import { parseUiState, type PanelKind, type UiState } from './panelState';
import { SchemaError, array, boolean, check, custom, isPlainObject, literal, number, object, oneOf, optional, string, tagged } from './schema';
import { foldEpochs, MAX_COMPARE_RUNS, warningEvents } from './runRules';
import { isLatentTabRequestType, parseLatentTabRequest, toLatentTabSchemas, type FromLatentTabMessage, type ToLatentTabMessage } from './latentService';


/** One run as the webview sees it: what is on disk, plus where its images can be loaded from. */
export interface RunView {
  /** Absolute run folder: the run's identity in messages. */
  dir: string;
  info: RunInfo;
  epochs: EpochEvent[];
  warnings: WarningEvent[];
  /** Prefix that turns an image path relative to the run folder into a URL (a webview URI, ending in '/'). */
  imageBase: string;
  /** Embedded images (static report): relative path → data: URI. When present, only these exist. */
  images?: Record<string, string>;
  /** Lines of events.jsonl that could not be used: how many, and the first few with their reasons. */
  skipped?: SkippedLines;
  /**
   * The run's folder no longer exists (deleted or moved away): the view holds what was loaded
   * before, and the panel says so; the host sends a snapshot without it when the folder is back.
   */
  gone?: boolean;
}

export interface SkippedLines {
  count: number;
  problems: SkippedLine[];
}

// ---- host → webview ----

export interface SnapshotMessage {
  type: 'snapshot';
  v: number;
  panel: PanelKind;
  /** False in the static report: no Stop/Resume, nothing to talk to. */
  interactive: boolean;
  runs: RunView[];
  /**
   * The thresholds the gauges and the warnings banner are judged by: the user's `vaeLens.warnings.*`
   * settings as the VAE Runs view uses them, so a panel never disagrees with the tree. The host
   * sends a fresh snapshot when they change. Read with parseHealthSettings.
   */
  health: HealthSettings;
  /**
   * The panel's view as the host knows it (from the page's uiState messages, or a restored panel's
   * record): the page starts in it, ahead of its own saved state, which a browser-hosted VS Code may
   * not have written before a reload. A panel that replaces a restored one carries it on.
   */
  ui?: UiState;
}

export interface AppendMessage {
  type: 'append';
  dir: string;
  /** run.json as it is now (status, epochs completed). */
  info: RunInfo;
  epochs: EpochEvent[];
  warnings: WarningEvent[];
}

/** The Latent tab's messages (latentService.ts) travel on the same channel. */
export type ToWebviewMessage = SnapshotMessage | AppendMessage | ToLatentTabMessage;

// ---- webview → host ----

export interface ReadyMessage {
  type: 'ready';
}

/** The page's first script runs (before its bundles load): it takes messages, held until the bundle listens. */
export interface LoadingMessage {
  type: 'loading';
}

/** One of the page's own scripts or stylesheets failed to load: the page cannot start. */
export interface LoadFailedMessage {
  type: 'loadFailed';
  /** Which load of the page (the host counts them). */
  page: number;
  url: string;
}

/** Stop a live run (the host runs the command vaeLens.stop). */
export interface StopRunMessage {
  type: 'stop';
  dir: string;
}

/** Resume a stopped or interrupted run (the host runs the command vaeLens.resume). */
export interface ResumeRunMessage {
  type: 'resume';
  dir: string;
}

/** From the compare panel: open one of its runs in its own run panel. */
export interface OpenRunMessage {
  type: 'openRun';
  dir: string;
}

/**
 * The panel's view changed (tab, image epoch, chart choices). The host keeps a copy: a browser-hosted
 * VS Code may reload the window before it has written the page's saved state.
 */
export interface UiStateMessage {
  type: 'uiState';
  ui: UiState;
}

/** The webview hit an error it cannot show itself; the host logs it. */
export interface WebviewErrorMessage {
  type: 'error';
  message: string;
}

export type FromWebviewMessage = ReadyMessage | LoadingMessage | LoadFailedMessage | StopRunMessage | ResumeRunMessage | OpenRunMessage | UiStateMessage | WebviewErrorMessage | FromLatentTabMessage;

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

const MAX_TEXT = 4096;

function onlyKeys(value: Record<string, unknown>, keys: readonly string[]): string | undefined {
  const extra = Object.keys(value).filter((k) => !keys.includes(k));
  return extra.length ? `unexpected field(s) ${extra.join(', ')}` : undefined;
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TEXT;
}

/**
 * Checks a message from the webview against the protocol. Anything else (unknown type, missing or
 * extra fields, wrong types, oversized strings) is rejected with a reason for the log.
 */
export function parseFromWebviewMessage(value: unknown): ParseResult<FromWebviewMessage> {
  if (!isPlainObject(value)) return { ok: false, error: 'a message must be an object' };
  const type = value.type;
  switch (type) {
    case 'ready':
    case 'loading': {
      const extra = onlyKeys(value, ['type']);
      return extra ? { ok: false, error: `${type}: ${extra}` } : { ok: true, message: { type } };
    }
    case 'loadFailed': {
      const extra = onlyKeys(value, ['type', 'page', 'url']);
      if (extra) return { ok: false, error: `loadFailed: ${extra}` };
      if (typeof value.page !== 'number' || !Number.isSafeInteger(value.page) || value.page < 1) return { ok: false, error: 'loadFailed: "page" must be a positive whole number' };
      if (!isText(value.url)) return { ok: false, error: 'loadFailed: "url" must be a non-empty string' };
      return { ok: true, message: { type, page: value.page, url: value.url } };
    }
    case 'stop':
    case 'resume':
    case 'openRun': {
      const extra = onlyKeys(value, ['type', 'dir']);
      if (extra) return { ok: false, error: `${type}: ${extra}` };
      if (!isText(value.dir)) return { ok: false, error: `${type}: "dir" must be a non-empty string` };
      return { ok: true, message: { type, dir: value.dir } };
    }
    case 'uiState': {
      const extra = onlyKeys(value, ['type', 'ui']);
      if (extra) return { ok: false, error: `uiState: ${extra}` };
      if (!isPlainObject(value.ui)) return { ok: false, error: 'uiState: "ui" must be an object' };
      // Field by field, like saved state: a value out of range falls back to its default.
      return { ok: true, message: { type, ui: parseUiState(value.ui) } };
    }
    case 'error': {
      const extra = onlyKeys(value, ['type', 'message']);
      if (extra) return { ok: false, error: `error: ${extra}` };
      if (typeof value.message !== 'string') return { ok: false, error: 'error: "message" must be a string' };
      return { ok: true, message: { type, message: value.message.slice(0, MAX_TEXT) } };
    }
    default:
      if (isLatentTabRequestType(type)) return parseLatentTabRequest(value);
      return { ok: false, error: `unknown message type ${JSON.stringify(typeof type === 'string' ? type.slice(0, 40) : type)}` };
  }
}

const runViewSchema = object({
  dir: string({ minLength: 1, maxLength: MAX_TEXT }),
  info: custom((value, path) => {
    const checked = checkRunInfo(value);
    if (!checked.ok) throw new SchemaError(path, checked.error);
    return checked.info;
  }, () => ({})),
  epochs: array(epochEventSchema),
  warnings: array(warningEventSchema),
  imageBase: string({ maxLength: MAX_TEXT }),
  images: optional(custom((value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SchemaError(path, 'expected an object of images');
    for (const [k, v] of Object.entries(value)) if (typeof v !== 'string' || !v.startsWith('data:image/png;base64,')) throw new SchemaError(`${path}.${k}`, 'expected a PNG data: URI');
    return value as Record<string, string>;
  }, () => ({}))),
  gone: optional(boolean()),
  skipped: optional(object({ count: number({ integer: true, min: 0 }), problems: array(object({ line: number({ integer: true, min: 1 }), reason: string({ maxLength: MAX_TEXT }) }), { maxLength: 20 }) })),
});

const toWebviewSchema = tagged('type', {
  snapshot: object({ type: literal('snapshot'), v: number({ integer: true }), panel: oneOf(['run', 'compare'] as const), interactive: boolean(), runs: array(runViewSchema, { maxLength: MAX_COMPARE_RUNS }), health: custom((v) => parseHealthSettings(v), () => ({})), ui: optional(custom((v) => parseUiState(v), () => ({}))) }),
  append: object({ type: literal('append'), dir: string({ minLength: 1, maxLength: MAX_TEXT }), info: runViewSchema.fields.info, epochs: array(epochEventSchema), warnings: array(warningEventSchema) }),
  ...toLatentTabSchemas,
});

/**
 * Checks a message from the host (or the report's embedded snapshot) against the run-folder
 * schema before the page draws it: the webview never draws what the contract does not allow.
 */
export function parseToWebviewMessage(value: unknown): ParseResult<ToWebviewMessage> {
  const result = check(toWebviewSchema, value);
  return result.ok ? { ok: true, message: result.value as ToWebviewMessage } : { ok: false, error: result.error };
}

/**
 * The health thresholds of a snapshot: every field that is a finite non-negative number is taken,
 * anything else (a missing field from an older report, a wrong type) falls back to the default, so
 * a bad value can neither break a panel nor silently judge by a threshold nobody set.
 */
export function parseHealthSettings(value: unknown): HealthSettings {
  if (!isPlainObject(value)) return { ...DEFAULT_HEALTH_SETTINGS };
  return resolveHealthSettings(value as Partial<Record<keyof HealthSettings, unknown>>);
}

/** Splits a run's events into what a view shows: epochs by runRules.foldEpochs, and warnings. */
export function splitRunEvents(events: readonly RunEvent[]): { epochs: EpochEvent[]; warnings: WarningEvent[] } {
  return { epochs: foldEpochs(events), warnings: warningEvents(events) };
}

/** A RunView from a run folder's contents. */
export function toRunView(run: { dir: string; info: RunInfo; events: readonly RunEvent[] }, imageBase: string, images?: Record<string, string>): RunView {
  const { epochs, warnings } = splitRunEvents(run.events);
  return { dir: run.dir, info: run.info, epochs, warnings, imageBase, ...(images ? { images } : {}) };
}
