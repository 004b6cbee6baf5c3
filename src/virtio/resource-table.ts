/**
 * remoteproc resource tables (PROTOCOL.md §7; Linux include/linux/remoteproc.h, OpenAMP
 * lib/remoteproc/rsc_table_parser.c): parse with every offset, count and length checked
 * against the table's size, and build byte-exact tables. The format's types are
 * resource-types.ts; the rpmsg vdev entry and its live handle vdev.ts.
 *
 *   struct resource_table { u32 ver = 1; u32 num; u32 reserved[2]; u32 offset[num]; }
 *   each entry: u32 type, then the type's body
 */
import { ResourceTableError } from '../errors.js';
import type { Region } from '../memory/region.js';
import {
  CARVEOUT_BODY_SIZE,
  RSC_CARVEOUT,
  RSC_DEVMEM,
  RSC_MAX_ENTRIES,
  RSC_NAME_SIZE,
  RSC_TABLE_HEADER_SIZE,
  RSC_TRACE,
  RSC_VDEV,
  RSC_VENDOR_END,
  RSC_VENDOR_START,
  TRACE_BODY_SIZE,
  VDEV_BODY_SIZE,
  VRING_ENTRY_SIZE,
  type LocatedEntry,
  type ResourceTable,
  type RscEntry,
  type RscVring,
} from './resource-types.js';

// The format's constants and types, and the rpmsg vdev entry, as before the split.
export { FW_RSC_ADDR_ANY, RSC_CARVEOUT, RSC_DEVMEM, RSC_MAX_ENTRIES, RSC_NAME_SIZE, RSC_TABLE_HEADER_SIZE, RSC_TRACE, RSC_VDEV, RSC_VENDOR_END, RSC_VENDOR_START } from './resource-types.js';
export type { LocatedEntry, ResourceTable, RscCarveout, RscEntry, RscOther, RscTrace, RscVdev, RscVring } from './resource-types.js';
export { VdevHandle, findRpmsgVdev, rpmsgVdev, type RpmsgVdevSpec } from './vdev.js';

function fail(message: string, details?: Record<string, number | string>): never {
  throw new ResourceTableError(message, details);
}

/** Decode a 32-byte NUL-padded name: stop at the first NUL, never past byte 31. */
export function decodeName(bytes: Uint8Array): string {
  let end = 0;
  const max = Math.min(bytes.length, RSC_NAME_SIZE - 1);
  while (end < max && bytes[end] !== 0) end++;
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes.slice(0, end)); // slice: no shared views
}

/** Encode a name into 32 NUL-padded bytes; EINVAL-like ResourceTableError if it does not fit. */
export function encodeName(name: string, out: Uint8Array, offset: number): void {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length > RSC_NAME_SIZE - 1 || bytes.includes(0)) {
    fail('name does not fit 31 bytes or contains NUL', { name });
  }
  out.fill(0, offset, offset + RSC_NAME_SIZE);
  out.set(bytes, offset);
}

/**
 * Parse the table at `offset` of `region`, at most `maxSize` bytes long. Throws
 * ResourceTableError (code ERR_RSC_TABLE) with the offending values on anything malformed.
 */
