/**
 * `struct rpmsg_hdr` (PROTOCOL.md §1): 16 bytes, little-endian, packed.
 *
 *   0 u32 src   4 u32 dst   8 u32 reserved   12 u16 len   14 u16 flags   16 data[len]
 *
 * The sender writes reserved = 0 and flags = 0. The receiver ignores both: OpenAMP uses the
 * reserved word of its own receive buffers as scratch, rpmsg-lite leaves junk in it.
 *
 * The hot-path accessors take the region's typed views and a 4-aligned offset the caller has
 * bounds-checked (a buffer of the pool or a validated descriptor), so they allocate nothing.
 */
import type { Region } from '../memory/region.js';

export const RPMSG_HDR_SIZE = 16;

export interface RpmsgHeader {
  src: number;
  dst: number;
  reserved: number;
  len: number;
  flags: number;
}

/** The one header writer: src, dst, reserved 0, len | flags 0 << 16 (little-endian host). */
export function putHeader(u32: Uint32Array, off: number, src: number, dst: number, len: number): void {
  const w = off >>> 2;
  u32[w] = src;
  u32[w + 1] = dst;
  u32[w + 2] = 0;
  u32[w + 3] = len & 0xffff;
}

/**
 * The payload length of a received buffer of `bufLen` bytes at `off`, or -1 when the buffer
 * is shorter than a header or the header's `len` runs past it (Linux rpmsg_recv_single).
 */
export function headerPayloadLen(u16: Uint16Array, off: number, bufLen: number): number {
  if (bufLen < RPMSG_HDR_SIZE) return -1;
  const len = u16[(off + 12) >>> 1]!;
  return len > bufLen - RPMSG_HDR_SIZE ? -1 : len;
}

export function headerSrc(u32: Uint32Array, off: number): number {
  return u32[off >>> 2]!;
}

export function headerDst(u32: Uint32Array, off: number): number {
  return u32[(off >>> 2) + 1]!;
}

/** Write a header at region offset `offset` (a multiple of 4), bounds-checked (tools, tests). */
export function writeHeader(region: Region, offset: number, src: number, dst: number, len: number): void {
  region.check(offset, RPMSG_HDR_SIZE);
  putHeader(region.u32, offset, src, dst, len);
}

/** Read a header (tools and tests). */
export function readHeader(region: Region, offset: number): RpmsgHeader {
  return {
    src: region.getU32(offset),
    dst: region.getU32(offset + 4),
    reserved: region.getU32(offset + 8),
    len: region.getU16(offset + 12),
    flags: region.getU16(offset + 14),
  };
}
