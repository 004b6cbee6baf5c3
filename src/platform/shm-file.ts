/**
 * Shared memory between processes: a file mapped MAP_SHARED into this process through the
 * native addon's native/shm.c (built by node-gyp at `npm install`; Node has no mmap).
 *
 * Memory ordering between processes: both processes map the same physical pages. The ring
 * index words are read and written with `Atomics.load`/`Atomics.store` (V8 emits the same
 * sequentially consistent instructions for a mapped ArrayBuffer as for a SharedArrayBuffer:
 * `xchg`/`mov` on x86-64, `stlr`/`ldar` on arm64), and every payload, header and descriptor
 * write precedes the index store in program order (virtqueue.ts publish order), so a peer that
 * observes the new index also observes the data, as with OpenAMP's C on the other side.
 * `Atomics.wait`/`notify` do not work across processes (the buffer is not a SharedArrayBuffer):
 * wake-ups go over the socket (socket-doorbell.ts).
 */
import { RpmsgError } from '../errors.js';
import { Region } from '../memory/region.js';
import { loadNative } from '../native/addon.js';

export const OPENAMP_SHM_PATH = '/dev/shm/openamp.shm';
export const OPENAMP_SHM_SIZE = 0x80000;

/**
 * Map `path` (created and grown to `size` with `create`) and return a Region over it. The
 * file offset is the bus address (OpenAMP's Linux machine), unless `busBase` says otherwise.
 */
export function mapShmFile(path: string, size: number, options: { create?: boolean; busBase?: number } = {}): Region {
  let ab: ArrayBuffer;
  try {
    ab = loadNative().map(path, size, options.create ?? false);
  } catch (e) {
    if (e instanceof RpmsgError) throw e;
    const code = (e as { code?: string }).code;
    throw new RpmsgError(code === 'ENOENT' ? 'ENOENT' : 'EFAULT', `cannot map ${path}: ${(e as Error).message}`, { path, size }, { cause: e });
  }
  return new Region(ab, { busBase: options.busBase ?? 0 });
}
