import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJsonSchema } from '../../src/shared/config';
import { TRAIN_PRESETS, resolveTrainConfig, parseExperimentFile, experimentNameFromFile } from '../../src/extension/model/presets';
import { metricsCsv, metricsCsvOfRuns, metricsJson, metricsJsonOfRuns, METRICS_CSV_HEADER } from '../../src/extension/model/metricsCsv';
import { DEFAULT_HEALTH_SETTINGS } from '../../src/shared/health';
import { statusBarText } from '../../src/extension/model/statusText';
import { runDescription, runItemModel } from '../../src/extension/model/treeModel';
import { displayedEpoch } from '../../src/shared/run';
import { newFindings } from '../../src/extension/model/warningState';
import { warningsMuted as isMuted } from '../../src/shared/runRules';
import type { RunState } from '../../src/extension/model/runStore';
import type { RunEvent, WarningEvent } from '../../src/shared/events';
import { defaultConfig } from '../../src/shared/config';
import { healthEpoch, mnistLikeEpoch } from '../support/runFixtures';
import { repoRoot } from '../support/repoRoot';

const root = repoRoot();

describe('experiment files and presets', () => {
  test('the committed *.vae.json schema is exactly configJsonSchema()', () => {
    const committed = JSON.parse(readFileSync(join(root, 'schemas/vae-config.schema.json'), 'utf8'));
    assert.deepEqual(committed, configJsonSchema());
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.deepEqual(pkg.contributes.jsonValidation, [{ fileMatch: ['*.vae.json'], url: './schemas/vae-config.schema.json' }]);
  });

  test('the three presets are the study experiments and the quick check', () => {
    const configs = TRAIN_PRESETS.map((p) => resolveTrainConfig({}, p.config as Record<string, unknown>));
    const ok = configs.map((c) => (c.ok ? c.config : assert.fail(JSON.stringify(c))));
    assert.deepEqual(ok.map((c) => [c.model, c.dimz, c.epochs, c.trainLimit]), [['chainer-mlp', 20, 100, null], ['deep-bn', 100, 100, null], ['chainer-mlp', 20, 5, 10000]]);
    assert.equal(TRAIN_PRESETS[2].label, 'Quick check — chainer-mlp, dimz 20, 5 epochs on 10,000 MNIST images');
  });

  test('settings defaults fill what a preset or file leaves out; the file wins; a model picks its own dimz', () => {
    const r = resolveTrainConfig({ batchSize: 50, epochs: 7, dimz: 8 }, { name: 'x', epochs: 3 });
    assert.ok(r.ok);
    assert.deepEqual([r.config.batchSize, r.config.epochs, r.config.dimz], [50, 3, 8]);
    const deep = resolveTrainConfig({ dimz: 8 }, { name: 'y', model: 'deep-bn' });
    assert.ok(deep.ok);
    assert.equal(deep.config.dimz, 100);
  });

  test('a typo or bad value in a file is an error naming the field and what is allowed', () => {
    const r = resolveTrainConfig({}, { name: 'x', epoch: 3, dimz: 0 });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.ok(r.errors.some((e) => e.startsWith('"epoch": unknown field')));
      assert.ok(r.errors.some((e) => e.includes('"dimz": 0 is not allowed; expected an integer from 1 to 1024')));
    }
    assert.deepEqual(parseExperimentFile('[1]', 'a.vae.json'), { ok: false, errors: ['a.vae.json:1:1: an experiment file is one JSON object, like {"dimz": 20, "epochs": 10}'] });
    const bad = parseExperimentFile('{"dimz": ', 'b.vae.json');
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.errors[0], /^b\.vae\.json:1:10: value expected/);
    // Comments and trailing commas, as VS Code writes JSONC.
    assert.deepEqual(parseExperimentFile('// a note\n{"dimz": 2, /* two */ "epochs": 1,}\n', 'c.vae.json'), { ok: true, value: { dimz: 2, epochs: 1 } });
    assert.equal(experimentNameFromFile('/w/exp/small-sigma.vae.json'), 'small-sigma');
  });
});

