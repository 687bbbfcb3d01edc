/**
 * Runs the real webview bundle in headless Chromium the way VS Code does: the same page
 * (renderPanelHtml), the same Content-Security-Policy with a nonce, assets and run images served
 * from one origin (standing in for the webview resource origin), and a fake acquireVsCodeApi that
 * records what the webview posts. The test plays the host: it answers `ready` with a snapshot built
 * by the same toRunView the extension uses.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { readRun } from '../../src/node/runFolder';
import { linkedPanelScripts, pageBootScript, PANEL_ASSETS, renderLinkedPanelHtml, renderPanelHtml, webviewCsp } from '../../src/shared/panelHtml';
import type { PanelKind } from '../../src/shared/panelState';
import { toRunView, type SnapshotMessage, type ToWebviewMessage } from '../../src/shared/protocol';
import { DEFAULT_HEALTH_SETTINGS } from '../../src/shared/health';
import { repoRoot } from '../support/repoRoot';

export const ROOT = repoRoot();

const TYPES: Record<string, string> = {
  '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.ttf': 'font/ttf', '.html': 'text/html', '.json': 'application/json',
};

export class PanelServer {
  private readonly runs = new Map<string, string>();
  private readonly pages = new Map<string, string>();
  private server!: Server;
  origin = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const file = this.resolve(decodeURIComponent(url.pathname));
      if (url.pathname === '/favicon.ico') {
        // Chromium asks a top-level page for its icon; a webview page is never asked. No content, no 404 on the console.
        res.writeHead(204).end();
      } else if (typeof file === 'object') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(file.html);
      } else if (file && existsSync(file) && statSync(file).isFile()) {
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
      } else {
        res.writeHead(404).end('not found');
      }
    });
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private resolve(path: string): string | { html: string } | undefined {
    const page = this.pages.get(path);
    if (page) return { html: page };
    const inside = (base: string, rel: string) => {
      const p = normalize(join(base, rel));
      return p.startsWith(base + sep) ? p : undefined;
    };
    if (path.startsWith('/dist/') || path.startsWith('/media/')) return inside(ROOT, path.slice(1));
    const m = /^\/runs\/([^/]+)\/(.+)$/.exec(path);
    if (m && this.runs.has(m[1])) return inside(this.runs.get(m[1])!, m[2]);
    return undefined;
  }

  /** The URL prefix under which a run folder's files are served (like asWebviewUri of the folder). */
  runBase(dir: string): string {
    for (const [key, d] of this.runs) if (d === dir) return `${this.origin}/runs/${key}/`;
    const key = String(this.runs.size + 1);
    this.runs.set(key, dir);
    return `${this.origin}/runs/${key}/`;
  }

  addPage(html: string): string {
    const path = `/page-${this.pages.size + 1}.html`;
    this.pages.set(path, html);
    return this.origin + path;
  }

  close(): Promise<void> {
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

/**
 * Chromium for one test file, with a profile folder this harness owns: it is removed after the
 * browser has exited (removing it from the context's close event races Chromium's last writes).
 */
export async function launchPanelBrowser(viewport = { width: 1300, height: 1000 }): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'vae-lens-panels-chromium-'));
  const context = await launchChromium({ userDataDir, viewport });
  return {
    context,
    close: async () => {
      await context.close();
      try {
        rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
      } catch {
        // A profile folder left in the temp directory is harmless.
      }
    },
  };
}

/**
 * One server and one browser for a test file: registers the before/after hooks and returns the
 * objects they fill in (read them inside tests).
 */
export function panelTestEnvironment(viewport = { width: 1300, height: 1000 }): { server: PanelServer; context: BrowserContext } {
  const env = {} as { server: PanelServer; context: BrowserContext };
  let browser: Awaited<ReturnType<typeof launchPanelBrowser>> | undefined;
  before(async () => {
    env.server = await new PanelServer().start();
    browser = await launchPanelBrowser(viewport);
    env.context = browser.context;
  });
  after(async () => {
    await browser?.close();
    await env.server?.close();
  });
  return env;
}

/** Records posted messages and state; stands in for VS Code's acquireVsCodeApi. */
export function fakeVsCodeApi(initialState: unknown): string {
  return `
window.__posted = [];
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + String(e.blockedURI).slice(0, 60) + ' ' + e.sourceFile + ':' + e.lineNumber + ':' + e.columnNumber));
let state = ${JSON.stringify(initialState ?? null)};
window.acquireVsCodeApi = () => ({
  postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
  getState: () => state,
  setState: (s) => { state = JSON.parse(JSON.stringify(s)); window.__state = state; },
});`;
}

/**
 * The run panel's page as the extension host sets it (linked files, its policy), with a stand-in
 * for VS Code whose host answers the page's `loading` with this snapshot at once, as the extension
 * host does: it arrives while the page's files still load.
 */
export function pageAnsweringLoading(server: PanelServer, snapshot: SnapshotMessage): string {
  const host = `const fake = window.acquireVsCodeApi;
window.acquireVsCodeApi = () => {
  const api = fake();
  return { ...api, postMessage: (m) => {
    api.postMessage(m);
    if (m.type === 'loading') window.dispatchEvent(new MessageEvent('message', { data: ${JSON.stringify(snapshot).replace(/</g, '\\u003c')} }));
  } };
};`;
  const nonce = 'hostnonce' + Math.random().toString(36).slice(2);
  return renderLinkedPanelHtml({ title: 'VAE Lens test panel', panel: snapshot.panel, nonce, csp: webviewCsp(server.origin, nonce), url: (p) => `${server.origin}/${p}` })
    .replace(`<script nonce="${nonce}">`, `<script nonce="${nonce}">${fakeVsCodeApi(null)}\n${host}</script>\n<script nonce="${nonce}">`);
}

