/**
 * One rpmsg link to one peer processor: its endpoint address space, the one send path, the
 * wait for tx buffers and delivery of received messages to endpoints. It knows nothing of
 * virtio: a transport implements `RpmsgTransportOps` and calls `deliver()` / `txReady()`.
 * (OpenAMP `struct rpmsg_device` + lib/rpmsg/rpmsg.c; Linux `virtproc_info`'s endpoint idr.)
 *
 * Lifecycle: up → down (terminal). `close()` is graceful: the link's channels are released
 * (drivers' remove runs, announced endpoints announce their destruction), then it goes down.
 * `destroy(err)` is abortive (the peer is gone or broke the protocol): waiting senders are
 * rejected at once with ENODEV whose `cause` is `err`, channels are removed, endpoints
 * destroyed without announcements, and 'down' is emitted with that error. Both idempotent.
 */
import { EventEmitter } from 'node:events';
import { RpmsgError, reportError } from '../errors.js';
import { AddressTable } from './address-table.js';
import { publishDrop, publishEndpoint, publishLinkDown, publishMessage, publishWait, receiveChannel, sendChannel } from './diagnostics.js';
import { RPMSG_ADDR_ANY, RPMSG_RESERVED_ADDRESSES } from './constants.js';
import { Endpoint, type RxCallback } from './endpoint.js';
import type { RpmsgTransportOps, RxBufferHold, TxBuffer } from './ops.js';
import { TxWaitQueue, sendTimeout } from './tx-wait-queue.js';
import type { CreateEndpointOptions, LinkLimits, LinkStats, SendOptions } from './types.js';

/** What the link needs from the bus it is on (the bus implements it). @internal */
export interface ChannelHost {
  /** Remove every channel of the link (drivers' remove runs). */
  removeLinkChannels(link: RpmsgLink): void;
}

export interface RpmsgLinkEvents {
  /** The link went down; the error says why (its `cause` is the original reason). */
  down: [error: RpmsgError];
  /** A callback threw, an announcement failed, the peer misbehaved. */
  error: [error: Error];
}

export class RpmsgLink extends EventEmitter<RpmsgLinkEvents> {
  readonly name: string;
  readonly role: 'host' | 'remote';
  readonly stats: LinkStats = {
    rxMessages: 0,
    rxBytes: 0,
    txMessages: 0,
    txBytes: 0,
    rxDroppedNoEndpoint: 0,
    rxInvalid: 0,
    callbackErrors: 0,
  };
  /** @internal The bus the link's channels live on (set by RpmsgBus.addLink). */
  bus: ChannelHost | undefined;
  readonly maxChannels: number;

  private ops: RpmsgTransportOps | undefined;
  private readonly endpoints: AddressTable<Endpoint>;
  private readonly queue = new TxWaitQueue((waiting) => {
    if (this.downReason === undefined) this.ops?.setTxWaiting(waiting);
  });
  private downReason: RpmsgError | undefined;
  private holdingData: Uint8Array | null = null;

  constructor(name: string, role: 'host' | 'remote', limits: LinkLimits = {}) {
    super();
    this.name = name;
    this.role = role;
    this.endpoints = new AddressTable(RPMSG_RESERVED_ADDRESSES, limits.maxEndpoints ?? 65536);
    this.maxChannels = limits.maxChannels ?? 1024;
  }

  /** Transports: connect (done once by the transport constructor). */
  attachTransport(ops: RpmsgTransportOps): void {
    if (this.ops !== undefined) throw new RpmsgError('EALREADY', 'link already has a transport');
    this.ops = ops;
  }

  get up(): boolean {
    return this.downReason === undefined && this.ops !== undefined;
  }

  /** Why the link went down, if it did. */
  get downError(): RpmsgError | undefined {
    return this.downReason;
  }

  get endpointCount(): number {
    return this.endpoints.size;
  }

  /** Endpoints by address (a snapshot for tools). */
  listEndpoints(): Endpoint[] {
    return this.endpoints.values();
  }

  getEndpoint(addr: number): Endpoint | undefined {
    return this.endpoints.get(addr);
  }

  // ------------------------------------------------------------- endpoints

  /** Linux rpmsg_create_ept / OpenAMP rpmsg_create_ept. */
  createEndpoint(cb: RxCallback, options: CreateEndpointOptions = {}): Endpoint {
    return this.addEndpoint(cb, options, true);
  }

  /** @internal Channels' endpoints: not bound by name from announcements. */
  addEndpoint(cb: RxCallback, options: CreateEndpointOptions, bindable: boolean): Endpoint {
    this.requireOps();
    if (typeof cb !== 'function') throw new RpmsgError('EINVAL', 'rx callback required');
    const wanted = options.addr ?? RPMSG_ADDR_ANY;
    const dst = options.dst ?? RPMSG_ADDR_ANY;
    if (!isAddress(wanted) || !isAddress(dst)) throw new RpmsgError('EINVAL', 'address out of range', { addr: wanted, dst });
    const name = options.name ?? '';
    const ept = this.insertEndpoint(wanted, dst, name, (addr) => new Endpoint(this, addr, dst, name, cb, options.priv, bindable));
    publishEndpoint(true, this, ept.addr, dst, name);
    ept.onUnbind = options.onUnbind;
    if (name !== '' && (options.announce ?? dst === RPMSG_ADDR_ANY)) this.announce(ept, name);
    return ept;
  }

