// npm run gen: (re)writes every generated file (see generated-files.ts).
import { existsSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { generatedFiles } from './generated-files.js';
import { PACKAGE_ROOT } from '../agent/inference/default-models.js';

const files = generatedFiles();
for (const f of files) {
  const old = existsSync(f.path) ? readFileSync(f.path, 'utf8') : null;
  if (old === f.content) continue;
  writeFileSync(f.path, f.content);
  console.log(`wrote ${f.path}`);
}
// A schema whose topic left the contract must not linger beside the generated ones.
const mqttDir = join(PACKAGE_ROOT, 'schemas/mqtt');
const keep = new Set(files.map((f) => basename(f.path)));
for (const name of readdirSync(mqttDir)) {
  if (!keep.has(name)) {
    rmSync(join(mqttDir, name));
    console.log(`removed ${join(mqttDir, name)}`);
  }
}
