/**
 * Read-only snapshot of a vring for tools and tests (a debugger's view): every field decoded,
 * nothing validated beyond staying inside the region, nothing written.
 */
import type { Region } from '../memory/region.js';
import { vringLayout } from './vring-layout.js';

export interface VringDescriptor {
  addr: number;
  len: number;
  flags: number;
  next: number;
}

export interface VringSnapshot {
  num: number;
  availFlags: number;
  availIdx: number;
  availRing: number[];
  usedEvent: number;
  usedFlags: number;
  usedIdx: number;
  usedRing: Array<{ id: number; len: number }>;
  availEvent: number;
  desc: VringDescriptor[];
}

export function inspectVring(region: Region, offset: number, num: number, align: number): VringSnapshot {
  const L = vringLayout(num, align);
  region.check(offset, L.size);
  const desc: VringDescriptor[] = [];
  for (let i = 0; i < num; i++) {
    const d = offset + 16 * i;
    desc.push({ addr: region.getU64(d), len: region.getU32(d + 8), flags: region.getU16(d + 12), next: region.getU16(d + 14) });
  }
  const availRing: number[] = [];
  const usedRing: Array<{ id: number; len: number }> = [];
  for (let i = 0; i < num; i++) {
    availRing.push(region.getU16(offset + L.availRing + 2 * i));
    usedRing.push({ id: region.getU32(offset + L.usedRing + 8 * i), len: region.getU32(offset + L.usedRing + 8 * i + 4) });
  }
  return {
    num,
    availFlags: region.getU16(offset + L.availFlags),
    availIdx: region.getU16(offset + L.availIdx),
    availRing,
    usedEvent: region.getU16(offset + L.usedEvent),
    usedFlags: region.getU16(offset + L.usedFlags),
    usedIdx: region.getU16(offset + L.usedIdx),
    usedRing,
    availEvent: region.getU16(offset + L.availEvent),
    desc,
  };
}
