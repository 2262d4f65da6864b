#!/usr/bin/env node
// The `tsgrad` command (package.json "bin"): runs the compiled CLI in dist/, which `npm install`
// builds (the "prepare" script) and `npm run build` rebuilds.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('tsgrad: dist/cli/main.js is missing; run `npm run build` in the tsgrad folder first\n');
  process.exit(1);
}
await import(main.href);
