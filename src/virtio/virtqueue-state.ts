/**
 * The split virtqueue's state and its cold half (virtqueue.ts has the per-message operations,
 * as methods of the subclass `Virtqueue`): every field of both roles, the construction that
 * validates the ring window and sets up the shadows, the inspection getters and breaking the
 * queue on a violation. All fields are set here, in one constructor, so a queue keeps one
 * object shape and the hot methods read them as own fields.
 */
import { VirtqueueViolation, type VirtqueueViolationCode } from '../errors.js';
import type { Region } from '../memory/region.js';
import type { VringLayout } from './vring-layout.js';
import {
  checkRingPlacement,
  DEFAULT_MAX_BUFFER_LENGTH,
  initDriverRing,
  type VirtqueueOptions,
  type VirtqueueSide,
} from './virtqueue-options.js';

export abstract class VirtqueueState {
  readonly name: string;
  readonly side: VirtqueueSide;
  readonly num: number;
  readonly layout: VringLayout;
  readonly region: Region;
  /** Region offset of the ring. */
  readonly offset: number;
  readonly eventIdx: boolean;

  /** Protocol violations seen (the queue breaks on the first). */
  violations = 0;
  /** The violation that broke the queue. */
  brokenBy: VirtqueueViolation | undefined;

  // Results of the last successful getAvail()/getUsed() (out-parameters: no allocation).
  /** Device side: region offset of the buffer; driver side: unused. */
  bufOffset = 0;
  /** Device side: descriptor length; driver side: used length reported by the device. */
  bufLen = 0;
  /** Device side: descriptor flags (WRITE means device-writable). */
  bufFlags = 0;
  /** Driver side: the length the returned buffer was posted with. */
  bufPosted = 0;

  protected readonly mask: number;
  protected readonly u16: Uint16Array;
  protected readonly u32: Uint32Array;
  // Word indices (u16 / u32 units) of the ring fields.
  protected readonly descW32: number;
  protected readonly availFlagsW: number;
  protected readonly availIdxW: number;
  protected readonly availRingW: number;
  protected readonly usedEventW: number;
  protected readonly usedFlagsW: number;
  protected readonly usedIdxW: number;
  protected readonly usedRingW32: number;
  protected readonly availEventW: number;
  /** This side's suppression words: flags (driver: avail.flags; device: used.flags) and event index. */
  protected readonly ownFlagsW: number;
  protected readonly ownEventW: number;
  protected readonly onViolation: ((error: VirtqueueViolation) => void) | undefined;

  // Shadows of what this side writes.
  protected flagsShadow = 0;
  /** Ring slots as last written (avail ring for the driver, used ring ids for the device); 0xffff: unknown. */
  protected readonly slotShadow: Uint16Array;
  /** Device: used lengths as last written per slot. */
  protected readonly usedLenShadow: Float64Array;
  /** Driver: descriptor address (-1: unknown), length and flags as last written. */
  protected readonly descAddrShadow: Float64Array;
  protected readonly descLenShadow: Float64Array;
  protected readonly descFlagsShadow: Uint16Array;
  protected publishedIdx = 0; // our index as last published
  protected shadowIdx = 0; // our index including unpublished entries

  // What we consumed of the peer's index, and the peer's index as last read.
  protected lastSeen = 0;
  protected peerIdx = 0;

  // Driver side: free-descriptor list and in-flight buffers.
  protected freeHead = 0;
  protected numFreeDesc = 0;
  protected readonly nextShadow: Uint16Array;
  /** Whether the shared `next` fields hold nextShadow (we wrote the chain at init). */
  protected readonly nextMirrored: boolean;
  protected readonly inFlight: Uint8Array;
  protected readonly postedLen: Uint32Array;
  protected readonly tokens: Int32Array;
  protected numInFlight = 0;

  // Device side: descriptors taken from the avail ring and not yet returned.
  protected readonly held: Uint8Array;
  protected numHeld = 0;
  protected readonly winStart: number;
  protected readonly winEnd: number;
  protected readonly maxLen: number;

