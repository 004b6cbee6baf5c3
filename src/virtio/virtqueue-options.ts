/**
 * Construction-time half of the split virtqueue (virtqueue.ts): the options, their checks and
 * the driver's first-use ring initialisation. Nothing here runs per message.
 */
import { RpmsgError, type VirtqueueViolation } from '../errors.js';
import type { Region } from '../memory/region.js';
import { VQ_RING_DESC_CHAIN_END } from './constants.js';
import { vringLayout, type VringLayout } from './vring-layout.js';

export type VirtqueueSide = 'driver' | 'device';

export interface VirtqueueOptions {
  /** Name used in errors and traces, e.g. "host-rx". */
  name: string;
  /** The shared region holding the ring (and, for the device, the buffers). */
  region: Region;
  /** Region offset of the descriptor table (a multiple of 16). */
  offset: number;
  num: number;
  /** Alignment of the used ring (power of two, ≥ 4). */
  align: number;
  side: VirtqueueSide;
  /** VIRTIO_RING_F_EVENT_IDX negotiated: suppress with used_event/avail_event instead of flags. */
  eventIdx?: boolean;
  /**
   * Driver side: zero the ring and link the free descriptors (`next = i + 1`, the last one
   * 0x8000), as OpenAMP's driver does before first use. Default true for the driver side.
   */
  init?: boolean;
  /**
   * Device side: region window [offset, offset+length) that every descriptor's buffer must lie
   * in (the buffer pool). Default: the whole region.
   */
  bufferWindow?: { offset: number; length: number };
  /** Device side: largest descriptor length accepted. Default 65536. */
  maxBufferLength?: number;
  /** Called once, on the first violation; the queue is broken from then on. */
  onViolation?: (error: VirtqueueViolation) => void;
}

export const DEFAULT_MAX_BUFFER_LENGTH = 65536;

/** Lay out the ring and check it fits the region at a 16-aligned offset; throws EINVAL/ERANGE. */
export function checkRingPlacement(region: Region, offset: number, num: number, align: number): VringLayout {
  const layout = vringLayout(num, align);
  if (align < 4) throw new RpmsgError('EINVAL', 'vring align must be at least 4', { align });
  if (!Number.isInteger(offset) || offset % 16 !== 0) {
    throw new RpmsgError('EINVAL', 'vring offset must be a multiple of 16', { offset });
  }
  region.check(offset, layout.size);
  return layout;
}

/**
 * Driver side: link the free descriptors (`next = i + 1`, the last one 0x8000) into `nextShadow`;
 * with `init`, also zero the ring and write the chain to shared memory, as OpenAMP's driver does.
 */
export function initDriverRing(region: Region, offset: number, layout: VringLayout, nextShadow: Uint16Array, init: boolean): void {
  const num = nextShadow.length;
  if (init) region.fill(offset, layout.size, 0);
  const u16 = region.u16;
  for (let i = 0; i < num; i++) {
    const next = i + 1 < num ? i + 1 : VQ_RING_DESC_CHAIN_END;
    nextShadow[i] = next;
    if (init) u16[(offset + 16 * i + 14) >>> 1] = next;
  }
}
