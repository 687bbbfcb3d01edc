/**
 * Drives the real VS Code workbench (code-server in headless Chromium) for the E2E tests.
 *
 *   import { E2E_TIMEOUT_MS, makeWorkspace, withWorkbench } from '../support/workbench';
 *
 *   test('…', { timeout: E2E_TIMEOUT_MS }, (t) =>
 *     withWorkbench(t, { workspace: makeWorkspace({ 'a.vae.json': '{}' }) }, async (wb) => {
 *       await wb.openView('VAE');
 *       await wb.expectVisible(wb.page.getByText('No VAE runs yet'), 'the VAE Runs welcome text');
 *       await wb.runCommand('VAE: Show Log');
 *       await wb.screenshot('log');
 *     }));
 *
 * Every wait that can fail names what it waited for, and withWorkbench saves a "failure"
 * screenshot before it stops the browser and server, whatever happened.
 */
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, FrameLocator, Locator, Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { repoRoot, startCodeServer, type CodeServer, type CodeServerOptions } from './codeServer';

export { makeWorkspace } from './codeServer';

/** A generous per-test limit: the first run installs code-server (about a minute). */
export const E2E_TIMEOUT_MS = 5 * 60_000;

export interface WorkbenchOptions extends CodeServerOptions {
  /** Color theme, e.g. 'Default Light Modern'; the default is 'Default Dark Modern'. */
  theme?: string;
  /** Activity-bar container to wait for before the workbench counts as ready (default 'VAE'). */
  readyContainer?: string;
  viewport?: { width: number; height: number };
}

