/**
 * Errors in `*.vae.json` experiment files as you type: syntax (JSON with comments), then what
 * Train would refuse — a field's value, a layer's fields, a network that does not fit the images
 * ("decoder[4]: reshape to [7, 7, 64] needs 3136 values …") — each on the field or layer it names.
 * The JSON schema VS Code validates these files with checks one field at a time; this adds the
 * checks that need the whole experiment, with the same messages Train and the CLI give.
 */
import * as vscode from 'vscode';
import { parseExperimentText, rangeOfMessage, type TextRange } from '../shared/experimentFile';
import { experimentNameFromFile, resolveTrainConfig } from './model/presets';
import { trainDefaults } from './settings';

const SOURCE = 'VAE Lens';
const DELAY_MS = 300;

export function isExperimentFile(doc: vscode.TextDocument): boolean {
  return /\.vae\.json$/i.test(doc.uri.path) && doc.uri.scheme !== 'git';
}

function diagnostic(doc: vscode.TextDocument, range: TextRange, message: string): vscode.Diagnostic {
  const start = doc.positionAt(range.offset);
  const d = new vscode.Diagnostic(new vscode.Range(start, doc.positionAt(range.offset + range.length)), message, vscode.DiagnosticSeverity.Error);
  d.source = SOURCE;
  return d;
}

/** The problems of one document's text, as Train would report them. */
export function experimentDiagnostics(doc: vscode.TextDocument): vscode.Diagnostic[] {
  const text = doc.getText();
  const parsed = parseExperimentText(text);
  if (!parsed.ok) return parsed.problems.map((p) => diagnostic(doc, p, `Not valid JSON: ${p.message}`));
  const resolved = resolveTrainConfig(trainDefaults(doc.uri), { name: experimentNameFromFile(doc.uri.path), ...parsed.value });
  if (resolved.ok) return [];
  return resolved.errors.map((message) => diagnostic(doc, rangeOfMessage(parsed.tree, message), message));
}

/** Keeps the diagnostics of every open experiment file current (debounced while typing). */
export function registerExperimentDiagnostics(): vscode.Disposable {
  const collection = vscode.languages.createDiagnosticCollection('vae-lens-experiments');
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const check = (doc: vscode.TextDocument) => {
    if (!isExperimentFile(doc) || doc.isClosed) return;
    collection.set(doc.uri, experimentDiagnostics(doc));
  };
  const later = (doc: vscode.TextDocument) => {
    if (!isExperimentFile(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(key, setTimeout(() => {
      timers.delete(key);
      check(doc);
    }, DELAY_MS));
  };
  vscode.workspace.textDocuments.forEach(check);
  const subscriptions = [
    collection,
    vscode.workspace.onDidOpenTextDocument(check),
    vscode.workspace.onDidChangeTextDocument((e) => later(e.document)),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      clearTimeout(timers.get(doc.uri.toString()));
      collection.delete(doc.uri);
    }),
    // Settings fill what a file leaves out (vaeLens.defaults.*, vaeLens.dataset), so they change what is valid.
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('vaeLens')) vscode.workspace.textDocuments.forEach(check);
    }),
  ];
  return vscode.Disposable.from(...subscriptions, { dispose: () => timers.forEach((t) => clearTimeout(t)) });
}
