#!/usr/bin/env node
/**
 * npm `prepare` hook: compile the TypeScript unless every dist/ output is already newer than
 * its source and tsconfig.json. `npx rpmsg` in a clone links the package into npx's cache and
 * runs this hook once; a full tsc run there would be a silent 10 s wait before the first line.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = statSync(join(root, 'tsconfig.json')).mtimeMs;

function* sources(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) yield p;
  }
}

function stale() {
  for (const top of ['src', 'samples', 'test', 'bench']) {
    for (const src of sources(join(root, top))) {
      const out = statSync(join(root, 'dist', relative(root, src).replace(/\.ts$/, '.js')), { throwIfNoEntry: false });
      if (out === undefined || out.mtimeMs < Math.max(statSync(src).mtimeMs, config)) return true;
    }
  }
  return false;
}

if (stale()) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