export interface Workbench {
  readonly page: Page;
  readonly server: CodeServer;
  readonly context: BrowserContext;
  /** test-results/<test name>/ */
  readonly resultsDir: string;
  /** Runs a command from F1 by its full title ("VAE: Show Log"); fails naming the command if the palette lacks it. */
  runCommand(title: string): Promise<void>;
  /** Picks the entry labelled exactly `label` in the open quick pick (typing it as the filter if it does not show up unfiltered). */
  pickQuickItem(label: string, what?: string): Promise<void>;
  /** Types into the open quick input (an input box) and presses Enter. */
  submitQuickInput(text: string): Promise<void>;
  /** Opens a workspace file (path relative to the workspace folder) in an editor via Go to File. */
  openFile(relativePath: string): Promise<void>;
  /** Shows the activity-bar view container with this title ("VAE"), without toggling it closed. */
  openView(containerTitle: string): Promise<void>;
  /** The sidebar pane (section) of a view by its name ("VAE Runs"); fails naming it when absent. */
  viewPane(viewName: string): Promise<Locator>;
  /** Waits until the locator is visible; on timeout fails with "Expected to see <what> …". */
  expectVisible(locator: Locator, what: string, timeoutMs?: number): Promise<void>;
  /** Waits until the locator is hidden or gone; fails naming what stayed visible. */
  expectHidden(locator: Locator, what: string, timeoutMs?: number): Promise<void>;
  /** The content frame of a visible webview (two iframes deep): the last visible one, or the index-th visible one (e.g. two panels side by side). */
  webviewFrame(options?: { index?: number }): FrameLocator;
  /** Saves test-results/<test>/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  /** Errors logged on the console of the workbench or any of its frames (webviews included) so far, with the URL of the frame that logged each. */
  consoleErrors(): Array<{ text: string; url: string }>;
  /** Shows an output channel in the Output panel and returns its rendered text (visible lines only; see server.readLogChannel for all of it). */
  readOutputChannel(name: string): Promise<string>;
  /** Waits until an extension log channel's file (server.readLogChannel) matches; returns the whole log. Fails naming the channel and pattern. */
  expectLog(channel: string, pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** A notification toast containing `text`, once it is visible. */
  waitForNotification(text: string | RegExp, timeoutMs?: number): Promise<Locator>;
  /** Clicks the button `action` on the notification containing `text`. */
  clickNotificationAction(text: string | RegExp, action: string): Promise<void>;
  /** Reloads the window (as "Developer: Reload Window" would) and waits until the workbench is ready again. */
  reload(): Promise<void>;
  /**
   * Opens another window on the same workspace and server (another browser page: its own
   * extension host), ready like the first; its screenshots go to <results>/<name>/. Closing it
   * closes only its page.
   */
  openWindow(name: string): Promise<Workbench>;
  /** Closes the browser and stops the server (withWorkbench does this for you). */
  close(): Promise<void>;
}

/** The part of node:test's TestContext the harness uses (its name names the results folder). */
export interface NamedTest {
  readonly name: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * Starts code-server with VAE Lens, opens the workbench in Chromium, runs `body`, and always
 * cleans up. On failure it first saves test-results/<test>/failure.png, code-server.log and the
 * extension hosts' logs (logs/).
 */
export async function withWorkbench<T>(
  test: NamedTest,
  options: WorkbenchOptions,
  body: (wb: Workbench) => Promise<T>,
): Promise<T> {
  const wb = await openWorkbench(test, options);
  try {
    return await body(wb);
  } catch (err) {
    await wb.screenshot('failure').catch(() => undefined);
    saveServerLogs(wb);
    throw err;
  } finally {
    await wb.close();
  }
}

/** Keeps what the server and its extension hosts logged (test-results/<test>/logs) for a failed test. */
function saveServerLogs(wb: Workbench): void {
  try {
    mkdirSync(wb.resultsDir, { recursive: true });
    writeFileSync(join(wb.resultsDir, 'code-server.log'), wb.server.output());
    const logs = join(wb.server.userDataDir, 'logs');
    if (existsSync(logs)) cpSync(logs, join(wb.resultsDir, 'logs'), { recursive: true });
  } catch {
    // Diagnostics only: the test's own error is what matters.
  }
}

/** Like withWorkbench, for tests that manage the lifetime themselves: call close() in a finally or t.after. */
export async function openWorkbench(test: NamedTest, options: WorkbenchOptions): Promise<Workbench> {
  const settings = { ...options.settings, ...(options.theme ? { 'workbench.colorTheme': options.theme } : {}) };
  const server = await startCodeServer({ ...options, settings });
  let context: BrowserContext | undefined;
  try {
    context = await launchChromium({ viewport: options.viewport });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(DEFAULT_TIMEOUT_MS);
    const wb = makeWorkbench(test, page, server, context, options.readyContainer ?? 'VAE');
    // The first load compiles the whole workbench; on a busy 2-core machine that alone can take longer than an action.
    await page.goto(server.url, { timeout: 90_000 });
    await waitForWorkbench(wb, options.readyContainer ?? 'VAE');
    return wb;
  } catch (err) {
    await context?.close().catch(() => undefined);
    await server.stop();
    throw err;
  }
}

async function waitForWorkbench(wb: Workbench, readyContainer: string): Promise<void> {
  await wb.expectVisible(wb.page.locator('.monaco-workbench'), 'the VS Code workbench', 60_000);
  // Typing into the palette before the extension's contributions have loaded finds nothing.
  await wb.expectVisible(activityBarItem(wb.page, readyContainer), `the "${readyContainer}" activity-bar item`, 60_000);
}

function slug(s: string): string {
  return s.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'test';
}

function activityBarItem(page: Page, title: string): Locator {
  // The item's link is labelled "<title>" or "<title> (<keybinding>)".
  return page
    .locator('#workbench\\.parts\\.activitybar li.action-item[role="tab"]')
    .filter({ has: page.locator(`a.action-label[aria-label="${title}"], a.action-label[aria-label^="${title} ("]`) });
}

function exactly(text: string): RegExp {
  return new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
}

function makeWorkbench(test: NamedTest, page: Page, server: CodeServer, context: BrowserContext, readyContainer: string, ownResultsDir?: string): Workbench {
  const consoleErrors: Array<{ text: string; url: string }> = [];
  // Listening from the start: a webview's blocked loads are reported on the console as its page loads.
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push({ text: m.text(), url: m.location().url });
  });
  const resultsDir = ownResultsDir ?? join(repoRoot(), 'test-results', slug(test.name));
  // Screenshots of an earlier run of this test would pass for this run's.
  rmSync(resultsDir, { recursive: true, force: true });
  const windows: Workbench[] = [];
  let closed = false;

