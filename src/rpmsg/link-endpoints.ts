/**
 * Everything of an rpmsg link but its message path (link.ts, the subclass RpmsgLink): its state,
 * the endpoint address space (create, remove, announce, bind and unbind by name) and the
 * lifecycle (close, destroy). All fields are set here, so a link keeps one object shape and
 * the send and receive methods read them as own fields.
 */
import { EventEmitter } from 'node:events';
import { RpmsgError, reportError } from '../errors.js';
import { AddressTable } from './address-table.js';
import { RPMSG_ADDR_ANY, RPMSG_RESERVED_ADDRESSES } from './constants.js';
import { publishEndpoint, publishLinkDown } from './diagnostics.js';
import { Endpoint, type RxCallback } from './endpoint.js';
import type { RpmsgTransportOps } from './ops.js';
import { TxWaitQueue } from './tx-wait-queue.js';
import type { CreateEndpointOptions, EndpointPort, LinkLimits, LinkStats } from './types.js';

/** What the link needs from the bus it is on (the bus implements it). @internal */
export interface ChannelHost {
  /** Remove every channel of the link (drivers' remove runs). */
  removeLinkChannels(link: LinkEndpoints): void;
}

export interface RpmsgLinkEvents {
  /** The link went down; the error says why (its `cause` is the original reason). */
  down: [error: RpmsgError];
  /** A callback threw, an announcement failed, the peer misbehaved. */
  error: [error: Error];
}

export abstract class LinkEndpoints extends EventEmitter<RpmsgLinkEvents> {
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

  protected ops: RpmsgTransportOps | undefined;
  protected readonly endpoints: AddressTable<Endpoint>;
  protected readonly queue = new TxWaitQueue((waiting) => {
    if (this.downReason === undefined) this.ops?.setTxWaiting(waiting);
  });
  protected downReason: RpmsgError | undefined;
  protected holdingData: Uint8Array | null = null;

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
    const ept = this.insertEndpoint(wanted, dst, name, (addr) => new Endpoint(this.port, addr, dst, name, cb, options.priv, bindable));
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

  /** What endpoints send through: the link itself (RpmsgLink implements EndpointPort). */
  protected abstract get port(): EndpointPort;

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

  protected requireOps(): RpmsgTransportOps {
    if (this.downReason !== undefined) throw this.downReason;
    if (this.ops === undefined) throw new RpmsgError('ENODEV', 'link has no transport');
    return this.ops;
  }
}

function isAddress(a: number): boolean {
  return Number.isInteger(a) && a >= 0 && a <= RPMSG_ADDR_ANY;
}