  /**
   * Take the address; a transport with endpoint objects of its own (ops.createEndpoint) makes
   * one first and may refuse the address (EADDRINUSE: the next free one is tried, if any would do).
   */
  private insertEndpoint(wanted: number, dst: number, name: string, make: (addr: number) => Endpoint): Endpoint {
    const ops = this.ops!;
    if (ops.createEndpoint === undefined) return this.endpoints.insert(wanted, make);
    for (let tries = 0; ; tries++) {
      try {
        return this.endpoints.insert(wanted, (addr) => {
          ops.createEndpoint!(addr, dst, name);
          return make(addr);
        });
      } catch (e) {
        if (wanted !== RPMSG_ADDR_ANY || tries >= 64 || !(e instanceof RpmsgError && e.code === 'EADDRINUSE')) throw e;
      }
    }
  }

  /** @internal Send an NS CREATE for `ept` under `name` (when the transport announces). */
  announce(ept: Endpoint, name: string): void {
    const ops = this.requireOps();
    if (ops.announceCreate === undefined) return;
    ops.announceCreate(name, ept.addr);
    ept.announcedAs = name;
  }

  /** Tell the peer that service `name` at `addr` is gone (e.g. OpenAMP's ping host's goodbye). */
  announceDestroy(name: string, addr: number): void {
    this.requireOps().announceDestroy?.(name, addr);
  }

  /** @internal Endpoint.destroy calls this. */
  removeEndpoint(addr: number, owner: object): void {
    const ept = this.endpoints.get(addr);
    if (ept !== owner || !this.endpoints.remove(addr, ept)) return;
    publishEndpoint(false, this, addr, ept.dst, ept.name);
    try {
      this.ops?.destroyEndpoint?.(addr);
    } catch (e) {
      this.reportError(e);
    }
    this.queue.rejectAll(new RpmsgError('ENODEV', 'endpoint destroyed', { addr }), owner);
    if (ept.announcedAs !== undefined && this.up) {
      try {
        this.ops!.announceDestroy?.(ept.announcedAs, addr);
      } catch (e) {
        this.reportError(e);
      }
    }
  }

  /**
   * Name service: the peer announced `name` at `addr`. Binds the first local endpoint of that
   * name still waiting for its destination (OpenAMP's bind); false when there is none.
   */
  bindByName(name: string, addr: number): boolean {
    for (const ept of this.endpoints.values()) {
      if (ept.bindable && ept.name === name && ept.unbound) {
        ept.dst = addr;
        return true;
      }
    }
    return false;
  }

  /** Name service: the peer's `name` at `addr` is gone; endpoints bound to it wait again and their onUnbind runs. */
  unbindByName(name: string, addr: number): void {
    for (const ept of [...this.endpoints.values()]) {
      if (!ept.bindable || ept.name !== name || ept.dst !== addr) continue;
      ept.dst = RPMSG_ADDR_ANY;
      try {
        ept.onUnbind?.();
      } catch (e) {
        this.reportError(e);
      }
    }
  }

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

  // ------------------------------------------------------------- lifecycle

  /** Graceful: release the channels and endpoints (announcing their destruction), then go down. */
  close(): void {
    if (this.downReason !== undefined) return;
    try {
      this.bus?.removeLinkChannels(this);
    } finally {
      for (const ept of this.endpoints.values()) ept.destroy();
      this.destroy(new RpmsgError('ENODEV', `link ${this.name} closed`));
    }
  }

  /**
   * Abortive: the peer is gone (crashed, stopped, broke the protocol). Rejects waiting senders
   * with ENODEV (cause: `reason`), removes the link's channels from the bus, destroys every
   * endpoint, emits 'down'.
   */
  destroy(reason?: Error): void {
    if (this.downReason !== undefined) return;
    const down =
      reason instanceof RpmsgError && reason.code === 'ENODEV'
        ? reason
        : new RpmsgError('ENODEV', `link ${this.name} is down${reason ? `: ${reason.message}` : ''}`, undefined, { cause: reason });
    this.downReason = down;
    publishLinkDown(this, down);
    this.queue.rejectAll(down);
    try {
      this.bus?.removeLinkChannels(this);
    } finally {
      for (const ept of this.endpoints.values()) ept.destroy();
      this.emit('down', down);
    }
  }

  /** Report an error without throwing (errors.ts reportError: 'error' listeners, else a warning). */
  reportError(error: unknown): void {
    reportError(this, error);
  }

  private requireOps(): RpmsgTransportOps {
    if (this.downReason !== undefined) throw this.downReason;
    if (this.ops === undefined) throw new RpmsgError('ENODEV', 'link has no transport');
    return this.ops;
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

function isAddress(a: number): boolean {
  return Number.isInteger(a) && a >= 0 && a <= RPMSG_ADDR_ANY;
}