  const expectVisible = async (locator: Locator, what: string, timeoutMs = DEFAULT_TIMEOUT_MS) => {
    try {
      await locator.first().waitFor({ state: 'visible', timeout: timeoutMs });
    } catch (err) {
      if (closed) throw err;
      throw new Error(`Expected to see ${what}, but it was not visible within ${timeoutMs} ms (looked for ${locator}).`);
    }
  };

  const expectHidden = async (locator: Locator, what: string, timeoutMs = DEFAULT_TIMEOUT_MS) => {
    try {
      await locator.first().waitFor({ state: 'hidden', timeout: timeoutMs });
    } catch (err) {
      if (closed) throw err;
      throw new Error(`Expected ${what} to disappear, but it was still visible after ${timeoutMs} ms (looked for ${locator}).`);
    }
  };

  const quickInput = page.locator('.quick-input-widget');

  /** The row labelled exactly `label` once visible, or the labels the quick pick offered instead. */
  const findQuickItem = async (label: string, timeoutMs: number): Promise<{ row?: Locator; offered: string[]; filter?: string }> => {
    await expectVisible(quickInput, 'the quick input (command palette)');
    const input = quickInput.locator('input');
    const rows = quickInput.locator('.monaco-list-row');
    const row = rows.filter({ has: page.locator('.label-name', { hasText: exactly(label) }) }).first();
    const deadline = Date.now() + timeoutMs;
    // Wait for the entry first without typing: right after a command is picked from the palette,
    // the palette may still be on screen while the command's own quick pick is on its way, and
    // text typed then would go to the palette.
    let filtered = false;
    for (;;) {
      try {
        await row.waitFor({ state: 'visible', timeout: Math.min(1500, Math.max(1, deadline - Date.now())) });
        return { row, offered: [] };
      } catch {
        // Not there (yet).
      }
      if (Date.now() >= deadline) break;
      // Long lists are virtualized: an entry scrolled out of view has no row until the list is
      // filtered. Filter only a pick that is not the palette itself (quick access) and is empty.
      const placeholder = (await input.getAttribute('placeholder').catch(() => null)) ?? '';
      const quickAccess = /Type the name of a command|Search files by name/.test(placeholder);
      if (!filtered && !quickAccess && (await input.inputValue().catch(() => 'x')) === '') {
        await input.fill(label);
        filtered = true;
      }
    }
    const offered = (await rows.locator('.label-name').allTextContents().catch(() => [])).map((t) => t.trim());
    const filter = await input.inputValue().catch(() => undefined);
    await page.keyboard.press('Escape');
    return { offered, filter };
  };

  const describeOffered = ({ offered, filter }: { offered: string[]; filter?: string }) =>
    (offered.length ? offered.map((t) => `"${t}"`).join(', ') : 'nothing') + (filter === undefined ? '' : ` for the input ${JSON.stringify(filter)}`);

  const pickQuickItem = async (label: string, what = `the entry "${label}"`) => {
    const found = await findQuickItem(label, 5000);
    if (!found.row) throw new Error(`The quick pick has no ${what}. It offered: ${describeOffered(found)}.`);
    await found.row.click();
  };