describe('metrics CSV', () => {
  test('one row per epoch, the last of a repeated epoch, NaN as an empty cell', () => {
    const e2 = healthEpoch(2, 3, 4);
    const nan = healthEpoch(3, 3, 4);
    (nan.test as { loss: unknown }).loss = null;
    const events: RunEvent[] = [healthEpoch(1, 3, 4), healthEpoch(2, 3, 4), e2, nan];
    const lines = metricsCsv(events).trimEnd().split('\n');
    assert.equal(lines[0], METRICS_CSV_HEADER.join(','));
    assert.equal(lines.length, 4);
    const cols = lines[1].split(',');
    assert.equal(cols.length, METRICS_CSV_HEADER.length);
    assert.equal(cols[0], '1');
    assert.equal(cols[METRICS_CSV_HEADER.indexOf('test_mean_sigma')], '0.3');
    assert.equal(cols[METRICS_CSV_HEADER.indexOf('dimz')], '4');
    assert.ok(Math.abs(Number(cols[METRICS_CSV_HEADER.indexOf('aggregate_variance_active')]) - 0.98) < 1e-12);
    assert.equal(lines[3].split(',')[METRICS_CSV_HEADER.indexOf('test_loss')], '');
    // Active units follow the user's threshold, which the row states (the fixture's Var(μ_d) is 0.9).
    assert.equal(cols[METRICS_CSV_HEADER.indexOf('active_units')], '4');
    assert.equal(cols[METRICS_CSV_HEADER.indexOf('active_threshold')], '0.01');
    const strict = metricsCsv(events, { ...DEFAULT_HEALTH_SETTINGS, activeVarianceThreshold: 0.95 }).split('\n')[1].split(',');
    assert.equal(strict[METRICS_CSV_HEADER.indexOf('active_units')], '0');
    assert.equal(strict[METRICS_CSV_HEADER.indexOf('active_threshold')], '0.95');
    assert.equal(strict[METRICS_CSV_HEADER.indexOf('aggregate_variance_active')], '', 'no active dimension: no aggregate');
  });
});

describe('metrics export of several runs', () => {
  const run = (id: string, name: string, n: number) => ({
    info: { id, name, config: { ...defaultConfig(), name, dimz: 4, epochs: n } },
    events: Array.from({ length: n }, (_, i): RunEvent => healthEpoch(i + 1, 3, 4)),
  });
  const runs = [run('20261205-010000-a', 'plain', 2), run('20261205-020000-b', '=HYPERLINK("x"), "quoted"', 3)];

  test('one CSV: run_id and run_name first, then the single-run columns, each run\'s epochs in turn', () => {
    const lines = metricsCsvOfRuns(runs).trimEnd().split('\n');
    assert.equal(lines[0], ['run_id', 'run_name', ...METRICS_CSV_HEADER].join(','));
    assert.equal(lines.length, 1 + 2 + 3);
    assert.ok(lines[1].startsWith('20261205-010000-a,plain,1,'));
    // A name with a comma and quotes is one quoted cell; a formula-like one starts with an apostrophe.
    assert.ok(lines[3].startsWith('20261205-020000-b,"\'=HYPERLINK(""x""), ""quoted""",1,'), lines[3]);
    assert.equal(lines[5].slice(lines[5].indexOf('",') + 2), metricsCsv(runs[1].events).trimEnd().split('\n')[3]);
  });

  test('one JSON: every run with the single-run file\'s record', () => {
    const json = JSON.parse(metricsJsonOfRuns(runs)) as { format: string; runs: Array<{ run: { id: string }; epochs: unknown[] }> };
    assert.equal(json.format, 'vae-lens-metrics-runs');
    assert.deepEqual(json.runs.map((r) => [r.run.id, r.epochs.length]), [['20261205-010000-a', 2], ['20261205-020000-b', 3]]);
    const single = JSON.parse(metricsJson(runs[1].info, runs[1].events)) as { run: unknown; epochs: unknown[] };
    assert.deepEqual(json.runs[1], { run: single.run, epochs: single.epochs });
  });
});

