/**
 * The split virtqueue, driver side and device side from one implementation (virtio 1.x §2.7;
 * OpenAMP lib/virtio/virtqueue.c serves both roles the same way).
 *
 * Who writes what (the rest of the ring is read-only to that side):
 *   driver (host):   descriptor table, avail.flags, avail.idx, avail.ring, used_event
 *   device (remote): used.flags, used.idx, used.ring, avail_event
 *
 * Each side keeps private shadows of everything it writes and never reads its own fields back
 * (a hostile peer may overwrite them). Every value the peer writes (its index, a descriptor id,
 * an address, a length) is read once into a local, validated, then used. The first protocol
 * violation is counted, reported through `onViolation` with a `VirtqueueViolation` carrying a
 * code and the offending values, and marks the queue broken: every later operation is a no-op
 * that returns "nothing". Nothing here throws because of peer-written data.
 *
 * Publish order (both sides): write the buffer and descriptor, then the ring slot, then the
 * index with a sequentially consistent `Atomics.store` (a full fence on every platform V8
 * supports), then read the peer's suppression word to decide whether to notify. The index is
 * published by `publish()`, so a burst of `add()`/`putUsed()` costs one index store and at most
 * one notification.
 *
 * The ring window itself is validated once at construction; slots are masked by `num - 1`, so
 * ring accesses cannot leave it.
 *
 * Shared-memory stores are skipped when the shadow says the word already holds the value (a
 * descriptor re-posted with the same buffer, a ring slot that held the same id a lap ago, the
 * same used length): in steady state the same buffers cycle through the same descriptors and
 * slots, so those cache lines stay shared between the two cores instead of bouncing on every
 * message. Only the index stores remain. A peer that scribbles over our fields only misleads
 * itself: we never read them back.
 */
import { RpmsgError } from '../errors.js';
import {
  VRING_AVAIL_F_NO_INTERRUPT,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_USED_F_NO_NOTIFY,
} from './constants.js';
import { vringNeedEvent } from './vring-layout.js';
import { VirtqueueState } from './virtqueue-state.js';

export type { VirtqueueOptions, VirtqueueSide } from './virtqueue-options.js';

/** "Do not kick me": bit 0 of either side's flags (the two names have the same value). */
const NO_KICK = VRING_AVAIL_F_NO_INTERRUPT | VRING_USED_F_NO_NOTIFY;
const TWO_32 = 0x1_0000_0000;

/** A split virtqueue (see the file comment); its state and construction are in virtqueue-state.ts. */
export class Virtqueue extends VirtqueueState {
  // ---------------------------------------------------------------- driver side

  /**
   * Post a single buffer (bus address, length, writable by the device or not). Returns the
   * descriptor id, or -1 when no descriptor is free or the queue is broken. `token` is returned
   * by `getUsed()` when the device gives the buffer back. Not visible to the device before
   * `publish()`.
   */
  add(busAddress: number, length: number, deviceWritable: boolean, token: number): number {
    if (this.brokenBy !== undefined || this.numFreeDesc === 0) return -1;
    const id = this.freeHead;
    this.freeHead = this.nextShadow[id]!;
    this.numFreeDesc--;
    const w = this.descW32 + id * 4;
    const u32 = this.u32;
    if (this.descAddrShadow[id] !== busAddress) {
      this.descAddrShadow[id] = busAddress;
      u32[w] = busAddress >>> 0; // ToUint32 is the low word (no floating-point modulo)
      u32[w + 1] = busAddress > 0xffffffff ? Math.floor(busAddress / TWO_32) : 0;
    }
    if (this.descLenShadow[id] !== length) {
      this.descLenShadow[id] = length;
      u32[w + 2] = length;
    }
    // flags only: OpenAMP leaves `next` alone for a single descriptor (images 02, 04).
    const flags = deviceWritable ? 2 : 0;
    if (this.descFlagsShadow[id] !== flags) {
      this.descFlagsShadow[id] = flags;
      this.u16[(w + 3) * 2] = flags;
    }
    const slot = this.shadowIdx & this.mask;
    if (this.slotShadow[slot] !== id) {
      this.slotShadow[slot] = id;
      this.u16[this.availRingW + slot] = id;
    }
    this.shadowIdx = (this.shadowIdx + 1) & 0xffff;
    this.inFlight[id] = 1;
    this.postedLen[id] = length;
    this.tokens[id] = token;
    this.numInFlight++;
    return id;
  }

