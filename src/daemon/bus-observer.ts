/**
 * What the daemon shows of its bus to clients whose rule has `observe`: the statistics of
 * trace/stats.ts (one collector for the daemon's life) and trace records of trace/bus-tracer.ts
 * (one tracer while anybody subscribes, fanned out to the subscribers).
 *
 * Each record is given the name of the channel it belongs to, once, here; each subscriber
 * then sees it only when its rule allows that name (session-trace.ts). The name is: the
 * announced name for a name-service message; else the channel on that link whose remote
 * address is the message's remote end; else the name of the local endpoint; else none.
 */
import type { RpmsgBus } from '../rpmsg/bus.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import { traceBus, type BusTrace } from '../trace/bus-tracer.js';
import type { TraceRecord } from '../trace/record.js';
import { BusStats, type LinkStatsReport } from '../trace/stats.js';

/** One trace subscriber (a session's feed). */
export interface TraceSubscriber {
  offer(record: TraceRecord, channel: string | undefined): void;
}

export class BusObserver {
  private readonly stats: BusStats;
  private readonly subs = new Set<TraceSubscriber>();
  private trace: BusTrace | undefined;

  constructor(private readonly bus: RpmsgBus) {
    this.stats = new BusStats(bus);
  }

  /** Every link's counters now (links that went down are forgotten: a restarted remote is a new link). */
  report(): LinkStatsReport[] {
    this.stats.pruneDown();
    return this.stats.report();
  }

  get subscribers(): number {
    return this.subs.size;
  }

  subscribe(s: TraceSubscriber): void {
    this.subs.add(s);
    this.trace ??= traceBus(this.bus, { write: (r) => this.fanOut(r) });
  }

  unsubscribe(s: TraceSubscriber): void {
    if (!this.subs.delete(s) || this.subs.size > 0) return;
    void this.trace?.close();
    this.trace = undefined;
  }

  close(): void {
    this.subs.clear();
    void this.trace?.close();
    this.trace = undefined;
    this.stats.close();
  }

  private fanOut(r: TraceRecord): void {
    const name = this.channelOf(r);
    for (const s of this.subs) s.offer(r, name);
  }

  /** The channel name a record belongs to, or undefined when none can be given. */
  channelOf(r: TraceRecord): string | undefined {
    if (r.ns !== undefined) return r.ns.name;
    const link = this.bus.listLinks().find((l) => l.name === r.link);
    if (link === undefined) return undefined;
    // The host sends h2r and receives r2h; a remote the opposite.
    const sent = (r.dir === 'h2r') === (link.role === 'host');
    const local = sent ? r.src : r.dst;
    const remote = sent ? r.dst : r.src;
    return channelName(this.bus, link, local, remote) ?? (link.getEndpoint(local)?.name || undefined);
  }
}

function channelName(bus: RpmsgBus, link: RpmsgLink, local: number, remote: number): string | undefined {
  let byRemote: string | undefined;
  for (const c of bus.channels) {
    if (c.link !== link || c.dst !== remote) continue;
    if (c.src === local) return c.name;
    byRemote ??= c.name;
  }
  return byRemote;
}
