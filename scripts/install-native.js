#!/usr/bin/env node
/**
 * npm `install` hook. node-gyp-build loads the prebuilt addon for this platform
 * (prebuilds/<platform>-<arch>/, made by prebuildify) or, when there is none that loads,
 * builds native/*.c with node-gyp. The addon is optional (only mapped shared-memory files and
 * file-descriptor passing need it), so a failed build is reported and the install succeeds;
 * src/native/addon.ts says again what to install when something needs the addon.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const r = spawnSync(process.execPath, [require.resolve('node-gyp-build/bin.js')], { stdio: 'inherit' });
if (r.status !== 0) {
  console.warn(
    `rpmsg: the optional native addon is not available for ${process.platform}-${process.arch} (no prebuilt binary loads, and building it failed).\n` +
      'rpmsg: everything works without it except mapped shared-memory files (rpmsg remote/host, attachProcessRemote, mapShmFile).\n' +
      'rpmsg: to build it, install a C compiler, make and python3, then run `npm rebuild rpmsg`.',
  );
}
