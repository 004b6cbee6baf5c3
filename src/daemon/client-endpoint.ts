/**
 * The endpoint side of the daemon client: DaemonEndpoint, one endpoint held through the daemon
 * (send, destroy, its Duplex stream, and the MSG / EPT_GONE frames RpmsgClient routes to it).
 */
import { EventEmitter } from 'node:events';
import { RpmsgError } from '../errors.js';
import { EndpointStream, type EndpointStreamOptions, type StreamPort } from '../stream/endpoint-stream.js';
import { Op } from './protocol.js';
import type { ClientPort } from './client-port.js';

/**
 * An endpoint held through the daemon; the message API of `Endpoint`. Events: 'message'
 * (data: Buffer, src), 'drop' (count of messages the daemon dropped for a slow reader),
 * 'gone' (EPIPE: the endpoint, its channel, the remote or the daemon is gone).
 */
export class DaemonEndpoint extends EventEmitter {
  readonly handle: number;
  readonly name: string;
  readonly link: string;
  readonly addr: number;
  readonly dst: number;
  private readonly mtu: number;
  private readonly client: ClientPort;
  private deadReason: RpmsgError | undefined;
  private streamRef: EndpointStream | undefined;

  /** @internal */
  constructor(client: ClientPort, r: Record<string, unknown>) {
    super();
    this.client = client;
    this.handle = r['ept'] as number;
    this.name = String(r['name']);
    this.link = String(r['link']);
    this.addr = r['src'] as number;
    this.dst = r['dst'] as number;
    this.mtu = r['mtu'] as number;
  }

  get destroyed(): boolean {
    return this.deadReason !== undefined;
  }

  getMtu(): number {
    return this.mtu;
  }

  send(data: Uint8Array): Promise<void> {
    return this.sendFrame({ ept: this.handle }, data);
  }
  sendTo(data: Uint8Array, dst: number): Promise<void> {
    return this.sendFrame({ ept: this.handle, dst }, data);
  }
  sendOffchannel(src: number, dst: number, data: Uint8Array): Promise<void> {
    return this.sendFrame({ ept: this.handle, src, dst }, data);
  }

  private async sendFrame(fields: Record<string, number | boolean>, data: Uint8Array): Promise<void> {
    if (this.deadReason !== undefined) throw this.deadReason;
    await this.client.request(Op.SEND, fields, data);
  }

  /** rpmsg_char's close: the daemon destroys the endpoint. */
  async destroy(): Promise<void> {
    if (this.deadReason !== undefined) return;
    this.markDead(new RpmsgError('EPIPE', 'endpoint destroyed'));
    if (!this.client.closed) await this.client.request(Op.DESTROY_EPT, { ept: this.handle }).catch(() => undefined);
  }

  /** This endpoint as a Duplex; sends over the rate limit wait for the limiter instead of failing. */
  stream(options: EndpointStreamOptions = {}): EndpointStream {
    if (this.streamRef !== undefined) throw new RpmsgError('EALREADY', 'endpoint already has a stream');
    const port: StreamPort = {
      send: (data, signal) => this.sendPaced(data, signal),
      getMtu: () => this.mtu,
      close: () => void this.destroy(),
    };
    const s = new EndpointStream(port, options);
    this.streamRef = s;
    this.on('drop', (n: number) => {
      s.dropped += n;
      s.emit('drop', s.dropped);
    });
    if (this.deadReason !== undefined) s.gone(this.deadReason.message);
    return s;
  }

  /** Sends over the rate limit wait in the daemon, in order, instead of failing with EAGAIN. */
  private sendPaced(data: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(new RpmsgError('ABORT_ERR', 'aborted', undefined, { cause: signal.reason }));
    return this.sendFrame({ ept: this.handle, pace: true }, data);
  }

  /** @internal */
  onMessage(data: Uint8Array, src: number, dropped: number): void {
    if (this.deadReason !== undefined) return;
    if (dropped > 0) this.emit('drop', dropped);
    if (this.streamRef !== undefined) this.streamRef.deliver(data, src);
    else this.emit('message', data, src);
  }

  /** @internal */
  onGone(e: RpmsgError): void {
    if (this.deadReason !== undefined) return;
    this.markDead(e.code === 'EPIPE' ? e : new RpmsgError('EPIPE', e.message, undefined, { cause: e }));
    this.emit('gone', this.deadReason);
  }

  private markDead(e: RpmsgError): void {
    this.deadReason = e;
    this.client.forget(this.handle);
    this.streamRef?.gone(e.message, e);
  }
}
