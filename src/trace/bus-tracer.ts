/**
 * Trace a bus in this program: subscribe to the message and drop channels and turn the events
 * of the bus's links into trace records (payload copied, up to the snap length). Events of
 * other buses (a loopback's other side, another program part) are ignored.
 *
 * The cost is paid only while traced: the core publishes nothing when nobody subscribes.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  RPMSG_CHANNELS,
  type DiagLink,
  type DropEvent,
  type MessageEvent,
} from '../rpmsg/diagnostics.js';
import { DEFAULT_SNAPLEN, recordFromFields, type TraceDirection, type TraceRecord, type TraceSink } from './record.js';

export interface TraceBusOptions {
  /** Bytes kept per message, header included (default: all). */
  snaplen?: number;
  /** Also record drops (no endpoint, bad length) as records with `drop` set (default true). */
  drops?: boolean;
}

export interface BusTrace {
  /** Records written so far. */
  readonly count: number;
  /** Stop tracing (idempotent); closes the sink. */
  close(): Promise<void>;
}

/**
 * Send every message crossing `bus`'s links to `sink`. `bus` undefined traces every bus of the
 * program.
 */
export function traceBus(bus: object | undefined, sink: TraceSink, options: TraceBusOptions = {}): BusTrace {
  const snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
  let count = 0;
  let closed = false;
  const mine = (link: DiagLink): boolean => bus === undefined || link.bus === bus;
  const emit = (r: TraceRecord): void => {
    count++;
    sink.write(r);
  };
  // A host sends h2r and receives r2h; a remote the opposite.
  const dirOf = (link: DiagLink, sent: boolean): TraceDirection => ((link.role === 'host') === sent ? 'h2r' : 'r2h');
  const onSend = (m: unknown): void => {
    const e = m as MessageEvent;
    if (mine(e.link)) emit(recordFromFields(e.link.name, dirOf(e.link, true), e.src, e.dst, e.flags, e.data, snaplen));
  };
  const onReceive = (m: unknown): void => {
    const e = m as MessageEvent;
    if (mine(e.link)) emit(recordFromFields(e.link.name, dirOf(e.link, false), e.src, e.dst, e.flags, e.data, snaplen));
  };
  const onDrop = (m: unknown): void => {
    const e = m as DropEvent;
    if (!mine(e.link)) return;
    const r = recordFromFields(e.link.name, dirOf(e.link, false), e.src >>> 0, e.dst >>> 0, 0, e.data ?? new Uint8Array(0), snaplen);
    r.len = Math.max(0, e.len);
    r.wire[12] = r.len & 0xff; // the header's own len, not what was kept
    r.wire[13] = (r.len >>> 8) & 0xff;
    r.drop = e.reason;
    emit(r);
  };
  subscribe(RPMSG_CHANNELS.send, onSend);
  subscribe(RPMSG_CHANNELS.receive, onReceive);
  const drops = options.drops ?? true;
  if (drops) subscribe(RPMSG_CHANNELS.drop, onDrop);
  return {
    get count() {
      return count;
    },
    async close() {
      if (closed) return;
      closed = true;
      unsubscribe(RPMSG_CHANNELS.send, onSend);
      unsubscribe(RPMSG_CHANNELS.receive, onReceive);
      if (drops) unsubscribe(RPMSG_CHANNELS.drop, onDrop);
      await sink.close?.();
    },
  };
}
