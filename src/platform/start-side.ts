/**
 * Start-up of either role over memory a platform supplies (shared by every platform): a link
 * on the bus and its virtio transport; the transport starts the name service when negotiated.
 *
 * Host: sets up the rings, posts rx buffers, writes gfeatures and DRIVER_OK, kicks.
 * Remote: takes the rings the host set up (DRIVER_OK already set), like OpenAMP firmware.
 */
import type { Region } from '../memory/region.js';
import type { NameService } from '../ns/name-service.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import { RpmsgLink } from '../rpmsg/link.js';
import type { LinkLimits } from '../rpmsg/types.js';
import { VirtioRpmsgTransport, type RpmsgRole, type VirtioRpmsgOptions } from '../rpmsg-virtio/virtio-transport.js';
import type { ParsedRpmsgMemory } from './layout.js';

export type HostBufferOptions = Pick<VirtioRpmsgOptions, 'rxBuffers' | 'txBuffers' | 'rxBufferSize' | 'txBufferSize' | 'features'>;

interface SideOptions {
  name: string;
  bus: RpmsgBus;
  region: Region;
  /** The vdev and vrings read from the resource table. */
  mem: ParsedRpmsgMemory;
  /** Kick the peer; `queue` is the vring the kick is about (vhost-user signals per vring). */
  notify: (queue: 0 | 1) => void;
  limits?: LinkLimits | undefined;
}

export interface HostSideOptions extends SideOptions {
  pool: { offset: number; length: number };
  host?: HostBufferOptions | undefined;
}

export interface RemoteSideOptions extends SideOptions {
  /** Region window every host buffer must lie in (the pool); default the whole region. */
  bufferWindow?: { offset: number; length: number } | undefined;
  /** Features this side supports (default NS | EVENT_IDX). */
  features?: number | undefined;
}

/** One side of a link: what startHostSide and startRemoteSide return. */
export interface RpmsgSide {
  link: RpmsgLink;
  transport: VirtioRpmsgTransport;
  /** The name service, when negotiated (transport.ns). */
  ns: NameService | undefined;
}

/** The 0.1 name of RpmsgSide. */
export type HostSide = RpmsgSide;

function startSide(role: RpmsgRole, o: SideOptions, extra: Partial<VirtioRpmsgOptions>): RpmsgSide {
  const link = new RpmsgLink(o.name, role, o.limits);
  const transport = new VirtioRpmsgTransport({
    role,
    bus: o.bus,
    link,
    region: o.region,
    vdev: o.mem.vdev,
    vrings: o.mem.vrings,
    notify: o.notify,
    ...extra,
  });
  return { link, transport, ns: transport.ns };
}

export function startHostSide(o: HostSideOptions): RpmsgSide {
  return startSide('host', o, { pool: o.pool, ...o.host });
}

export function startRemoteSide(o: RemoteSideOptions): RpmsgSide {
  return startSide('remote', o, {
    ...(o.bufferWindow !== undefined ? { bufferWindow: o.bufferWindow } : {}),
    ...(o.features !== undefined ? { features: o.features } : {}),
  });
}
