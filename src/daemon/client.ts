/**
 * The client side of `rpmsg serve`: the Endpoint and stream API over the daemon's socket.
 *
 *   const client = await RpmsgClient.connect();            // default socket path
 *   const ept = await client.open('rpmsg-openamp-demo-channel');
 *   ept.on('message', (data, src) => ...); await ept.send(bytes);
 *   const stream = await client.openStream('rpmsg-openamp-demo-channel');
 *
 * When the daemon goes away (restart, shutdown, it closed this client), every pending request
 * rejects with ECONNRESET, every endpoint reports EPIPE ('gone'), and the client emits
 * 'close'; connect again for a new session. Frames from the daemon are validated too.
 *
 * This file is the connection: connect and HELLO, framing, request/reply by id, and routing
 * the daemon's frames; the endpoint is in client-endpoint.ts, the trace subscription in
 * client-observe.ts (both re-exported here).
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { RpmsgError, type RpmsgErrorCode } from '../errors.js';
import type { EndpointStream, EndpointStreamOptions } from '../stream/endpoint-stream.js';
import type { LinkStatsReport } from '../trace/stats.js';
import { parseStatsReport } from './stats-wire.js';
import { FrameDecoder, Op, PROTOCOL_VERSION, encodeFrame, type Frame, type OpCode } from './protocol.js';
import { defaultSocketPath } from './socket-path.js';
import { DaemonEndpoint } from './client-endpoint.js';
import { DaemonTrace } from './client-observe.js';
import type { ClientPort } from './client-port.js';

export { DaemonEndpoint, DaemonTrace };

export interface ConnectOptions {
  /** Default: $RPMSG_SOCKET, $XDG_RUNTIME_DIR/rpmsg.sock or /tmp/rpmsg-$UID.sock. */
  socketPath?: string;
  /** For a policy rule that matches by token. */
  token?: string;
  /** Give up connecting after this, ms (default 5000). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What HELLO told us about this client's rule. */
export interface SessionInfo {
  client: string;
  uid: number | null;
  gid: number | null;
  maxFrame: number;
  maxEndpoints: number;
  send: boolean;
  receive: boolean;
  offchannel: boolean;
  control: boolean;
  /** May read statistics and trace its channels. */
  observe: boolean;
}

export interface ChannelEntry {
  name: string;
  link: string;
  src: number;
  dst: number;
}

interface Pending {
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
}

const KNOWN_CODES = new Set<string>([
  'ENOMEM', 'ETIMEDOUT', 'ABORT_ERR', 'EMSGSIZE', 'EINVAL', 'ENODEV', 'EADDRINUSE', 'ENXIO', 'EFAULT', 'EPIPE',
  'EBADMSG', 'ENOENT', 'EALREADY', 'EACCES', 'EAGAIN', 'EBADF', 'EMFILE', 'EPROTO', 'EBUSY', 'ECONNREFUSED', 'ECONNRESET',
]);

function remoteError(fields: Record<string, unknown>): RpmsgError {
  const code = String(fields['code']);
  const retry = fields['retryAfterMs'];
  return new RpmsgError(
    (KNOWN_CODES.has(code) ? code : 'EPROTO') as RpmsgErrorCode,
    typeof fields['message'] === 'string' ? fields['message'] : code,
    typeof retry === 'number' ? { retryAfterMs: retry } : undefined,
  );
}

export class RpmsgClient extends EventEmitter implements ClientPort {
  readonly socketPath: string;
  info!: SessionInfo;
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder(1 << 20);
  private readonly pending = new Map<number, Pending>();
  private readonly eps = new Map<number, DaemonEndpoint>();
  private traceSub: DaemonTrace | undefined;
  private nextId = 1;
  private closeReason: RpmsgError | undefined;

