import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_UI_STATE, parsePanelState, parseUiState } from '../../src/shared/panelState';
import { parseFromWebviewMessage, parseHealthSettings, parseToWebviewMessage, splitRunEvents } from '../../src/shared/protocol';
import { parseServiceRequest } from '../../src/shared/latentService';
import { mergeAppendedEpochs } from '../../src/shared/runRules';
import { DEFAULT_HEALTH_SETTINGS } from '../../src/shared/health';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeInlineText, makeNonce, MAP_STYLE_ID, renderPanelHtml, webviewCsp } from '../../src/shared/panelHtml';
import { ROOT } from './harness';
import { estimateSecondsLeft, formatDuration, shownSecondsLeft } from '../../src/shared/progress';
import { mnistLikeEpoch } from '../support/runFixtures';
import { formatNumber } from '../../src/shared/format';

test('the host accepts every well-formed message from the webview', () => {
  assert.deepEqual(parseFromWebviewMessage({ type: 'ready' }), { ok: true, message: { type: 'ready' } });
  assert.deepEqual(parseFromWebviewMessage({ type: 'loading' }), { ok: true, message: { type: 'loading' } });
  assert.deepEqual(parseFromWebviewMessage({ type: 'loadFailed', page: 2, url: 'https://x/webview.js' }), { ok: true, message: { type: 'loadFailed', page: 2, url: 'https://x/webview.js' } });
  for (const type of ['stop', 'resume', 'openRun'] as const) {
    assert.deepEqual(parseFromWebviewMessage({ type, dir: '/runs/a' }), { ok: true, message: { type, dir: '/runs/a' } });
  }
  assert.deepEqual(parseFromWebviewMessage({ type: 'error', message: 'boom' }), { ok: true, message: { type: 'error', message: 'boom' } });
  const ui = { tab: 'images', imageEpoch: 4, logY: false, smoothing: 0.3, heatmapMetric: 'varMu' };
  assert.deepEqual(parseFromWebviewMessage({ type: 'uiState', ui }), { ok: true, message: { type: 'uiState', ui } });
  // A view field out of range falls back to its default, as saved state does.
  assert.deepEqual(parseFromWebviewMessage({ type: 'uiState', ui: { ...ui, smoothing: 5 } }), { ok: true, message: { type: 'uiState', ui: { ...ui, smoothing: 0.6 } } });
  for (const m of [
    { type: 'latentOpen', dir: '/runs/a' },
    { type: 'latentDecode', dir: '/runs/a', id: 3, z: [0, -1.5, 2.25] },
    { type: 'latentTest', dir: '/runs/a', id: 0, indices: [0, 15] },
  ]) assert.deepEqual(parseFromWebviewMessage(m), { ok: true, message: m });
});

test('the host rejects malformed messages, each with a reason', () => {
  const bad: unknown[] = [
    null, undefined, 42, 'ready', [], [{ type: 'ready' }],
    {}, { type: 'launchMissiles' }, { type: 7 },
    { type: 'ready', extra: true },
    { type: 'stop' }, { type: 'stop', dir: '' }, { type: 'stop', dir: 5 }, { type: 'stop', dir: 'x'.repeat(5000) },
    { type: 'resume', dir: '/r', command: 'rm -rf /' },
    { type: 'openRun', dir: null },
    { type: 'error' }, { type: 'error', message: { toString: 'x' } },
    { type: 'uiState' }, { type: 'uiState', ui: 'curves' }, { type: 'uiState', ui: {}, dirs: [] },
    { type: 'loading', page: 1 }, { type: 'loadFailed', url: 'u' }, { type: 'loadFailed', page: 0, url: 'u' },
    { type: 'loadFailed', page: 1.5, url: 'u' }, { type: 'loadFailed', page: 1, url: '' }, { type: 'loadFailed', page: 1, url: 'u', more: 1 },
    { type: 'latentOpen' }, { type: 'latentOpen', dir: '/r', backend: 'webgpu' },
    { type: 'latentDecode', dir: '/r', id: 1 }, { type: 'latentDecode', dir: '/r', id: 1, z: [] }, { type: 'latentDecode', dir: '/r', id: 1, z: ['1'] },
    { type: 'latentDecode', dir: '/r', id: -1, z: [0] }, { type: 'latentDecode', dir: '/r', id: 1.5, z: [0] }, { type: 'latentDecode', dir: '/r', id: 1, z: [null] },
    { type: 'latentDecode', dir: '/r', id: 1, z: new Array(70_000).fill(0) },
    { type: 'latentTest', dir: '/r', id: 1, indices: [-1] }, { type: 'latentTest', dir: '/r', id: 1, indices: [0.5] }, { type: 'latentTest', dir: '/r', id: 1, indices: [] },
    { type: 'latentTest', dir: '/r', id: 1, indices: new Array(65).fill(0) },
  ];
  for (const value of bad) {
    const result = parseFromWebviewMessage(value);
    assert.equal(result.ok, false, `accepted ${JSON.stringify(value)}`);
    assert.ok(!result.ok && result.error.length > 0);
  }
});

