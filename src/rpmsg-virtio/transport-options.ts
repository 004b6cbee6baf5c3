/** Options of the virtio rpmsg transport (limits and defaults in the doc comments). */
import type { Region } from '../memory/region.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { VdevHandle } from '../virtio/resource-table.js';
import type { RingPlacement } from '../virtio/vring-layout.js';

export type RpmsgRole = 'host' | 'remote';

export interface VirtioRpmsgOptions {
  role: RpmsgRole;
  /** The bus the link is on (the name service creates channels there). */
  bus: RpmsgBus;
  link: RpmsgLink;
  region: Region;
  vdev: VdevHandle;
  /** vring[0] and vring[1] as placed in the region. */
  vrings: readonly [RingPlacement, RingPlacement];
  /** Kick the peer; `queue` is the vring index the kick is about. */
  notify: (queue: 0 | 1) => void;
  /** Features this side supports (default VIRTIO_RPMSG_F_NS | VIRTIO_RING_F_EVENT_IDX). */
  features?: number;
  /** Host: the buffer pool (region offset and length). */
  pool?: { offset: number; length: number };
  /** Host: bytes per rx buffer (default 512, multiple of 4, 20..65552). */
  rxBufferSize?: number;
  /** Host: bytes per tx buffer (default 512). */
  txBufferSize?: number;
  /** Host: rx buffers (default vring[0].num). */
  rxBuffers?: number;
  /** Host: tx buffers (default vring[1].num). */
  txBuffers?: number;
  /** Remote: region window every host buffer must lie in (default: the whole region). */
  bufferWindow?: { offset: number; length: number };
  /** Remote: largest buffer accepted from the host (default 65552). */
  maxBufferSize?: number;
  /** Messages processed per poll() before yielding (default: the rx ring size). */
  rxBudget?: number;
}
