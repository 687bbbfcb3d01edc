/**
 * VAE Lens extension host entry point. It never loads TensorFlow.js: training runs in a child
 * process (dist/trainer.js), and everything shown is read from run folders.
 */
import * as vscode from 'vscode';

let log: vscode.LogOutputChannel | undefined;

export function activate(context: vscode.ExtensionContext): void {
  log = vscode.window.createOutputChannel('VAE Lens', { log: true });
  context.subscriptions.push(log);
  context.subscriptions.push(
    vscode.commands.registerCommand('vaeLens.showLog', () => log?.show(true)),
  );
  log.info(`VAE Lens ${context.extension.packageJSON.version} activated`);
}

export function deactivate(): void {
  log = undefined;
}