test('an oversized error text from the webview is truncated, not passed on whole', () => {
  const result = parseFromWebviewMessage({ type: 'error', message: 'x'.repeat(10000) });
  assert.ok(result.ok && result.message.type === 'error' && result.message.message.length === 4096);
});

test('persisted UI state falls back to defaults field by field', () => {
  assert.deepEqual(parseUiState(undefined), DEFAULT_UI_STATE);
  assert.deepEqual(parseUiState({ tab: 'images', imageEpoch: 0, smoothing: 2, logY: 'yes', heatmapMetric: 'sigma' }), { ...DEFAULT_UI_STATE, tab: 'images', heatmapMetric: 'sigma' });
  assert.equal(parseUiState({ imageEpoch: 7 }).imageEpoch, 7);
});

test('a snapshot\'s health thresholds are taken field by field; a missing or bad field falls back to the default', () => {
  const custom = { ...DEFAULT_HEALTH_SETTINGS, sigmaTolerance: 0.5, warmupEpochs: 10, patience: 4 };
  assert.deepEqual(parseHealthSettings(custom), custom);
  assert.deepEqual(parseHealthSettings(undefined), DEFAULT_HEALTH_SETTINGS, 'a report written before thresholds were sent');
  assert.deepEqual(parseHealthSettings([0.5]), DEFAULT_HEALTH_SETTINGS);
  const bad = parseHealthSettings({ sigmaTolerance: 'wide', meanMuTolerance: -1, aggregateVarianceTolerance: Number.NaN, patience: 0, overfittingEpochs: 2.6, activeVarianceThreshold: 0.05 });
  assert.equal(bad.sigmaTolerance, DEFAULT_HEALTH_SETTINGS.sigmaTolerance);
  assert.equal(bad.meanMuTolerance, DEFAULT_HEALTH_SETTINGS.meanMuTolerance);
  assert.equal(bad.aggregateVarianceTolerance, DEFAULT_HEALTH_SETTINGS.aggregateVarianceTolerance);
  assert.equal(bad.patience, 1, 'at least one epoch');
  assert.equal(bad.overfittingEpochs, 3, 'whole epochs');
  assert.equal(bad.activeVarianceThreshold, 0.05);
});

test('a restored panel needs a valid list of run folders: one for a run panel, 2–6 for compare', () => {
  assert.deepEqual(parsePanelState({ panel: 'run', dirs: ['/r/a'] })?.dirs, ['/r/a']);
  assert.equal(parsePanelState({ panel: 'run', dirs: ['/r/a', '/r/b'] }), undefined);
  assert.equal(parsePanelState({ panel: 'compare', dirs: ['/r/a'] }), undefined);
  assert.equal(parsePanelState({ panel: 'compare', dirs: ['1', '2', '3', '4', '5', '6', '7'] }), undefined);
  assert.equal(parsePanelState({ panel: 'compare', dirs: ['/r/a', 3] }), undefined);
  assert.equal(parsePanelState({ panel: 'other', dirs: ['/r/a'] }), undefined);
  assert.equal(parsePanelState(null), undefined);
  assert.equal(parsePanelState({ panel: 'compare', dirs: ['/a', '/b'], ui: { tab: 'config' } })?.ui.tab, 'config');
});

