/**
 * Statistics of a bus in this program, per link and per endpoint: messages and bytes each
 * way, drops by reason, waits for tx buffers, violations, and each vring's occupancy (read
 * from its index words when asked).
 *
 * Link totals come from the link's own always-on counters (`link.stats`); everything finer is
 * counted from the diagnostics channels while a collector exists (nothing is counted, and
 * nothing costs, when none does).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Region } from '../memory/region.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import {
  RPMSG_CHANNELS,
  linkDiagInfo,
  type DiagLink,
  type DiagVring,
  type DropEvent,
  type DropReason,
  type EndpointEvent,
  type LinkDownEvent,
  type LinkUpEvent,
  type MessageEvent,
  type ViolationEvent,
  type WaitEvent,
} from '../rpmsg/diagnostics.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { LinkStats } from '../rpmsg/types.js';
import { vringLayout } from '../virtio/vring-layout.js';

export interface EndpointStats {
  addr: number;
  name: string;
  /** Default destination (ADDR_ANY until learned). */
  dst: number;
  rxMessages: number;
  rxBytes: number;
  txMessages: number;
  txBytes: number;
  destroyed: boolean;
}

export interface VringStats {
  name: string;
  num: number;
  availIdx: number;
  usedIdx: number;
  /** Buffers made available and not yet used: (avail.idx − used.idx) mod 2^16. */
  inFlight: number;
}

/** The link's own always-on totals (`LinkStats`, since it came up) plus what the collector saw. */
export interface LinkStatsReport extends LinkStats {
  name: string;
  role: 'host' | 'remote';
  up: boolean;
  mtu: number | undefined;
  /** Drops by reason since the collector started. */
  drops: Record<DropReason, number>;
  /** Sends that had to wait for a tx buffer (since the collector started). */
  waits: number;
  /** Senders waiting now. */
  txWaiters: number;
  violations: Array<{ code: string; message: string }>;
  downReason: string | undefined;
  channels: Array<{ name: string; src: number; dst: number; driver: string | undefined }>;
  endpoints: EndpointStats[];
  vrings: VringStats[];
}

interface LinkState {
  link: DiagLink;
  mtu: number | undefined;
  vrings: readonly DiagVring[];
  drops: Record<DropReason, number>;
  waits: number;
  violations: Array<{ code: string; message: string }>;
  downReason: string | undefined;
  endpoints: Map<number, EndpointStats>;
}

const newDrops = (): Record<DropReason, number> => ({ 'no-endpoint': 0, 'invalid-length': 0, 'unusable-buffer': 0 });

/** Read a vring's two index words (read-only; the region may be shared with a live peer). */
export function readVringStats(v: DiagVring): VringStats {
  const region = v.region as Region;
  const L = vringLayout(v.num, v.align);
  const availIdx = region.getU16(v.offset + L.availIdx);
  const usedIdx = region.getU16(v.offset + L.usedIdx);
  return { name: v.name, num: v.num, availIdx, usedIdx, inFlight: (availIdx - usedIdx) & 0xffff };
}

export class BusStats {
  private readonly links = new Map<DiagLink, LinkState>();
  private readonly handlers: Array<[string, (m: unknown) => void]> = [];
  private closed = false;

