/**
 * An endpoint as a message-preserving Duplex (one chunk = one message, object mode) and so as
 * an async iterable: `for await (const msg of stream)`. The same class serves a local endpoint,
 * a channel's default endpoint and an endpoint held through the daemon: each supplies a
 * `StreamPort` and feeds received messages to `deliver()` (the Node stream face is a layer on
 * top of the message API, as ws's stream.js is).
 *
 * Writing: a write completes when its message is in a tx buffer (the blocking send), so a
 * remote that returns buffers slowly makes writes wait, `writableLength` grows and `write()`
 * returns false at `highWaterMark` messages: backpressure from the tx ring.
 *
 * Reading, copy mode (default): each message is copied out of its rx buffer at once (the
 * buffer goes back to the peer) and queued; beyond `maxQueued` messages new ones are dropped
 * and counted (`dropped`, 'drop' event) rather than stall every endpoint of the link.
 * Reading, zero-copy mode: each chunk is a `HeldMessage` whose rx buffer stays with the reader
 * until `release()`; the peer cannot reuse it, so a slow reader slows the peer (and the link).
 *
 * Ending: `end()` flushes pending writes, then destroys the endpoint and ends the readable side.
 * Errors are rpmsg_char's: once the endpoint, its channel or the remote is gone, queued
 * messages can still be read, then the stream errors with EPIPE (writes fail with EPIPE at once).
 */
import { Duplex } from 'node:stream';
import { RpmsgAbortError, RpmsgError } from '../errors.js';

/** What a stream needs from whatever carries its messages. */
export interface StreamPort {
  /** Send one message; resolves once it is on its way (rejects EMSGSIZE, EPIPE, ...). */
  send(data: Uint8Array, signal: AbortSignal | undefined): Promise<void>;
  getMtu(): number;
  /** Destroy the underlying endpoint (idempotent). */
  close(): void;
}

/** A received message whose rx buffer the reader holds (zero-copy mode). */
export interface HeldMessage {
  /** A view of the shared rx buffer: valid until release(). */
  readonly data: Uint8Array;
  readonly src: number;
  /** Give the buffer back to the peer; idempotent. */
  release(): void;
}

export interface EndpointStreamOptions {
  /** Messages buffered on each side before backpressure (default 16). */
  highWaterMark?: number;
  /** Copy mode: received messages queued before drops (default 1024). */
  maxQueued?: number;
  /** Destroys the stream (ABORT_ERR) and cancels waiting sends. */
  signal?: AbortSignal;
}

export class EndpointStream extends Duplex {
  /** Received messages dropped because the reader was too slow (copy mode). */
  dropped = 0;
  private readonly port: StreamPort;
  private readonly maxQueued: number;
  private readonly signal: AbortSignal | undefined;
  private goneError: RpmsgError | undefined;
  private readonly held = new Set<HeldMessage>();

  constructor(port: StreamPort, options: EndpointStreamOptions = {}) {
    const hwm = options.highWaterMark ?? 16;
    if (!Number.isInteger(hwm) || hwm < 1) throw new RpmsgError('EINVAL', 'highWaterMark must be a positive integer', { hwm });
    super({ objectMode: true, highWaterMark: hwm, allowHalfOpen: true });
    this.port = port;
    this.maxQueued = options.maxQueued ?? 1024;
    this.signal = options.signal;
    if (this.signal !== undefined) {
      const onAbort = (): void => void this.destroy(new RpmsgAbortError(this.signal?.reason));
      if (this.signal.aborted) queueMicrotask(onAbort);
      else this.signal.addEventListener('abort', onAbort, { once: true });
      this.once('close', () => this.signal?.removeEventListener('abort', onAbort));
    }
  }

  /** Largest message one write may carry. */
  getMtu(): number {
    return this.port.getMtu();
  }

  /** Port side: a message arrived (`data` is only valid now: copied here). */
  deliver(data: Uint8Array, _src: number): void {
    if (this.destroyed || this.readableEnded) return;
    if (this.readableLength >= this.maxQueued) {
      this.dropped++;
      this.emit('drop', this.dropped);
      return;
    }
    this.push(Uint8Array.prototype.slice.call(data));
  }

  /** Port side, zero-copy: hand the held buffer to the reader. */
  deliverHeld(data: Uint8Array, src: number, release: () => void): void {
    if (this.destroyed || this.readableEnded) return release();
    let done = false;
    const msg: HeldMessage = {
      data,
      src,
      release: () => {
        if (done) return;
        done = true;
        this.held.delete(msg);
        release();
      },
    };
    this.held.add(msg);
    this.push(msg);
  }

  /** Held buffers not yet released. */
  get heldCount(): number {
    return this.held.size;
  }

  /**
   * Port side: the endpoint, channel or remote is gone. Queued messages stay readable, then
   * the stream errors with EPIPE (rpmsg_char's read after the device went away).
   */
  gone(why: string, cause?: unknown): void {
    if (this.goneError !== undefined || this.destroyed) return;
    this.goneError = new RpmsgError('EPIPE', why, undefined, cause === undefined ? undefined : { cause });
    if (this.readableLength === 0 || this.readableEnded) this.destroy(this.goneError);
  }

  override read(size?: number): unknown {
    const r: unknown = super.read(size);
    if (this.goneError !== undefined && this.readableLength === 0 && !this.destroyed) {
      const e = this.goneError;
      process.nextTick(() => this.destroy(e));
    }
    return r;
  }

  override _read(): void {
    // Messages arrive when the peer sends them; nothing to pull.
  }

  override _write(chunk: unknown, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.sendOne(chunk).then(() => cb(), cb);
  }

  override _writev(chunks: Array<{ chunk: unknown }>, cb: (e?: Error | null) => void): void {
    // The sends queue in call order (the link's FIFO / the daemon's per-client order).
    Promise.all(chunks.map((c) => this.sendOne(c.chunk))).then(() => cb(), cb);
  }

  private sendOne(chunk: unknown): Promise<void> {
    if (this.goneError !== undefined) return Promise.reject(this.goneError);
    if (!(chunk instanceof Uint8Array)) return Promise.reject(new RpmsgError('EINVAL', 'each chunk must be a Uint8Array (one message)'));
    return this.port.send(chunk, this.signal).catch((e: unknown) => {
      throw e instanceof RpmsgError && e.code === 'ENODEV' ? new RpmsgError('EPIPE', e.message, undefined, { cause: e }) : e;
    });
  }

  /** end(): pending writes are out; now destroy the endpoint and end the readable side. */
  override _final(cb: (e?: Error | null) => void): void {
    this.port.close();
    if (!this.readableEnded) this.push(null);
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.port.close();
    for (const m of [...this.held]) m.release();
    cb(err);
  }
}
