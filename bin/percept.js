#!/usr/bin/env node
// Entry point of the `percept` command; the code is compiled to dist/ by setup (npm run setup).
import { existsSync } from 'node:fs';
const main = new URL('../dist/agent/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('percept is not built yet: run "npm run setup" in its directory first.\n');
  process.exit(1);
}
const { main: run } = await import(main.href);
const { hideBin } = await import('yargs/helpers');
process.exitCode = await run(hideBin(process.argv)).catch(async (err) => {
  const { exitCodeFor } = await import(new URL('../dist/agent/lib/exit-codes.js', import.meta.url).href);
  process.stderr.write(`percept: ${err.message}\n`);
  return exitCodeFor(err);
});
