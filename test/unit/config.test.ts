import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig, defaultConfig, configJsonSchema } from '../../src/shared/config';

test('an empty config gets the Chainer example defaults', () => {
  const r = validateConfig({});
  assert.ok(r.ok);
  assert.deepEqual(r.config, defaultConfig('chainer-mlp'));
  assert.equal(r.config.dimz, 20);
  assert.equal(r.config.batchSize, 100);
  assert.equal(r.config.testSamples, 10);
});

test('deep-bn defaults to dimz 100', () => {
  const r = validateConfig({ model: 'deep-bn' });
  assert.ok(r.ok);
  assert.equal(r.config.dimz, 100);
});

test('an invalid config lists every bad field with the allowed values', () => {
  const r = validateConfig({ model: 'resnet', dimz: 0, learningRate: -1, binarize: 'yes', epoch: 3, trainLimit: 2.5 });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.errors.length, 6, r.errors.join('\n'));
  assert.match(r.errors.join('\n'), /"model".*"chainer-mlp", "deep-bn"/);
  assert.match(r.errors.join('\n'), /"dimz".*integer from 1 to 1024/);
  assert.match(r.errors.join('\n'), /"learningRate".*> 0/);
  assert.match(r.errors.join('\n'), /"binarize".*"none", "static", "dynamic"/);
  assert.match(r.errors.join('\n'), /"epoch": unknown field/);
  assert.match(r.errors.join('\n'), /"trainLimit".*or null/);
});

test('the JSON schema names every config field and forbids unknown ones', () => {
  const schema = configJsonSchema() as { properties: Record<string, unknown>; additionalProperties: boolean };
  for (const key of Object.keys(defaultConfig())) assert.ok(key in schema.properties, key);
  assert.equal(schema.additionalProperties, false);
});