describe('metrics export: the prior fit', () => {
  const epochs = Array.from({ length: 7 }, (_, i) => mnistLikeEpoch(i + 1, { epochs: 7, dimz: 6, active: 4 }));
  const events: RunEvent[] = epochs;
  const lines = metricsCsv(events).trimEnd().split('\n').map((l) => l.split(','));
  const column = (name: string) => {
    const i = METRICS_CSV_HEADER.indexOf(name);
    assert.ok(i >= 0, `column ${name}`);
    return lines.slice(1).map((cols) => cols[i]);
  };

  test('−ELBO at C = 1 every epoch; the diagnostics\' scalars on the epochs that have them, empty cells elsewhere', () => {
    assert.deepEqual(epochs.map((e) => e.diagnostics !== undefined), [false, false, false, false, true, false, true], 'every 5th epoch and the last');
    assert.deepEqual(column('test_neg_elbo_c1').map(Number), epochs.map((e) => e.test.reconstruction + e.test.kl));
    const measured = (read: (d: NonNullable<(typeof epochs)[number]['diagnostics']>) => number) => epochs.map((e) => (e.diagnostics ? String(read(e.diagnostics)) : ''));
    assert.deepEqual(column('iw_nll'), measured((d) => d.iwNll!.value));
    assert.deepEqual(column('iw_k'), measured((d) => d.iwNll!.k));
    assert.deepEqual(column('iw_images'), measured((d) => d.iwNll!.images));
    assert.deepEqual(column('diagnostics_images'), measured((d) => d.images));
    assert.deepEqual(column('mutual_information'), measured((d) => d.mutualInformation));
    assert.deepEqual(column('mean_kl'), measured((d) => d.meanKl));
    assert.deepEqual(column('marginal_kl'), measured((d) => d.marginalKl));
    assert.deepEqual(column('moment_kl'), measured((d) => d.moments.total));
    assert.deepEqual(column('moment_mean_shift'), measured((d) => d.moments.meanShift));
    assert.deepEqual(column('moment_correlation'), measured((d) => d.moments.correlation));
    assert.deepEqual(column('non_gaussian_kl'), measured((d) => d.nonGaussian));
    assert.deepEqual(column('hole_rate'), measured((d) => d.holeRate));
    assert.deepEqual(column('prior_samples'), measured((d) => d.priorSamples));
    assert.deepEqual(column('fixed_noise_hole_rate'), measured((d) => d.fixedNoiseHoleRate));
    // The study's columns keep their places: the new ones come after them.
    assert.deepEqual(METRICS_CSV_HEADER.slice(0, 3), ['epoch', 'train_loss', 'train_reconstruction']);
    assert.equal(METRICS_CSV_HEADER.indexOf('seconds_per_epoch'), METRICS_CSV_HEADER.indexOf('test_neg_elbo_c1') - 1);
    for (const cols of lines) assert.equal(cols.length, METRICS_CSV_HEADER.length);
  });

  test('the JSON beside it: the same scalars by the same names (null for an empty cell) and every per-dimension statistic', () => {
    const info = { id: '20261128-090000-x', name: 'x', config: { ...defaultConfig(), name: 'x', dimz: 6, epochs: 7 } };
    const json = JSON.parse(metricsJson(info, events)) as {
      format: string; run: { id: string; config: { dimz: number } };
      epochs: Array<{ scalars: Record<string, number | null>; perDimension: Record<string, number[] | null> }>;
    };
    assert.equal(json.format, 'vae-lens-metrics');
    assert.equal(json.run.id, info.id);
    assert.equal(json.run.config.dimz, 6);
    assert.equal(json.epochs.length, 7);
    json.epochs.forEach((entry, i) => {
      assert.deepEqual(Object.keys(entry.scalars), METRICS_CSV_HEADER);
      assert.deepEqual(Object.values(entry.scalars).map((v) => (v === null ? '' : String(v))), lines[i + 1], `epoch ${i + 1}: the CSV's row`);
      const e = epochs[i];
      assert.deepEqual(entry.perDimension.mean_mu, e.dims.meanMu);
      assert.deepEqual(entry.perDimension.var_mu, e.dims.varMu);
      assert.deepEqual(entry.perDimension.mean_sigma_sq, e.dims.meanSigmaSq);
      assert.deepEqual(entry.perDimension.kl, e.dims.kl);
      assert.deepEqual(entry.perDimension.aggregate_variance, e.aggregateVariance);
      assert.deepEqual(entry.perDimension.moment_kl_per_dimension, e.diagnostics?.moments.perDimension ?? null);
      assert.deepEqual(entry.perDimension.moment_kl_per_eigenvalue, e.diagnostics?.moments.perEigenvalue ?? null);
    });
    // The per-dimension moment terms add up to the total with the correlations (the estimator's identity), as exported.
    const e5 = json.epochs[4];
    const sum = e5.perDimension.moment_kl_per_dimension!.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum + e5.scalars.moment_correlation! - e5.scalars.moment_kl!) < 1e-9);
  });
});

