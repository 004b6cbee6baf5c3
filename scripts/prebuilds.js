#!/usr/bin/env node
/**
 * `npm run prebuilds` (npm supplies node-gyp): build prebuilds/<platform>-<arch>/rpmsg.<libc>.node with prebuildify (N-API, so one binary
 * serves every Node version; stripped; tagged glibc or musl for node-gyp-build). Run by
 * `prepack`, so every packed or published tarball carries a binary built from the C sources it
 * ships. It builds in a temporary copy of binding.gyp and native/, leaving the working build/
 * (which running tests load) alone.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'rpmsg-prebuild-'));
try {
  cpSync(join(root, 'binding.gyp'), join(work, 'binding.gyp'));
  cpSync(join(root, 'native'), join(work, 'native'), { recursive: true });
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'rpmsg' }));
  const prebuildify = createRequire(import.meta.url).resolve('prebuildify/bin.js');
  const args = ['--napi', '--strip', '--tag-libc', '--cwd', work, '--out', root, ...process.argv.slice(2)];
  const r = spawnSync(process.execPath, [prebuildify, ...args], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
