import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { workspaceFileFolders } from '../../src/extension/model/workspaceFile';

test('a workspace file\'s folders: relative and absolute paths, file: URIs, names, comments and trailing commas', () => {
  const text = `{
    // two projects and a remote one
    "folders": [
      { "name": "alpha", "path": "../alpha" },
      { "path": "/data/beta", },
      { "uri": "${pathToFileURL('/data/gamma delta').href}", "name": "" },
      { "uri": "vscode-remote://ssh-remote+box/home/x" },
      { "path": "" },
      42,
    ],
    "settings": { "vaeLens.runsDirectory": "runs" },
  }`;
  assert.deepEqual(workspaceFileFolders(text, '/work/ws'), [
    { name: 'alpha', path: '/work/alpha' },
    { name: 'beta', path: '/data/beta' },
    { name: 'gamma delta', path: '/data/gamma delta' },
  ]);
});

test('a workspace file with no folders, or one that does not parse, gives no folders and no exception', () => {
  assert.deepEqual(workspaceFileFolders('{ "folders": [] }', '/w'), []);
  assert.deepEqual(workspaceFileFolders('{ "settings": {} }', '/w'), []);
  assert.deepEqual(workspaceFileFolders('{ "folders": { "path": "a" } }', '/w'), []);
  assert.deepEqual(workspaceFileFolders('{ "folders": [ { "path": "a" } ', '/w'), [], 'truncated');
  assert.deepEqual(workspaceFileFolders('', '/w'), []);
  assert.deepEqual(workspaceFileFolders('null', '/w'), []);
});