  /**
   * Take the next buffer the device returned: returns its token (and sets `bufLen` to the used
   * length), or -1 when none is pending or the queue is broken. With `refresh` false only
   * entries already announced by the last read of used.idx are taken (no read of the index,
   * which the device's core is busy writing).
   */
  getUsed(refresh = true): number {
    if (this.brokenBy !== undefined) return -1;
    // Without refresh only what the last index read announced: no shared-memory read.
    if (this.lastSeen === this.peerIdx && (!refresh || !this.readPeerIdx())) return -1;
    const e = this.usedRingW32 + (this.lastSeen & this.mask) * 2;
    const id = this.u32[e]!;
    const len = this.u32[e + 1]!;
    if (id >= this.num) {
      return this.violate('ERR_VQ_DESC_ID', 'used id out of range', { id, num: this.num, usedIdx: this.lastSeen });
    }
    if (this.inFlight[id] === 0) {
      return this.violate('ERR_VQ_DESC_REUSED', 'used id not in flight', { id, usedIdx: this.lastSeen });
    }
    this.lastSeen = (this.lastSeen + 1) & 0xffff;
    this.inFlight[id] = 0;
    this.numInFlight--;
    // Return the descriptor to the free list (head insertion, like OpenAMP vq_ring_free_chain,
    // which also writes the link into the shared descriptor).
    if (this.nextShadow[id] !== this.freeHead || !this.nextMirrored) {
      this.nextShadow[id] = this.freeHead;
      this.u16[(this.descW32 + id * 4 + 3) * 2 + 1] = this.freeHead;
    }
    this.freeHead = id;
    this.numFreeDesc++;
    this.bufLen = len;
    this.bufPosted = this.postedLen[id]!;
    return this.tokens[id]!;
  }

  // ---------------------------------------------------------------- device side

