/**
 * A session's endpoints (rpmsg_char: one per open file): OPEN on a channel, CREATE_EPT by
 * name, DESTROY_EPT, and what arrives on them. They live exactly as long as the connection;
 * when their channel is removed or their remote goes, the client gets EPT_GONE (EPIPE).
 *
 * Received messages are copied out at once into a MSG frame; beyond `maxQueuedBytes` waiting
 * in the client's socket they are dropped and counted, the count riding on the next MSG as
 * `dropped`: a slow reader never grows the daemon's memory.
 */
import { RpmsgError } from '../errors.js';
import { RPMSG_ADDR_ANY } from '../rpmsg/constants.js';
import type { Channel } from '../rpmsg/channel.js';
import type { Endpoint } from '../rpmsg/endpoint.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import { findLink } from './channel-control.js';
import type { DaemonContext } from './context.js';
import { channelAllowed, type ClientRule } from './policy.js';
import { Op } from './protocol.js';
import type { ClientPort } from './session-port.js';

export interface OpenEndpoint {
  ept: Endpoint;
  link: RpmsgLink;
  /** The channel it was opened on (undefined for CREATE_EPT endpoints). */
  channel: Channel | undefined;
  /** Its channel pair: sends elsewhere need offchannel permission. */
  src: number;
  dst: number;
  dropped: number;
}

export class SessionEndpoints {
  private readonly eps = new Map<number, OpenEndpoint>();
  private nextHandle = 1;

  constructor(
    private readonly ctx: DaemonContext,
    private readonly port: ClientPort,
    /** Whether the client's rule lets it receive (undefined before HELLO). */
    private readonly mayReceive: () => boolean,
  ) {}

  get size(): number {
    return this.eps.size;
  }

  /** OPEN: a new endpoint on a channel, to its dst; returns the OK fields. */
  open(f: Record<string, unknown>, rule: ClientRule): Record<string, unknown> {
    const name = f['channel'] as string;
    if (!channelAllowed(rule, name)) throw new RpmsgError('EACCES', `channel "${name}" is not allowed by the policy`);
    this.checkRoom(rule);
    const link = f['link'] as string | undefined;
    const dst = f['dst'] as number | undefined;
    const ch = this.ctx.bus.channels.find((c) => c.name === name && (link === undefined || c.link.name === link) && (dst === undefined || c.dst === dst));
    if (ch === undefined) throw new RpmsgError('ENOENT', `no channel "${name}"${link ? ` on ${link}` : ''}`);
    // A static channel's fixed src is its endpoint's address (rpmsg_char: chinfo from the device).
    const addr = ch.ept === undefined && ch.src !== RPMSG_ADDR_ANY ? ch.src : RPMSG_ADDR_ANY;
    const handle = this.nextHandle++;
    const ept = ch.createEndpoint((_o, data, src) => this.deliver(handle, data, src), { addr, dst: ch.dst });
    this.track(handle, { ept, link: ch.link, channel: ch, src: ept.addr, dst: ch.dst, dropped: 0 });
    return { ept: handle, name: ch.name, link: ch.link.name, src: ept.addr, dst: ch.dst, mtu: ept.getMtu() };
  }

  /** CREATE_EPT (rpmsg_ctrl's create-endpoint): addresses only with offchannel. */
  create(f: Record<string, unknown>, rule: ClientRule): Record<string, unknown> {
    const name = f['name'] as string;
    if (!channelAllowed(rule, name)) throw new RpmsgError('EACCES', `name "${name}" is not allowed by the policy`);
    const src = f['src'] as number | undefined;
    const dst = f['dst'] as number | undefined;
    if ((src !== undefined || dst !== undefined) && !rule.offchannel) {
      throw new RpmsgError('EACCES', 'choosing addresses (offchannel) is not allowed by the policy');
    }
    this.checkRoom(rule);
    const link = findLink(this.ctx, f['link'] as string | undefined);
    const handle = this.nextHandle++;
    const ept = link.createEndpoint((_o, data, s) => this.deliver(handle, data, s), {
      addr: src ?? RPMSG_ADDR_ANY,
      dst: dst ?? RPMSG_ADDR_ANY,
      name,
      announce: false,
    });
    this.track(handle, { ept, link, channel: undefined, src: ept.addr, dst: ept.dst, dropped: 0 });
    return { ept: handle, name, link: link.name, src: ept.addr, dst: ept.dst, mtu: ept.getMtu() };
  }

  /** DESTROY_EPT. */
  destroy(handle: number): void {
    this.lookup(handle).ept.destroy();
    this.eps.delete(handle);
  }

  /** EBADF for a handle this client does not hold. */
  lookup(handle: number): OpenEndpoint {
    const o = this.eps.get(handle);
    if (o === undefined) throw new RpmsgError('EBADF', `no endpoint ${handle}`);
    return o;
  }


  /** The connection ended: destroy them all. */
  closeAll(): void {
    for (const o of this.eps.values()) o.ept.destroy();
    this.eps.clear();
  }

  channelGone(ch: Channel): void {
    for (const [h, o] of this.eps) if (o.channel === ch) this.gone(h, o, `channel ${ch.name} was removed`);
  }

  /** A link went down: its endpoints are gone. */
  sweep(): void {
    for (const [h, o] of this.eps) if (o.ept.destroyed || !o.link.up) this.gone(h, o, 'the remote processor is gone');
  }

  private checkRoom(rule: ClientRule): void {
    if (this.eps.size >= rule.maxEndpoints) throw new RpmsgError('EMFILE', `at most ${rule.maxEndpoints} open endpoints`);
  }

  private track(handle: number, o: OpenEndpoint): void {
    this.eps.set(handle, o);
    this.ctx.watchLink(o.link);
    this.ctx.counters.opened++;
  }

  /** rx callback: copy out at once (the view is only valid during the callback). */
  private deliver(handle: number, data: Uint8Array, src: number): void {
    const o = this.eps.get(handle);
    if (o === undefined || this.port.closed || !this.mayReceive()) return;
    if (this.port.queuedBytes > this.ctx.limits.maxQueuedBytes) {
      o.dropped++;
      this.ctx.counters.rxDropped++;
      return;
    }
    const fields: Record<string, number> = { ept: handle, src };
    if (o.dropped > 0) {
      fields['dropped'] = o.dropped;
      o.dropped = 0;
    }
    this.port.event(Op.MSG, fields, data);
  }

  /** rpmsg_char: once the endpoint's device is gone, reads and writes fail with EPIPE. */
  private gone(handle: number, o: OpenEndpoint, why: string): void {
    o.ept.destroy();
    this.eps.delete(handle);
    this.port.event(Op.EPT_GONE, { ept: handle, code: 'EPIPE', message: why });
  }
}
