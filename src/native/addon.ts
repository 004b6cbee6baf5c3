/**
 * The optional native addon (native/*.c, one file per job), for what Node cannot do itself.
 * Loaded on first use, never at import time, so that everything that needs no native code
 * works without it. Lowest layer beside errors.ts: memory, transports and platforms import it.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { RpmsgError } from '../errors.js';

/** Functions of the addon; each job's file adds its own (see native/addon.c). */
export interface NativeAddon {
  /** native/shm.c: map a file MAP_SHARED read/write as an ArrayBuffer (unmapped by its finalizer). */
  map(path: string, size: number, create: boolean): ArrayBuffer;

  // native/unix.c, fdpass.c, fdio.c, eventfd.c, mmap.c, watch.c: fd toolkit (helpers in
  // common.c). Every fd it creates is O_NONBLOCK | O_CLOEXEC; no call blocks;
  // "would block" is a return value (-1, null, 0 or false as stated), other errors throw
  // Error with the errno name as `code` and `syscall`.
  /** A connected AF_UNIX SOCK_STREAM pair. */
  socketpair(): [number, number];
  /** bind + listen on a UNIX socket path (the path must not exist). */
  listenUnix(path: string, backlog: number): number;
  /** A connected socket from a listening one; -1 when none is pending. */
  acceptUnix(fd: number): number;
  /** A connected UNIX stream socket (non-blocking after the connect). */
  connectUnix(path: string): number;
  /**
   * recvmsg into `buf` with SCM_RIGHTS: null = would block; bytes 0 = peer closed. Received fds
   * belong to the caller (close them); more than `maxFds` (≤ 16) are closed and counted in
   * `droppedFds`.
   */
  recvFds(fd: number, buf: Uint8Array, maxFds: number): { bytes: number; fds: number[]; droppedFds: number } | null;
  /** sendmsg of `buf` with `fds` (≤ 16) as SCM_RIGHTS; bytes sent, -1 = would block. No SIGPIPE. */
  sendFds(fd: number, buf: Uint8Array, fds: readonly number[]): number;
  /** read(2) into `buf`: bytes, -1 = would block, 0 = end of file. */
  read(fd: number, buf: Uint8Array): number;
  /** write(2) of `buf`: bytes written, -1 = would block. */
  write(fd: number, buf: Uint8Array): number;
  /** A non-blocking eventfd. */
  eventfd(initval: number): number;
  /** Reads and resets an eventfd's counter; 0 = not signalled. */
  eventfdRead(fd: number): number;
  /** Adds `value` (≥ 1) to an eventfd's counter; false = would block (counter full). */
  eventfdWrite(fd: number, value: number): boolean;
  /** An anonymous shared-memory file (memfd) of `size` bytes. */
  memfd(name: string, size: number): number;
  /**
   * MAP_SHARED read/write mapping of [offset, offset+size) of `fd` (any offset; unmapped by the
   * buffer's finalizer; the fd may be closed right after). EINVAL for a range past the end of a
   * regular file.
   */
  mmapFd(fd: number, size: number, offset: number): ArrayBuffer;
  /**
   * Seals a file against shrinking where it allows that (F_SEAL_SHRINK on a memfd made with
   * sealing allowed) and says whether it now cannot shrink. A mapped file that can shrink lets
   * its owner raise SIGBUS in this process by truncating it.
   */
  sealShrink(fd: number): boolean;
  /**
   * Unmaps a buffer from `mmapFd` now rather than at garbage collection, and detaches it: every
   * view of it becomes empty (reads undefined, writes ignored), never a fault. Idempotent.
   */
  munmap(buffer: ArrayBuffer): void;
  /** Sets O_NONBLOCK on a descriptor (one received from a peer may be blocking). */
  setNonBlocking(fd: number): void;
  close(fd: number): void;
  /**
   * Watches `fd` with libuv's uv_poll on Node's loop: `cb(status, events)` with events 1
   * readable, 2 writable, status < 0 a -errno. Level-triggered. Runs until `unwatch` (call it
   * before closing the fd); one watcher per fd.
   */
  watch(fd: number, events: number, cb: (status: number, events: number) => void): FdWatch;
  /** Stops a watch (idempotent). */
  unwatch(handle: FdWatch): void;
  /** Whether the watch keeps the event loop alive (default true). */
  watchRef(handle: FdWatch, ref: boolean): void;

  // native/chardev.c: the Linux kernel's rpmsg char devices (include/uapi/linux/rpmsg.h).
  /**
   * ioctl on /dev/rpmsg_ctrlN: request 1 RPMSG_CREATE_EPT_IOCTL (a new /dev/rpmsgN), 3
   * RPMSG_CREATE_DEV_IOCTL (a new local channel), 4 RPMSG_RELEASE_DEV_IOCTL. `name` ≤ 31 bytes.
   */
  rpmsgCtrl(fd: number, request: 1 | 3 | 4, name: string, src: number, dst: number): void;
  /** RPMSG_DESTROY_EPT_IOCTL on an open /dev/rpmsgN made by RPMSG_CREATE_EPT_IOCTL. */
  rpmsgDestroyEpt(fd: number): void;
  /** cfmakeraw + tcsetattr(TCSANOW): bytes pass unchanged both ways (no echo, no \r\n). */
  ttyMakeRaw(fd: number): void;
  /** native/peercred.c: SO_PEERCRED of a connected UNIX socket (who is at the other end). */
  peercred(fd: number): { pid: number; uid: number; gid: number };
}

/** Opaque handle of a native fd watch. */
export type FdWatch = { readonly __brand: 'FdWatch' };

/** `events` bits of `watch`. */
export const FD_READABLE = 1;
export const FD_WRITABLE = 2;

let addon: NativeAddon | undefined;

/**
 * The addon, loaded once through node-gyp-build: a local build (build/Release, made at install
 * when no prebuilt binary fits) or the package's prebuilt binary for this platform
 * (prebuilds/<platform>-<arch>/). ENXIO with what to install when neither exists or loads.
 */
export function loadNative(): NativeAddon {
  if (addon === undefined) {
    const require = createRequire(import.meta.url);
    // dist/src/native/addon.js → the package root
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    try {
      addon = (require('node-gyp-build') as (dir: string) => NativeAddon)(root);
    } catch (e) {
      throw new RpmsgError(
        'ENXIO',
        `the optional native addon rpmsg_native is not available for ${process.platform}-${process.arch} ` +
          '(no prebuilt binary in the package loads here and it was not built at install); it is needed for ' +
          'mapped shared-memory files, file-descriptor passing and the kernel char devices. Install a C compiler, make and python3, ' +
          'then run `npm rebuild rpmsg` (in a clone of the repository: `npm run install`)',
        undefined,
        { cause: e },
      );
    }
  }
  return addon;
}
