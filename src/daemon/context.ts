/**
 * What a client session needs of its daemon (server.ts implements it), in a file of its own so
 * that session.ts and server.ts do not import each other.
 */
import type { RpmsgBus } from '../rpmsg/bus.js';
import type { Channel } from '../rpmsg/channel.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { BusObserver } from './bus-observer.js';
import type { Policy } from './policy.js';

/** A session as the daemon tracks it. */
export interface SessionHandle {
  readonly id: number;
}

export interface DaemonCounters {
  connections: number;
  malformed: number;
  refused: number;
  rateLimited: number;
  rxDropped: number;
  opened: number;
  /** Trace records not sent to a subscriber whose socket was full. */
  traceDropped: number;
}

/** The daemon's per-client limits (RpmsgDaemon.start options, with their defaults applied). */
export interface DaemonLimits {
  /** Largest frame a client may send, bytes. */
  readonly maxFrame: number;
  /** Sends per client waiting for a tx buffer before the daemon stops reading it. */
  readonly maxInflight: number;
  /** Bytes queued to one client's socket before its messages are dropped. */
  readonly maxQueuedBytes: number;
  /** Wait for a tx buffer per send, ms. */
  readonly sendTimeoutMs: number;
  /** A client must say HELLO within this, ms. */
  readonly helloTimeoutMs: number;
}

/** What sessions see of the daemon (not part of the public API). */
export interface DaemonContext {
  readonly bus: RpmsgBus;
  readonly policy: Policy;
  readonly limits: DaemonLimits;
  readonly counters: DaemonCounters;
  /** Statistics and trace records for clients whose rule has `observe`. */
  readonly observer: BusObserver;
  /** Channels created through the daemon (the only ones it destroys). */
  readonly staticChannels: Set<Channel>;
  log(line: string): void;
  /** Tell the session when `link` goes down (one listener per link, whatever the sessions). */
  watchLink(link: RpmsgLink): void;
  sessionClosed(s: SessionHandle): void;
}
