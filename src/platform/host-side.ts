/** The host role's start-up over memory a platform supplies (shared by every platform). */
import type { Region } from '../memory/region.js';
import type { NameService } from '../ns/name-service.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import { RpmsgLink } from '../rpmsg/link.js';
import type { LinkLimits } from '../rpmsg/types.js';
import { VirtioRpmsgTransport, type VirtioRpmsgOptions } from '../rpmsg-virtio/virtio-transport.js';
import type { ParsedRpmsgMemory } from './layout.js';

export type HostBufferOptions = Pick<VirtioRpmsgOptions, 'rxBuffers' | 'txBuffers' | 'rxBufferSize' | 'txBufferSize' | 'features'>;

export interface HostSideOptions {
  name: string;
  bus: RpmsgBus;
  region: Region;
  /** The vdev and vrings read from the resource table. */
  mem: ParsedRpmsgMemory;
  pool: { offset: number; length: number };
  notify: () => void;
  host?: HostBufferOptions | undefined;
  limits?: LinkLimits | undefined;
}

/** One side of a link: what startHostSide and startRemoteSide return. */
export interface RpmsgSide {
  link: RpmsgLink;
  transport: VirtioRpmsgTransport;
  /** The name service, when negotiated (transport.ns). */
  ns: NameService | undefined;
}

/** @deprecated name kept for callers of 0.1: use RpmsgSide. */
export type HostSide = RpmsgSide;

/** Link on `bus`, host transport (rings, rx buffers, DRIVER_OK, kick), name service if negotiated. */
export function startHostSide(o: HostSideOptions): RpmsgSide {
  const link = new RpmsgLink(o.name, 'host', o.limits);
  const transport = new VirtioRpmsgTransport({
    role: 'host',
    bus: o.bus,
    link,
    region: o.region,
    vdev: o.mem.vdev,
    vrings: o.mem.vrings,
    pool: o.pool,
    notify: o.notify,
    ...o.host,
  });
  return { link, transport, ns: transport.ns };
}
