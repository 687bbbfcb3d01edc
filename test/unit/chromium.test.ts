// The browser layers never skip for want of Chromium: a wrong CHROME_PATH is an error that says what to do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findChromium } from '../support/chromium';

test('a CHROME_PATH that points nowhere is an error naming CHROME_PATH', () => {
  const saved = process.env.CHROME_PATH;
  process.env.CHROME_PATH = '/nonexistent/chromium';
  try {
    assert.throws(() => findChromium(), /CHROME_PATH is set to \/nonexistent\/chromium, but no file exists there/);
  } finally {
    if (saved === undefined) delete process.env.CHROME_PATH;
    else process.env.CHROME_PATH = saved;
  }
});
