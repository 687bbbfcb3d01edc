/**
 * Who the webview talks to: VS Code (acquireVsCodeApi), or, in the static HTML report, a tiny shim
 * that hands over the snapshot embedded in the page. The views only see this interface.
 */
import { REPORT_DATA_ID } from '../shared/panelHtml';
import type { PanelState } from '../shared/panelState';
import { parseToWebviewMessage, type FromWebviewMessage, type ToWebviewMessage } from '../shared/protocol';

export interface PanelHost {
  post(message: FromWebviewMessage): void;
  getState(): unknown;
  setState(state: PanelState): void;
  onMessage(handler: (message: ToWebviewMessage) => void): void;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;


export function vscodeHost(): PanelHost {
  // The page's boot script (pageBootScript) has taken the API already; VS Code gives it once.
  const api = (globalThis as { vaeLensVsCodeApi?: VsCodeApi }).vaeLensVsCodeApi ?? acquireVsCodeApi();
  return {
    post: (m) => api.postMessage(m),
    getState: () => api.getState(),
    setState: (s) => {
      api.setState(s);
      // The host keeps the view too: a browser-hosted VS Code may reload before it writes the state.
      api.postMessage({ type: 'uiState', ui: s.ui });
    },
    onMessage: (handler) => {
      const take = (data: unknown) => {
        const parsed = parseToWebviewMessage(data);
        if (parsed.ok) handler(parsed.message);
        else api.postMessage({ type: 'error', message: `The panel ignored a message that breaks the run-folder contract: ${parsed.error}` });
      };
      // The boot script (pageBootScript) holds what came before the bundle ran: the snapshot, usually.
      const listen = (globalThis as { vaeLensListen?: (handler: (data: unknown) => void) => void }).vaeLensListen;
      if (listen) listen(take);
      else window.addEventListener('message', (event: MessageEvent) => take(event.data));
    },
  };
}


/** The static report: the snapshot is in the page; state lives only as long as the page. */
export function reportHost(): PanelHost {
  const el = document.getElementById(REPORT_DATA_ID);
  if (!el?.textContent) throw new Error('This report has no embedded run data.');
  const parsed = parseToWebviewMessage(JSON.parse(el.textContent));
  if (!parsed.ok || parsed.message.type !== 'snapshot') throw new Error(`This report's embedded run data is not valid: ${parsed.ok ? 'not a snapshot' : parsed.error}`);
  const snapshot = parsed.message;
  let state: unknown;
  return {
    post: (m) => {
      if (m.type === 'error') console.error(m.message);
    },
    getState: () => state,
    setState: (s) => {
      state = s;
    },
    onMessage: (handler) => queueMicrotask(() => handler(snapshot)),
  };
}

export function detectHost(): PanelHost {
  return typeof (globalThis as { acquireVsCodeApi?: unknown }).acquireVsCodeApi === 'function' ? vscodeHost() : reportHost();
}