export function parseResourceTable(region: Region, offset: number, maxSize: number): ResourceTable {
  if (!region.contains(offset, maxSize)) fail('table window outside the region', { offset, maxSize, size: region.size });
  if (maxSize < RSC_TABLE_HEADER_SIZE) fail('table smaller than its header', { maxSize });
  const dv = region.dv;
  const u32 = (o: number): number => dv.getUint32(offset + o, true);
  const ver = u32(0);
  if (ver !== 1) fail('unsupported resource table version', { ver });
  const num = u32(4);
  if (u32(8) !== 0 || u32(12) !== 0) fail('reserved words not zero', { reserved0: u32(8), reserved1: u32(12) });
  if (num > RSC_MAX_ENTRIES) fail('too many entries', { num, max: RSC_MAX_ENTRIES });
  const headerEnd = RSC_TABLE_HEADER_SIZE + 4 * num;
  if (headerEnd > maxSize) fail('offset array does not fit the table', { num, maxSize });

  const entries: LocatedEntry[] = [];
  for (let i = 0; i < num; i++) {
    const at = u32(RSC_TABLE_HEADER_SIZE + 4 * i);
    if (at < headerEnd || at % 4 !== 0 || at + 4 > maxSize) {
      fail('entry offset out of range', { index: i, entryOffset: at, maxSize });
    }
    const type = u32(at);
    const need = (n: number): void => {
      if (at + 4 + n > maxSize) fail('entry does not fit the table', { index: i, entryOffset: at, type, need: n, maxSize });
    };
    const name = (o: number): string => decodeName(region.u8.subarray(offset + o, offset + o + RSC_NAME_SIZE));
    switch (type) {
      case RSC_VDEV: {
        need(VDEV_BODY_SIZE);
        const configLen = u32(at + 20);
        const nvrings = region.u8[offset + at + 25]!;
        need(VDEV_BODY_SIZE + VRING_ENTRY_SIZE * nvrings + configLen);
        const vrings: RscVring[] = [];
        for (let v = 0; v < nvrings; v++) {
          const b = at + 28 + VRING_ENTRY_SIZE * v;
          vrings.push({ da: u32(b), align: u32(b + 4), num: u32(b + 8), notifyid: u32(b + 12), pa: u32(b + 16) });
        }
        const cfg = at + 28 + VRING_ENTRY_SIZE * nvrings;
        entries.push({
          offset: at,
          type: 'vdev',
          id: u32(at + 4),
          notifyid: u32(at + 8),
          dfeatures: u32(at + 12),
          gfeatures: u32(at + 16),
          status: region.u8[offset + at + 24]!,
          vrings,
          config: region.u8.slice(offset + cfg, offset + cfg + configLen),
        });
        break;
      }
      case RSC_CARVEOUT:
      case RSC_DEVMEM:
        need(CARVEOUT_BODY_SIZE);
        entries.push({
          offset: at,
          type: type === RSC_CARVEOUT ? 'carveout' : 'devmem',
          da: u32(at + 4),
          pa: u32(at + 8),
          len: u32(at + 12),
          flags: u32(at + 16),
          reserved: u32(at + 20),
          name: name(at + 24),
        });
        break;
      case RSC_TRACE:
        need(TRACE_BODY_SIZE);
        entries.push({ offset: at, type: 'trace', da: u32(at + 4), len: u32(at + 8), reserved: u32(at + 12), name: name(at + 16) });
        break;
      default:
        // Linux skips vendor and unsupported entries (rproc_handle_resources); so do we.
        entries.push({ offset: at, type: type >= RSC_VENDOR_START && type < RSC_VENDOR_END ? 'vendor' : 'unknown', rscType: type });
    }
  }
  return { ver, entries };
}

function entrySize(e: RscEntry): number {
  switch (e.type) {
    case 'vdev':
      return 4 + VDEV_BODY_SIZE + VRING_ENTRY_SIZE * e.vrings.length + e.config.length;
    case 'carveout':
    case 'devmem':
      return 4 + CARVEOUT_BODY_SIZE;
    case 'trace':
      return 4 + TRACE_BODY_SIZE;
    default:
      fail('cannot build vendor or unknown entries', { rscType: e.rscType });
  }
}

/** Build a table: header, offsets, then the entries back to back (as OpenAMP's rsc_table.c lays them out). */
export function buildResourceTable(entries: readonly RscEntry[]): Uint8Array {
  let size = RSC_TABLE_HEADER_SIZE + 4 * entries.length;
  const offsets: number[] = [];
  for (const e of entries) {
    offsets.push(size);
    size += entrySize(e);
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 1, true);
  dv.setUint32(4, entries.length, true);
  entries.forEach((e, i) => {
    const at = offsets[i]!;
    dv.setUint32(RSC_TABLE_HEADER_SIZE + 4 * i, at, true);
    switch (e.type) {
      case 'vdev': {
        if (e.vrings.length > 255) fail('too many vrings', { vrings: e.vrings.length });
        dv.setUint32(at, RSC_VDEV, true);
        dv.setUint32(at + 4, e.id, true);
        dv.setUint32(at + 8, e.notifyid, true);
        dv.setUint32(at + 12, e.dfeatures >>> 0, true);
        dv.setUint32(at + 16, e.gfeatures >>> 0, true);
        dv.setUint32(at + 20, e.config.length, true);
        out[at + 24] = e.status;
        out[at + 25] = e.vrings.length;
        e.vrings.forEach((v, j) => {
          const b = at + 28 + VRING_ENTRY_SIZE * j;
          dv.setUint32(b, v.da >>> 0, true);
          dv.setUint32(b + 4, v.align, true);
          dv.setUint32(b + 8, v.num, true);
          dv.setUint32(b + 12, v.notifyid, true);
          dv.setUint32(b + 16, v.pa >>> 0, true);
        });
        out.set(e.config, at + 28 + VRING_ENTRY_SIZE * e.vrings.length);
        break;
      }
      case 'carveout':
      case 'devmem':
        dv.setUint32(at, e.type === 'carveout' ? RSC_CARVEOUT : RSC_DEVMEM, true);
        dv.setUint32(at + 4, e.da >>> 0, true);
        dv.setUint32(at + 8, e.pa >>> 0, true);
        dv.setUint32(at + 12, e.len, true);
        dv.setUint32(at + 16, e.flags, true);
        dv.setUint32(at + 20, e.reserved, true);
        encodeName(e.name, out, at + 24);
        break;
      case 'trace':
        dv.setUint32(at, RSC_TRACE, true);
        dv.setUint32(at + 4, e.da >>> 0, true);
        dv.setUint32(at + 8, e.len, true);
        dv.setUint32(at + 12, e.reserved, true);
        encodeName(e.name, out, at + 16);
        break;
    }
  });
  return out;
}
