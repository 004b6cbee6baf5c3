/**
 * Shared-memory layouts: where the resource table, the two vrings and the buffer pool sit,
 * like a SoC's memory map. The default is OpenAMP's Linux machine (PROTOCOL.md §8): table at
 * 0, vrings of 256 entries (align 0x1000) at 0x4000 and 0x8000 with notifyids 1 and 2, pool of
 * 0x40000 bytes at 0x10000, 0x80000 bytes in all. Worker remotes add a control page for the
 * Atomics doorbells after it.
 */
import { RpmsgError } from '../errors.js';
import type { Region } from '../memory/region.js';
import { VIRTIO_RPMSG_F_NS, featureBit } from '../virtio/constants.js';
import {
  VdevHandle,
  buildResourceTable,
  findRpmsgVdev,
  parseResourceTable,
  rpmsgVdev,
} from '../virtio/resource-table.js';
import { vringSize, type RingPlacement } from '../virtio/vring-layout.js';

export interface MemoryLayout {
  /** Total bytes of shared memory. */
  size: number;
  /** Offset and reserved size of the resource table. */
  rscOffset: number;
  rscSize: number;
  /** vring[0] (remote → host) and vring[1] (host → remote); `da` = bus address. */
  vrings: [LayoutVring, LayoutVring];
  pool: { offset: number; length: number };
  /** Offset of a 4 KiB platform control page (doorbells), if the platform uses one. */
  control?: number;
  /** Device features offered in the table. */
  dfeatures: number;
}

export interface LayoutVring {
  da: number;
  num: number;
  align: number;
  notifyid: number;
}

export interface LayoutOptions {
  /** Entries per vring (power of two, default 256). */
  num?: number;
  /** Used-ring alignment (default 0x1000). */
  align?: number;
  /** Bytes per buffer (default 512). */
  bufferSize?: number;
  /** Pool bytes (default 2·num·bufferSize). */
  poolSize?: number;
  /** Device features offered (default VIRTIO_RPMSG_F_NS). */
  dfeatures?: number;
  /** Reserve a control page after the pool (worker and fast-process platforms). */
  control?: boolean;
  /** Explicit offsets (OpenAMP's numbers by default when `num` is 256). */
  vring0?: number;
  vring1?: number;
  poolOffset?: number;
  /** Total size; default: the end of the last area, at least 0x80000 for OpenAMP's layout. */
  size?: number;
}

const PAGE = 0x1000;
const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

/** Compute a layout; with no options it is exactly OpenAMP's Linux machine. */
export function computeLayout(options: LayoutOptions = {}): MemoryLayout {
  const num = options.num ?? 256;
  const align = options.align ?? PAGE;
  const bufferSize = options.bufferSize ?? 512;
  const ring = alignUp(vringSize(num, align), PAGE);
  const rscSize = PAGE;
  const vring0 = options.vring0 ?? (num === 256 && align === PAGE ? 0x4000 : rscSize);
  const vring1 = options.vring1 ?? (num === 256 && align === PAGE ? 0x8000 : vring0 + ring);
  const poolOffset = options.poolOffset ?? (num === 256 && align === PAGE ? 0x10000 : alignUp(vring1 + ring, PAGE));
  const poolLength = options.poolSize ?? 2 * num * bufferSize;
  let end = poolOffset + poolLength;
  let control: number | undefined;
  if (options.control === true) {
    control = alignUp(end, PAGE);
    end = control + PAGE;
  }
  const size = options.size ?? Math.max(end, num === 256 && align === PAGE && options.control !== true ? 0x80000 : 0);
  const layout: MemoryLayout = {
    size,
    rscOffset: 0,
    rscSize,
    vrings: [
      { da: vring0, num, align, notifyid: 1 },
      { da: vring1, num, align, notifyid: 2 },
    ],
    pool: { offset: poolOffset, length: poolLength },
    dfeatures: options.dfeatures ?? featureBit(VIRTIO_RPMSG_F_NS),
    ...(control !== undefined ? { control } : {}),
  };
  checkLayout(layout);
  return layout;
}

/** Throws EINVAL when areas overlap or leave the memory. */
export function checkLayout(l: MemoryLayout): void {
  const areas: Array<[string, number, number]> = [
    ['resource table', l.rscOffset, l.rscSize],
    ['vring0', l.vrings[0].da, vringSize(l.vrings[0].num, l.vrings[0].align)],
    ['vring1', l.vrings[1].da, vringSize(l.vrings[1].num, l.vrings[1].align)],
    ['pool', l.pool.offset, l.pool.length],
  ];
  if (l.control !== undefined) areas.push(['control', l.control, PAGE]);
  for (const [name, off, len] of areas) {
    if (off < 0 || off + len > l.size) throw new RpmsgError('EINVAL', `${name} outside the memory`, { off, len, size: l.size });
  }
  for (let i = 0; i < areas.length; i++) {
    for (let j = i + 1; j < areas.length; j++) {
      const [a, ao, al] = areas[i]!;
      const [b, bo, bl] = areas[j]!;
      if (ao < bo + bl && bo < ao + al) throw new RpmsgError('EINVAL', `${a} overlaps ${b}`, { [a]: ao, [b]: bo });
    }
  }
}

/** The resource table a firmware with this layout carries (fresh: status 0, gfeatures 0). */
export function layoutResourceTable(l: MemoryLayout): Uint8Array {
  return buildResourceTable([
    rpmsgVdev({
      dfeatures: l.dfeatures,
      vrings: l.vrings.map((v) => ({ da: v.da, align: v.align, num: v.num, notifyid: v.notifyid })),
    }),
  ]);
}

/** Write the table into memory (what remoteproc does when it loads firmware; OpenAMP's remote does it itself). */
export function writeResourceTable(region: Region, l: MemoryLayout): void {
  const table = layoutResourceTable(l);
  if (table.length > l.rscSize) throw new RpmsgError('EINVAL', 'resource table larger than its area');
  region.copyIn(l.rscOffset, table);
}

export interface ParsedRpmsgMemory {
  vdev: VdevHandle;
  /** The two vrings as placed in the region (da translated to region offsets). */
  vrings: [RingPlacement, RingPlacement];
}

/**
 * Read the rpmsg vdev out of the resource table in shared memory (untrusted: everything is
 * validated, vring addresses translated and bounds-checked).
 */
export function readRpmsgMemory(region: Region, rscOffset: number, rscSize: number): ParsedRpmsgMemory {
  const table = parseResourceTable(region, rscOffset, rscSize);
  const entry = findRpmsgVdev(table);
  if (entry === undefined) throw new RpmsgError('ENODEV', 'no rpmsg vdev in the resource table');
  if (entry.vrings.length < 2) throw new RpmsgError('EINVAL', 'rpmsg vdev needs two vrings', { vrings: entry.vrings.length });
  const place = (i: 0 | 1): RingPlacement => {
    const v = entry.vrings[i]!;
    const size = vringSize(v.num, v.align); // validates num and align
    return { offset: region.busToOffset(v.da, size), num: v.num, align: v.align };
  };
  return { vdev: new VdevHandle(region, rscOffset, entry), vrings: [place(0), place(1)] };
}
