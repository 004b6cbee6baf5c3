/**
 * An endpoint binds an rx callback to a local address on one link (Linux `struct
 * rpmsg_endpoint`, OpenAMP `struct rpmsg_endpoint`). The send family lives here once, as thin
 * wrappers over one internal path (Linux rpmsg_core.c): arguments are checked in the order
 * Linux checks them (alive, payload, size, addresses), then the link sends or queues.
 *
 * Lifecycle: open → destroyed. destroy() first unregisters the address (so no new message can
 * find it) and rejects its waiting sends, then drops the callback, then announces the
 * destruction if it had announced itself (Linux teardown order). After destroy() no callback
 * runs, even for messages already queued.
 */
import { RpmsgError } from '../errors.js';
import { RPMSG_ADDR_ANY } from './constants.js';
import type { RxBufferHold, TxBuffer } from './ops.js';
import type { EndpointPort, SendOptions } from './types.js';

/**
 * rx callback of an endpoint. `data` is a view of the shared buffer, valid until the callback
 * returns (or until released, when held with `holdRxBuffer`); copy it to keep it.
 */
export type RxCallback = (ept: Endpoint, data: Uint8Array, src: number, priv: unknown) => void;

/** What the send family accepts: any ArrayBufferView by its bytes, or a whole ArrayBuffer. */
export type Payload = ArrayBufferView | ArrayBufferLike;

/** The bytes of `data` as a Uint8Array view (no copy); EINVAL for anything else. */
export function payloadBytes(data: Payload): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer)) {
    return new Uint8Array(data);
  }
  throw new RpmsgError('EINVAL', 'payload must be an ArrayBufferView or an ArrayBuffer', { type: typeof data });
}

function isAddress(a: number): boolean {
  return Number.isInteger(a) && a >= 0 && a < RPMSG_ADDR_ANY;
}

export class Endpoint {
  readonly addr: number;
  /** Default destination; learned from the first message when created as ADDR_ANY (OpenAMP). */
  dst: number;
  /** Service name, when the endpoint was created for one. */
  readonly name: string;
  readonly priv: unknown;
  /** @internal */ cb: RxCallback | null;
  /** @internal Name sent in an NS CREATE for it (so destroy sends DESTROY); set by the link. */
  announcedAs: string | undefined;
  /** @internal Whether an announcement from the peer may bind it by name (OpenAMP's bind). */
  readonly bindable: boolean;
  /**
   * Called when the peer destroys the service this endpoint was bound to by name (OpenAMP's
   * `ns_unbind_cb`); `dst` is already back to ADDR_ANY.
   */
  onUnbind: (() => void) | undefined;
  private readonly port: EndpointPort;
  private dead = false;

  /** @internal use RpmsgLink.createEndpoint or Channel.createEndpoint */
  constructor(port: EndpointPort, addr: number, dst: number, name: string, cb: RxCallback, priv: unknown, bindable: boolean) {
    this.port = port;
    this.addr = addr;
    this.dst = dst;
    this.name = name;
    this.cb = cb;
    this.priv = priv;
    this.bindable = bindable;
  }

  get destroyed(): boolean {
    return this.dead;
  }

  /** Whether the endpoint still waits for its destination (OpenAMP is_rpmsg_ept_ready is the opposite). */
  get unbound(): boolean {
    return this.dst === RPMSG_ADDR_ANY;
  }

