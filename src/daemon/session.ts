/**
 * One connected local program. Its frames are decoded and validated (a malformed or oversize
 * frame closes this client only), each request is checked against the client's policy rule
 * (a refusal is an ERROR reply with a code, the connection stays), and its endpoints live
 * exactly as long as the connection (rpmsg_char: closing the file destroys the endpoint).
 *
 * The jobs are in their own files: the endpoints and what arrives on them
 * (session-endpoints.ts), the send path with its back pressure (session-send.ts), static
 * channels (channel-control.ts), statistics and tracing (session-trace.ts). This file is the connection: HELLO, dispatch, replies, close.
 */
import type { Socket } from 'node:net';
import { RpmsgError, type RpmsgErrorCode } from '../errors.js';
import type { Channel } from '../rpmsg/channel.js';
import { createChannel, destroyChannel } from './channel-control.js';
import type { DaemonContext } from './context.js';
import { channelAllowed, findRule, type ClientIdentity, type ClientRule } from './policy.js';
import { FrameDecoder, Op, PROTOCOL_VERSION, encodeFrame, type Frame, type OpCode } from './protocol.js';
import { SessionEndpoints } from './session-endpoints.js';
import { asClientError, describeChannel, type ClientPort } from './session-port.js';
import { SessionSender } from './session-send.js';
import { SessionTrace, statsPayload } from './session-trace.js';

export class DaemonSession implements ClientPort {
  readonly id: number;
  readonly who: ClientIdentity;
  rule: ClientRule | undefined;
  private readonly ctx: DaemonContext;
  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly eps: SessionEndpoints;
  private sender: SessionSender | undefined;
  private trace: SessionTrace | undefined;
  private isClosed = false;
  private readonly helloTimer: NodeJS.Timeout;

  constructor(ctx: DaemonContext, socket: Socket, id: number, who: Omit<ClientIdentity, 'token'>) {
    this.ctx = ctx;
    this.socket = socket;
    this.id = id;
    this.who = { ...who, token: undefined };
    this.decoder = new FrameDecoder(ctx.limits.maxFrame);
    this.eps = new SessionEndpoints(ctx, this, () => this.rule?.receive === true);
    this.helloTimer = setTimeout(() => this.close('EPROTO', 'no HELLO within the time limit'), ctx.limits.helloTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk, (f) => this.handle(f));
      } catch (e) {
        const err = e instanceof RpmsgError ? e : new RpmsgError('EPROTO', String(e));
        this.ctx.counters.malformed++;
        this.close(err.code, err.message);
      }
    });
    // A client that dies mid-frame only loses its own half frame.
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get endpointCount(): number {
    return this.eps.size;
  }

  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  /** End the session; with a code, tell the client why first (best effort). */
  close(code?: RpmsgErrorCode, message?: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.helloTimer);
    this.trace?.stop();
    this.eps.closeAll();
    if (code !== undefined && !this.socket.destroyed) {
      this.socket.end(encodeFrame(Op.ERROR, 0, { code, message: message ?? code }));
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else {
      this.socket.destroy();
    }
    this.ctx.sessionClosed(this);
  }

  /** The daemon saw `ch` removed from the bus. */
  channelGone(ch: Channel): void {
    this.eps.channelGone(ch);
  }

  /** The daemon saw a link go down. */
  linkDown(): void {
    this.eps.sweep();
  }

  reply(id: number, fields: Record<string, unknown> = {}, payload?: Uint8Array): void {
    if (!this.isClosed) this.socket.write(encodeFrame(Op.OK, id, fields, payload));
  }

  refuse(id: number, code: RpmsgErrorCode, message: string, extra: Record<string, unknown> = {}): void {
    this.ctx.counters.refused++;
    if (code !== 'EAGAIN') this.ctx.log(`client ${this.id} (${this.rule?.name ?? '?'}): refused: ${message} [${code}]`); // floods are only counted
    if (!this.isClosed) this.socket.write(encodeFrame(Op.ERROR, id, { code, message, ...extra }));
  }

  event(op: OpCode, fields: Record<string, unknown>, payload?: Uint8Array): void {
    if (!this.isClosed) this.socket.write(encodeFrame(op, 0, fields, payload));
  }

  pauseReading(paused: boolean): void {
    if (paused) this.socket.pause();
    else this.socket.resume();
  }

  private handle(f: Frame): void {
    if (this.isClosed) return;
    const rule = this.rule;
    if (rule === undefined) {
      if (f.op !== Op.HELLO) throw new RpmsgError('EPROTO', 'the first frame must be HELLO');
      return this.hello(f);
    }
    try {
      switch (f.op) {
        case Op.LIST:
          return this.reply(f.id, { channels: this.ctx.bus.channels.filter((c) => channelAllowed(rule, c.name)).map(describeChannel) });
        case Op.OPEN:
          return this.reply(f.id, this.eps.open(f.fields, rule));
        case Op.CREATE_EPT:
          return this.reply(f.id, this.eps.create(f.fields, rule));
        case Op.DESTROY_EPT:
          this.eps.destroy(f.fields['ept'] as number);
          return this.reply(f.id);
        case Op.SEND:
          return this.sender!.send(f, this.eps.lookup(f.fields['ept'] as number));
        case Op.CREATE_CHANNEL:
          return this.reply(f.id, createChannel(this.ctx, rule, f.fields, `client ${this.id} (${rule.name})`));
        case Op.DESTROY_CHANNEL:
          destroyChannel(this.ctx, rule, f.fields);
          return this.reply(f.id);
        case Op.STATS:
          return this.reply(f.id, {}, statsPayload(this.ctx, rule));
        case Op.TRACE:
          this.trace!.start(f.fields);
          return this.reply(f.id);
        case Op.TRACE_STOP:
          return this.reply(f.id, this.trace!.stop());
        default:
          throw new RpmsgError('EPROTO', `op 0x${f.op.toString(16)} is not a request`);
      }
    } catch (e) {
      if (e instanceof RpmsgError && e.code === 'EPROTO') throw e;
      const err = asClientError(e);
      this.refuse(f.id, err.code, err.message);
    }
  }

  private hello(f: Frame): void {
    clearTimeout(this.helloTimer);
    if (f.fields['version'] !== PROTOCOL_VERSION) {
      return this.close('EPROTO', `protocol version ${String(f.fields['version'])} not supported (daemon speaks ${PROTOCOL_VERSION})`);
    }
    const token = f.fields['token'] as string | undefined;
    const rule = findRule(this.ctx.policy, { ...this.who, token });
    if (rule === undefined) {
      this.ctx.counters.refused++;
      this.ctx.log(`client ${this.id} (uid ${this.who.uid ?? '?'}, pid ${this.who.pid ?? '?'}): refused, no policy rule matches`);
      return this.close('EACCES', 'no policy rule admits this client');
    }
    this.rule = rule;
    this.sender = new SessionSender(this.ctx, this, rule);
    this.trace = new SessionTrace(this.ctx, this, rule);
    this.ctx.log(`client ${this.id}: uid ${this.who.uid ?? '?'}, pid ${this.who.pid ?? '?'}: rule "${rule.name}"`);
    this.reply(f.id, {
      version: PROTOCOL_VERSION,
      client: rule.name,
      uid: this.who.uid ?? null,
      gid: this.who.gid ?? null,
      maxFrame: this.ctx.limits.maxFrame,
      maxEndpoints: rule.maxEndpoints,
      send: rule.send,
      receive: rule.receive,
      offchannel: rule.offchannel,
      control: rule.control,
      observe: rule.observe,
    });
  }
}
