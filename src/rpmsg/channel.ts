/**
 * A channel (Linux `struct rpmsg_device`): a named service on one link with a local (src) and
 * a remote (dst) address. The bus probes the driver whose id table names it; if the driver has
 * a callback, a default endpoint is created for it first (Linux rpmsg_dev_probe) and the
 * channel's send family goes through that endpoint.
 *
 * Lifecycle: unbound → bound (probe succeeded) → unbound (driver removed) → released (the
 * announcement was destroyed or the link went down).
 */
import { RpmsgError } from '../errors.js';
import type { Endpoint, RxCallback } from './endpoint.js';
import type { RpmsgLink, SendOptions } from './link.js';
import type { RpmsgDriver } from './driver.js';
import type { RxBufferHold, TxBuffer } from './ops.js';

export class Channel {
  readonly name: string;
  readonly link: RpmsgLink;
  /** Local address (the default endpoint's address once probed). */
  src: number;
  /** Remote address. */
  readonly dst: number;
  /** Announce the default endpoint to the peer on probe and its destruction on remove. */
  readonly announce: boolean;
  /** Bind only the driver of this name, whatever the id tables say (Linux driver_override). */
  driverOverride: string | undefined;
  /** @internal */ driver: RpmsgDriver | undefined;
  /** The default endpoint (exists while bound to a driver with a callback). */
  ept: Endpoint | undefined;
  /** @internal */ released = false;

  /** @internal created by RpmsgBus */
  constructor(link: RpmsgLink, name: string, src: number, dst: number, announce: boolean) {
    this.link = link;
    this.name = name;
    this.src = src;
    this.dst = dst;
    this.announce = announce;
  }

  get boundDriver(): RpmsgDriver | undefined {
    return this.driver;
  }

  /** Linux rpmsg_create_ept(rpdev, cb, priv, chinfo): an extra endpoint on this channel's link. */
  createEndpoint(cb: RxCallback, options: { addr?: number; dst?: number; priv?: unknown } = {}): Endpoint {
    if (this.released) throw new RpmsgError('ENODEV', 'channel released', { name: this.name });
    return this.link.createEndpoint(cb, { ...options, dst: options.dst ?? this.dst, announce: false }, this);
  }

  private get defaultEpt(): Endpoint {
    if (this.ept === undefined || this.ept.destroyed) {
      throw new RpmsgError('ENODEV', 'channel has no endpoint', { name: this.name });
    }
    return this.ept;
  }

  send(data: Uint8Array, options?: SendOptions): Promise<void> {
    try {
      return this.defaultEpt.sendOffchannel(this.src, this.dst, data, options);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  sendTo(data: Uint8Array, dst: number, options?: SendOptions): Promise<void> {
    try {
      return this.defaultEpt.sendOffchannel(this.src, dst, data, options);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  sendOffchannel(src: number, dst: number, data: Uint8Array, options?: SendOptions): Promise<void> {
    try {
      return this.defaultEpt.sendOffchannel(src, dst, data, options);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  trySend(data: Uint8Array): void {
    this.defaultEpt.trySendOffchannel(this.src, this.dst, data);
  }
  trySendTo(data: Uint8Array, dst: number): void {
    this.defaultEpt.trySendOffchannel(this.src, dst, data);
  }
  trySendOffchannel(src: number, dst: number, data: Uint8Array): void {
    this.defaultEpt.trySendOffchannel(src, dst, data);
  }
  getMtu(): number {
    return this.link.getMtu();
  }
  poll(): boolean {
    return this.ept !== undefined && this.ept.poll();
  }
  waitWritable(options?: SendOptions): Promise<void> {
    try {
      return this.defaultEpt.waitWritable(options);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  tryGetTxPayloadBuffer(): TxBuffer {
    return this.defaultEpt.tryGetTxPayloadBuffer();
  }
  getTxPayloadBuffer(options?: SendOptions): Promise<TxBuffer> {
    try {
      return this.defaultEpt.getTxPayloadBuffer(options);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  sendNocopy(buffer: TxBuffer, len: number): void {
    this.defaultEpt.sendOffchannelNocopy(buffer, this.src, this.dst, len);
  }
  releaseTxBuffer(buffer: TxBuffer): void {
    this.defaultEpt.releaseTxBuffer(buffer);
  }
  holdRxBuffer(data: Uint8Array): RxBufferHold {
    return this.defaultEpt.holdRxBuffer(data);
  }
  releaseRxBuffer(hold: RxBufferHold): void {
    this.link.releaseRxBuffer(hold);
  }

  toString(): string {
    return `${this.name}: 0x${this.src.toString(16)} -> 0x${this.dst.toString(16)}`;
  }
}
