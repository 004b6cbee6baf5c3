/**
 * What a client session needs of its daemon (server.ts implements it), in a file of its own so
 * that session.ts and server.ts do not import each other.
 */
import type { RpmsgBus } from '../rpmsg/bus.js';
import type { Channel } from '../rpmsg/channel.js';
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
}

/** What sessions see of the daemon (not part of the public API). */
export interface DaemonContext {
  readonly bus: RpmsgBus;
  readonly policy: Policy;
  readonly maxFrame: number;
  readonly maxInflight: number;
  readonly maxQueuedBytes: number;
  readonly sendTimeoutMs: number;
  readonly helloTimeoutMs: number;
  readonly counters: DaemonCounters;
  /** Channels created through the daemon (the only ones it destroys). */
  readonly staticChannels: Set<Channel>;
  log(line: string): void;
  sessionClosed(s: SessionHandle): void;
}
