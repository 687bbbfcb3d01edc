import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffLines } from '../../src/shared/architecture';
import { validateConfig } from '../../src/shared/config';
import { starterExperiment, starterFileName } from '../../src/extension/model/starter';
import { lineColumn, parseExperimentText, rangeOfMessage } from '../../src/shared/experimentFile';

const text = `// A conv VAE whose second conv gives the wrong size.
{
  "dimz": 8,
  "model": "custom",
  "encoder": [
    { "type": "conv2d", "filters": 8, "kernel": 3, "stride": 2 },
    { "type": "conv2d", "filters": 8, "kernel": 3, "stride": 2, "padding": "valid" },
    { "type": "flatten" },
  ],
  "decoder": [
    { "type": "dense", "units": 64 },
    { "type": "activation", "fn": "relu", "alpha": 2 },
  ],
}
`;

const slice = (t: string, r: { offset: number; length: number }) => t.slice(r.offset, r.offset + r.length);

test('JSONC: comments and trailing commas parse; a byte order mark is skipped; syntax errors have their place', () => {
  const parsed = parseExperimentText(text);
  assert.ok(parsed.ok);
  assert.equal(parsed.value.dimz, 8);
  assert.equal((parsed.value.encoder as unknown[]).length, 3);
  const bom = parseExperimentText('\uFEFF{"dimz": 3}');
  assert.ok(bom.ok && bom.value.dimz === 3);
  const broken = parseExperimentText('{\n  "dimz": 3\n  "epochs": 2\n}');
  assert.ok(!broken.ok);
  assert.equal(broken.problems[0].message, 'comma expected');
  assert.deepEqual(lineColumn('{\n  "dimz": 3\n  "epochs": 2\n}', broken.problems[0].offset), { line: 3, column: 3 });
  for (const notObject of ['[]', '3', '"x"']) assert.ok(!parseExperimentText(notObject).ok, notObject);
  assert.ok(!parseExperimentText('').ok, 'an empty file');
});

test('validation messages point at their layer, the layer field, or the top-level field', () => {
  const parsed = parseExperimentText(text);
  assert.ok(parsed.ok);
  const result = validateConfig(parsed.value);
  assert.ok(!result.ok);
  const alpha = result.errors.find((e) => e.startsWith('decoder[1]'));
  assert.ok(alpha, result.errors.join('\n'));
  assert.equal(slice(text, rangeOfMessage(parsed.tree, alpha)), '{ "type": "activation", "fn": "relu", "alpha": 2 }');
  assert.equal(slice(text, rangeOfMessage(parsed.tree, 'encoder[0]: conv2d "stride" 0 is not allowed; expected …')), '"stride": 2');
  assert.equal(slice(text, rangeOfMessage(parsed.tree, 'encoder[1]: conv2d needs "units" (…)')), '{ "type": "conv2d", "filters": 8, "kernel": 3, "stride": 2, "padding": "valid" }');
  assert.equal(slice(text, rangeOfMessage(parsed.tree, '"dimz": 0 is not allowed')), '"dimz": 8');
  assert.equal(slice(text, rangeOfMessage(parsed.tree, '"epochs": 0 is not allowed')), '{', 'a field the file lacks: the object');
  assert.equal(slice(text, rangeOfMessage(parsed.tree, 'encoder[9]: past the end')).split('\n')[0], '"encoder": [');
  // A shape error from planning the network names its layer and lands on it.
  const reshaped = text.replace('{ "type": "activation", "fn": "relu", "alpha": 2 }', '{ "type": "reshape", "shape": [7, 7, 2] }');
  const shaped = parseExperimentText(reshaped);
  assert.ok(shaped.ok);
  const plan = validateConfig(shaped.value);
  assert.ok(!plan.ok);
  const [first] = plan.errors;
  assert.match(first, /^decoder\[1\]: reshape .*98 values.*64/, plan.errors.join('\n'));
  assert.equal(slice(reshaped, rangeOfMessage(shaped.tree, first)), '{ "type": "reshape", "shape": [7, 7, 2] }');
});

test('the starter experiment file is commented JSONC that validates: the conv VAE of examples/, on 10,000 MNIST images', () => {
  const text = starterExperiment('conv-vae');
  assert.match(text, /^\/\/ /, 'it starts with a comment');
  const parsed = parseExperimentText(text);
  assert.ok(parsed.ok);
  const result = validateConfig(parsed.value);
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  const example = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', 'conv-mnist.vae.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual([parsed.value.encoder, parsed.value.decoder, parsed.value.likelihood, parsed.value.dimz], [example.encoder, example.decoder, example.likelihood, example.dimz]);
  assert.equal(result.config.name, 'conv-vae');
  assert.equal(result.config.trainLimit, 10000);
  assert.equal(starterFileName(() => false), 'conv-vae.vae.json');
  const taken = new Set(['conv-vae.vae.json', 'conv-vae-2.vae.json']);
  assert.equal(starterFileName((n) => taken.has(n)), 'conv-vae-3.vae.json');
});

test('diffLines: common lines kept, removed lines before added ones', () => {
  const kinds = (a: string[], b: string[]) => diffLines(a, b).map((l) => `${l.kind === 'same' ? ' ' : l.kind === 'added' ? '+' : '-'}${l.text}`);
  assert.deepEqual(kinds(['a', 'b', 'c'], ['a', 'x', 'c']), [' a', '-b', '+x', ' c']);
  assert.deepEqual(kinds([], ['a']), ['+a']);
  assert.deepEqual(kinds(['a', 'b'], []), ['-a', '-b']);
  assert.deepEqual(kinds(['dense 500', 'tanh'], ['conv2d', 'relu', 'dense 500', 'tanh']), ['+conv2d', '+relu', ' dense 500', ' tanh']);
});
