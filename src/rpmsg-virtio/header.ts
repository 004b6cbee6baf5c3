/**
 * `struct rpmsg_hdr` (PROTOCOL.md §1): 16 bytes, little-endian, packed.
 *
 *   0 u32 src   4 u32 dst   8 u32 reserved   12 u16 len   14 u16 flags   16 data[len]
 *
 * The sender writes reserved = 0 and flags = 0. The receiver ignores both: OpenAMP uses the
 * reserved word of its own receive buffers as scratch, rpmsg-lite leaves junk in it.
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

/** Write a header at region offset `offset` (a multiple of 4). */
export function writeHeader(region: Region, offset: number, src: number, dst: number, len: number): void {
  region.check(offset, RPMSG_HDR_SIZE);
  const w = offset >>> 2;
  const u32 = region.u32;
  u32[w] = src;
  u32[w + 1] = dst;
  u32[w + 2] = 0;
  u32[w + 3] = len & 0xffff; // len in the low half, flags 0 in the high half
}

/** Read a header (for tools and tests; the rx path reads the fields it needs in place). */
export function readHeader(region: Region, offset: number): RpmsgHeader {
  return {
    src: region.getU32(offset),
    dst: region.getU32(offset + 4),
    reserved: region.getU32(offset + 8),
    len: region.getU16(offset + 12),
    flags: region.getU16(offset + 14),
  };
}
