/**
 * The one bounds-checked accessor over shared bytes (libmetal's `metal_io_region`).
 *
 * A Region is a window of a SharedArrayBuffer, an ArrayBuffer or a mapped file. Offsets are
 * relative to the window; every checked accessor throws `MemoryBoundsError` (code EFAULT) for
 * an access that does not fit entirely inside it: never wrapped, never clamped.
 *
 * Addresses written by the peer (vring `da`, descriptor `addr`) are *bus* addresses: what the
 * peer believes is physical memory. `busBase` is the bus address of offset 0; OpenAMP's Linux
 * machine uses the file offset as the address, so its busBase is 0.
 *
 * All multi-byte fields are little-endian (PROTOCOL.md preamble). The typed-array views below
 * assume a little-endian host, which is checked once at construction; every Node.js platform
 * in use (x64, arm64) is little-endian.
 *
 * Hot paths (the virtqueue) validate their whole window once with `check()` and then index the
 * exported views (`u8`, `u16`, `u32`, `i32`) directly: indexing a pre-validated window with a
 * slot masked by `num - 1` cannot leave it.
 */
import { MemoryBoundsError, RpmsgError } from '../errors.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO_32 = 0x1_0000_0000;

export interface RegionOptions {
  /** Start of the window in the buffer (bytes, multiple of 8). Default 0. */
  byteOffset?: number;
  /** Length of the window in bytes. Default: rest of the buffer. */
  byteLength?: number;
  /** Bus (peer-visible "physical") address of offset 0. Default 0. */
  busBase?: number;
}

export class Region {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
  readonly size: number;
  readonly busBase: number;
  /** True when the backing store is a SharedArrayBuffer (Atomics.wait/notify usable). */
  readonly shared: boolean;
  /** Views over the window; index only after `check()` (see file comment). */
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly dv: DataView;

