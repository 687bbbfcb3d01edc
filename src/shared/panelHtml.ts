/**
 * The one HTML page of the run and compare panels, shared by the extension host (scripts and
 * styles as webview URIs), the static report (inlined) and the webview tests (served over HTTP),
 * so all three run the same page under the same kind of Content-Security-Policy.
 */
import type { PanelKind } from './panelState';

export type PageScript = ({ src: string } | { text: string }) & {
  module?: boolean;
  /** Loads beside the page and runs when it arrives, not in order (a linked script only). */
  async?: boolean;
  id?: string;
};
export type PageStyle = { href: string } | { text: string };

export interface PanelPage {
  title: string;
  panel: PanelKind;
  csp: string;
  nonce: string;
  styles: PageStyle[];
  /** Inline scripts run first, in the head before the styles load (the page's boot script). */
  headScripts?: Array<{ text: string }>;
  /** Run in order; the webview bundle last. */
  scripts: PageScript[];
  /** Elements placed before the scripts, e.g. embedded data for the report. */
  extraBody?: string;
}

/** A nonce for script tags: 32 characters from [A-Za-z0-9], from a cryptographic source. */
export function makeNonce(randomBytes: (n: number) => Uint8Array): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(32), (b) => chars[b % chars.length]).join('');
}

/**
 * The panels' policy inside VS Code. Nothing loads unless listed: scripts only with this page's
 * nonce (Plotly's basic bundle, scatter charts only, needs no eval), images and fonts only from the
 * webview's own resource origin (the run folders, dist/ and media/ through localResourceRoots).
 * No data: or blob: images, no 'unsafe-inline' styles, no 'unsafe-eval': the panels draw within
 * this policy with zero violations (test/webview/policy.test.ts opens every tab and checks).
 *
 * What that took, so nobody relaxes the policy to "fix" a blank chart:
 * - The heat map is drawn by the panel on a <canvas> (Plotly's heatmap shows its cells as a
 *   data:image/png <image>, which img-src blocks: the cells were blank).
 * - Plotly's bundle is the basic one (scatter, bar, pie): the bundles with map traces probe WebP
 *   support on load with two data:image/webp images.
 * - Plotly injects its stylesheet by creating <style id="plotly.js-style-global"> and filling it
 *   with insertRule; Chromium blocks that element without 'unsafe-inline'. The page ships that
 *   element itself, empty and nonce'd (PLOTLY_STYLE_ID): Plotly finds it by id and only calls
 *   insertRule on its sheet, which CSP does not restrict.
 * - Plotly's bundle also carries the map library's stylesheet, which it appends as a <style> on
 *   load unless an element with its id exists; the page ships an empty one (MAP_STYLE_ID). The
 *   panels draw no maps.
 */
export function webviewCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource}`,
    `font-src ${cspSource}`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

/** The id of the <script type="application/json"> element that carries the static report's snapshot. */
export const REPORT_DATA_ID = 'vae-lens-report-data';

/** The id Plotly looks up before creating its own <style> element (see webviewCsp). */
export const PLOTLY_STYLE_ID = 'plotly.js-style-global';

/**
 * The id Plotly's bundle checks before appending the map library's stylesheet (a hash of that
 * stylesheet, fixed for a Plotly release). A Plotly update that changes it shows up as a
 * style-src-elem violation in the policy test.
 */
export const MAP_STYLE_ID = 'ce8d464691048653ffe3a57c6c18ab566e8366f186677868cf724621a857b4fe';

/** The static report's policy: everything is inlined, images are data: URIs, nothing is fetched. */
export function reportCsp(nonce: string): string {
  return ["default-src 'none'", 'img-src data:', 'font-src data:', `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`].join('; ');
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Makes text safe inside <script>…</script> or <style>…</style>: no closing tag can end it early. */
export function escapeInlineText(text: string): string {
  return text.replace(/<\/(script|style)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

export function renderPanelHtml(page: PanelPage): string {
  const headScripts = (page.headScripts ?? []).map((s) => `<script nonce="${page.nonce}">${escapeInlineText(s.text)}</script>\n`).join('');
  const styles = page.styles
    .map((s) => ('href' in s ? `<link rel="stylesheet" href="${escapeAttr(s.href)}">` : `<style nonce="${page.nonce}">${escapeInlineText(s.text)}</style>`))
    .join('\n');
  const scripts = page.scripts
    .map((s) => {
      const attrs = `${s.id ? ` id="${escapeAttr(s.id)}"` : ''}${s.module ? ' type="module"' : ''}`;
      return 'src' in s
        ? `<script${attrs}${s.async ? ' async' : ''} nonce="${page.nonce}" src="${escapeAttr(s.src)}"></script>`
        : `<script${attrs} nonce="${page.nonce}">${escapeInlineText(s.text)}</script>`;
    })
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(page.csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeAttr(page.title)}</title>
${headScripts}${styles}
<style id="${PLOTLY_STYLE_ID}" nonce="${page.nonce}"></style>
<style id="${MAP_STYLE_ID}" nonce="${page.nonce}"></style>
</head>
<body>
<main id="app" data-panel="${page.panel}" aria-live="polite"><p class="loading">Loading…</p></main>
${page.extraBody ?? ''}
${scripts}
</body>
</html>
`;
}

