/**
 * The observation side of the daemon client: DaemonTrace, a trace subscription (TRACE /
 * TRACE_STOP, the TRACE_RECORD frames RpmsgClient routes to it), its records validated and
 * copied out. Statistics (STATS) are parsed by stats-wire.ts.
 */
import { EventEmitter } from 'node:events';
import { RpmsgError } from '../errors.js';
import { recordFromWire, type TraceRecord } from '../trace/record.js';
import type { DropReason } from '../rpmsg/diagnostics.js';
import type { Frame } from './protocol.js';
import type { ClientPort } from './client-port.js';

const DROP_REASONS = new Set<string>(['no-endpoint', 'invalid-length', 'unusable-buffer']);

/**
 * A trace subscription through the daemon. Events: 'record' (TraceRecord, its bytes copied
 * out), 'drop' (records the daemon dropped because this client read too slowly), 'end'
 * (the connection is gone: the error says why).
 */
export class DaemonTrace extends EventEmitter {
  /** Records received, and reported dropped by the daemon. */
  records = 0;
  dropped = 0;
  private readonly client: ClientPort;
  private ended = false;
  /** Frames received before the caller could listen (until release()). */
  private held: Frame[] | undefined = [];

  /** @internal */
  constructor(client: ClientPort) {
    super();
    this.client = client;
  }

  /** End the subscription; resolves with the daemon's totals for it. */
  async stop(): Promise<{ records: number; dropped: number }> {
    if (this.ended) return { records: this.records, dropped: this.dropped };
    this.ended = true;
    const r = await this.client.stopTrace(this);
    const n = (k: string): number => (typeof r[k] === 'number' && Number.isSafeInteger(r[k]) ? (r[k] as number) : 0);
    return { records: n('records'), dropped: n('dropped') };
  }

  /** @internal */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const f of held) this.onRecord(f);
  }

  /** @internal */
  onRecord(f: Frame): void {
    if (this.ended) return;
    if (this.held !== undefined) {
      // A copy: the frame's payload is a view of the socket's bytes.
      this.held.push({ ...f, payload: Buffer.from(f.payload) });
      return;
    }
    const drop = f.fields['drop'] as string | undefined;
    if (drop !== undefined && !DROP_REASONS.has(drop)) throw new RpmsgError('EPROTO', `trace record with unknown drop reason "${drop}"`);
    const dropped = (f.fields['dropped'] as number | undefined) ?? 0;
    if (dropped > 0) {
      this.dropped += dropped;
      this.emit('drop', dropped);
    }
    const r: TraceRecord = recordFromWire(f.fields['link'] as string, f.fields['dir'] as 'h2r' | 'r2h', Buffer.from(f.payload), f.fields['timeUs'] as number);
    if (drop !== undefined) r.drop = drop as DropReason;
    this.records++;
    this.emit('record', r);
  }

  /** @internal */
  onEnd(why: RpmsgError): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('end', why);
  }
}