  /**
   * Take the next available buffer: returns its descriptor id and sets `bufOffset` (region
   * offset), `bufLen` and `bufFlags`; -1 when none is pending or the queue is broken.
   */
  getAvail(): number {
    if (this.brokenBy !== undefined) return -1;
    if (this.lastSeen === this.peerIdx && !this.readPeerIdx()) return -1;
    const id = this.u16[this.availRingW + (this.lastSeen & this.mask)]!;
    if (id >= this.num) {
      return this.violate('ERR_VQ_DESC_ID', 'avail id out of range', { id, num: this.num, availIdx: this.lastSeen });
    }
    if (this.held[id] !== 0) {
      return this.violate('ERR_VQ_DESC_REUSED', 'descriptor made available while still held', { id, availIdx: this.lastSeen });
    }
    const w = this.descW32 + id * 4;
    const lo = this.u32[w]!;
    const hi = this.u32[w + 1]!;
    const len = this.u32[w + 2]!;
    const flags = this.u16[(w + 3) * 2]!;
    if ((flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT)) !== 0) {
      return this.violate('ERR_VQ_DESC_CHAIN', 'chained or indirect descriptor', { id, flags });
    }
    if (len === 0 || len > this.maxLen) {
      return this.violate('ERR_VQ_DESC_LEN', 'descriptor length out of range', { id, len, max: this.maxLen });
    }
    const addr = lo + hi * TWO_32;
    if (hi !== 0 || addr < this.winStart || addr + len > this.winEnd) {
      return this.violate('ERR_VQ_DESC_ADDR', 'descriptor buffer outside the buffer window', {
        id,
        addr,
        len,
        windowStart: this.winStart,
        windowEnd: this.winEnd,
      });
    }
    this.lastSeen = (this.lastSeen + 1) & 0xffff;
    this.held[id] = 1;
    this.numHeld++;
    this.bufOffset = addr - this.region.busBase;
    this.bufLen = len;
    this.bufFlags = flags;
    return id;
  }

  /** Device: give a taken buffer back with `length` bytes written. Visible after `publish()`. */
  putUsed(id: number, length: number): void {
    if (this.brokenBy !== undefined) return;
    if (!(id >= 0 && id < this.num) || this.held[id] === 0) {
      throw new RpmsgError('EINVAL', `${this.name}: putUsed of a descriptor not held`, { id });
    }
    const slot = this.shadowIdx & this.mask;
    const e = this.usedRingW32 + slot * 2;
    if (this.slotShadow[slot] !== id) {
      this.slotShadow[slot] = id;
      this.u32[e] = id;
    }
    if (this.usedLenShadow[slot] !== length) {
      this.usedLenShadow[slot] = length;
      this.u32[e + 1] = length;
    }
    this.shadowIdx = (this.shadowIdx + 1) & 0xffff;
    this.held[id] = 0;
    this.numHeld--;
  }

  // ---------------------------------------------------------------- both sides

  /**
   * Publish everything added since the last call (one index store) and return whether the
   * peer asked to be notified about it.
   */
  publish(): boolean {
    const newIdx = this.shadowIdx;
    const oldIdx = this.publishedIdx;
    if (newIdx === oldIdx || this.brokenBy !== undefined) return false;
    const driver = this.side === 'driver';
    Atomics.store(this.u16, driver ? this.availIdxW : this.usedIdxW, newIdx);
    this.publishedIdx = newIdx;
    if (this.eventIdx) {
      const event = Atomics.load(this.u16, driver ? this.availEventW : this.usedEventW);
      return vringNeedEvent(event, newIdx, oldIdx);
    }
    const peerFlags = Atomics.load(this.u16, driver ? this.usedFlagsW : this.availFlagsW);
    return (peerFlags & NO_KICK) === 0;
  }

  /**
   * Ask the peer not to kick us when it publishes (driver: VRING_AVAIL_F_NO_INTERRUPT or
   * used_event; device: VRING_USED_F_NO_NOTIFY or avail_event). With event indices the
   * request names an index half the ring space away, so it never fires by accident.
   */
  disableKicks(): void {
    if (this.eventIdx) {
      Atomics.store(this.u16, this.ownEventW, (this.lastSeen + 0x8000) & 0xffff);
    } else if ((this.flagsShadow & NO_KICK) === 0) {
      this.flagsShadow |= NO_KICK;
      Atomics.store(this.u16, this.ownFlagsW, this.flagsShadow);
    }
  }

  /** Ask the peer to kick us on its next publication; true if entries are already pending. */
  enableKicks(): boolean {
    if (this.eventIdx) {
      Atomics.store(this.u16, this.ownEventW, this.lastSeen);
    } else if ((this.flagsShadow & NO_KICK) !== 0) {
      this.flagsShadow &= ~NO_KICK;
      Atomics.store(this.u16, this.ownFlagsW, this.flagsShadow);
    }
    return this.hasPending();
  }

  /** Whether the peer has published entries we have not consumed (a cheap peek, no validation). */
  hasPending(): boolean {
    if (this.brokenBy !== undefined) return false;
    if (this.lastSeen !== this.peerIdx) return true;
    const idx = Atomics.load(this.u16, this.side === 'driver' ? this.usedIdxW : this.availIdxW);
    return idx !== this.lastSeen;
  }

  /**
   * Read the peer's index once and check how far it ran ahead of what we consumed: the driver
   * can get back at most what it has in flight, the device at most a ring's worth (virtio
   * §2.7.13, Linux virtqueue_get_buf's "id out of range" / "index ahead" checks). Returns
   * whether new entries are there; a violation breaks the queue.
   */
  private readPeerIdx(): boolean {
    const driver = this.side === 'driver';
    const idx = Atomics.load(this.u16, driver ? this.usedIdxW : this.availIdxW);
    const ahead = (idx - this.lastSeen) & 0xffff;
    const limit = driver ? this.numInFlight : this.num;
    if (ahead > limit) {
      this.violate(driver ? 'ERR_VQ_USED_IDX' : 'ERR_VQ_AVAIL_IDX', `${driver ? 'used' : 'avail'}.idx ahead of ${driver ? 'the buffers in flight' : 'the ring'}`, {
        [driver ? 'usedIdx' : 'availIdx']: idx,
        consumed: this.lastSeen,
        [driver ? 'inFlight' : 'num']: limit,
      });
      return false;
    }
    this.peerIdx = idx;
    return ahead !== 0;
  }


}