test('a resumed run\'s repeated epoch replaces the earlier one; warnings are kept apart', () => {
  const o = { epochs: 3, dimz: 4, active: 2 };
  const first2 = mnistLikeEpoch(2, o);
  const again2 = { ...mnistLikeEpoch(2, o), time: '2026-11-28T10:00:00.000Z' };
  const warning = { type: 'warning' as const, v: 1, time: 't', kind: 'overfitting' as const, severity: 'warning' as const, epoch: 2, message: 'm' };
  const { epochs, warnings } = splitRunEvents([mnistLikeEpoch(1, o), first2, warning, again2, mnistLikeEpoch(3, o)]);
  assert.deepEqual(epochs.map((e) => e.epoch), [1, 2, 3]);
  assert.equal(epochs[1].time, again2.time);
  assert.deepEqual(warnings, [warning]);
});

test('the panel page allows scripts only by nonce and nothing from elsewhere', () => {
  const nonce = makeNonce((n) => new Uint8Array(n).map((_, i) => i * 7));
  assert.match(nonce, /^[A-Za-z0-9]{32}$/);
  const csp = webviewCsp('https://file+.vscode-resource.vscode-cdn.net', nonce);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'$`));
  assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline|img-src[^;]*data:/);
  const html = renderPanelHtml({ title: 'a"b', panel: 'run', csp, nonce, styles: [{ text: 'p{}' }], scripts: [{ src: 'x.js' }, { text: 'let s = "</script>";' }] });
  assert.equal(html.match(/<script /g)?.length, 2);
  assert.equal(html.match(new RegExp(`<script[^>]* nonce="${nonce}"`, 'g'))?.length, 2, 'every script carries the nonce');
  assert.equal(html.match(new RegExp(`<style[^>]* nonce="${nonce}"`, 'g'))?.length, 3, 'inline styles too, and the two empty elements Plotly looks up (its own sheet, the map sheet)');
  assert.ok(html.includes(`<style id="${MAP_STYLE_ID}" nonce="${nonce}"></style>`));
  // The bundle the panels load checks exactly that id before appending the map library's stylesheet.
  const bundle = readFileSync(join(ROOT, 'dist/media/plotly.min.js'), 'utf8');
  assert.ok(bundle.includes(`getElementById("${MAP_STYLE_ID}")`), 'dist/media/plotly.min.js looks up MAP_STYLE_ID');
  assert.ok(html.includes('<title>a&quot;b</title>'));
  assert.ok(!html.includes('"</script>"'), 'inline text cannot close its element early');
  assert.equal(escapeInlineText('a</SCRIPT>b</style>'), 'a<\\/SCRIPT>b<\\/style>');
});

test('an append that only extends the epochs is appended; a rewritten or back-filled epoch redraws the merged list', () => {
  const e = (n: number) => mnistLikeEpoch(n, { epochs: 10, dimz: 4, active: 2 });
  const current = [e(1), e(2), e(3)];
  const numbers = (list: { epoch: number }[]) => list.map((x) => x.epoch);

  const extend = mergeAppendedEpochs(current, [e(3), e(4), e(5)]);
  assert.ok('fresh' in extend, 'a repeated, unchanged epoch 3 is no rewrite');
  assert.deepEqual(numbers(extend.fresh), [4, 5]);
  assert.deepEqual(mergeAppendedEpochs([], [e(1)]), { fresh: [e(1)] });

  const rewrittenThree = { ...e(3), time: '2026-11-28T10:00:00.000Z', test: { ...e(3).test, loss: 1 } };
  const rewritten = mergeAppendedEpochs(current, [rewrittenThree, e(4)]);
  assert.ok('redraw' in rewritten, 'a resumed run that rewrote epoch 3 redraws');
  assert.deepEqual(numbers(rewritten.redraw), [1, 2, 3, 4]);
  assert.equal(rewritten.redraw[2], rewrittenThree, 'the later event for an epoch wins, as in splitRunEvents');

  const backfilled = mergeAppendedEpochs([e(1), e(3)], [e(2)]);
  assert.ok('redraw' in backfilled);
  assert.deepEqual(numbers(backfilled.redraw), [1, 2, 3]);

  const outOfOrder = mergeAppendedEpochs(current, [e(5), e(4)]);
  assert.ok('redraw' in outOfOrder, 'fresh epochs out of order are sorted, not appended');
  assert.deepEqual(numbers(outOfOrder.redraw), [1, 2, 3, 4, 5]);
  assert.deepEqual(numbers(current), [1, 2, 3], 'the current list is not changed');
});

