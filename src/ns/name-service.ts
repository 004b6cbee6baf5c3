/**
 * The name service: a client of the bus with an ordinary endpoint at address 53 on a link
 * (Linux rpmsg_ns.c), created by the transport when VIRTIO_RPMSG_F_NS was negotiated.
 *
 * - CREATE from the peer: if a local endpoint with that name still waits for its destination
 *   (OpenAMP's bind), the link binds it to the announced address; otherwise the bus creates a
 *   channel {name, src: ANY, dst: addr}, probed by a matching driver now or later.
 * - DESTROY: the channel is released (its driver's remove runs, its endpoints are destroyed);
 *   local endpoints bound to that address by name wait again (OpenAMP's unbind).
 * - Malformed announcements (length ≠ 40, empty or bad name, ADDR_ANY) are counted and
 *   reported, never acted on.
 * - Outgoing: `announce()` sends CREATE or DESTROY from the service's address to 53; the
 *   transport's announceCreate/announceDestroy operations call it.
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

  /** @internal created by the transport */
  constructor(bus: RpmsgBus, link: RpmsgLink) {
    this.bus = bus;
    this.link = link;
    bus.addLink(link);
    this.ept = link.addEndpoint((_ept, data, src) => this.onMessage(data, src), { addr: RPMSG_NS_ADDR, announce: false }, false);
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
      this.link.unbindByName(msg.name, msg.addr);
      return;
    }
    this.stats.created++;
    if (this.link.bindByName(msg.name, msg.addr)) {
      this.stats.bound++;
      return;
    }
    try {
      this.bus.createChannel(this.link, { name: msg.name, dst: msg.addr });
    } catch (e) {
      this.stats.rejected.limit++;
      this.link.reportError(e);
    }
  }
}
