/**
 * What the parts of a session (its endpoints, its send path, its trace feed) need of the
 * connection: replies, refusals and events written to the client's socket, and its back
 * pressure. DaemonSession (session.ts) implements it.
 */
import { RpmsgError, type RpmsgErrorCode } from '../errors.js';
import type { Channel } from '../rpmsg/channel.js';
import type { OpCode } from './protocol.js';

export interface ClientPort {
  readonly id: number;
  readonly closed: boolean;
  /** OK for request `id` (a payload only for STATS). */
  reply(id: number, fields?: Record<string, unknown>, payload?: Uint8Array): void;
  /** ERROR for request `id` (counted as refused). */
  refuse(id: number, code: RpmsgErrorCode, message: string, extra?: Record<string, unknown>): void;
  /** An event (id 0), dropped once the session is closed. */
  event(op: OpCode, fields: Record<string, unknown>, payload?: Uint8Array): void;
  /** Bytes written to the client and not yet taken by the kernel. */
  readonly queuedBytes: number;
  /** Stop (true) or resume (false) reading the client's requests. */
  pauseReading(paused: boolean): void;
}

/** A channel as LIST and CREATE_CHANNEL describe it. */
export function describeChannel(c: Channel): Record<string, unknown> {
  return { name: c.name, link: c.link.name, src: c.src, dst: c.dst };
}

/** Core errors in rpmsg_char's terms for the client: a gone endpoint or remote is EPIPE. */
export function asClientError(e: unknown): RpmsgError {
  if (e instanceof RpmsgError) return e.code === 'ENODEV' ? new RpmsgError('EPIPE', e.message) : e;
  return new RpmsgError('EINVAL', e instanceof Error ? e.message : String(e));
}
