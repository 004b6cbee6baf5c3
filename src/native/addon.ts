/**
 * The optional native addon (native/*.c, one file per job), for what Node cannot do itself.
 * Loaded on first use, never at import time, so that everything that needs no native code
 * works without it. Lowest layer beside errors.ts: memory, transports and platforms import it.
 */
import { createRequire } from 'node:module';
import { RpmsgError } from '../errors.js';

/** Functions of the addon; each job's file adds its own (see native/addon.c). */
export interface NativeAddon {
  /** native/shm.c: map a file MAP_SHARED read/write as an ArrayBuffer (unmapped by its finalizer). */
  map(path: string, size: number, create: boolean): ArrayBuffer;
}

let addon: NativeAddon | undefined;

/** The addon, loaded once; ENXIO with what to install when it is not built. */
export function loadNative(): NativeAddon {
  if (addon === undefined) {
    const require = createRequire(import.meta.url);
    try {
      // dist/src/native/addon.js → build/Release at the package root
      addon = require('../../../build/Release/rpmsg_native.node') as NativeAddon;
    } catch (e) {
      throw new RpmsgError('ENXIO', 'the native addon rpmsg_native is not built (run npm install with a C compiler)', undefined, { cause: e });
    }
  }
  return addon;
}
