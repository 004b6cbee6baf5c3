/**
 * A session's view of the bus for a rule with `observe`: STATS (the daemon's counters, the
 * report `rpmsg stats --json` prints, cut to the rule's channels) and one TRACE subscription
 * (TRACE_RECORD events for the messages of the rule's channels).
 *
 * Visibility: a record is sent only when the rule allows its channel's name
 * (bus-observer.ts names it); records no name can be given to (to an address without an
 * endpoint, between unnamed endpoints) only to a rule that allows every name (`*`). The same
 * cut applies to STATS' channel and endpoint lists and its violations; link totals and vring
 * occupancy stay (counts, no names, no contents).
 *
 * Limits: records are written while the client's socket holds at most `maxQueuedBytes`;
 * beyond, they are dropped and counted (the count rides on the next record as `dropped`, and
 * TRACE_STOP returns the totals): a slow subscriber never grows the daemon's memory.
 */
import { RpmsgError } from '../errors.js';
import { RPMSG_HDR_SIZE } from '../rpmsg-virtio/header.js';
import type { TraceRecord } from '../trace/record.js';
import type { LinkStatsReport } from '../trace/stats.js';
import type { TraceSubscriber } from './bus-observer.js';
import type { DaemonContext } from './context.js';
import { allowsEveryName, channelAllowed, type ClientRule } from './policy.js';
import { Op } from './protocol.js';
import type { ClientPort } from './session-port.js';

/** Largest snap length (header + the largest rpmsg payload). */
export const MAX_SNAPLEN = 0xffff + RPMSG_HDR_SIZE;

function requireObserve(rule: ClientRule): void {
  if (!rule.observe) throw new RpmsgError('EACCES', 'statistics and tracing are not allowed by the policy (observe)');
}

/** STATS: the report as JSON bytes (the OK's payload). */
export function statsPayload(ctx: DaemonContext, rule: ClientRule): Uint8Array {
  requireObserve(rule);
  return Buffer.from(JSON.stringify(visibleStats(ctx.observer.report(), rule)));
}

/** The report cut to what `rule` may see. */
export function visibleStats(report: LinkStatsReport[], rule: ClientRule): LinkStatsReport[] {
  if (allowsEveryName(rule)) return report;
  return report.map((l) => {
    const channels = l.channels.filter((c) => channelAllowed(rule, c.name));
    // An unnamed endpoint (one opened on a channel) is shown with its channel: same address pair.
    const endpoints = l.endpoints.filter((e) => (e.name !== '' ? channelAllowed(rule, e.name) : channels.some((c) => c.src === e.addr || c.dst === e.dst)));
    return { ...l, violations: [], channels, endpoints };
  });
}

export class SessionTrace implements TraceSubscriber {
  private active = false;
  private snaplen = MAX_SNAPLEN;
  private drops = true;
  /** Records sent, and dropped for a full socket, since TRACE. */
  private sent = 0;
  private dropped = 0;
  /** Dropped since the last record sent (rides on the next one). */
  private pendingDrops = 0;

  constructor(
    private readonly ctx: DaemonContext,
    private readonly port: ClientPort,
    private readonly rule: ClientRule,
  ) {}

  /** TRACE: start the subscription. */
  start(f: Record<string, unknown>): void {
    requireObserve(this.rule);
    if (this.active) throw new RpmsgError('EALREADY', 'this connection is tracing already');
    const snaplen = (f['snaplen'] as number | undefined) ?? MAX_SNAPLEN;
    if (snaplen < RPMSG_HDR_SIZE || snaplen > MAX_SNAPLEN) throw new RpmsgError('EINVAL', `snaplen must be ${RPMSG_HDR_SIZE}..${MAX_SNAPLEN}`);
    this.snaplen = snaplen;
    this.drops = (f['drops'] as boolean | undefined) ?? true;
    this.sent = this.dropped = this.pendingDrops = 0;
    this.active = true;
    this.ctx.observer.subscribe(this);
  }

  /** TRACE_STOP (and the end of the connection): the totals. */
  stop(): { records: number; dropped: number } {
    if (this.active) {
      this.active = false;
      this.ctx.observer.unsubscribe(this);
    }
    return { records: this.sent, dropped: this.dropped };
  }

  offer(r: TraceRecord, channel: string | undefined): void {
    if (!this.active || this.port.closed) return;
    if (r.drop !== undefined && !this.drops) return;
    if (channel === undefined ? !allowsEveryName(this.rule) : !channelAllowed(this.rule, channel)) return;
    if (this.port.queuedBytes > this.ctx.limits.maxQueuedBytes) {
      this.dropped++;
      this.pendingDrops++;
      this.ctx.counters.traceDropped++;
      return;
    }
    const fields: Record<string, unknown> = { link: r.link, dir: r.dir, timeUs: r.timeUs };
    if (r.drop !== undefined) fields['drop'] = r.drop;
    if (this.pendingDrops > 0) {
      fields['dropped'] = this.pendingDrops;
      this.pendingDrops = 0;
    }
    this.sent++;
    this.port.event(Op.TRACE_RECORD, fields, r.wire.length > this.snaplen ? r.wire.subarray(0, this.snaplen) : r.wire);
  }
}
