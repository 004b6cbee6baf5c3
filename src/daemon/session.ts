/**
 * One connected local program. Its frames are decoded and validated (a malformed or oversize
 * frame closes this client only), each request is checked against the client's policy rule
 * (a refusal is an ERROR reply with a code, the connection stays), and its endpoints live
 * exactly as long as the connection (rpmsg_char: closing the file destroys the endpoint).
 *
 * Backpressure: at most `maxInflight` sends wait for tx buffers per client; beyond that the
 * daemon stops reading the socket, so a fast writer is slowed by the remote's pace. Received
 * messages queue in the socket up to `maxQueuedBytes`, then are dropped and counted (the
 * count rides on the next MSG as `dropped`): a slow reader never grows the daemon's memory.
 */
import type { Socket } from 'node:net';
import { RpmsgError, type RpmsgErrorCode } from '../errors.js';
import { RPMSG_ADDR_ANY } from '../rpmsg/constants.js';
import type { Channel } from '../rpmsg/channel.js';
import type { Endpoint } from '../rpmsg/endpoint.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import { FrameDecoder, Op, PROTOCOL_VERSION, encodeFrame, type Frame } from './protocol.js';
import { TokenBucket, channelAllowed, findRule, type ClientIdentity, type ClientRule } from './policy.js';
import type { DaemonContext } from './context.js';

interface OpenEndpoint {
  ept: Endpoint;
  link: RpmsgLink;
  /** The channel it was opened on (undefined for CREATE_EPT endpoints). */
  channel: Channel | undefined;
  /** Its channel pair: sends elsewhere need offchannel permission. */
  src: number;
  dst: number;
  dropped: number;
}

export class DaemonSession {
  readonly id: number;
  readonly who: ClientIdentity;
  rule: ClientRule | undefined;
  private readonly ctx: DaemonContext;
  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly eps = new Map<number, OpenEndpoint>();
  private nextHandle = 1;
  private bucket: TokenBucket | undefined;
  private inflight = 0;
  private pacing = 0;
  private paceTail: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly helloTimer: NodeJS.Timeout;
  private readonly onChannelRemoved = (ch: Channel): void => this.channelGone(ch);
  private readonly onLinkDown = (): void => this.sweep();
  private readonly watchedLinks = new Set<RpmsgLink>();

  constructor(ctx: DaemonContext, socket: Socket, id: number, who: Omit<ClientIdentity, 'token'>) {
    this.ctx = ctx;
    this.socket = socket;
    this.id = id;
    this.who = { ...who, token: undefined };
    this.decoder = new FrameDecoder(ctx.maxFrame);
    this.helloTimer = setTimeout(() => this.close('EPROTO', 'no HELLO within the time limit'), ctx.helloTimeoutMs);
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
    ctx.bus.on('channel-removed', this.onChannelRemoved);
  }

  get endpointCount(): number {
    return this.eps.size;
  }

  /** End the session; with a code, tell the client why first (best effort). */
  close(code?: RpmsgErrorCode, message?: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.helloTimer);
    this.ctx.bus.off('channel-removed', this.onChannelRemoved);
    for (const link of this.watchedLinks) link.off('down', this.onLinkDown);
    for (const o of this.eps.values()) o.ept.destroy();
    this.eps.clear();
    if (code !== undefined && !this.socket.destroyed) {
      this.socket.end(encodeFrame(Op.ERROR, 0, { code, message: message ?? code }));
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else {
      this.socket.destroy();
    }
    this.ctx.sessionClosed(this);
  }

  private reply(id: number, fields: Record<string, unknown> = {}): void {
    if (!this.closed) this.socket.write(encodeFrame(Op.OK, id, fields));
  }

  private refuse(id: number, code: RpmsgErrorCode, message: string, extra: Record<string, unknown> = {}): void {
    this.ctx.counters.refused++;
    if (code !== 'EAGAIN') this.ctx.log(`client ${this.id} (${this.rule?.name ?? '?'}): refused: ${message} [${code}]`); // floods are only counted
    if (!this.closed) this.socket.write(encodeFrame(Op.ERROR, id, { code, message, ...extra }));
  }

