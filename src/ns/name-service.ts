/**
 * The name service: an ordinary endpoint at address 53 on a link (Linux rpmsg_ns.c), present
 * only when VIRTIO_RPMSG_F_NS was negotiated.
 *
 * - CREATE from the peer: if a local endpoint with that name still waits for its destination
 *   (OpenAMP's bind), it is bound to the announced address; otherwise the bus creates a
 *   channel {name, src: ANY, dst: addr}, probed by a matching driver now or later.
 * - DESTROY: the channel is released (its driver's remove runs, its endpoints are destroyed);
 *   local endpoints bound to that address by name are unbound (OpenAMP's unbind).
 * - Malformed announcements (length ≠ 40, empty or bad name, ADDR_ANY) are counted and
 *   reported, never acted on.
 * - Outgoing: installs the link's announcer, so named endpoints and announcing channels send
 *   CREATE on creation and DESTROY on destruction, from their own address to 53.
 */
import { RpmsgError } from '../errors.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import { RPMSG_ADDR_ANY, RPMSG_NS_ADDR } from '../rpmsg/constants.js';
import type { Endpoint } from '../rpmsg/endpoint.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import { RPMSG_NS_CREATE, RPMSG_NS_DESTROY, decodeNsMessage, encodeNsMessage, type NsRejectReason } from './ns-message.js';

export interface NameServiceStats {
  created: number;
  destroyed: number;
  bound: number;
  rejected: Record<NsRejectReason | 'limit', number>;
  announced: number;
}

export class NameService {
  readonly link: RpmsgLink;
  readonly bus: RpmsgBus;
  readonly ept: Endpoint;
  readonly stats: NameServiceStats = {
    created: 0,
    destroyed: 0,
    bound: 0,
    rejected: { length: 0, name: 0, addr: 0, limit: 0 },
    announced: 0,
  };

  constructor(bus: RpmsgBus, link: RpmsgLink) {
    this.bus = bus;
    this.link = link;
    if (link.bus !== bus) bus.addLink(link);
    this.ept = link.createEndpoint((_o, data, src) => this.onMessage(data, src), { addr: RPMSG_NS_ADDR, announce: false });
    link.announcer = (name, addr, destroy) => this.announce(name, addr, destroy);
  }

  /** Send an announcement from `addr` to 53. Delivery waits for a tx buffer like send(). */
  announce(name: string, addr: number, destroy = false): void {
    const msg = encodeNsMessage({ name, addr, flags: destroy ? RPMSG_NS_DESTROY : RPMSG_NS_CREATE });
    this.stats.announced++;
    this.ept.sendOffchannel(addr, RPMSG_NS_ADDR, msg).catch((e: unknown) => {
      if (this.link.up) this.link.reportError(new RpmsgError('ENODEV', `announcement of ${name} failed`, { addr }, { cause: e }));
    });
  }

  private onMessage(data: Uint8Array, src: number): void {
    const msg = decodeNsMessage(data);
    if (typeof msg === 'string') {
      this.stats.rejected[msg]++;
      this.link.reportError(new RpmsgError('EBADMSG', `malformed name-service message (${msg})`, { src, len: data.length }));
      return;
    }
    if (msg.flags === RPMSG_NS_DESTROY) {
      this.stats.destroyed++;
      const ch = this.bus.findChannel(this.link, msg.name, RPMSG_ADDR_ANY, msg.addr);
      if (ch !== undefined) this.bus.releaseChannel(ch);
      for (const ept of this.link.listEndpoints()) {
        if (ept.channel === undefined && ept.name === msg.name && ept.dst === msg.addr) ept.dst = RPMSG_ADDR_ANY;
      }
      return;
    }
    this.stats.created++;
    for (const ept of this.link.listEndpoints()) {
      if (ept.channel === undefined && ept.name === msg.name && ept.unbound && ept !== this.ept) {
        ept.dst = msg.addr;
        this.stats.bound++;
        return;
      }
    }
    try {
      this.bus.createChannel(this.link, { name: msg.name, dst: msg.addr });
    } catch (e) {
      this.stats.rejected.limit++;
      this.link.reportError(e);
    }
  }
}
