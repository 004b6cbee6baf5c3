/**
 * A guest's memory table (vhost-user SET_MEM_TABLE): several regions, each known by its guest
 * physical address and by the front-end's own virtual ("user") address, each one `Region`
 * over its own mapping. Ring addresses arrive as user addresses, buffer addresses as guest
 * addresses; both are translated here. An address range that does not lie entirely inside one
 * region is EFAULT (MemoryBoundsError), never an access: regions are separate mappings, so a
 * range spanning two of them would not be contiguous here even if it is in the guest.
 *
 * Each region's `Region` has `busBase` = its guest address, so the virtqueue checks descriptor
 * addresses against it with the same bounds checks as everywhere else.
 */
import { MemoryBoundsError, RpmsgError } from '../errors.js';
import { Region } from './region.js';

export interface GuestRegionSpec {
  /** Guest physical address of the first byte. */
  guestAddr: number;
  /** The front-end's virtual address of the first byte. */
  userAddr: number;
  /** The region's bytes (a mapping of the front-end's memory); its length is the size. */
  buffer: ArrayBufferLike;
}

export interface GuestRegion {
  readonly guestAddr: number;
  readonly userAddr: number;
  readonly size: number;
  readonly region: Region;
}

/** Where an address range lies: the region and the offset in it. */
export interface GuestLocation {
  readonly region: GuestRegion;
  readonly offset: number;
}

const overlaps = (a: number, alen: number, b: number, blen: number): boolean => a < b + blen && b < a + alen;

export class GuestMemory {
  readonly regions: readonly GuestRegion[];

  /** EINVAL for an empty region, an address that is not a safe integer, or overlapping ranges. */
  constructor(specs: readonly GuestRegionSpec[]) {
    const regions: GuestRegion[] = [];
    for (const s of specs) {
      const size = s.buffer.byteLength;
      for (const [what, addr] of [
        ['guestAddr', s.guestAddr],
        ['userAddr', s.userAddr],
      ] as const) {
        if (!Number.isSafeInteger(addr) || addr < 0 || !Number.isSafeInteger(addr + size)) {
          throw new RpmsgError('EINVAL', `region ${what} out of range`, { [what]: addr, size });
        }
      }
      if (size === 0) throw new RpmsgError('EINVAL', 'empty memory region', { guestAddr: s.guestAddr });
      for (const r of regions) {
        if (overlaps(r.guestAddr, r.size, s.guestAddr, size) || overlaps(r.userAddr, r.size, s.userAddr, size)) {
          throw new RpmsgError('EINVAL', 'memory regions overlap', { guestAddr: s.guestAddr, other: r.guestAddr });
        }
      }
      regions.push({
        guestAddr: s.guestAddr,
        userAddr: s.userAddr,
        size,
        region: new Region(s.buffer, { busBase: s.guestAddr }),
      });
    }
    this.regions = regions;
  }

  /** The region holding all of [userAddr, userAddr+length); EFAULT otherwise. */
  fromUser(userAddr: number, length: number): GuestLocation {
    return this.find(userAddr, length, 'user');
  }

  /** The region holding all of [guestAddr, guestAddr+length); EFAULT otherwise. */
  fromGuest(guestAddr: number, length: number): GuestLocation {
    return this.find(guestAddr, length, 'guest');
  }

  private find(addr: number, length: number, space: 'user' | 'guest'): GuestLocation {
    if (Number.isSafeInteger(addr) && Number.isSafeInteger(length) && addr >= 0 && length >= 0) {
      for (const r of this.regions) {
        const base = space === 'user' ? r.userAddr : r.guestAddr;
        if (addr >= base && addr + length <= base + r.size) return { region: r, offset: addr - base };
      }
    }
    throw new MemoryBoundsError(`${space} address 0x${addr.toString(16)} (+${length}) outside every memory region`, {
      [`${space}Addr`]: addr,
      length,
      regions: this.regions.length,
    });
  }
}