test('numbers read the same everywhere: fixed decimals, one decimal from 100, exponents from 1e5, no sign on a rounded zero', () => {
  assert.equal(formatNumber(0.38312), '0.383');
  assert.equal(formatNumber(-0.0578), '-0.058');
  assert.equal(formatNumber(-0.0002), '0.000', 'a mean μ of −0.0002 is on target, not "-0.000"');
  assert.equal(formatNumber(-0.04, 1), '0.0');
  assert.equal(formatNumber(-0.04, 0), '0');
  assert.equal(formatNumber(-0.06, 1), '-0.1');
  assert.equal(formatNumber(152.36, 1), '152.4');
  assert.equal(formatNumber(-123.45), '-123.5');
  assert.equal(formatNumber(2.5e6), '2.50e+6');
  assert.equal(formatNumber(undefined), '–');
  assert.equal(formatNumber(Number.NaN), 'NaN');
});

test('time left: one estimate and one wording for the panels, the tree and the status bar', () => {
  const timings = (...s: number[]) => s.map((secondsPerEpoch) => ({ secondsPerEpoch }));
  assert.equal(estimateSecondsLeft(timings(10, Number.NaN, 20, 0), 3), 45, 'unusable timings are left out of the mean');
  assert.equal(estimateSecondsLeft(timings(1000, 1000, 10, 10, 10, 10, 10), 2), 20, 'only the last five epochs count');
  assert.equal(estimateSecondsLeft(timings(), 5), undefined);
  assert.equal(estimateSecondsLeft(timings(Number.NaN), 5), undefined);
  assert.equal(estimateSecondsLeft(timings(10), -1), 0);
  assert.equal(formatDuration(242), '4 min 02 s');
  assert.equal(formatDuration(3720), '1 h 02 min');
  assert.equal(formatDuration(Number.NaN), '–');
  assert.equal(shownSecondsLeft('running', timings(10), 2, 5), 30, 'a running run shows the estimate');
  assert.equal(shownSecondsLeft('starting', timings(10), 2, 5), 30);
  for (const status of ['completed', 'stopped', 'failed', 'interrupted', 'queued'] as const) {
    assert.equal(shownSecondsLeft(status, timings(10), 2, 5), undefined, `a ${status} run shows no time left`);
  }
  assert.equal(shownSecondsLeft('running', timings(10), 5, 5), undefined, 'no time left once every epoch is done');
});

test('the webview takes the Latent tab\'s answers as the relay posts them, and refuses broken ones', () => {
  for (const m of [
    { type: 'latentUnavailable', dir: '/runs/a', message: 'Run x has no checkpoint yet' },
    { type: 'latentUnavailable', dir: '/runs/a', id: 4, message: 'Test image 500 is out of range' },
    { type: 'latentDecoded', dir: '/runs/a', id: 4, rows: 1, pixels: 'AAEC' },
    { type: 'latentTested', dir: '/runs/a', id: 5, indices: [3], mu: [0.5, -1], pixels: 'AAEC' },
  ]) assert.deepEqual(parseToWebviewMessage(m), { ok: true, message: m }, JSON.stringify(m));
  for (const m of [
    { type: 'latentUnavailable', dir: '/runs/a', id: -1, message: 'x' },
    { type: 'latentDecoded', dir: '/runs/a', id: 4, rows: 0, pixels: 'AAEC' },
    { type: 'latentDecoded', dir: '/runs/a', id: 4, rows: 1, pixels: '<script>' },
    { type: 'latentTested', dir: '/runs/a', id: 5, indices: [3], mu: [null], pixels: '' },
    { type: 'latentInfo', dir: '/runs/a', info: { runId: 'x' } },
  ]) assert.equal(parseToWebviewMessage(m).ok, false, JSON.stringify(m));
});

test('the decode service takes only well-formed requests; a bad one keeps its id for the error answer', () => {
  assert.deepEqual(parseServiceRequest({ type: 'decode', id: 3, z: [0, 1] }), { ok: true, request: { type: 'decode', id: 3, z: [0, 1] } });
  assert.deepEqual(parseServiceRequest({ type: 'close' }), { ok: true, request: { type: 'close' } });
  const bad = parseServiceRequest({ type: 'test', id: 7, indices: [-1] });
  assert.ok(!bad.ok && bad.id === 7 && /indices\[0\]/.test(bad.error), JSON.stringify(bad));
  const noId = parseServiceRequest({ type: 'decode', z: 'x' });
  assert.ok(!noId.ok && noId.id === undefined);
  assert.equal(parseServiceRequest({ type: 'exec', id: 1 }).ok, false);
});
