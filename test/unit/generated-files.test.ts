// Generated files are committed so users and editors can read them; this fails when one is stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { generatedFiles } from '../../scripts/generated-files.js';

test('every generated file is up to date (run "npm run gen" after changing a schema)', () => {
  for (const f of generatedFiles()) {
    assert.ok(existsSync(f.path), `${f.path} is missing: run "npm run gen"`);
    assert.equal(readFileSync(f.path, 'utf8'), f.content, `${f.path} is stale: run "npm run gen"`);
  }
});
