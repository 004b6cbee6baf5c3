/**
 * One rpmsg link to one peer processor: its endpoint address space, the send family, the
 * wait for tx buffers and delivery of received messages to endpoints. It knows nothing of
 * virtio: a transport implements `RpmsgTransportOps` and calls `deliver()` / `txReady()`.
 * (OpenAMP `struct rpmsg_device` + lib/rpmsg/rpmsg.c; Linux `virtproc_info`'s endpoint idr.)
 *
 * Lifecycle: up → down. shutdown(reason) is terminal and idempotent: every endpoint is
 * destroyed (no callback runs after it), the bus removes the link's channels (drivers'
 * remove runs), and every waiting sender is rejected with ENODEV at once.
 */
import { EventEmitter } from 'node:events';
import { RpmsgAbortError, RpmsgError } from '../errors.js';
import {
  RPMSG_ADDR_ANY,
  RPMSG_DEFAULT_SEND_TIMEOUT_MS,
  RPMSG_RESERVED_ADDRESSES,
} from './constants.js';
import { Endpoint, type RxCallback } from './endpoint.js';
import type { Channel } from './channel.js';
import type { RpmsgTransportOps, RxBufferHold, TxBuffer } from './ops.js';

export interface SendOptions {
  /** Milliseconds to wait for a tx buffer (default 15000, the seed's 15 s). */
  timeout?: number;
  /** Cancels the wait; the promise rejects with ABORT_ERR. */
  signal?: AbortSignal;
}

export interface CreateEndpointOptions {
  /** Local address; ADDR_ANY (default) allocates the lowest free address ≥ 1024. */
  addr?: number;
  /** Default destination; ADDR_ANY (default) is learned from the first message received. */
  dst?: number;
  /** Service name; with `announce`, an NS CREATE is sent for it. */
  name?: string;
  /**
   * Send an NS CREATE for this endpoint (name required, name service negotiated).
   * Default: true when a name is given and `dst` is ADDR_ANY (OpenAMP rpmsg_create_ept).
   */
  announce?: boolean;
  priv?: unknown;
}

export interface LinkLimits {
  /** Endpoints this link may hold (default 65536). */
  maxEndpoints?: number;
  /** Channels the peer may create through announcements (default 1024). */
  maxChannels?: number;
}

export interface LinkStats {
  rxMessages: number;
  rxBytes: number;
  txMessages: number;
  txBytes: number;
  /** Messages for an address with no endpoint (dropped, buffer given back). */
  rxDroppedNoEndpoint: number;
  /** Messages rejected by length checks (dropped, buffer given back). */
  rxInvalid: number;
  /** rx callbacks that threw (the error is reported, delivery goes on). */
  callbackErrors: number;
}

/** Announces endpoints to the peer; installed by the name service when it attaches. */
export type Announcer = (name: string, addr: number, destroy: boolean) => void;

