/**
 * Runs mocha test files inside code-server's Node extension host, with the repository loaded as
 * the extension under development. The web workbench reads extensionDevelopmentPath and
 * extensionTestsPath from its `payload` URL parameter (as desktop VS Code reads them from its
 * command line); the runner is @vscode/test-cli's, configured through VSCODE_TEST_OPTIONS exactly
 * as `vscode-test` configures it for desktop VS Code.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from './chromium';
import { makeWorkspace, repoRoot, startCodeServer } from './codeServer';

export interface InHostTestResult {
  tests: number;
  passes: { fullTitle: string }[];
  failures: { fullTitle: string; message: string }[];
  /** Mocha's JSON report as the extension host wrote it. */
  report: string;
  /** The exit code the extension host reported when the tests finished. */
  exitCode: number | undefined;
}

interface MochaJsonReport {
  stats: { tests: number };
  passes: { fullTitle: string }[];
  failures: { fullTitle: string; err: { message?: string } }[];
}

export async function runInHostSuite(files: string[], options: { timeoutMs?: number; workspace?: string } = {}): Promise<InHostTestResult> {
  const root = repoRoot();
  const runner = join(root, 'node_modules', '@vscode', 'test-cli', 'out', 'runner.cjs');
  if (!existsSync(runner)) throw new Error(`${runner} is missing: run npm install.`);
  const reportDir = mkdtempSync(join(tmpdir(), 'vae-lens-inhost-'));
  const reportFile = join(reportDir, 'mocha.json');
  const testOptions = {
    files,
    preload: [],
    colorDefault: false,
    mochaOpts: { ui: 'tdd', timeout: 20_000, reporter: 'json', reporterOption: { output: reportFile } },
  };
  const server = await startCodeServer({
    workspace: options.workspace ?? makeWorkspace(),
    // The repository itself is the extension under development; no .vsix.
    installExtension: false,
    env: { VSCODE_TEST_OPTIONS: JSON.stringify(testOptions) },
  });
  const context = await launchChromium();
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    let exitCode: number | undefined;
    const exited = new Promise<void>((resolve) => {
      // The workbench calls window.codeAutomationExit(code) when the extension host's tests end.
      void page.exposeFunction('codeAutomationExit', (code: number) => {
        exitCode = code;
        resolve();
      });
    });
    const remote = (path: string) => `vscode-remote://127.0.0.1:${server.port}${path}`;
    const payload = [
      ['extensionDevelopmentPath', remote(root)],
      ['extensionTestsPath', remote(runner)],
    ];
    await page.goto(`${server.url}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    const timeoutMs = options.timeoutMs ?? 120_000;
    const timedOut = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
    if ((await Promise.race([exited, timedOut])) === 'timeout') {
      throw new Error(
        `The in-host tests did not finish within ${timeoutMs} ms.` +
          (existsSync(reportFile) ? '' : ' No mocha report was written: did the extension host start the runner?') +
          `\ncode-server output:\n${server.output().slice(-3000)}`,
      );
    }
    if (!existsSync(reportFile)) {
      throw new Error(`The extension host exited with ${exitCode} without a mocha report.\ncode-server output:\n${server.output().slice(-3000)}`);
    }
    const text = readFileSync(reportFile, 'utf8');
    const report = JSON.parse(text) as MochaJsonReport;
    return {
      tests: report.stats.tests,
      passes: report.passes.map((p) => ({ fullTitle: p.fullTitle })),
      failures: report.failures.map((f) => ({ fullTitle: f.fullTitle, message: f.err.message ?? String(f.err) })),
      report: text,
      exitCode,
    };
  } finally {
    await context.close().catch(() => undefined);
    await server.stop();
    rmSync(reportDir, { recursive: true, force: true });
  }
}