/**
 * The page's first script, inline under the page's nonce and first in the head, so that it runs
 * when the page is written into its frame, before any file loads (a script after a stylesheet waits
 * for it). It takes VS Code's API for the bundle (which may be acquired once); holds the host's
 * messages until the bundle listens (the host answers `loading` with the snapshot, which so arrives
 * while the page's files load instead of a round trip after them); tells the host at once that the
 * page runs; and tells it when a script or stylesheet of the page fails to load. Right after a
 * window reload, VS Code can show a restored panel before its resource loader is ready: the page's
 * files then fail to load and the panel would stay on "Loading…"; the host loads such a page again
 * (runsPanel.ts). `page` numbers the host's loads of the page, so that it can tell a failure of an
 * earlier load from a new one.
 */
export const pageBootScript = (page: number): string => `if (typeof acquireVsCodeApi === 'function') {
  const api = window.vaeLensVsCodeApi = acquireVsCodeApi();
  const early = [];
  let deliver = (data) => early.push(data);
  window.addEventListener('message', (e) => deliver(e.data));
  window.vaeLensListen = (handler) => { deliver = handler; for (const data of early.splice(0)) handler(data); };
  api.postMessage({ type: 'loading' });
  window.addEventListener('error', (e) => {
    const t = e.target;
    if (t && (t.tagName === 'SCRIPT' || t.tagName === 'LINK')) api.postMessage({ type: 'loadFailed', page: ${Math.trunc(page)}, url: String(t.src || t.href).slice(0, 1000) });
  }, true);
}`;

/** The id of Plotly's <script>, whose load the charts wait for (src/webview/plotly.ts). */
export const PLOTLY_SCRIPT_ID = 'vae-lens-plotly';

/** Paths (relative to the extension root) of what the panel page loads, in order. */
export const PANEL_ASSETS = {
  styles: ['dist/media/codicon.css', 'media/panel.css'],
  /**
   * vscode-elements is an ES module; Plotly sets window.Plotly; the webview bundle runs last.
   * Linked, Plotly is async: the panel draws all but its charts while Plotly's 1.1 MB loads.
   */
  scripts: [
    { path: 'dist/media/vscode-elements.js', module: true, async: false },
    { path: 'dist/media/plotly.min.js', module: false, async: true, id: PLOTLY_SCRIPT_ID },
    { path: 'dist/webview.js', module: false, async: false },
  ],
} as const;

/** The page's scripts loaded from URLs (a webview's resource URIs, or a test server). */
export function linkedPanelScripts(url: (path: string) => string): PageScript[] {
  return PANEL_ASSETS.scripts.map((s) => ({ src: url(s.path), module: s.module, async: s.async, ...('id' in s ? { id: s.id } : {}) }));
}

/** The panel page loading its assets from URLs (a webview's resource URIs, or a test server). */
export function renderLinkedPanelHtml(options: { title: string; panel: PanelKind; csp: string; nonce: string; url: (path: string) => string; extraStyles?: string[]; page?: number }): string {
  return renderPanelHtml({
    title: options.title,
    panel: options.panel,
    csp: options.csp,
    nonce: options.nonce,
    styles: [...(options.extraStyles ?? []), ...PANEL_ASSETS.styles].map((p) => ({ href: options.url(p) })),
    headScripts: [{ text: pageBootScript(options.page ?? 1) }],
    scripts: linkedPanelScripts(options.url),
  });
}
