/**
 * A channel named "rpmsg-tty" becomes /dev/ttyRPMSGN (Linux drivers/tty/rpmsg_tty.c): raw bytes
 * both ways, no framing; each write goes out as messages of at most the MTU. This opens one as
 * a Node byte stream (Duplex) in raw mode (cfmakeraw: no echo, no line discipline, no \r\n),
 * non-blocking, driven by libuv readiness (native/fdio.c, native/watch.c).
 *
 * rpmsg_tty writes with rpmsg_trysend and reports a full tx ring as ENOMEM from write(2) while
 * poll(2) still says writable (its write_room is the MTU): such a write is retried after
 * `retryMs`, never dropped. A hang-up (the channel went away: EIO/EPIPE, or read 0) ends the
 * stream.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { Duplex } from 'node:stream';
import { FD_READABLE, FD_WRITABLE, loadNative, type FdWatch, type NativeAddon } from '../native/addon.js';
import { errnoOf, isGone, mapKernelError } from './errno.js';

const READABLE = FD_READABLE;
const WRITABLE = FD_WRITABLE;

export interface RpmsgTtyOptions {
  /** Bytes read at a time (default 4096). */
  chunkSize?: number;
  /** Delay before retrying a write the kernel refused with ENOMEM, ms (default 2). */
  retryMs?: number;
}

export class RpmsgTtyStream extends Duplex {
  readonly path: string;
  readonly fd: number;
  private readonly native: NativeAddon;
  private readonly chunkSize: number;
  private readonly retryMs: number;
  private watchHandle: FdWatch | undefined = undefined;
  private events = 0;
  private reading = false;
  private pending: { data: Uint8Array; cb: (e?: Error | null) => void } | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closedFd = false;

  constructor(path: string, options: RpmsgTtyOptions = {}) {
    super({ allowHalfOpen: true });
    this.path = path;
    this.chunkSize = options.chunkSize ?? 4096;
    this.retryMs = options.retryMs ?? 2;
    this.native = loadNative();
    try {
      this.fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    } catch (e) {
      throw mapKernelError(e, `open ${path}`);
    }
    try {
      this.native.ttyMakeRaw(this.fd);
    } catch (e) {
      closeSync(this.fd);
      throw mapKernelError(e, `raw mode on ${path}`);
    }
  }

  override _read(): void {
    this.reading = true;
    this.arm();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.pending = { data: chunk, cb };
    this.flush();
  }

  override _final(cb: (e?: Error | null) => void): void {
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    clearTimeout(this.retryTimer);
    this.stopWatch();
    if (!this.closedFd) {
      this.closedFd = true;
      closeSync(this.fd);
    }
    const p = this.pending;
    this.pending = undefined;
    p?.cb(err ?? new Error('stream destroyed'));
    cb(err);
  }

  /** Write as much of the pending chunk as the tty takes now; wait for room for the rest. */
  private flush(): void {
    const p = this.pending;
    if (p === undefined || this.closedFd) return;
    while (p.data.length > 0) {
      let n: number;
      try {
        n = this.native.write(this.fd, p.data);
      } catch (e) {
        if (errnoOf(e) === 'ENOMEM') {
          // rpmsg_tty: no tx buffer now; poll would say writable at once, so use a timer.
          this.retryTimer ??= setTimeout(() => {
            this.retryTimer = undefined;
            this.flush();
          }, this.retryMs);
          this.arm(false);
          return;
        }
        this.pending = undefined;
        p.cb(mapKernelError(e, `write ${this.path}`));
        return;
      }
      if (n < 0) {
        this.arm(true);
        return;
      }
      p.data = p.data.subarray(n);
    }
    this.pending = undefined;
    this.arm();
    p.cb();
  }

  private arm(wantWrite = this.pending !== undefined && this.retryTimer === undefined): void {
    if (this.closedFd) return;
    const events = (this.reading ? READABLE : 0) | (wantWrite ? WRITABLE : 0);
    if (events === this.events) return;
    this.stopWatch();
    if (events === 0) return;
    this.watchHandle = this.native.watch(this.fd, events, (status, ev) => this.onEvent(status, ev));
    this.events = events;
  }

  private stopWatch(): void {
    if (this.watchHandle !== undefined) this.native.unwatch(this.watchHandle);
    this.watchHandle = undefined;
    this.events = 0;
  }

  private onEvent(status: number, ev: number): void {
    if (this.closedFd) return;
    if (status < 0) {
      this.destroy(new Error(`${this.path}: poll error ${status}`));
      return;
    }
    if ((ev & WRITABLE) !== 0) this.flush();
    if ((ev & READABLE) !== 0 && this.reading) this.readSome();
  }

  private readSome(): void {
    for (;;) {
      const buf = Buffer.allocUnsafe(this.chunkSize);
      let n: number;
      try {
        n = this.native.read(this.fd, buf);
      } catch (e) {
        if (isGone(e)) {
          this.stopWatch();
          this.push(null);
        } else {
          this.destroy(mapKernelError(e, `read ${this.path}`));
        }
        return;
      }
      if (n < 0) return;
      if (n === 0) {
        this.reading = false;
        this.arm();
        this.push(null); // hang-up
        return;
      }
      if (!this.push(buf.subarray(0, n))) {
        this.reading = false;
        this.arm();
        return;
      }
    }
  }
}

/** Open /dev/ttyRPMSGN as a raw byte stream. */
export function openRpmsgTty(path: string, options?: RpmsgTtyOptions): RpmsgTtyStream {
  return new RpmsgTtyStream(path, options);
}
