/**
 * What a daemon endpoint (client-endpoint.ts) and a trace subscription (client-observe.ts) need
 * from the RpmsgClient that made them. client.ts implements it, so those parts import this
 * small contract instead of the client (no import circle).
 */
import type { OpCode } from './protocol.js';

export interface ClientPort {
  readonly closed: boolean;
  /** One request, resolved with the reply's fields (rejected with the daemon's error). */
  request(op: OpCode, fields: Record<string, unknown>, payload?: Uint8Array): Promise<Record<string, unknown>>;
  /** An endpoint handle is gone: stop routing frames to it. */
  forget(handle: number): void;
  /** End the trace subscription `t` (TRACE_STOP); resolves with the totals. */
  stopTrace(t: object): Promise<Record<string, unknown>>;
}
