/** The host role's start-up over memory a platform supplies (shared by every platform). */
import type { Region } from '../memory/region.js';
import { NameService } from '../ns/name-service.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import { RpmsgLink, type LinkLimits } from '../rpmsg/link.js';
import { VirtioRpmsgTransport, type VirtioRpmsgOptions } from '../rpmsg-virtio/virtio-transport.js';
import type { ParsedRpmsgMemory } from './layout.js';

export type HostBufferOptions = Pick<
  VirtioRpmsgOptions,
  'rxBuffers' | 'txBuffers' | 'rxBufferSize' | 'txBufferSize' | 'features'
>;

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

export interface HostSide {
  link: RpmsgLink;
  transport: VirtioRpmsgTransport;
  ns: NameService | undefined;
}

/** Link on `bus`, host transport (rings, rx buffers, DRIVER_OK, kick), name service if negotiated. */
export function startHostSide(o: HostSideOptions): HostSide {
  const link = new RpmsgLink(o.name, 'host', o.limits);
  o.bus.addLink(link);
  const transport = new VirtioRpmsgTransport({
    role: 'host',
    link,
    region: o.region,
    vdev: o.mem.vdev,
    vrings: o.mem.vrings,
    pool: o.pool,
    notify: o.notify,
    ...o.host,
  });
  const ns = transport.nameService ? new NameService(o.bus, link) : undefined;
  return { link, transport, ns };
}