  /**
   * Send to the default destination, waiting for a tx buffer (15 s default). Sends leave in
   * call order. `data` is copied into shared memory when the message goes out, which for a
   * waiting send is later: leave it unmodified until the promise settles.
   */
  send(data: Payload, options?: SendOptions): Promise<void> {
    return this.sendOffchannel(this.addr, this.dst, data, options);
  }
  /** Send to `dst`, waiting for a tx buffer. */
  sendTo(data: Payload, dst: number, options?: SendOptions): Promise<void> {
    return this.sendOffchannel(this.addr, dst, data, options);
  }
  /** Send from `src` to `dst`, waiting for a tx buffer. */
  sendOffchannel(src: number, dst: number, data: Payload, options?: SendOptions): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = this.check(src, dst, data);
      if (this.port.trySend(src, dst, bytes)) return RESOLVED; // fast path: no promise allocated
    } catch (e) {
      return Promise.reject(e);
    }
    return this.port.send(this, src, dst, bytes, options);
  }
  /** Send to the default destination now, or throw ENOMEM when no tx buffer is free. */
  trySend(data: Payload): void {
    this.trySendOffchannel(this.addr, this.dst, data);
  }
  trySendTo(data: Payload, dst: number): void {
    this.trySendOffchannel(this.addr, dst, data);
  }
  trySendOffchannel(src: number, dst: number, data: Payload): void {
    if (!this.port.trySend(src, dst, this.check(src, dst, data))) throw new RpmsgError('ENOMEM', 'no free tx buffer');
  }

  /** Largest payload of one message. */
  getMtu(): number {
    return this.port.getMtu();
  }
  /** Linux rpmsg_poll: whether a send would not block now. */
  poll(): boolean {
    return !this.dead && this.port.canSend();
  }
  /** Resolve when a tx buffer is free (or reject on timeout, abort, destroy or loss of the remote). */
  waitWritable(options?: SendOptions): Promise<void> {
    return this.dead ? Promise.reject(this.deadError()) : this.port.waitWritable(this, options);
  }

  // Zero-copy (OpenAMP rpmsg_get_tx_payload_buffer / rpmsg_send_nocopy / rpmsg_hold_rx_buffer).

  /** A free tx buffer to fill in place; ENOMEM at once when none is free. */
  tryGetTxPayloadBuffer(): TxBuffer {
    if (this.dead) throw this.deadError();
    return this.port.tryGetTxBuffer();
  }
  /** A free tx buffer, waiting for one like send() does. */
  getTxPayloadBuffer(options?: SendOptions): Promise<TxBuffer> {
    return this.dead ? Promise.reject(this.deadError()) : this.port.getTxBuffer(this, options);
  }
  /** Send `len` bytes of a buffer from getTxPayloadBuffer to the default destination (no copy). */
  sendNocopy(buffer: TxBuffer, len: number): void {
    this.sendOffchannelNocopy(buffer, this.addr, this.dst, len);
  }
  sendNocopyTo(buffer: TxBuffer, len: number, dst: number): void {
    this.sendOffchannelNocopy(buffer, this.addr, dst, len);
  }
  sendOffchannelNocopy(buffer: TxBuffer, src: number, dst: number, len: number): void {
    if (this.dead) throw this.deadError();
    checkAddresses(src, dst);
    this.port.sendNocopy(buffer, src, dst, len);
  }
  /** Give back an unsent buffer from getTxPayloadBuffer. */
  releaseTxBuffer(buffer: TxBuffer): void {
    this.port.releaseTxBuffer(buffer);
  }
  /**
   * Inside the rx callback: keep the buffer being delivered (`data` as received) past the
   * callback. Release it with `releaseRxBuffer`; until then the peer cannot reuse it.
   */
  holdRxBuffer(data: Uint8Array): RxBufferHold {
    return this.port.holdRxBuffer(data);
  }
  releaseRxBuffer(hold: RxBufferHold): void {
    this.port.releaseRxBuffer(hold);
  }

  /** Linux rpmsg_destroy_ept. Idempotent. */
  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.port.removeEndpoint(this.addr, this);
    this.cb = null;
  }

  /** Alive, a byte payload within the MTU (checked first, as Linux does), valid addresses. */
  private check(src: number, dst: number, data: Payload): Uint8Array {
    if (this.dead) throw this.deadError();
    const bytes = payloadBytes(data);
    const mtu = this.port.getMtu();
    if (bytes.length > mtu) throw new RpmsgError('EMSGSIZE', `payload of ${bytes.length} bytes exceeds the MTU of ${mtu}`, { len: bytes.length, mtu });
    checkAddresses(src, dst);
    return bytes;
  }

  private deadError(): RpmsgError {
    return new RpmsgError('ENODEV', 'endpoint destroyed', { addr: this.addr });
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

function checkAddresses(src: number, dst: number): void {
  if (!isAddress(src) || !isAddress(dst)) {
    throw new RpmsgError('EINVAL', 'src and dst must be valid addresses, not ADDR_ANY', { src, dst });
  }
}
