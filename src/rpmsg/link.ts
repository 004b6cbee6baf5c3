/**
 * One rpmsg link to one peer processor: the one send path, the wait for tx buffers and delivery
 * of received messages to endpoints (its endpoint address space and lifecycle are the base
 * class's, link-endpoints.ts). It knows nothing of
 * virtio: a transport implements `RpmsgTransportOps` and calls `deliver()` / `txReady()`.
 * (OpenAMP `struct rpmsg_device` + lib/rpmsg/rpmsg.c; Linux `virtproc_info`'s endpoint idr.)
 *
 * Lifecycle: up → down (terminal). `close()` is graceful: the link's channels are released
 * (drivers' remove runs, announced endpoints announce their destruction), then it goes down.
 * `destroy(err)` is abortive (the peer is gone or broke the protocol): waiting senders are
 * rejected at once with ENODEV whose `cause` is `err`, channels are removed, endpoints
 * destroyed without announcements, and 'down' is emitted with that error. Both idempotent.
 */
import { RpmsgError } from '../errors.js';
import { publishDrop, publishMessage, publishWait, receiveChannel, sendChannel } from './diagnostics.js';
import { RPMSG_ADDR_ANY } from './constants.js';
import { LinkEndpoints } from './link-endpoints.js';
import type { RpmsgTransportOps, RxBufferHold, TxBuffer } from './ops.js';
import { sendTimeout } from './tx-wait-queue.js';
import type { EndpointPort, SendOptions } from './types.js';

export type { ChannelHost, RpmsgLinkEvents } from './link-endpoints.js';

/** An rpmsg link: the message path here, its state, endpoints and lifecycle in LinkEndpoints. */
export class RpmsgLink extends LinkEndpoints implements EndpointPort {
  // ------------------------------------------------------------- receive

  /**
   * Called by the transport for each valid message. Returns false when no endpoint has `dst`
   * (counted as a drop). Callback errors are counted and reported, never thrown.
   */
  deliver(src: number, dst: number, data: Uint8Array): boolean {
    const ept = this.endpoints.get(dst);
    const stats = this.stats;
    if (ept === undefined || ept.cb === null) {
      stats.rxDroppedNoEndpoint++;
      publishDrop(this, 'no-endpoint', src, dst, data.length, data);
      return false;
    }
    if (receiveChannel.hasSubscribers) publishMessage(receiveChannel, this, src, dst, 0, data);
    stats.rxMessages++;
    stats.rxBytes += data.length;
    if (ept.dst === RPMSG_ADDR_ANY && src !== RPMSG_ADDR_ANY) ept.dst = src; // OpenAMP learns the peer
    this.holdingData = data;
    try {
      ept.cb(ept, data, src, ept.priv);
    } catch (e) {
      stats.callbackErrors++;
      this.reportError(e);
    } finally {
      this.holdingData = null;
    }
    return true;
  }

  /** Transports: count a message rejected by the transport length checks. */
  countInvalid(): void {
    this.stats.rxInvalid++;
  }

  /** @internal */
  holdRxBuffer(data: Uint8Array): RxBufferHold {
    const ops = this.requireOps();
    if (ops.holdRxBuffer === undefined) throw new RpmsgError('ENXIO', 'transport cannot hold rx buffers');
    if (this.holdingData === null || data !== this.holdingData) {
      throw new RpmsgError('EINVAL', 'holdRxBuffer must be called in the rx callback with the data received');
    }
    return { data, token: ops.holdRxBuffer() };
  }

  /** @internal */
  releaseRxBuffer(hold: RxBufferHold): void {
    if (!this.up) return; // the memory is gone with the link
    if (this.ops!.releaseRxBuffer === undefined) throw new RpmsgError('ENXIO', 'transport cannot release rx buffers');
    this.ops!.releaseRxBuffer(hold.token);
  }

  // ------------------------------------------------------------- send (EndpointPort)

  getMtu(): number {
    return this.requireOps().getMtu();
  }

  /** Whether a send would not wait now (a buffer is free and no earlier sender is queued). */
  canSend(): boolean {
    return this.up && this.queue.length === 0 && this.ops!.canSend();
  }

