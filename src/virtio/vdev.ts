/**
 * The rpmsg virtio device entry of a resource table: a fresh one to build a table with, the
 * one a parsed table holds, and live access to its fields in shared memory (status, features,
 * vring addresses: what the two sides hand over at start).
 */
import { ResourceTableError } from '../errors.js';
import type { Region } from '../memory/region.js';
import {
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_ID_RPMSG,
  VIRTIO_RPMSG_F_NS,
  featureBit,
} from './constants.js';
import { VRING_ENTRY_SIZE, type LocatedEntry, type ResourceTable, type RscVdev } from './resource-types.js';

export interface RpmsgVdevSpec {
  /** Device features offered (default: VIRTIO_RPMSG_F_NS). */
  dfeatures?: number;
  vrings: Array<{ da: number; align: number; num: number; notifyid: number }>;
  notifyid?: number;
}

/** The vdev entry of an rpmsg device, fresh (status 0, gfeatures 0). */
export function rpmsgVdev(spec: RpmsgVdevSpec): RscVdev {
  return {
    type: 'vdev',
    id: VIRTIO_ID_RPMSG,
    notifyid: spec.notifyid ?? 0,
    dfeatures: spec.dfeatures ?? featureBit(VIRTIO_RPMSG_F_NS),
    gfeatures: 0,
    status: 0,
    vrings: spec.vrings.map((v) => ({ ...v, pa: 0 })),
    config: new Uint8Array(0),
  };
}

/**
 * Live access to one vdev entry in shared memory: the fields the two sides hand over at start
 * (the host writes gfeatures, status and vring da; the remote reads them).
 */
export class VdevHandle {
  readonly region: Region;
  /** Region offset of the entry's `type` word. */
  readonly entryOffset: number;
  readonly numVrings: number;

  constructor(region: Region, tableOffset: number, entry: LocatedEntry & RscVdev) {
    this.region = region;
    this.entryOffset = tableOffset + entry.offset;
    this.numVrings = entry.vrings.length;
  }

  get statusOffset(): number {
    return this.entryOffset + 24;
  }

  /** The status byte (atomically read: the other side polls or writes it). */
  status(): number {
    this.region.check(this.statusOffset, 1);
    return Atomics.load(this.region.u8, this.statusOffset);
  }

  setStatus(value: number): void {
    this.region.check(this.statusOffset, 1);
    Atomics.store(this.region.u8, this.statusOffset, value);
  }

  dfeatures(): number {
    return this.region.getU32(this.entryOffset + 12);
  }

  gfeatures(): number {
    return this.region.loadU32(this.entryOffset + 16);
  }

  setGfeatures(value: number): void {
    this.region.storeU32(this.entryOffset + 16, value >>> 0);
  }

  setVringDa(index: number, da: number): void {
    if (index < 0 || index >= this.numVrings) throw new ResourceTableError('no such vring', { index });
    this.region.setU32(this.entryOffset + 28 + VRING_ENTRY_SIZE * index, da);
  }

  /** Features both sides agreed on: dfeatures AND gfeatures (OpenAMP rproc_virtio_get_features). */
  negotiated(): number {
    return (this.dfeatures() & this.gfeatures()) >>> 0;
  }

  /**
   * Host: accept the offered features we support, write gfeatures. Returns them.
   * (OpenAMP's host accepts all offered; Linux accepts those its driver knows.)
   */
  hostNegotiate(supported: number): number {
    const g = (this.dfeatures() & supported) >>> 0;
    this.setGfeatures(g);
    return g;
  }

  /** Whether the host set DRIVER_OK and not NEEDS_RESET. */
  driverOk(): boolean {
    const s = this.status();
    return (s & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 && (s & VIRTIO_CONFIG_S_NEEDS_RESET) === 0;
  }
}

/** Find the first rpmsg vdev entry of a parsed table. */
export function findRpmsgVdev(table: ResourceTable): (LocatedEntry & RscVdev) | undefined {
  for (const e of table.entries) if (e.type === 'vdev' && e.id === VIRTIO_ID_RPMSG) return e as LocatedEntry & RscVdev;
  return undefined;
}