  const runCommand = async (title: string) => {
    // The palette lists the commands known when it opens; just after a (re)load the extension's
    // may not be there yet, so a miss is retried with a freshly opened palette for a while.
    const deadline = Date.now() + 12_000;
    // With the focus inside a webview panel a key goes to the panel's frame, which hands it to the
    // workbench only once the frame is ready: a late F1 would then toggle the palette (or close the
    // command's own picker) after the command ran. So the focus moves to the workbench's status bar
    // first; the middle of the bar, between its left and right items, reacts to nothing.
    const focusWorkbench = async () => {
      const bar = page.locator('#workbench\\.parts\\.statusbar');
      const box = await bar.boundingBox();
      if (box) await bar.click({ position: { x: Math.floor(box.width / 2), y: Math.floor(box.height / 2) } }).catch(() => undefined);
    };
    for (;;) {
      if (await quickInput.isVisible()) await page.keyboard.press('Escape');
      if (await page.evaluate(() => document.activeElement?.tagName === 'IFRAME')) await focusWorkbench();
      await page.keyboard.press('F1');
      const input = quickInput.locator('input');
      if (!(await input.waitFor({ state: 'visible', timeout: 4000 }).then(() => true, () => false))) {
        await focusWorkbench();
        await page.keyboard.press('F1');
      }
      await expectVisible(input, 'the command palette input');
      await input.fill(`>${title}`);
      const found = await findQuickItem(title, 3000);
      if (found.row) {
        await found.row.click();
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `The command palette has no command "${title}" (is it contributed in package.json and is the extension installed?). ` +
            `It offered: ${describeOffered(found)}.`,
        );
      }
      await page.waitForTimeout(1000);
    }
    // The command has run once the palette has closed or been replaced by the command's own quick input.
    try {
      await page.waitForFunction(
        () => {
          const widget = document.querySelector<HTMLElement>('.quick-input-widget');
          const input = widget?.querySelector('input');
          return !widget || widget.style.display === 'none' || !input || !input.value.startsWith('>');
        },
        undefined,
        { timeout: 5000 },
      );
    } catch {
      throw new Error(`The command palette stayed open after picking "${title}".`);
    }
  };

  const submitQuickInput = async (text: string) => {
    const input = quickInput.locator('input');
    await expectVisible(input, 'the quick input box');
    await input.fill(text);
    await input.press('Enter');
  };

  const openFile = async (relativePath: string) => {
    const name = relativePath.split('/').pop() ?? relativePath;
    await runCommand('Go to File...');
    const input = quickInput.locator('input');
    await input.fill(relativePath);
    await pickQuickItem(name, `file "${relativePath}" in Go to File (is it in the workspace?)`);
    await expectVisible(
      page.locator('#workbench\\.parts\\.editor .tabs-container .tab', { hasText: name }),
      `an editor tab for ${relativePath}`,
    );
    // Commands that depend on the active editor (its language, e.g. Markdown: Open Preview) need its focus.
    await expectVisible(page.locator('#workbench\\.parts\\.editor .monaco-editor.focused'), `the focused editor of ${relativePath}`);
  };

  const openView = async (containerTitle: string) => {
    const item = activityBarItem(page, containerTitle);
    await expectVisible(item, `the "${containerTitle}" activity-bar item`);
    // Clicking the active container's item would close the sidebar.
    if ((await item.first().getAttribute('aria-selected')) !== 'true') await item.first().click();
    await expectVisible(
      page.locator('#workbench\\.parts\\.sidebar .composite.title h2', { hasText: new RegExp(`^${containerTitle}`, 'i') }),
      `the "${containerTitle}" sidebar`,
    );
  };

  const viewPane = async (viewName: string) => {
    const pane = page
      .locator('#workbench\\.parts\\.sidebar .pane')
      .filter({ has: page.locator('.pane-header', { has: page.locator('h3.title', { hasText: exactly(viewName) }) }) });
    await expectVisible(pane, `the "${viewName}" view in the sidebar`);
    return pane.first();
  };

  const webviewFrame = (options: { index?: number } = {}) => {
    // Hidden webviews keep their iframes (inside a container styled visibility: hidden).
    const outer = page.locator('iframe.webview.ready').filter({ visible: true });
    const frame = options.index === undefined ? outer.last() : outer.nth(options.index);
    return frame.contentFrame().locator('iframe#active-frame').contentFrame();
  };

  const screenshot = async (name: string) => {
    mkdirSync(resultsDir, { recursive: true });
    const path = join(resultsDir, `${slug(name)}.png`);
    await page.screenshot({ path });
    return path;
  };

  const readOutputChannel = async (name: string) => {
    // The channel list is a snapshot taken when the pick opens, and just after a (re)load the
    // extension host's channels may not be in it yet: reopen it until the channel is listed.
    const deadline = Date.now() + 15_000;
    for (;;) {
      await runCommand('Output: Show Output Channels...');
      const found = await findQuickItem(name, 3000);
      if (found.row) {
        await found.row.click();
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`The Output view has no channel "${name}" (has the extension created it?). It offered: ${describeOffered(found)}.`);
      }
      await page.waitForTimeout(1000);
    }
    const panel = page.locator('#workbench\\.parts\\.panel');
    await expectVisible(panel.locator('select.monaco-select-box').filter({ has: page.locator(`option[value="${name}"]`) }), `the Output panel`);
    // The output text is the Monaco editor in the Output view that is not its filter box.
    const lines = panel.locator('.output-view .monaco-editor:not(.viewpane-filter-container *) .view-lines').first();
    await expectVisible(lines.locator('.view-line'), `text in output channel "${name}"`);
    // Monaco may place line elements out of order; their `top` gives the order on screen.
    return lines.evaluate((el) =>
      Array.from(el.querySelectorAll<HTMLElement>('.view-line'))
        .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
        .map((l) => (l.textContent ?? '').replace(/\u00a0/g, ' '))
        .join('\n')
        .trimEnd(),
    );
  };

  const expectLog = async (channel: string, pattern: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = server.readLogChannel(channel);
      if (pattern.test(log)) return log;
      if (Date.now() > deadline) {
        throw new Error(`Expected the "${channel}" log to match ${pattern} within ${timeoutMs} ms; it holds:\n${log.slice(-2000) || '(nothing)'}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  // "fade-in-done": the toast has finished sliding in, so clicks and screenshots hit it where it rests.
  const notification = (text: string | RegExp) =>
    page.locator('.notifications-toasts .notification-toast.notification-fade-in-done').filter({ hasText: text });

  const waitForNotification = async (text: string | RegExp, timeoutMs = DEFAULT_TIMEOUT_MS) => {
    const toast = notification(text).first();
    await expectVisible(toast, `a notification containing ${JSON.stringify(String(text))}`, timeoutMs);
    return toast;
  };

  const clickNotificationAction = async (text: string | RegExp, action: string) => {
    const toast = await waitForNotification(text);
    const button = toast.locator('.monaco-button', { hasText: exactly(action) });
    await expectVisible(button, `the "${action}" button on the notification ${JSON.stringify(String(text))}`);
    await button.first().click();
  };

  const reload = async () => {
    await page.reload({ timeout: 90_000 });
    await waitForWorkbench(workbench, readyContainer);
  };

  const openWindow = async (name: string) => {
    const second = await context.newPage();
    second.setDefaultTimeout(DEFAULT_TIMEOUT_MS);
    const wb = makeWorkbench(test, second, server, context, readyContainer, join(resultsDir, slug(name)));
    windows.push(wb);
    await second.goto(server.url, { timeout: 90_000 });
    await waitForWorkbench(wb, readyContainer);
    return wb;
  };

  const close = async () => {
    if (closed) return;
    closed = true;
    // Another window of this one: its page only; the first window's close ends them all.
    if (ownResultsDir) {
      await page.close().catch(() => undefined);
      return;
    }
    for (const w of windows) await w.close();
    await context.close().catch(() => undefined);
    await server.stop();
  };

  const workbench: Workbench = {
    page, server, context, resultsDir, runCommand, pickQuickItem, submitQuickInput, openFile, openView, viewPane, expectVisible,
    expectHidden, webviewFrame, screenshot, consoleErrors: () => consoleErrors.slice(), readOutputChannel, expectLog, waitForNotification, clickNotificationAction, reload, openWindow, close,
  };
  return workbench;
}