  constructor(buffer: ArrayBufferLike, options: RegionOptions = {}) {
    if (!LITTLE_ENDIAN) throw new RpmsgError('EINVAL', 'rpmsg needs a little-endian host');
    const byteOffset = options.byteOffset ?? 0;
    const size = options.byteLength ?? buffer.byteLength - byteOffset;
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 8 !== 0) {
      throw new RpmsgError('EINVAL', 'region byteOffset must be a non-negative multiple of 8', { byteOffset });
    }
    if (!Number.isInteger(size) || size < 0 || byteOffset + size > buffer.byteLength) {
      throw new MemoryBoundsError('region does not fit its buffer', {
        byteOffset,
        byteLength: size,
        bufferLength: buffer.byteLength,
      });
    }
    const busBase = options.busBase ?? 0;
    if (!Number.isSafeInteger(busBase) || busBase < 0 || busBase + size > Number.MAX_SAFE_INTEGER) {
      throw new RpmsgError('EINVAL', 'invalid busBase', { busBase });
    }
    this.buffer = buffer;
    this.byteOffset = byteOffset;
    this.size = size;
    this.busBase = busBase;
    this.shared = typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer;
    this.u8 = new Uint8Array(buffer, byteOffset, size);
    this.u16 = new Uint16Array(buffer, byteOffset, size >>> 1);
    this.u32 = new Uint32Array(buffer, byteOffset, size >>> 2);
    this.i32 = new Int32Array(buffer, byteOffset, size >>> 2);
    this.dv = new DataView(buffer, byteOffset, size);
  }

  /** A new region over [offset, offset+length) of this one, sharing its bytes. */
  sub(offset: number, length: number): Region {
    this.check(offset, length);
    return new Region(this.buffer, {
      byteOffset: this.byteOffset + offset,
      byteLength: length,
      busBase: this.busBase + offset,
    });
  }

  /** Throws EFAULT unless [offset, offset+length) lies inside the region. */
  check(offset: number, length: number): void {
    if (!this.contains(offset, length)) {
      throw new MemoryBoundsError(`access [${offset}, +${length}) outside region of ${this.size} bytes`, {
        offset,
        length,
        size: this.size,
      });
    }
  }

  /** Whether [offset, offset+length) lies inside the region (no throw). */
  contains(offset: number, length: number): boolean {
    return (
      Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= this.size
    );
  }

  /** The index of the `width`-byte word at `offset` in the view of that width; EFAULT unless inside and aligned. */
  private atomicSlot(offset: number, width: 2 | 4): number {
    this.check(offset, width);
    if (offset % width !== 0) {
      throw new MemoryBoundsError(`unaligned ${width * 8}-bit atomic access`, { offset, width });
    }
    return offset / width;
  }

  getU8(offset: number): number {
    this.check(offset, 1);
    return this.u8[offset]!;
  }
  setU8(offset: number, value: number): void {
    this.check(offset, 1);
    this.u8[offset] = value;
  }
  getU16(offset: number): number {
    this.check(offset, 2);
    return this.dv.getUint16(offset, true);
  }
  setU16(offset: number, value: number): void {
    this.check(offset, 2);
    this.dv.setUint16(offset, value, true);
  }
  getU32(offset: number): number {
    this.check(offset, 4);
    return this.dv.getUint32(offset, true);
  }
  setU32(offset: number, value: number): void {
    this.check(offset, 4);
    this.dv.setUint32(offset, value >>> 0, true);
  }
  /** u64 as a number; values above 2^53 lose precision but stay above any region size. */
  getU64(offset: number): number {
    this.check(offset, 8);
    return this.dv.getUint32(offset, true) + this.dv.getUint32(offset + 4, true) * TWO_32;
  }
  setU64(offset: number, value: number): void {
    this.check(offset, 8);
    if (!Number.isSafeInteger(value) || value < 0) throw new RpmsgError('EINVAL', 'u64 value out of range', { value });
    this.dv.setUint32(offset, value % TWO_32, true);
    this.dv.setUint32(offset + 4, Math.floor(value / TWO_32), true);
  }

  /** Atomic (sequentially consistent) loads of words both sides race on: aligned, checked. */
  loadU16(offset: number): number {
    return Atomics.load(this.u16, this.atomicSlot(offset, 2));
  }
  loadU32(offset: number): number {
    return Atomics.load(this.u32, this.atomicSlot(offset, 4));
  }
  /** Atomic (sequentially consistent) stores, as the loads. */
  storeU16(offset: number, value: number): void {
    Atomics.store(this.u16, this.atomicSlot(offset, 2), value);
  }
  storeU32(offset: number, value: number): void {
    Atomics.store(this.u32, this.atomicSlot(offset, 4), value);
  }

  /** Copy `src` (or its [srcStart, srcEnd) part) into the region at `offset`. */
  copyIn(offset: number, src: Uint8Array, srcStart = 0, srcEnd = src.length): void {
    const length = srcEnd - srcStart;
    this.check(offset, length);
    if (srcStart < 0 || srcEnd > src.length || length < 0) {
      throw new RpmsgError('EINVAL', 'source range outside the source array', { srcStart, srcEnd });
    }
    this.u8.set(srcStart === 0 && srcEnd === src.length ? src : src.subarray(srcStart, srcEnd), offset);
  }

  /** Copy `length` bytes at `offset` out into a new array (or into `dst`). */
  copyOut(offset: number, length: number, dst?: Uint8Array): Uint8Array {
    this.check(offset, length);
    const out = dst ?? new Uint8Array(length);
    if (out.length < length) throw new RpmsgError('EINVAL', 'destination too small', { length, dst: out.length });
    out.set(this.u8.subarray(offset, offset + length));
    return out;
  }

  /** A view (no copy) of [offset, offset+length). */
  view(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    return this.u8.subarray(offset, offset + length);
  }

  fill(offset: number, length: number, value = 0): void {
    this.check(offset, length);
    this.u8.fill(value, offset, offset + length);
  }

  /** Region offset of a bus address range; EFAULT unless the whole range is inside. */
  busToOffset(busAddress: number, length: number): number {
    const offset = busAddress - this.busBase;
    if (!this.contains(offset, length)) {
      throw new MemoryBoundsError(`bus address 0x${busAddress.toString(16)} (+${length}) outside region`, {
        busAddress,
        length,
        busBase: this.busBase,
        size: this.size,
      });
    }
    return offset;
  }

  /** Bus address of a region offset. */
  offsetToBus(offset: number): number {
    this.check(offset, 0);
    return this.busBase + offset;
  }
}
