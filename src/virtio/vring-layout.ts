/**
 * Split-ring layout math (virtio 1.x §2.7, legacy layout as remoteproc uses it; PROTOCOL.md §5).
 *
 *   desc[num]            16·num bytes at 0            written by the driver only
 *   avail {flags, idx, ring[num], used_event}          written by the driver only
 *   (padding to `align`)
 *   used {flags, idx, ring[num]{id,len}, avail_event}  written by the device only
 */
import { RpmsgError } from '../errors.js';
import { VRING_MAX_NUM } from './constants.js';

export const VRING_DESC_SIZE = 16;
export const VRING_USED_ELEM_SIZE = 8;

export interface VringLayout {
  readonly num: number;
  readonly align: number;
  /** Offsets relative to the start of the ring (the descriptor table). */
  readonly desc: number;
  readonly avail: number;
  readonly availFlags: number;
  readonly availIdx: number;
  readonly availRing: number;
  readonly usedEvent: number;
  readonly used: number;
  readonly usedFlags: number;
  readonly usedIdx: number;
  readonly usedRing: number;
  readonly availEvent: number;
  /** Total bytes (`vring_size`). */
  readonly size: number;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

/** Layout of a vring of `num` entries (power of two ≤ 32768) with the used ring aligned to `align`. */
export function vringLayout(num: number, align: number): VringLayout {
  if (!isPowerOfTwo(num) || num > VRING_MAX_NUM) {
    throw new RpmsgError('EINVAL', `vring num must be a power of two ≤ ${VRING_MAX_NUM}`, { num });
  }
  if (!isPowerOfTwo(align)) throw new RpmsgError('EINVAL', 'vring align must be a power of two', { align });
  const avail = VRING_DESC_SIZE * num;
  const used = alignUp(avail + 2 * (3 + num), align);
  return {
    num,
    align,
    desc: 0,
    avail,
    availFlags: avail,
    availIdx: avail + 2,
    availRing: avail + 4,
    usedEvent: avail + 4 + 2 * num,
    used,
    usedFlags: used,
    usedIdx: used + 2,
    usedRing: used + 4,
    availEvent: used + 4 + VRING_USED_ELEM_SIZE * num,
    size: used + 6 + VRING_USED_ELEM_SIZE * num,
  };
}

export function vringSize(num: number, align: number): number {
  return vringLayout(num, align).size;
}

/** `vring_need_event`: notify iff the event index lies in (old, new] (u16 arithmetic). */
export function vringNeedEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}

/** Where a vring sits in a region (what a platform reads from the resource table). */
export interface RingPlacement {
  /** Region offset of the ring. */
  offset: number;
  num: number;
  align: number;
}
