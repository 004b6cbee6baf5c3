#!/usr/bin/env node
// The `rpmsg` command (src/cli/main.ts, compiled). In a clone before the first build, say so
// instead of Node's ERR_MODULE_NOT_FOUND.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('rpmsg: dist/ is not built; in a clone of the repository run `npm install` (or `npm run build`) first');
  process.exit(1);
}
await import(main.href);