  private handle(f: Frame): void {
    if (this.closed) return;
    const rule = this.rule;
    if (rule === undefined) {
      if (f.op !== Op.HELLO) throw new RpmsgError('EPROTO', 'the first frame must be HELLO');
      return this.hello(f);
    }
    try {
      switch (f.op) {
        case Op.LIST:
          return this.reply(f.id, { channels: this.ctx.bus.channels.filter((c) => channelAllowed(rule, c.name)).map(describe) });
        case Op.OPEN:
          return this.open(f, rule);
        case Op.CREATE_EPT:
          return this.createEpt(f, rule);
        case Op.DESTROY_EPT: {
          const o = this.lookup(f.fields['ept'] as number);
          o.ept.destroy();
          this.eps.delete(f.fields['ept'] as number);
          return this.reply(f.id);
        }
        case Op.SEND:
          return this.send(f, rule);
        case Op.CREATE_CHANNEL:
          return this.createChannel(f, rule);
        case Op.DESTROY_CHANNEL:
          return this.destroyChannel(f, rule);
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
    this.ctx.log(`client ${this.id}: uid ${this.who.uid ?? '?'}, pid ${this.who.pid ?? '?'}: rule "${rule.name}"`);
    if (rule.rate !== undefined) this.bucket = new TokenBucket(rule.rate.messagesPerSecond, rule.rate.burst);
    this.reply(f.id, {
      version: PROTOCOL_VERSION,
      client: rule.name,
      uid: this.who.uid ?? null,
      gid: this.who.gid ?? null,
      maxFrame: this.ctx.maxFrame,
      maxEndpoints: rule.maxEndpoints,
      send: rule.send,
      receive: rule.receive,
      offchannel: rule.offchannel,
      control: rule.control,
    });
  }

  private checkRoom(rule: ClientRule): void {
    if (this.eps.size >= rule.maxEndpoints) throw new RpmsgError('EMFILE', `at most ${rule.maxEndpoints} open endpoints`);
  }

  private open(f: Frame, rule: ClientRule): void {
    const name = f.fields['channel'] as string;
    if (!channelAllowed(rule, name)) throw new RpmsgError('EACCES', `channel "${name}" is not allowed by the policy`);
    this.checkRoom(rule);
    const link = f.fields['link'] as string | undefined;
    const dst = f.fields['dst'] as number | undefined;
    const ch = this.ctx.bus.channels.find((c) => c.name === name && (link === undefined || c.link.name === link) && (dst === undefined || c.dst === dst));
    if (ch === undefined) throw new RpmsgError('ENOENT', `no channel "${name}"${link ? ` on ${link}` : ''}`);
    // A static channel's fixed src is its endpoint's address (rpmsg_char: chinfo from the device).
    const addr = ch.ept === undefined && ch.src !== RPMSG_ADDR_ANY ? ch.src : RPMSG_ADDR_ANY;
    const handle = this.nextHandle++;
    const ept = ch.createEndpoint((_o, data, src) => this.deliver(handle, data, src), { addr, dst: ch.dst });
    this.track(handle, { ept, link: ch.link, channel: ch, src: ept.addr, dst: ch.dst, dropped: 0 });
    this.reply(f.id, { ept: handle, name: ch.name, link: ch.link.name, src: ept.addr, dst: ch.dst, mtu: ept.getMtu() });
  }

  private createEpt(f: Frame, rule: ClientRule): void {
    const name = f.fields['name'] as string;
    if (!channelAllowed(rule, name)) throw new RpmsgError('EACCES', `name "${name}" is not allowed by the policy`);
    const src = f.fields['src'] as number | undefined;
    const dst = f.fields['dst'] as number | undefined;
    if ((src !== undefined || dst !== undefined) && !rule.offchannel) {
      throw new RpmsgError('EACCES', 'choosing addresses (offchannel) is not allowed by the policy');
    }
    this.checkRoom(rule);
    const link = this.findLink(f.fields['link'] as string | undefined);
    const handle = this.nextHandle++;
    const ept = link.createEndpoint((_o, data, s) => this.deliver(handle, data, s), {
      addr: src ?? RPMSG_ADDR_ANY,
      dst: dst ?? RPMSG_ADDR_ANY,
      name,
      announce: false,
    });
    this.track(handle, { ept, link, channel: undefined, src: ept.addr, dst: ept.dst, dropped: 0 });
    this.reply(f.id, { ept: handle, name, link: link.name, src: ept.addr, dst: ept.dst, mtu: ept.getMtu() });
  }

  private track(handle: number, o: OpenEndpoint): void {
    this.eps.set(handle, o);
    if (!this.watchedLinks.has(o.link)) {
      this.watchedLinks.add(o.link);
      o.link.on('down', this.onLinkDown);
    }
    this.ctx.counters.opened++;
  }

  private send(f: Frame, rule: ClientRule): void {
    const handle = f.fields['ept'] as number;
    const o = this.lookup(handle);
    if (!rule.send) throw new RpmsgError('EACCES', 'sending is not allowed by the policy');
    const src = (f.fields['src'] as number | undefined) ?? o.src;
    // An endpoint with no fixed peer learns it from the first message (OpenAMP), so its pair is ept.dst.
    const pairDst = o.dst === RPMSG_ADDR_ANY ? o.ept.dst : o.dst;
    const dst = (f.fields['dst'] as number | undefined) ?? pairDst;
    if ((src !== o.src || dst !== pairDst) && !rule.offchannel) {
      throw new RpmsgError('EACCES', 'sending outside the channel\'s address pair (offchannel) is not allowed by the policy');
    }
    if (f.payload.length > rule.maxMessageSize) {
      throw new RpmsgError('EMSGSIZE', `message of ${f.payload.length} bytes exceeds the policy's ${rule.maxMessageSize}`);
    }
    const bucket = this.bucket;
    if (f.fields['pace'] === true && bucket !== undefined && (this.pacing > 0 || bucket.peek() > 0)) {
      // Paced: wait for the limiter instead of failing, keeping this client's send order.
      const data = f.payload.slice();
      this.pacing++;
      this.inflightChanged(+1);
      this.paceTail = this.paceTail
        .then(async () => {
          for (let w = bucket.take(); w > 0 && !this.closed; w = bucket.take()) {
            this.ctx.counters.rateLimited++;
            await new Promise((r) => setTimeout(r, w));
          }
          if (!this.closed) this.transmit(f.id, o, src, dst, data);
        })
        .finally(() => {
          this.pacing--;
          this.inflightChanged(-1);
        });
      return;
    }
    const wait = bucket?.take() ?? 0;
    if (wait > 0) {
      this.ctx.counters.rateLimited++;
      return this.refuse(f.id, 'EAGAIN', 'over the rate limit', { retryAfterMs: wait });
    }
    this.transmit(f.id, o, src, dst, f.payload);
  }

  /** The frame's payload is a view of socket bytes; the link copies it into a tx buffer. */
  private transmit(id: number, o: OpenEndpoint, src: number, dst: number, data: Uint8Array): void {
    this.inflightChanged(+1);
    o.ept.sendOffchannel(src, dst, data, { timeout: this.ctx.sendTimeoutMs }).then(
      () => this.reply(id),
      (e: unknown) => {
        const err = asClientError(e);
        this.refuse(id, err.code, err.message);
      },
    ).finally(() => this.inflightChanged(-1));
  }

  /** Stop reading a client whose sends pile up (its writes then wait in its own socket buffer). */
  private inflightChanged(delta: number): void {
    this.inflight += delta;
    if (this.closed) return;
    if (this.inflight >= this.ctx.maxInflight) this.socket.pause();
    else this.socket.resume();
  }

  private createChannel(f: Frame, rule: ClientRule): void {
    const name = f.fields['name'] as string;
    if (!rule.control) throw new RpmsgError('EACCES', 'creating channels is not allowed by the policy');
    if (!channelAllowed(rule, name)) throw new RpmsgError('EACCES', `channel "${name}" is not allowed by the policy`);
    const link = this.findLink(f.fields['link'] as string | undefined);
    const ch = this.ctx.bus.createChannel(link, {
      name,
      src: (f.fields['src'] as number | undefined) ?? RPMSG_ADDR_ANY,
      dst: f.fields['dst'] as number,
      announce: (f.fields['announce'] as boolean | undefined) ?? false,
    });
    if (ch === undefined) throw new RpmsgError('EBUSY', `channel "${name}" exists`);
    this.ctx.staticChannels.add(ch);
    this.ctx.log(`client ${this.id} (${rule.name}): created channel ${ch.toString()} on ${link.name}`);
    this.reply(f.id, describe(ch));
  }

  private destroyChannel(f: Frame, rule: ClientRule): void {
    const name = f.fields['name'] as string;
    if (!rule.control) throw new RpmsgError('EACCES', 'destroying channels is not allowed by the policy');
    const link = f.fields['link'] as string | undefined;
    const src = f.fields['src'] as number | undefined;
    const dst = f.fields['dst'] as number | undefined;
    const ch = [...this.ctx.staticChannels].find(
      (c) => c.name === name && (link === undefined || c.link.name === link) && (src === undefined || c.src === src) && (dst === undefined || c.dst === dst),
    );
    if (ch === undefined) throw new RpmsgError('ENOENT', `no static channel "${name}" (only channels created through the daemon can be destroyed)`);
    if (!channelAllowed(rule, name)) throw new RpmsgError('EACCES', `channel "${name}" is not allowed by the policy`);
    this.ctx.staticChannels.delete(ch);
    this.ctx.bus.releaseChannel(ch);
    this.reply(f.id);
  }

  private findLink(name: string | undefined): RpmsgLink {
    const links = this.ctx.bus.listLinks().filter((l) => l.up && (name === undefined || l.name === name));
    if (links.length === 0) throw new RpmsgError('ENOENT', name === undefined ? 'no link is up' : `no link "${name}"`);
    return links[0]!;
  }

  private lookup(handle: number): OpenEndpoint {
    const o = this.eps.get(handle);
    if (o === undefined) throw new RpmsgError('EBADF', `no endpoint ${handle}`);
    return o;
  }

  /** rx callback: copy out at once (the view is only valid during the callback). */
  private deliver(handle: number, data: Uint8Array, src: number): void {
    const o = this.eps.get(handle);
    if (o === undefined || this.closed || this.rule?.receive !== true) return;
    if (this.socket.writableLength > this.ctx.maxQueuedBytes) {
      o.dropped++;
      this.ctx.counters.rxDropped++;
      return;
    }
    const fields: Record<string, number> = { ept: handle, src };
    if (o.dropped > 0) {
      fields['dropped'] = o.dropped;
      o.dropped = 0;
    }
    this.socket.write(encodeFrame(Op.MSG, 0, fields, data));
  }

  private channelGone(ch: Channel): void {
    for (const [h, o] of this.eps) if (o.channel === ch) this.gone(h, o, `channel ${ch.name} was removed`);
  }

  private sweep(): void {
    for (const [h, o] of this.eps) if (o.ept.destroyed || !o.link.up) this.gone(h, o, 'the remote processor is gone');
  }

  /** rpmsg_char: once the endpoint's device is gone, reads and writes fail with EPIPE. */
  private gone(handle: number, o: OpenEndpoint, why: string): void {
    o.ept.destroy();
    this.eps.delete(handle);
    if (!this.closed) this.socket.write(encodeFrame(Op.EPT_GONE, 0, { ept: handle, code: 'EPIPE', message: why }));
  }
}

function describe(c: Channel): Record<string, unknown> {
  return { name: c.name, link: c.link.name, src: c.src, dst: c.dst };
}

/** Core errors in rpmsg_char's terms for the client: a gone endpoint or remote is EPIPE. */
function asClientError(e: unknown): RpmsgError {
  if (e instanceof RpmsgError) return e.code === 'ENODEV' ? new RpmsgError('EPIPE', e.message) : e;
  return new RpmsgError('EINVAL', e instanceof Error ? e.message : String(e));
}