  /** Collect for `bus` (undefined: every bus of the program). */
  constructor(private readonly bus?: RpmsgBus) {
    for (const link of bus?.listLinks() ?? []) {
      const s = this.state(link);
      for (const ept of link.listEndpoints()) s.endpoints.set(ept.addr, newEndpoint(ept.addr, ept.name, ept.dst));
    }
    this.on(RPMSG_CHANNELS.linkUp, (e: LinkUpEvent) => {
      const s = this.state(e.link);
      s.vrings = e.vrings;
      s.mtu = e.mtu;
    });
    this.on(RPMSG_CHANNELS.linkDown, (e: LinkDownEvent) => {
      this.state(e.link).downReason = e.reason.message;
    });
    this.on(RPMSG_CHANNELS.endpointCreated, (e: EndpointEvent) => {
      this.state(e.link).endpoints.set(e.addr, newEndpoint(e.addr, e.name, e.dst));
    });
    this.on(RPMSG_CHANNELS.endpointDestroyed, (e: EndpointEvent) => {
      const ept = this.state(e.link).endpoints.get(e.addr);
      if (ept !== undefined) ept.destroyed = true;
    });
    this.on(RPMSG_CHANNELS.send, (e: MessageEvent) => {
      const ept = this.endpoint(e.link, e.src);
      ept.txMessages++;
      ept.txBytes += e.len;
    });
    this.on(RPMSG_CHANNELS.receive, (e: MessageEvent) => {
      const ept = this.endpoint(e.link, e.dst);
      ept.rxMessages++;
      ept.rxBytes += e.len;
    });
    this.on(RPMSG_CHANNELS.drop, (e: DropEvent) => {
      this.state(e.link).drops[e.reason]++;
    });
    this.on(RPMSG_CHANNELS.wait, (e: WaitEvent) => {
      this.state(e.link).waits++;
    });
    this.on(RPMSG_CHANNELS.violation, (e: ViolationEvent) => {
      const v = this.state(e.link).violations;
      if (v.length < 16) v.push({ code: e.error.code ?? 'ERR', message: e.error.message });
    });
  }

  private on<T>(name: string, fn: (e: T) => void): void {
    const h = (m: unknown): void => {
      const link = (m as { link: DiagLink }).link;
      if (this.bus === undefined || link.bus === this.bus) fn(m as T);
    };
    subscribe(name, h);
    this.handlers.push([name, h]);
  }

  private state(link: DiagLink): LinkState {
    let s = this.links.get(link);
    if (s === undefined) {
      const info = linkDiagInfo(link); // came up before this collector existed
      s = { link, mtu: info?.mtu, vrings: info?.vrings ?? [], drops: newDrops(), waits: 0, violations: [], downReason: undefined, endpoints: new Map() };
      this.links.set(link, s);
    }
    return s;
  }

  private endpoint(link: DiagLink, addr: number): EndpointStats {
    const eps = this.state(link).endpoints;
    let e = eps.get(addr);
    if (e === undefined) {
      e = newEndpoint(addr, '', 0xffffffff); // sent from an address with no endpoint (offchannel)
      eps.set(addr, e);
    }
    return e;
  }

  /** Every link seen, with its counters now. Destroyed endpoints are kept for their counts. */
  report(): LinkStatsReport[] {
    const out: LinkStatsReport[] = [];
    for (const s of this.links.values()) {
      const link = s.link as unknown as RpmsgLink;
      const st = link.stats;
      const channels = (this.bus?.channels ?? [])
        .filter((c) => c.link === link)
        .map((c) => ({ name: c.name, src: c.src, dst: c.dst, driver: c.driverName }));
      for (const ept of link.listEndpoints?.() ?? []) {
        const e = s.endpoints.get(ept.addr);
        if (e !== undefined) e.dst = ept.dst;
      }
      out.push({
        name: link.name,
        role: link.role,
        up: link.up,
        mtu: s.mtu,
        rxMessages: st.rxMessages,
        rxBytes: st.rxBytes,
        txMessages: st.txMessages,
        txBytes: st.txBytes,
        rxDroppedNoEndpoint: st.rxDroppedNoEndpoint,
        rxInvalid: st.rxInvalid,
        drops: { ...s.drops },
        callbackErrors: st.callbackErrors,
        waits: s.waits,
        txWaiters: link.up ? link.txWaiters : 0,
        violations: [...s.violations],
        downReason: s.downReason ?? link.downError?.message,
        channels,
        endpoints: [...s.endpoints.values()].sort((a, b) => a.addr - b.addr).map((e) => ({ ...e })),
        vrings: link.up ? s.vrings.map(readVringStats) : [],
      });
    }
    return out;
  }

  /** Forget links that are down (a restarted remote comes back as a new link). */
  pruneDown(): void {
    for (const [k, s] of this.links) if (!(s.link as unknown as RpmsgLink).up) this.links.delete(k);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [name, h] of this.handlers) unsubscribe(name, h);
  }
}

function newEndpoint(addr: number, name: string, dst: number): EndpointStats {
  return { addr, name, dst, rxMessages: 0, rxBytes: 0, txMessages: 0, txBytes: 0, destroyed: false };
}
