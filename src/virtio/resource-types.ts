/**
 * The remoteproc resource table's format (PROTOCOL.md §7; Linux include/linux/remoteproc.h):
 * entry types, sizes and the decoded entries. Parsing and building are resource-table.ts, the
 * rpmsg vdev entry and its live handle vdev.ts.
 */
export const RSC_CARVEOUT = 0;
export const RSC_DEVMEM = 1;
export const RSC_TRACE = 2;
export const RSC_VDEV = 3;
export const RSC_VENDOR_START = 128;
export const RSC_VENDOR_END = 512;
export const FW_RSC_ADDR_ANY = 0xffffffff;

export const RSC_TABLE_HEADER_SIZE = 16;
export const RSC_NAME_SIZE = 32;
export const VDEV_BODY_SIZE = 24; // id, notifyid, dfeatures, gfeatures, config_len, status, num_of_vrings, reserved[2]
export const VRING_ENTRY_SIZE = 20;
export const CARVEOUT_BODY_SIZE = 20 + RSC_NAME_SIZE;
export const TRACE_BODY_SIZE = 12 + RSC_NAME_SIZE;
/** Upper bound on entries accepted from a table (a peer can inflate `num`). */
export const RSC_MAX_ENTRIES = 256;

export interface RscVring {
  da: number;
  align: number;
  num: number;
  notifyid: number;
  /** `pa` in newer kernels, `reserved` in older ones and OpenAMP; 0 in OpenAMP's images. */
  pa: number;
}

export interface RscVdev {
  type: 'vdev';
  id: number;
  notifyid: number;
  dfeatures: number;
  gfeatures: number;
  status: number;
  vrings: RscVring[];
  config: Uint8Array;
}

export interface RscCarveout {
  type: 'carveout' | 'devmem';
  da: number;
  pa: number;
  len: number;
  flags: number;
  reserved: number;
  name: string;
}

export interface RscTrace {
  type: 'trace';
  da: number;
  len: number;
  reserved: number;
  name: string;
}

/** Vendor (128..511) or unknown entries are kept by type only and otherwise skipped. */
export interface RscOther {
  type: 'vendor' | 'unknown';
  rscType: number;
}

export type RscEntry = RscVdev | RscCarveout | RscTrace | RscOther;

/** A parsed entry with the table offset it starts at (its `type` word). */
export type LocatedEntry = RscEntry & { readonly offset: number };

export interface ResourceTable {
  ver: number;
  entries: LocatedEntry[];
}
