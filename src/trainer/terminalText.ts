/**
 * Text from run folders (names, ids, messages) on its way to a terminal. A run.json from elsewhere
 * may hold ANSI escape sequences or other control characters that would recolour, move the cursor,
 * retitle the window or hide text; every CLI line for humans passes through here.
 */

/** ESC-introduced sequences (CSI, OSC, and two-character escapes), and 8-bit CSI/OSC. */
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]|\u009b[0-?]*[ -/]*[@-~]|\u009d[^\u0007\u009c]*[\u0007\u009c]?/g;
/** C0 controls except tab and newline, DEL, C1 controls, and the bidirectional overrides that reorder what is shown. */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with escape sequences removed and any other control character shown as `?`. Tabs and newlines stay. */
export function terminalText(text: string): string {
  return text.replace(ESCAPES, '').replace(/\r\n/g, '\n').replace(CONTROLS, '?');
}

/** One cell of a table: like terminalText, and a newline or tab becomes a space. */
export function terminalCell(text: string): string {
  return terminalText(text).replace(/[\t\n]/g, ' ');
}
