import { test } from 'node:test';
import assert from 'node:assert/strict';
import { terminalCell, terminalText } from '../../src/trainer/terminalText';

test('escape sequences are removed whole; other control characters show as ?; tabs, newlines and Unicode stay', () => {
  assert.equal(terminalText('\u001b[31mred\u001b[0m'), 'red');
  assert.equal(terminalText('a\u001b]0;window title\u0007b'), 'ab');
  assert.equal(terminalText('a\u001b]8;;https://x.example\u001b\\link\u001b]8;;\u001b\\b'), 'alinkb');
  assert.equal(terminalText('\u009b2Jcleared'), 'cleared');
  assert.equal(terminalText('bell\u0007 back\u0008 cr\r del\u007f nul\u0000'), 'bell? back? cr? del? nul?');
  assert.equal(terminalText('\u202eevil'), '?evil');
  assert.equal(terminalText('line 1\r\nline 2\tx — μ σ ✓'), 'line 1\nline 2\tx — μ σ ✓');
  assert.equal(terminalCell('two\nlines\there'), 'two lines here');
});
