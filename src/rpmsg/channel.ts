/**
 * A channel (Linux `struct rpmsg_device`): a named service on one link with a local (src) and
 * a remote (dst) address. The bus probes the driver whose id table names it; if the driver has
 * a callback, a default endpoint is created for it first (Linux rpmsg_dev_probe). The send
 * family here is one-line delegations to that default endpoint (rpmsg_send(rpdev->ept, ...)).
 *
 * Lifecycle: unbound → bound (probe succeeded) → unbound (driver removed) → released (the
 * announcement was destroyed or the link went down).
 */
import { RpmsgError } from '../errors.js';
import type { Endpoint, Payload, RxCallback } from './endpoint.js';
import type { RpmsgLink } from './link.js';
import type { RxBufferHold, TxBuffer } from './ops.js';
import type { SendOptions } from './types.js';

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
  /** Name of the driver bound to it, if any. */
  driverName: string | undefined;
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

  /** Linux rpmsg_create_ept(rpdev, cb, priv, chinfo): an extra endpoint on this channel's link. */
  createEndpoint(cb: RxCallback, options: { addr?: number; dst?: number; priv?: unknown } = {}): Endpoint {
    if (this.released) throw new RpmsgError('ENODEV', 'channel released', { name: this.name });
    return this.link.addEndpoint(cb, { ...options, dst: options.dst ?? this.dst, announce: false }, false);
  }

  send(data: Payload, options?: SendOptions): Promise<void> {
    return this.ept?.sendOffchannel(this.src, this.dst, data, options) ?? this.noEndpoint();
  }
  sendTo(data: Payload, dst: number, options?: SendOptions): Promise<void> {
    return this.ept?.sendOffchannel(this.src, dst, data, options) ?? this.noEndpoint();
  }
  sendOffchannel(src: number, dst: number, data: Payload, options?: SendOptions): Promise<void> {
    return this.ept?.sendOffchannel(src, dst, data, options) ?? this.noEndpoint();
  }
  waitWritable(options?: SendOptions): Promise<void> {
    return this.ept?.waitWritable(options) ?? this.noEndpoint();
  }
  getTxPayloadBuffer(options?: SendOptions): Promise<TxBuffer> {
    return this.ept?.getTxPayloadBuffer(options) ?? this.noEndpoint();
  }
  trySend(data: Payload): void {
    this.defaultEpt().trySendOffchannel(this.src, this.dst, data);
  }
  trySendTo(data: Payload, dst: number): void {
    this.defaultEpt().trySendOffchannel(this.src, dst, data);
  }
  trySendOffchannel(src: number, dst: number, data: Payload): void {
    this.defaultEpt().trySendOffchannel(src, dst, data);
  }
  tryGetTxPayloadBuffer(): TxBuffer {
    return this.defaultEpt().tryGetTxPayloadBuffer();
  }
  sendNocopy(buffer: TxBuffer, len: number): void {
    this.defaultEpt().sendOffchannelNocopy(buffer, this.src, this.dst, len);
  }
  releaseTxBuffer(buffer: TxBuffer): void {
    this.defaultEpt().releaseTxBuffer(buffer);
  }
  holdRxBuffer(data: Uint8Array): RxBufferHold {
    return this.defaultEpt().holdRxBuffer(data);
  }
  releaseRxBuffer(hold: RxBufferHold): void {
    this.link.releaseRxBuffer(hold);
  }
  getMtu(): number {
    return this.link.getMtu();
  }
  poll(): boolean {
    return this.ept !== undefined && this.ept.poll();
  }

  toString(): string {
    return `${this.name}: 0x${this.src.toString(16)} -> 0x${this.dst.toString(16)}`;
  }

  private defaultEpt(): Endpoint {
    if (this.ept === undefined || this.ept.destroyed) throw this.noEndpointError();
    return this.ept;
  }

  private noEndpoint(): Promise<never> {
    return Promise.reject(this.noEndpointError());
  }

  private noEndpointError(): RpmsgError {
    return new RpmsgError('ENODEV', 'channel has no endpoint', { name: this.name });
  }
}