  /** @internal Send now; false while earlier senders wait (order is kept) or no buffer is free. */
  trySend(src: number, dst: number, data: Uint8Array): boolean {
    const ops = this.requireOps();
    if (this.queue.length !== 0 || !ops.trySend(src, dst, data)) return false;
    if (sendChannel.hasSubscribers) publishMessage(sendChannel, this, src, dst, 0, data);
    this.stats.txMessages++;
    this.stats.txBytes += data.length;
    return true;
  }

  /** @internal Queue a message behind earlier waiting senders (they leave in call order). */
  send(owner: object, src: number, dst: number, data: Uint8Array, options: SendOptions | undefined): Promise<void> {
    return this.wait(owner, src, dst, data, options);
  }

  /** @internal Resolve when a tx buffer is free (at this caller's turn in the queue). */
  waitWritable(owner: object | undefined, options: SendOptions | undefined): Promise<void> {
    try {
      sendTimeout(options);
      if (this.canSend()) return RESOLVED;
    } catch (e) {
      return Promise.reject(e);
    }
    return this.wait(owner, 0, 0, undefined, options);
  }

  /** @internal */
  tryGetTxBuffer(): TxBuffer {
    const buf = this.queue.length === 0 ? this.zeroCopyOps().getTxBuffer!() : null;
    if (buf === null) throw new RpmsgError('ENOMEM', 'no free tx buffer');
    return buf;
  }

  /** @internal */
  async getTxBuffer(owner: object, options: SendOptions | undefined): Promise<TxBuffer> {
    const timeout = sendTimeout(options);
    const deadline = Date.now() + timeout;
    for (;;) {
      const buf = this.queue.length === 0 ? this.zeroCopyOps().getTxBuffer!() : null;
      if (buf !== null) return buf;
      const left = timeout === Infinity ? Infinity : Math.max(0, deadline - Date.now());
      await this.wait(owner, 0, 0, undefined, { timeout: left, ...(options?.signal ? { signal: options.signal } : {}) });
    }
  }

  /** @internal */
  sendNocopy(buffer: TxBuffer, src: number, dst: number, len: number): void {
    this.zeroCopyOps().sendNocopy!(buffer, src, dst, len);
    if (sendChannel.hasSubscribers) publishMessage(sendChannel, this, src, dst, 0, buffer.data.subarray(0, len));
    this.stats.txMessages++;
    this.stats.txBytes += len;
  }

  /** @internal */
  releaseTxBuffer(buffer: TxBuffer): void {
    if (!this.up) return;
    this.zeroCopyOps().releaseTxBuffer!(buffer);
  }

  /** Transport: tx buffers may be free again. Serves queued senders in order while buffers last. */
  txReady(): void {
    const ops = this.ops;
    if (ops === undefined || this.downReason !== undefined) return;
    for (let head = this.queue.head(); head !== undefined; head = this.queue.head()) {
      if (head.data === undefined) {
        if (!ops.canSend()) return;
      } else {
        let sent: boolean;
        try {
          sent = ops.trySend(head.src, head.dst, head.data);
        } catch (e) {
          this.queue.settle(head, e as Error);
          continue;
        }
        if (!sent) return;
        if (sendChannel.hasSubscribers) publishMessage(sendChannel, this, head.src, head.dst, 0, head.data);
        this.stats.txMessages++;
        this.stats.txBytes += head.data.length;
      }
      this.queue.settle(head, undefined);
    }
  }

  /** Senders (and writability waiters) queued for a tx buffer. */
  get txWaiters(): number {
    return this.queue.length;
  }

  private async wait(owner: object | undefined, src: number, dst: number, data: Uint8Array | undefined, options: SendOptions | undefined): Promise<void> {
    if (this.downReason !== undefined) throw this.downReason;
    const p = this.queue.enqueue(owner, src, dst, data, options);
    publishWait(this, this.queue.length);
    if (this.queue.length === 1) this.txReady(); // a buffer may have come back since the failed try
    return p;
  }

  protected get port(): EndpointPort {
    return this;
  }

  private zeroCopyOps(): RpmsgTransportOps {
    const ops = this.requireOps();
    if (ops.getTxBuffer === undefined || ops.sendNocopy === undefined || ops.releaseTxBuffer === undefined) {
      throw new RpmsgError('ENXIO', 'transport has no zero-copy tx');
    }
    return ops;
  }
}

const RESOLVED: Promise<void> = Promise.resolve();