/** What the link needs from the bus (the bus implements it). */
export interface ChannelHost {
  /** @internal Remove every channel of the link (remove runs). */
  removeLinkChannels(link: RpmsgLink): void;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** A sender (data set) or a writability waiter (data undefined) queued for a tx buffer. */
interface Pending {
  ept: Endpoint | undefined;
  src: number;
  dst: number;
  data: Uint8Array | undefined;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class RpmsgLink extends EventEmitter {
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
  /** Installed by the name service while the feature is negotiated. */
  announcer: Announcer | undefined;
  /** The bus the link's channels live on (set by RpmsgBus.addLink). */
  bus: ChannelHost | undefined;
  readonly maxEndpoints: number;
  readonly maxChannels: number;

  private ops: RpmsgTransportOps | undefined;
  private readonly endpoints = new Map<number, Endpoint>();
  private lowestFree = RPMSG_RESERVED_ADDRESSES;
  private readonly queue: Pending[] = [];
  private downReason: RpmsgError | undefined;
  private holdingData: Uint8Array | null = null;

  constructor(name: string, role: 'host' | 'remote', limits: LinkLimits = {}) {
    super();
    this.name = name;
    this.role = role;
    this.maxEndpoints = limits.maxEndpoints ?? 65536;
    this.maxChannels = limits.maxChannels ?? 1024;
  }

  /** Connect the transport (done once by the transport's constructor). */
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

  /** Endpoints by address (read-only snapshot for tools). */
  listEndpoints(): Endpoint[] {
    return [...this.endpoints.values()];
  }

  getEndpoint(addr: number): Endpoint | undefined {
    return this.endpoints.get(addr);
  }

  // ------------------------------------------------------------- endpoints

  /** Linux rpmsg_create_ept / OpenAMP rpmsg_create_ept. */
  createEndpoint(cb: RxCallback, options: CreateEndpointOptions = {}, channel?: Channel): Endpoint {
    this.assertUp();
    if (typeof cb !== 'function') throw new RpmsgError('EINVAL', 'rx callback required');
    if (this.endpoints.size >= this.maxEndpoints) {
      throw new RpmsgError('ENOMEM', 'endpoint limit reached', { max: this.maxEndpoints });
    }
    const wanted = options.addr ?? RPMSG_ADDR_ANY;
    const dst = options.dst ?? RPMSG_ADDR_ANY;
    if (!isAddress(wanted) || !isAddress(dst)) throw new RpmsgError('EINVAL', 'address out of range', { addr: wanted, dst });
    let addr: number;
    if (wanted === RPMSG_ADDR_ANY) {
      addr = this.allocateAddress();
    } else {
      if (this.endpoints.has(wanted)) throw new RpmsgError('EADDRINUSE', `address ${wanted} is taken`, { addr: wanted });
      addr = wanted;
    }
    const name = options.name ?? '';
    const ept = new Endpoint(this, addr, dst, name, cb, options.priv, channel);
    this.endpoints.set(addr, ept);
    const announce = options.announce ?? (name !== '' && dst === RPMSG_ADDR_ANY);
    if (announce && name !== '' && this.announcer !== undefined) {
      this.announcer(name, addr, false);
      ept.announced = true;
    }
    return ept;
  }

  private allocateAddress(): number {
    let a = this.lowestFree;
    while (this.endpoints.has(a)) a++;
    if (a >= RPMSG_ADDR_ANY) throw new RpmsgError('ENOMEM', 'no free address');
    this.lowestFree = a + 1;
    return a;
  }

  /** @internal Endpoint.destroy calls this. */
  removeEndpoint(ept: Endpoint): void {
    if (this.endpoints.get(ept.addr) !== ept) return;
    this.endpoints.delete(ept.addr);
    if (ept.addr >= RPMSG_RESERVED_ADDRESSES && ept.addr < this.lowestFree) this.lowestFree = ept.addr;
    if (ept.announced && this.up && this.announcer !== undefined) {
      try {
        this.announcer(ept.name, ept.addr, true);
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
      return false;
    }
    stats.rxMessages++;
    stats.rxBytes += data.length;
    if (ept.dst === RPMSG_ADDR_ANY && src !== RPMSG_ADDR_ANY) ept.dst = src; // OpenAMP learns the peer
    this.holdingData = data;
    try {
      ept.cb(ept.channel ?? ept, data, src, ept.priv);
    } catch (e) {
      stats.callbackErrors++;
      this.reportError(e);
    } finally {
      this.holdingData = null;
    }
    return true;
  }

  /** @internal count a message the transport rejected by its length checks. */
  countInvalid(): void {
    this.stats.rxInvalid++;
  }

  holdRxBuffer(data: Uint8Array): RxBufferHold {
    const ops = this.requireOps();
    if (ops.holdRxBuffer === undefined) throw new RpmsgError('ENXIO', 'transport cannot hold rx buffers');
    if (this.holdingData === null || data !== this.holdingData) {
      throw new RpmsgError('EINVAL', 'holdRxBuffer must be called in the rx callback with the data received');
    }
    const token = ops.holdRxBuffer();
    return { data, token };
  }

  releaseRxBuffer(hold: RxBufferHold): void {
    if (this.ops === undefined || this.downReason !== undefined) return; // memory is gone with the link
    if (this.ops.releaseRxBuffer === undefined) throw new RpmsgError('ENXIO', 'transport cannot release rx buffers');
    this.ops.releaseRxBuffer(hold.token);
  }

  // ------------------------------------------------------------- send

  getMtu(): number {
    return this.requireOps().getMtu();
  }

  /** Whether a send would not wait now (a buffer is free and no earlier sender is queued). */
  canSend(): boolean {
    return this.up && this.queue.length === 0 && this.ops!.canSend();
  }

  /** The try-variants: send now or throw ENOMEM (also while earlier senders wait: order is kept). */
  trySendOffchannel(ept: Endpoint, src: number, dst: number, data: Uint8Array): void {
    ept.assertAlive();
    const ops = this.requireOps();
    checkAddresses(src, dst);
    if (this.queue.length !== 0 || !ops.trySend(src, dst, data)) throw new RpmsgError('ENOMEM', 'no free tx buffer');
    this.stats.txMessages++;
    this.stats.txBytes += data.length;
  }

  /**
   * The blocking variants: send now, or queue behind earlier waiting senders (messages leave in
   * call order) and wait up to `timeout` ms (15 s) for a tx buffer.
   */
  sendOffchannel(ept: Endpoint, src: number, dst: number, data: Uint8Array, options?: SendOptions): Promise<void> {
    try {
      ept.assertAlive();
      const ops = this.requireOps();
      checkAddresses(src, dst);
      if (data.length > ops.getMtu()) {
        throw new RpmsgError('EMSGSIZE', `payload of ${data.length} bytes exceeds the MTU of ${ops.getMtu()}`, { len: data.length });
      }
      if (this.queue.length === 0 && ops.trySend(src, dst, data)) {
        this.stats.txMessages++;
        this.stats.txBytes += data.length;
        return RESOLVED; // fast path: no promise allocated
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(ept, src, dst, data, options);
  }

  /** Resolve when a tx buffer is free (at this caller's turn in the queue). */
  waitWritable(options?: SendOptions): Promise<void> {
    if (this.canSend()) return RESOLVED;
    return this.enqueue(undefined, 0, 0, undefined, options);
  }

  tryGetTxBuffer(): TxBuffer {
    const ops = this.requireOps();
    if (ops.getTxBuffer === undefined) throw new RpmsgError('ENXIO', 'transport has no zero-copy tx');
    const buf = this.queue.length === 0 ? ops.getTxBuffer() : null;
    if (buf === null) throw new RpmsgError('ENOMEM', 'no free tx buffer');
    return buf;
  }

  async getTxBuffer(options?: SendOptions): Promise<TxBuffer> {
    const deadline = Date.now() + (options?.timeout ?? RPMSG_DEFAULT_SEND_TIMEOUT_MS);
    for (;;) {
      const ops = this.requireOps();
      if (ops.getTxBuffer === undefined) throw new RpmsgError('ENXIO', 'transport has no zero-copy tx');
      const buf = this.queue.length === 0 ? ops.getTxBuffer() : null;
      if (buf !== null) return buf;
      await this.enqueue(undefined, 0, 0, undefined, { timeout: deadline - Date.now(), ...(options?.signal ? { signal: options.signal } : {}) });
    }
  }

  sendNocopy(ept: Endpoint, buffer: TxBuffer, src: number, dst: number, len: number): void {
    ept.assertAlive();
    const ops = this.requireOps();
    if (ops.sendNocopy === undefined) throw new RpmsgError('ENXIO', 'transport has no zero-copy tx');
    checkAddresses(src, dst);
    ops.sendNocopy(buffer, src, dst, len);
    this.stats.txMessages++;
    this.stats.txBytes += len;
  }

  releaseTxBuffer(buffer: TxBuffer): void {
    if (this.ops === undefined || this.downReason !== undefined) return;
    if (this.ops.releaseTxBuffer === undefined) throw new RpmsgError('ENXIO', 'transport has no zero-copy tx');
    this.ops.releaseTxBuffer(buffer);
  }

  /** Transport: tx buffers may be free again. Serves queued senders in order while buffers last. */
  txReady(): void {
    const ops = this.ops;
    if (ops === undefined || this.downReason !== undefined) return;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.data === undefined) {
        if (!ops.canSend()) return;
      } else {
        if (head.ept?.destroyed) {
          this.settle(head, new RpmsgError('ENODEV', 'endpoint destroyed', { addr: head.ept.addr }));
          continue;
        }
        let sent: boolean;
        try {
          sent = ops.trySend(head.src, head.dst, head.data);
        } catch (e) {
          this.settle(head, e as Error);
          continue;
        }
        if (!sent) return;
        this.stats.txMessages++;
        this.stats.txBytes += head.data.length;
      }
      this.settle(head, undefined);
    }
  }

  /** Senders (and writability waiters) queued for a tx buffer. */
  get txWaiters(): number {
    return this.queue.length;
  }

  private enqueue(
    ept: Endpoint | undefined,
    src: number,
    dst: number,
    data: Uint8Array | undefined,
    options: SendOptions | undefined,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.downReason !== undefined) return reject(this.downReason);
      const signal = options?.signal;
      if (signal?.aborted) return reject(new RpmsgAbortError(signal.reason));
      const timeout = options?.timeout ?? RPMSG_DEFAULT_SEND_TIMEOUT_MS;
      if (!(timeout > 0)) return reject(new RpmsgError('ETIMEDOUT', 'no tx buffer within the timeout'));
      const p: Pending = { ept, src, dst, data, resolve, reject, timer: undefined, signal, onAbort: undefined };
      p.timer = setTimeout(() => this.settle(p, new RpmsgError('ETIMEDOUT', 'no tx buffer within the timeout', { timeout })), timeout);
      if (signal !== undefined) {
        p.onAbort = () => this.settle(p, new RpmsgAbortError(signal.reason));
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.queue.push(p);
      if (this.queue.length === 1) {
        this.ops!.setTxWaiting(true);
        this.txReady(); // a buffer may have come back since the failed try
      }
    });
  }

