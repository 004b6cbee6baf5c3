/** The remote role's start-up over memory the host has set up (DRIVER_OK already set). */
import type { Region } from '../memory/region.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import { RpmsgLink } from '../rpmsg/link.js';
import type { LinkLimits } from '../rpmsg/types.js';
import { VirtioRpmsgTransport } from '../rpmsg-virtio/virtio-transport.js';
import type { RpmsgSide } from './host-side.js';
import type { ParsedRpmsgMemory } from './layout.js';

export interface RemoteSideOptions {
  name: string;
  bus: RpmsgBus;
  region: Region;
  /** The vdev and vrings read from the resource table. */
  mem: ParsedRpmsgMemory;
  notify: () => void;
  /** Region window every host buffer must lie in (the pool); default the whole region. */
  bufferWindow?: { offset: number; length: number } | undefined;
  /** Features this side supports (default NS | EVENT_IDX). */
  features?: number | undefined;
  limits?: LinkLimits | undefined;
}

/** Link on `bus`, remote transport on the host's rings, name service if negotiated. */
export function startRemoteSide(o: RemoteSideOptions): RpmsgSide {
  const link = new RpmsgLink(o.name, 'remote', o.limits);
  const transport = new VirtioRpmsgTransport({
    role: 'remote',
    bus: o.bus,
    link,
    region: o.region,
    vdev: o.mem.vdev,
    vrings: o.mem.vrings,
    notify: o.notify,
    ...(o.bufferWindow !== undefined ? { bufferWindow: o.bufferWindow } : {}),
    ...(o.features !== undefined ? { features: o.features } : {}),
  });
  return { link, transport, ns: transport.ns };
}