describe('status bar and warning state', () => {
  const run = (epochs: number[], status: 'running' | 'stopped' = 'running'): RunState => {
    const recent = epochs.map((e) => healthEpoch(e, 10, 4));
    return { dir: '/r', id: 'r', root: { label: 'w', runsDir: '/' }, info: { schemaVersion: 1, id: 'r', name: 'r', config: { ...defaultConfig(), epochs: 10 }, created: '', updated: '', status, epochsCompleted: epochs.length }, recentEpochs: recent, latest: recent.at(-1), warnings: [], findings: [], partial: false, version: 1 };
  };
  const epochPart = (text: string) => /epoch \d+\/\d+/.exec(text)?.[0];

  test('the epoch shown: the one in progress while running, the epochs completed otherwise', () => {
    assert.equal(displayedEpoch('running', 0, 5), 1, 'the first epoch is training');
    assert.equal(displayedEpoch('running', 2, 5), 3);
    assert.equal(displayedEpoch('running', 5, 5), 5, 'all done, writing the report: never 6/5');
    assert.equal(displayedEpoch('starting', 2, 5), 2, 'a resumed run that has not started training yet');
    for (const status of ['completed', 'stopped', 'failed', 'interrupted', 'queued'] as const) assert.equal(displayedEpoch(status, 2, 5), 2, status);
  });

  test('the status bar and the tree show the same epoch for the same run', () => {
    for (const r of [run([]), run([1, 2]), run([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), run([1, 2], 'stopped')]) {
      assert.equal(epochPart(statusBarText(r)), epochPart(runDescription(r)), runDescription(r));
    }
    assert.equal(runDescription(run([])), 'running · epoch 1/10');
    assert.equal(runDescription(run([1, 2], 'stopped')), 'stopped · epoch 2/10 · test loss 160.2');
    // With batch progress of the epoch in progress, the status bar adds its share; the number is the tree's.
    const progress = { type: 'progress' as const, runId: 'r', epoch: 3, epochs: 10, batch: 300, batches: 600, loss: 150, samplesPerSecond: 2000, phase: 'training' };
    assert.equal(epochPart(statusBarText(run([1, 2]), progress)), epochPart(runDescription(run([1, 2]))));
    // Progress of epoch 2 arriving after epoch 2's event was read is stale: no "epoch 2/10 (100%)".
    assert.equal(statusBarText(run([1, 2]), { ...progress, epoch: 2, batch: 600 }), 'epoch 3/10 · loss 160.2 · 3 min 48 s left');
  });

  test('"epoch x/N · loss · time left", refined by batch progress', () => {
    assert.equal(statusBarText(run([1, 2])), 'epoch 3/10 · loss 160.2 · 3 min 48 s left');
    const progress = { type: 'progress' as const, runId: 'r', epoch: 3, epochs: 10, batch: 300, batches: 600, loss: 150, samplesPerSecond: 2000, phase: 'training' };
    assert.equal(statusBarText(run([1, 2]), progress), 'epoch 3/10 (50%) · loss 160.2 · 3 min 34 s left');
    assert.equal(statusBarText(run([]), { ...progress, phase: 'downloading fashion-mnist (42%)' }), 'downloading fashion-mnist (42%) · loss 150.0');
    // The test pass at the end of an epoch keeps the epoch in view.
    assert.equal(statusBarText(run([1, 2]), { ...progress, phase: 'evaluating' }), 'epoch 3/10 evaluating · loss 160.2 · 3 min 48 s left');
  });

  test('each kind is raised once per run; a dismissed warning mutes the run', () => {
    const w = (kind: WarningEvent['kind'], dismissed?: boolean): WarningEvent => ({ type: 'warning', v: 1, time: 't', kind, severity: 'warning', epoch: 3, message: 'm', dismissed });
    const findings = [{ kind: 'sigma-far-from-one' as const, severity: 'warning' as const, epoch: 5, message: 'a' }, { kind: 'overfitting' as const, severity: 'warning' as const, epoch: 5, message: 'b' }];
    assert.deepEqual(newFindings(findings, [w('sigma-far-from-one')]).map((f) => f.kind), ['overfitting']);
    assert.equal(isMuted([w('overfitting')]), false);
    assert.equal(isMuted([w('overfitting'), w('overfitting', true)]), true);
    // One meaning: a muted run has no badge in the view either (and its panel no banner: webview tests).
    const base = run([1, 2]);
    const warned: RunState = { ...base, findings, warnings: [w('sigma-far-from-one')] };
    assert.ok(runItemModel(warned).badge, 'a warned run has a badge');
    assert.equal(runItemModel({ ...warned, warnings: [w('sigma-far-from-one'), w('sigma-far-from-one', true)] }).badge, undefined, 'muted: no badge');
  });
});
