// `npm run test:desktop`: the in-host suite (test/desktop) in desktop VS Code, downloaded by
// @vscode/test-electron. That download needs internet (it fails here); `npm test` runs the same
// suite inside code-server's extension host instead (test/e2e/inHost.test.ts).
import { defineConfig } from '@vscode/test-cli';

export default defineConfig({
  label: 'desktop',
  files: 'out/test/desktop/**/*.test.js',
  version: '1.100.3',
  extensionDevelopmentPath: '.',
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  mocha: { ui: 'tdd', timeout: 20_000 },
});
