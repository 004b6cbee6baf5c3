#!/usr/bin/env node
/**
 * npm `install` hook. Installed from the registry or a tarball: node-gyp-build loads the
 * prebuilt addon for this platform (prebuilds/<platform>-<arch>/, made by prebuildify) or,
 * when none loads, builds native/*.c with node-gyp. In a clone of the repository (it has src/,
 * the package does not): build from source whenever build/ is older than native/ or
 * binding.gyp, and do nothing when it is newer (so `npx rpmsg` in a clone, which runs this hook
 * once, does not rebuild). The addon is optional (only mapped shared-memory files, descriptor
 * passing and the kernel char devices need it): a failed build is reported and the install
 * succeeds; src/native/addon.ts says again what to install when something needs the addon.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const clone = existsSync(join(root, 'src'));
if (clone) {
  const built = statSync(join(root, 'build', 'Release', 'rpmsg_native.node'), { throwIfNoEntry: false });
  const sources = [join(root, 'binding.gyp'), ...readdirSync(join(root, 'native')).map((f) => join(root, 'native', f))];
  if (built !== undefined && sources.every((f) => statSync(f).mtimeMs <= built.mtimeMs)) process.exit(0);
}
const env = clone ? { ...process.env, npm_config_build_from_source: 'true' } : process.env;
const r = spawnSync(process.execPath, [createRequire(import.meta.url).resolve('node-gyp-build/bin.js')], { stdio: 'inherit', env });
if (r.status !== 0) {
  console.warn(
    `rpmsg: the optional native addon is not available for ${process.platform}-${process.arch} (no prebuilt binary loads, and building it failed).\n` +
      'rpmsg: everything works without it except mapped shared-memory files (rpmsg remote/host, attachProcessRemote, mapShmFile), descriptor passing and the kernel char devices.\n' +
      'rpmsg: to build it, install a C compiler, make and python3, then run `npm rebuild rpmsg`.',
  );
}
