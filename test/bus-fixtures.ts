/**
 * Shared by the bus, name-service and transport tests: a Loopback set-up, a recording driver,
 * and DirectTransport — a second, minimal implementation of the transport contract (ops.ts)
 * that hands messages straight to the peer link, so the bus core is exercised without virtio.
 */
import assert from 'node:assert/strict';
import { Loopback, RpmsgBus, RpmsgError, RpmsgLink, type RpmsgDriver, type RpmsgTransportOps } from '../src/index.js';
import { NameService } from '../src/ns/name-service.js';

export const SVC = 'rpmsg-client-sample';
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b.slice());

export interface Rx {
  data: string;
  src: number;
}

/** A loopback whose remote serves `name` with an endpoint that records what it receives. */
export function setup(opts: { txBuffers?: number; rxBuffers?: number; name?: string } = {}) {
  const lb = new Loopback({
    manual: true,
    host: { ...(opts.txBuffers ? { txBuffers: opts.txBuffers } : {}), ...(opts.rxBuffers ? { rxBuffers: opts.rxBuffers } : {}) },
  });
  const remoteRx: Rx[] = [];
  const remoteEpt = lb.remote.link.createEndpoint((_o, data, src) => remoteRx.push({ data: dec(data), src }), { name: opts.name ?? SVC });
  return { lb, remoteEpt, remoteRx };
}

export function recordingDriver(log: string[], rx: Rx[] = []): RpmsgDriver {
  return {
    name: 'recorder',
    idTable: [SVC],
    probe: (ch) => void log.push(`probe ${ch.name} ${ch.src}->${ch.dst}`),
    remove: (ch) => void log.push(`remove ${ch.name}`),
    callback: (_ch, data, src) => void rx.push({ data: dec(data), src }),
  };
}

export async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof RpmsgError && e.code === code);
}

/**
 * `credits` tx buffers; a sent message is queued for the peer until `deliver()` runs, which
 * also gives the credit back and wakes waiting senders.
 */
export class DirectTransport implements RpmsgTransportOps {
  peer: DirectTransport | undefined;
  readonly queue: Array<{ src: number; dst: number; data: Uint8Array }> = [];
  readonly ns: NameService | undefined;
  txWaiting = false;
  private used = 0;

  constructor(
    readonly link: RpmsgLink,
    bus: RpmsgBus,
    private readonly credits: number,
    private readonly mtu = 496,
    nameService = true,
  ) {
    bus.addLink(link);
    link.attachTransport(this);
    this.ns = nameService ? new NameService(bus, link) : undefined;
  }

  getMtu(): number {
    return this.mtu;
  }
  canSend(): boolean {
    return this.used < this.credits;
  }
  trySend(src: number, dst: number, data: Uint8Array): boolean {
    if (data.length > this.mtu) throw new RpmsgError('EMSGSIZE', 'too big');
    if (this.used >= this.credits) return false;
    this.used++;
    this.peer!.queue.push({ src, dst, data: data.slice() });
    return true;
  }
  setTxWaiting(waiting: boolean): void {
    this.txWaiting = waiting;
  }
  announceCreate(name: string, addr: number): void {
    this.ns?.announce(name, addr, false);
  }
  announceDestroy(name: string, addr: number): void {
    this.ns?.announce(name, addr, true);
  }

  /** Deliver what the peer sent us; its credits come back. Returns the count. */
  deliver(): number {
    const n = this.queue.length;
    for (const m of this.queue.splice(0)) this.link.deliver(m.src, m.dst, m.data);
    this.peer!.used -= n;
    this.peer!.link.txReady();
    return n;
  }
}

/** Two links on their own buses joined by DirectTransports. */
export function directPair(credits = 4, mtu = 496) {
  const hostBus = new RpmsgBus();
  const remoteBus = new RpmsgBus();
  const host = new DirectTransport(new RpmsgLink('direct-host', 'host'), hostBus, credits, mtu);
  const remote = new DirectTransport(new RpmsgLink('direct-remote', 'remote'), remoteBus, credits, mtu);
  host.peer = remote;
  remote.peer = host;
  const pump = (): void => {
    while (host.deliver() + remote.deliver() > 0);
  };
  return { hostBus, remoteBus, host, remote, pump };
}
