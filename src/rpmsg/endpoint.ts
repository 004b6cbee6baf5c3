/**
 * An endpoint binds an rx callback to a local address on one link (Linux `struct
 * rpmsg_endpoint`, OpenAMP `struct rpmsg_endpoint`).
 *
 * Lifecycle: open → destroyed. destroy() first unregisters the address (so no new message can
 * find it), then drops the callback, then announces the destruction if it had announced itself
 * (Linux teardown order). After destroy() no callback runs, even for messages already queued.
 */
import { RpmsgError } from '../errors.js';
import { RPMSG_ADDR_ANY } from './constants.js';
import type { RpmsgLink, SendOptions } from './link.js';
import type { RxBufferHold, TxBuffer } from './ops.js';
import type { Channel } from './channel.js';

/**
 * rx callback: `owner` is the channel for a channel's endpoints, else the endpoint itself.
 * `data` is a view of the shared buffer, valid until the callback returns (or until released,
 * when held with `holdRxBuffer`); copy it to keep it.
 */
export type RxCallback = (owner: Channel | Endpoint, data: Uint8Array, src: number, priv: unknown) => void;

export class Endpoint {
  readonly link: RpmsgLink;
  readonly addr: number;
  /** Default destination; learned from the first message when created as ADDR_ANY (OpenAMP). */
  dst: number;
  /** Service name, when the endpoint was created for one. */
  readonly name: string;
  readonly priv: unknown;
  /** The channel this endpoint belongs to, if any. */
  readonly channel: Channel | undefined;
  /** @internal */ cb: RxCallback | null;
  /** @internal Whether an NS CREATE was sent for it (so destroy sends DESTROY). */
  announced = false;
  private dead = false;

  /** @internal use RpmsgLink.createEndpoint or Channel.createEndpoint */
  constructor(
    link: RpmsgLink,
    addr: number,
    dst: number,
    name: string,
    cb: RxCallback,
    priv: unknown,
    channel: Channel | undefined,
  ) {
    this.link = link;
    this.addr = addr;
    this.dst = dst;
    this.name = name;
    this.cb = cb;
    this.priv = priv;
    this.channel = channel;
  }

  get destroyed(): boolean {
    return this.dead;
  }

  /**
   * Send to the default destination, waiting for a tx buffer (15 s default). Sends leave in
   * call order. `data` is copied into shared memory when the message goes out, which for a
   * waiting send is later: leave it unmodified until the promise settles.
   */
  send(data: Uint8Array, options?: SendOptions): Promise<void> {
    return this.link.sendOffchannel(this, this.addr, this.dst, data, options);
  }
  /** Send to `dst`, waiting for a tx buffer. */
  sendTo(data: Uint8Array, dst: number, options?: SendOptions): Promise<void> {
    return this.link.sendOffchannel(this, this.addr, dst, data, options);
  }
  /** Send from `src` to `dst`, waiting for a tx buffer. */
  sendOffchannel(src: number, dst: number, data: Uint8Array, options?: SendOptions): Promise<void> {
    return this.link.sendOffchannel(this, src, dst, data, options);
  }
  /** Send to the default destination now, or throw ENOMEM when no tx buffer is free. */
  trySend(data: Uint8Array): void {
    this.link.trySendOffchannel(this, this.addr, this.dst, data);
  }
  trySendTo(data: Uint8Array, dst: number): void {
    this.link.trySendOffchannel(this, this.addr, dst, data);
  }
  trySendOffchannel(src: number, dst: number, data: Uint8Array): void {
    this.link.trySendOffchannel(this, src, dst, data);
  }

  /** Largest payload of one message. */
  getMtu(): number {
    return this.link.getMtu();
  }
  /** Linux rpmsg_poll: whether a send would not block now. */
  poll(): boolean {
    return !this.dead && this.link.canSend();
  }
  /** Resolve when a tx buffer is free (or reject on timeout, abort, or loss of the remote). */
  waitWritable(options?: SendOptions): Promise<void> {
    if (this.dead) return Promise.reject(new RpmsgError('ENODEV', 'endpoint destroyed', { addr: this.addr }));
    return this.link.waitWritable(options);
  }

  // Zero-copy (OpenAMP rpmsg_get_tx_payload_buffer / rpmsg_send_nocopy / rpmsg_hold_rx_buffer).

  /** A free tx buffer to fill in place; ENOMEM at once when none is free. */
  tryGetTxPayloadBuffer(): TxBuffer {
    this.assertAlive();
    return this.link.tryGetTxBuffer();
  }
  /** A free tx buffer, waiting for one like send() does. */
  getTxPayloadBuffer(options?: SendOptions): Promise<TxBuffer> {
    if (this.dead) return Promise.reject(new RpmsgError('ENODEV', 'endpoint destroyed', { addr: this.addr }));
    return this.link.getTxBuffer(options);
  }
  /** Send `len` bytes of a buffer from getTxPayloadBuffer to the default destination (no copy). */
  sendNocopy(buffer: TxBuffer, len: number): void {
    this.link.sendNocopy(this, buffer, this.addr, this.dst, len);
  }
  sendNocopyTo(buffer: TxBuffer, len: number, dst: number): void {
    this.link.sendNocopy(this, buffer, this.addr, dst, len);
  }
  sendOffchannelNocopy(buffer: TxBuffer, src: number, dst: number, len: number): void {
    this.link.sendNocopy(this, buffer, src, dst, len);
  }
  /** Give back an unsent buffer from getTxPayloadBuffer. */
  releaseTxBuffer(buffer: TxBuffer): void {
    this.link.releaseTxBuffer(buffer);
  }
  /**
   * Inside the rx callback: keep the buffer being delivered (`data` as received) past the
   * callback. Release it with `releaseRxBuffer`; until then the peer cannot reuse it.
   */
  holdRxBuffer(data: Uint8Array): RxBufferHold {
    return this.link.holdRxBuffer(data);
  }
  releaseRxBuffer(hold: RxBufferHold): void {
    this.link.releaseRxBuffer(hold);
  }

  /** Linux rpmsg_destroy_ept. Idempotent. */
  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.link.removeEndpoint(this);
    this.cb = null;
  }

  /** @internal */
  assertAlive(): void {
    if (this.dead) throw new RpmsgError('ENODEV', 'endpoint destroyed', { addr: this.addr });
  }

  /** Whether the endpoint still waits for its destination (OpenAMP is_rpmsg_ept_ready is the opposite). */
  get unbound(): boolean {
    return this.dst === RPMSG_ADDR_ANY;
  }
}
