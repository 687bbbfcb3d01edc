/**
 * Who the webview talks to: VS Code (acquireVsCodeApi), or, in the static HTML report, a tiny shim
 * that hands over the snapshot embedded in the page. The views only see this interface.
 */
import { REPORT_DATA_ID } from '../shared/panelHtml';
import type { FromWebviewMessage, SnapshotMessage, ToWebviewMessage } from '../shared/protocol';

export interface PanelHost {
  post(message: FromWebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
  onMessage(handler: (message: ToWebviewMessage) => void): void;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

function isToWebviewMessage(value: unknown): value is ToWebviewMessage {
  const type = (value as { type?: unknown } | null)?.type;
  return (type === 'snapshot' && Array.isArray((value as SnapshotMessage).runs)) || type === 'append';
}

export function vscodeHost(): PanelHost {
  const api = acquireVsCodeApi();
  return {
    post: (m) => api.postMessage(m),
    getState: () => api.getState(),
    setState: (s) => api.setState(s),
    onMessage: (handler) =>
      window.addEventListener('message', (event: MessageEvent) => {
        if (isToWebviewMessage(event.data)) handler(event.data);
      }),
  };
}


/** The static report: the snapshot is in the page; state lives only as long as the page. */
export function reportHost(): PanelHost {
  const el = document.getElementById(REPORT_DATA_ID);
  if (!el?.textContent) throw new Error('This report has no embedded run data.');
  const snapshot = JSON.parse(el.textContent) as SnapshotMessage;
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