  constructor(options: VirtqueueOptions) {
    const { region, offset, num, align, side } = options;
    this.layout = checkRingPlacement(region, offset, num, align);
    this.name = options.name;
    this.side = side;
    this.num = num;
    this.mask = num - 1;
    this.region = region;
    this.offset = offset;
    this.eventIdx = options.eventIdx ?? false;
    this.onViolation = options.onViolation;
    this.u16 = region.u16;
    this.u32 = region.u32;
    const L = this.layout;
    this.descW32 = (offset + L.desc) >>> 2;
    this.availFlagsW = (offset + L.availFlags) >>> 1;
    this.availIdxW = (offset + L.availIdx) >>> 1;
    this.availRingW = (offset + L.availRing) >>> 1;
    this.usedEventW = (offset + L.usedEvent) >>> 1;
    this.usedFlagsW = (offset + L.usedFlags) >>> 1;
    this.usedIdxW = (offset + L.usedIdx) >>> 1;
    this.usedRingW32 = (offset + L.usedRing) >>> 2;
    this.availEventW = (offset + L.availEvent) >>> 1;
    this.ownFlagsW = side === 'driver' ? this.availFlagsW : this.usedFlagsW;
    this.ownEventW = side === 'driver' ? this.usedEventW : this.availEventW;

    this.nextShadow = new Uint16Array(side === 'driver' ? num : 0);
    this.inFlight = new Uint8Array(side === 'driver' ? num : 0);
    this.postedLen = new Uint32Array(side === 'driver' ? num : 0);
    this.tokens = new Int32Array(side === 'driver' ? num : 0);
    this.held = new Uint8Array(side === 'device' ? num : 0);
    // Unknown until first written (the ring may hold anything when not initialised here).
    this.slotShadow = new Uint16Array(num).fill(0xffff);
    this.usedLenShadow = new Float64Array(side === 'device' ? num : 0).fill(-1);
    this.descAddrShadow = new Float64Array(side === 'driver' ? num : 0).fill(-1);
    this.descLenShadow = new Float64Array(side === 'driver' ? num : 0).fill(-1);
    this.descFlagsShadow = new Uint16Array(side === 'driver' ? num : 0).fill(0xffff);

    const win = options.bufferWindow ?? { offset: 0, length: region.size };
    region.check(win.offset, win.length);
    this.winStart = region.busBase + win.offset;
    this.winEnd = this.winStart + win.length;
    this.maxLen = options.maxBufferLength ?? DEFAULT_MAX_BUFFER_LENGTH;

    this.nextMirrored = side === 'driver' && (options.init ?? true);
    if (side === 'driver') {
      initDriverRing(region, offset, L, this.nextShadow, this.nextMirrored);
      this.freeHead = 0;
      this.numFreeDesc = num;
    } else {
      // The device attaches to a ring the driver set up: start from the indices it finds (the
      // driver may already have posted buffers). Its own fields start from zero as zeroed.
      this.peerIdx = Atomics.load(this.u16, this.availIdxW);
      this.lastSeen = 0;
      const ahead = (this.peerIdx - this.lastSeen) & 0xffff;
      if (ahead > num) this.violate('ERR_VQ_AVAIL_IDX', 'avail.idx ahead of the ring', { availIdx: this.peerIdx, consumed: 0, num });
    }
  }

  get broken(): boolean {
    return this.brokenBy !== undefined;
  }

  /** Free descriptors (driver side). */
  get freeCount(): number {
    return this.numFreeDesc;
  }

  /** Buffers posted and not yet returned (driver side) or taken and not yet returned (device side). */
  get outstanding(): number {
    return this.side === 'driver' ? this.numInFlight : this.numHeld;
  }

  /** How far this side has consumed the peer's index (vhost-user GET_VRING_BASE reports it). */
  get consumedIdx(): number {
    return this.lastSeen;
  }

  /** Mark the queue broken from outside (e.g. the transport found a bad message). */
  markBroken(error: VirtqueueViolation): void {
    if (this.brokenBy !== undefined) return;
    this.violations++;
    this.brokenBy = error;
    this.onViolation?.(error);
  }

  protected violate(code: VirtqueueViolationCode, message: string, details: Record<string, number | string>): -1 {
    this.markBroken(new VirtqueueViolation(code, this.name, message, details));
    return -1;
  }
}