  /** Take `p` out of the queue and resolve (error undefined) or reject it. */
  private settle(p: Pending, error: Error | undefined): void {
    const i = this.queue.indexOf(p);
    if (i < 0) return;
    this.queue.splice(i, 1);
    clearTimeout(p.timer);
    if (p.onAbort !== undefined) p.signal?.removeEventListener('abort', p.onAbort);
    if (this.queue.length === 0 && this.ops !== undefined && this.downReason === undefined) this.ops.setTxWaiting(false);
    if (error === undefined) p.resolve();
    else p.reject(error);
  }

  // ------------------------------------------------------------- lifecycle

  /**
   * Terminal: the peer is gone (crashed, stopped, broke the protocol). Destroys every endpoint,
   * removes the link's channels from the bus, rejects waiting senders with ENODEV.
   */
  shutdown(reason?: Error): void {
    if (this.downReason !== undefined) return;
    this.downReason =
      reason instanceof RpmsgError && reason.code === 'ENODEV'
        ? reason
        : new RpmsgError('ENODEV', `link ${this.name} is down${reason ? `: ${reason.message}` : ''}`, undefined, {
            cause: reason,
          });
    this.announcer = undefined;
    for (const p of [...this.queue]) this.settle(p, this.downReason);
    try {
      this.bus?.removeLinkChannels(this);
    } finally {
      for (const ept of [...this.endpoints.values()]) ept.destroy();
      this.emit('down', this.downReason);
    }
  }

  /** Report an error without throwing: to 'error' listeners if any, else as a 'warning' event. */
  reportError(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.emit('warning', error);
  }

  private assertUp(): void {
    if (this.downReason !== undefined) throw this.downReason;
    if (this.ops === undefined) throw new RpmsgError('ENODEV', 'link has no transport');
  }

  private requireOps(): RpmsgTransportOps {
    if (this.downReason !== undefined) throw this.downReason;
    if (this.ops === undefined) throw new RpmsgError('ENODEV', 'link has no transport');
    return this.ops;
  }
}

function isAddress(a: number): boolean {
  return Number.isInteger(a) && a >= 0 && a <= RPMSG_ADDR_ANY;
}

function checkAddresses(src: number, dst: number): void {
  if (src === RPMSG_ADDR_ANY || dst === RPMSG_ADDR_ANY || !isAddress(src) || !isAddress(dst)) {
    throw new RpmsgError('EINVAL', 'src and dst must be valid addresses, not ADDR_ANY', { src, dst });
  }
}