/** The three kinds of VS Code theme; the page's --vscode-* variables come from media/report-theme.css. */
export type PanelTheme = 'dark' | 'light' | 'high-contrast';
export const PANEL_THEMES: readonly PanelTheme[] = ['dark', 'light', 'high-contrast'];

export interface OpenedPanel {
  page: Page;
  snapshot: SnapshotMessage;
  /** Posts a host message and waits until the webview has handled it. */
  send(message: ToWebviewMessage): Promise<{ ms: number }>;
  posted(): Promise<Array<{ type: string; [k: string]: unknown }>>;
  /** Every Content-Security-Policy violation: securitypolicyviolation events and the console's reports. */
  cspViolations(): Promise<string[]>;
  /** Everything logged as an error on the page's console so far. */
  consoleErrors(): string[];
  state(): Promise<unknown>;
}

export async function snapshotFor(server: PanelServer, panel: PanelKind, dirs: string[]): Promise<SnapshotMessage> {
  const runs = await Promise.all(dirs.map(async (d) => toRunView(await readRun(d), server.runBase(d))));
  return { type: 'snapshot', v: 1, panel, interactive: true, runs, health: { ...DEFAULT_HEALTH_SETTINGS } };
}

export async function openPanel(
  context: BrowserContext,
  server: PanelServer,
  panel: PanelKind,
  dirs: string[],
  options: { colorScheme?: 'light' | 'dark'; theme?: PanelTheme; state?: unknown; viewport?: { width: number; height: number }; /** Leave sending the snapshot to the caller (benchmarks time it). */ deferSnapshot?: boolean } = {},
): Promise<OpenedPanel> {
  const nonce = 'testnonce' + Math.random().toString(36).slice(2);
  const html = renderPanelHtml({
    title: 'VAE Lens test panel',
    panel,
    nonce,
    csp: webviewCsp(server.origin, nonce),
    styles: ['media/report-theme.css', ...PANEL_ASSETS.styles].map((p) => ({ href: `${server.origin}/${p}` })),
    headScripts: [{ text: fakeVsCodeApi(options.state) }, { text: pageBootScript(1) }],
    scripts: linkedPanelScripts((p) => `${server.origin}/${p}`),
  });
  const page = await context.newPage();
  if (options.viewport) await page.setViewportSize(options.viewport);
  const theme = options.theme ?? options.colorScheme ?? 'dark';
  await page.emulateMedia({ colorScheme: theme === 'light' ? 'light' : 'dark', contrast: theme === 'high-contrast' ? 'more' : 'no-preference' });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Chromium reports every blocked load or inline style on the console too, also those from before the page's listener.
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url || 'page'})`);
  });
  await page.goto(server.addPage(html));
  await page.waitForFunction(() => (window as unknown as { __posted: Array<{ type: string }> }).__posted.some((m) => m.type === 'ready'), null, { timeout: 20000 });
  // Plotly loads beside the page (async): the tests start from a page that has all its scripts.
  await page.waitForFunction(() => 'Plotly' in window, null, { timeout: 20000 });
  const send = async (message: ToWebviewMessage) => {
    const result = await page.evaluate(
      (m) =>
        new Promise<{ ms: number }>((ok) => {
          const root = document.getElementById('app')!;
          root.addEventListener('vae-lens-rendered', (e) => ok({ ms: (e as CustomEvent<{ ms: number }>).detail.ms }), { once: true });
          window.postMessage(m, '*');
        }),
      message,
    );
    if (errors.length) throw new Error(`The webview threw: ${errors.join('; ')}`);
    return result;
  };
  const snapshot = await snapshotFor(server, panel, dirs);
  if (!options.deferSnapshot) await send(snapshot);
  return {
    page,
    snapshot,
    send,
    posted: () => page.evaluate(() => (window as unknown as { __posted: Array<{ type: string }> }).__posted),
    cspViolations: async () => {
      const all = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
      const fromConsole = consoleErrors.filter((t) => /Content Security Policy/i.test(t)).map((t) => `console: ${t.slice(0, 300)}`);
      // Plotly's own stylesheet must have gone into the page's nonce'd element.
      const rules = await page.evaluate(() => (document.getElementById('plotly.js-style-global') as HTMLStyleElement | null)?.sheet?.cssRules.length ?? 0);
      const found = [...all, ...fromConsole];
      if (rules === 0) found.push('Plotly stylesheet is empty');
      return found;
    },
    consoleErrors: () => consoleErrors.slice(),
    state: () => page.evaluate(() => (window as unknown as { __state: unknown }).__state),
  };
}

/** Number of traces and points per trace of the Plotly chart named data-chart=id. */
export async function chartTraces(page: Page, id: string): Promise<Array<{ name: string; points: number; opacity: number | undefined }>> {
  // A chart draws when it can be seen and Plotly has loaded: a moment after the snapshot.
  await page.waitForFunction((chartId) => !!(document.querySelector(`[data-chart="${chartId}"]`) as { data?: unknown } | null)?.data, id, { timeout: 10000 }).catch(() => undefined);
  return page.evaluate((chartId) => {
    const el = document.querySelector(`[data-chart="${chartId}"]`) as HTMLElement & { data?: Array<{ name: string; x: unknown[]; opacity?: number }> };
    if (!el?.data) throw new Error(`chart ${chartId} is not drawn`);
    return el.data.map((t) => ({ name: t.name, points: t.x.length, opacity: t.opacity }));
  }, id);
}