  private constructor(socket: Socket, socketPath: string) {
    super();
    this.socket = socket;
    this.socketPath = socketPath;
    socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk, (f) => this.onFrame(f));
      } catch (e) {
        this.teardown(e instanceof RpmsgError ? e : new RpmsgError('EPROTO', String(e)));
      }
    });
    socket.on('error', (e) => this.teardown(new RpmsgError('ECONNRESET', `daemon connection failed: ${e.message}`, undefined, { cause: e })));
    socket.on('close', () => this.teardown(new RpmsgError('ECONNRESET', 'the daemon closed the connection')));
  }

  /** Connect and say HELLO; ECONNREFUSED/ENOENT when no daemon listens, EACCES when the policy refuses. */
  static async connect(o: ConnectOptions = {}): Promise<RpmsgClient> {
    const path = o.socketPath ?? defaultSocketPath();
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      const timer = setTimeout(() => fail(new RpmsgError('ETIMEDOUT', `no answer from ${path}`)), o.timeoutMs ?? 5000);
      const onAbort = (): void => fail(new RpmsgError('ABORT_ERR', 'connect aborted', undefined, { cause: o.signal?.reason }));
      o.signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
      };
      function fail(e: Error): void {
        done();
        s.destroy();
        reject(e);
      }
      s.once('connect', () => {
        done();
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        const code = e.code === 'ENOENT' ? 'ENOENT' : e.code === 'EACCES' ? 'EACCES' : 'ECONNREFUSED';
        fail(new RpmsgError(code, `no rpmsg daemon at ${path} (${e.code ?? e.message}); start one with 'rpmsg serve'`, undefined, { cause: e }));
      });
    });
    const c = new RpmsgClient(socket, path);
    const info = await c.request(Op.HELLO, { version: PROTOCOL_VERSION, ...(o.token !== undefined ? { token: o.token } : {}) });
    c.info = info as unknown as SessionInfo;
    return c;
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Channels this client may see. */
  async list(): Promise<ChannelEntry[]> {
    const r = await this.request(Op.LIST, {});
    return Array.isArray(r['channels']) ? (r['channels'] as ChannelEntry[]) : [];
  }

  /** A new endpoint on a channel (its dst), as rpmsg_char opens one. */
  async open(channel: string, o: { link?: string; dst?: number } = {}): Promise<DaemonEndpoint> {
    return this.makeEndpoint(await this.request(Op.OPEN, { channel, ...o }));
  }

  /** rpmsg_ctrl's create-endpoint: a named endpoint, addresses only with offchannel permission. */
  async createEndpoint(o: { name: string; link?: string; src?: number; dst?: number }): Promise<DaemonEndpoint> {
    return this.makeEndpoint(await this.request(Op.CREATE_EPT, { ...o }));
  }

  /** The static channel (rpmsg_ctrl's create-device): needs control permission. */
  async createChannel(o: { name: string; dst: number; src?: number; link?: string; announce?: boolean }): Promise<ChannelEntry> {
    return (await this.request(Op.CREATE_CHANNEL, { ...o })) as unknown as ChannelEntry;
  }

  async destroyChannel(o: { name: string; link?: string; src?: number; dst?: number }): Promise<void> {
    await this.request(Op.DESTROY_CHANNEL, { ...o });
  }

  /** The daemon's bus counters per link (`rpmsg stats --json`'s report), cut to this client's channels; needs `observe`. */
  async stats(): Promise<LinkStatsReport[]> {
    const f = await this.requestFrame(Op.STATS, {});
    return parseStatsReport(f.payload);
  }

  /**
   * Subscribe to trace records of the messages on this client's channels (needs `observe`);
   * one subscription per connection. `snaplen`: bytes kept per record, header included.
   */
  async trace(o: { snaplen?: number; drops?: boolean } = {}): Promise<DaemonTrace> {
    if (this.traceSub !== undefined) throw new RpmsgError('EALREADY', 'this connection is tracing already');
    const t = new DaemonTrace(this);
    this.traceSub = t;
    try {
      await this.request(Op.TRACE, { ...o });
    } catch (e) {
      this.traceSub = undefined;
      throw e;
    }
    // Records that came with the OK (same socket read) wait until the caller has had the
    // subscription and attached its listeners.
    setImmediate(() => t.release());
    return t;
  }

  /** @internal */
  stopTrace(t: DaemonTrace): Promise<Record<string, unknown>> {
    if (this.traceSub === t) this.traceSub = undefined;
    return this.request(Op.TRACE_STOP, {});
  }

  /** A stream over a new endpoint on `channel`. */
  async openStream(channel: string, o: EndpointStreamOptions & { link?: string; dst?: number } = {}): Promise<EndpointStream> {
    const { link, dst, ...streamOptions } = o;
    const ept = await this.open(channel, { ...(link !== undefined ? { link } : {}), ...(dst !== undefined ? { dst } : {}) });
    return ept.stream(streamOptions);
  }

  /** Close the connection: the daemon destroys this client's endpoints. */
  close(): void {
    this.socket.end();
    this.teardown(new RpmsgError('ECONNRESET', 'client closed'));
  }

  /** @internal */
  async request(op: OpCode, fields: Record<string, unknown>, payload?: Uint8Array): Promise<Record<string, unknown>> {
    return (await this.requestFrame(op, fields, payload)).fields;
  }

  private requestFrame(op: OpCode, fields: Record<string, unknown>, payload?: Uint8Array): Promise<Frame> {
    if (this.closeReason !== undefined) return Promise.reject(this.closeReason);
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffffe ? 1 : this.nextId + 1;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(encodeFrame(op, id, fields, payload));
    });
  }

  /** @internal */
  forget(handle: number): void {
    this.eps.delete(handle);
  }

  private makeEndpoint(r: Record<string, unknown>): DaemonEndpoint {
    const e = new DaemonEndpoint(this, r);
    this.eps.set(e.handle, e);
    return e;
  }

  private onFrame(f: Frame): void {
    switch (f.op) {
      case Op.OK:
      case Op.ERROR: {
        const p = this.pending.get(f.id);
        if (p === undefined) {
          // id 0: the daemon is closing this connection and says why.
          if (f.op === Op.ERROR && f.id === 0) this.closeWith = remoteError(f.fields);
          return;
        }
        this.pending.delete(f.id);
        if (f.op === Op.OK) p.resolve(f);
        else p.reject(remoteError(f.fields));
        return;
      }
      case Op.MSG: {
        const e = this.eps.get(f.fields['ept'] as number);
        e?.onMessage(f.payload, f.fields['src'] as number, (f.fields['dropped'] as number | undefined) ?? 0);
        return;
      }
      case Op.EPT_GONE: {
        const e = this.eps.get(f.fields['ept'] as number);
        e?.onGone(remoteError(f.fields));
        return;
      }
      case Op.TRACE_RECORD:
        this.traceSub?.onRecord(f);
        return;
      default:
        throw new RpmsgError('EPROTO', `daemon sent request op 0x${f.op.toString(16)}`);
    }
  }

  /** A reason the daemon gave before closing (EACCES, EPROTO, ...). */
  private closeWith: RpmsgError | undefined;

  private teardown(reason: RpmsgError): void {
    if (this.closeReason !== undefined) return;
    const why = this.closeWith ?? reason;
    this.closeReason = why;
    this.socket.destroy();
    for (const p of this.pending.values()) p.reject(why);
    this.pending.clear();
    for (const e of [...this.eps.values()]) e.onGone(new RpmsgError('EPIPE', `daemon connection lost: ${why.message}`, undefined, { cause: why }));
    this.eps.clear();
    this.traceSub?.onEnd(why);
    this.traceSub = undefined;
    this.emit('close', why);
  }
}
