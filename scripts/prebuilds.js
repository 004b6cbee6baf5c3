#!/usr/bin/env node
/**
 * `npm run prebuilds` (npm supplies node-gyp): build prebuilds/<platform>-<arch>/rpmsg.glibc.node
 * with prebuildify (N-API, so one binary serves every Node version; stripped; tagged with the
 * libc for node-gyp-build), for this machine and, on linux-x64 with Debian's cross compiler
 * (gcc-aarch64-linux-gnu), for linux-arm64 too. Run by `prepack`, so every packed or published
 * tarball carries binaries built from the C sources it ships. It builds in a temporary copy of
 * binding.gyp and native/, leaving the working build/ (which running tests load) alone.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prebuildify = createRequire(import.meta.url).resolve('prebuildify/bin.js');
const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

const targets = [{ name: `${process.platform}-${process.arch}`, args: [], env: {} }];
if (process.platform === 'linux' && process.arch === 'x64') {
  if (onPath('aarch64-linux-gnu-gcc')) {
    const cc = 'aarch64-linux-gnu-gcc';
    targets.push({ name: 'linux-arm64', args: ['--arch', 'arm64', '--strip-bin', 'aarch64-linux-gnu-strip'], env: { CC: cc, CXX: cc, LINK: cc } });
  } else {
    console.warn('prebuilds: no linux-arm64 binary (no aarch64-linux-gnu-gcc: apt-get install gcc-aarch64-linux-gnu)');
  }
}

for (const t of targets) {
  const work = mkdtempSync(join(tmpdir(), 'rpmsg-prebuild-'));
  try {
    cpSync(join(root, 'binding.gyp'), join(work, 'binding.gyp'));
    cpSync(join(root, 'native'), join(work, 'native'), { recursive: true });
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'rpmsg' }));
    const args = ['--napi', '--strip', '--tag-libc', '--cwd', work, '--out', root, ...t.args, ...process.argv.slice(2)];
    const r = spawnSync(process.execPath, [prebuildify, ...args], { stdio: 'inherit', env: { ...process.env, ...t.env } });
    if (r.status !== 0) {
      console.error(`prebuilds: ${t.name} failed`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
