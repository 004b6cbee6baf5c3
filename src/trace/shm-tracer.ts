/**
 * Watch a process pair's shared-memory file from outside, read-only (a logic analyser on the
 * bus): the file is opened O_RDONLY and copied piecewise with pread into a private buffer, so
 * nothing this tool does can disturb the pair. Every byte is untrusted: the resource table goes
 * through the validating parser, rings through the inspector, descriptor addresses through
 * the region's bounds checks, header lengths are clamped to the buffer.
 *
 * What carries a message (PROTOCOL.md §6): on vring0 (remote → host) a buffer the remote
 * returned on the used ring; on vring1 (host → remote) a buffer the host made available. Each
 * poll reads both index words and decodes the entries added since the last poll.
 *
 * This is sampling, not a tap: a buffer can be reused between the peer's publish and our
 * read, and when a ring advances by more than its size between two polls the excess is lost
 * (counted in `missed`). Memory that is reset (a new host attaching) restarts the watch.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { RpmsgError } from '../errors.js';
import { Region } from '../memory/region.js';
import { readRpmsgMemory } from '../platform/layout.js';
import { RPMSG_HDR_SIZE } from '../rpmsg-virtio/header.js';
import type { RingPlacement } from '../virtio/vring-layout.js';
import { VIRTIO_CONFIG_S_DRIVER_OK } from '../virtio/constants.js';
import { inspectVring } from '../virtio/inspect.js';
import { vringLayout } from '../virtio/vring-layout.js';
import type { VdevHandle } from '../virtio/resource-table.js';
import { DEFAULT_SNAPLEN, nowUs, recordFromWire, type TraceRecord } from './record.js';

export interface ShmTraceOptions {
  /** Name used for the link in records (default: the file's name). */
  name?: string;
  /** Resource table offset and window (default 0 and 0x1000, OpenAMP's Linux machine). */
  rscOffset?: number;
  rscSize?: number;
  /** Bus address of file offset 0 (default 0: OpenAMP uses the file offset). */
  busBase?: number;
  /** Bytes kept per message, header included (default: all). */
  snaplen?: number;
  /** Largest file accepted (default 1 GiB). */
  maxSize?: number;
}

/** A ring's state as read: indices and how many buffers are with the device (avail − used). */
export interface VringOccupancy {
  name: 'vring0' | 'vring1';
  num: number;
  availIdx: number;
  usedIdx: number;
  inFlight: number;
}

export interface ShmTraceStats {
  polls: number;
  /** Messages decoded, per direction. */
  h2r: number;
  r2h: number;
  bytes: number;
  /** Entries lost because a ring advanced more than its size between polls. */
  missed: number;
  /** Entries whose descriptor, address or header did not make sense (skipped). */
  invalid: number;
  /** Times the memory was seen reset or the host (re)attached. */
  resets: number;
}

interface Watch {
  place: RingPlacement;
  lastIdx: number;
}

export class ShmTracer {
  readonly name: string;
  readonly size: number;
  readonly stats: ShmTraceStats = { polls: 0, h2r: 0, r2h: 0, bytes: 0, missed: 0, invalid: 0, resets: 0 };
  private fd: number;
  private readonly buf: Buffer;
  private readonly region: Region;
  private readonly rscOffset: number;
  private readonly rscSize: number;
  private readonly snaplen: number;
  private vdev: VdevHandle | undefined;
  private rings: [Watch, Watch] | undefined;
  /** The memory was seen before DRIVER_OK: the watch then starts at index 0, missing nothing. */
  private sawUnready = false;

  constructor(path: string, options: ShmTraceOptions = {}) {
    this.name = options.name ?? basename(path);
    this.fd = openSync(path, 'r');
    try {
      const size = fstatSync(this.fd).size;
      if (size === 0 || size > (options.maxSize ?? 1 << 30)) throw new RpmsgError('EINVAL', `unusable shared-memory file size ${size}`, { path, size });
      this.size = size;
      // A private copy of the file, refreshed piecewise; the Region reads it with bounds checks.
      const ab = new ArrayBuffer(size);
      this.buf = Buffer.from(ab, 0, size);
      this.region = new Region(ab, { busBase: options.busBase ?? 0 });
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
    this.rscOffset = options.rscOffset ?? 0;
    this.rscSize = Math.min(options.rscSize ?? 0x1000, this.size - this.rscOffset);
    this.snaplen = Math.max(RPMSG_HDR_SIZE, options.snaplen ?? DEFAULT_SNAPLEN);
  }

  /** Copy [offset, offset+length) of the file into the private buffer (clamped to the file). */
  private refresh(offset: number, length: number): void {
    const end = Math.min(this.size, offset + length);
    let at = offset;
    while (at < end) {
      const n = readSync(this.fd, this.buf, at, end - at, at);
      if (n <= 0) break;
      at += n;
    }
  }

  /** Ring placement and indices, (re)reading the resource table when needed. */
  private attach(): boolean {
    this.refresh(this.rscOffset, this.rscSize);
    const ready = (vdev: VdevHandle): boolean => (vdev.status() & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
    if (this.vdev !== undefined && this.rings !== undefined && ready(this.vdev)) return true;
    try {
      const mem = readRpmsgMemory(this.region, this.rscOffset, this.rscSize);
      if (!ready(mem.vdev)) {
        this.vdev = undefined;
        this.sawUnready = true;
        return false;
      }
      this.vdev = mem.vdev;
      const start = this.sawUnready ? 0 : -1;
      this.rings = [
        { place: mem.vrings[0], lastIdx: start },
        { place: mem.vrings[1], lastIdx: start },
      ];
      this.stats.resets++;
      return true;
    } catch {
      this.vdev = undefined;
      this.sawUnready = true;
      return false; // not (yet) a valid table: nobody attached, or being rewritten
    }
  }

  /** Read both rings once; returns the records of the messages found since the last poll. */
  poll(): TraceRecord[] {
    this.stats.polls++;
    const out: TraceRecord[] = [];
    if (!this.attach()) {
      this.rings = undefined;
      return out;
    }
    const t = nowUs();
    this.scan(this.rings![0], 'r2h', t, out);
    this.scan(this.rings![1], 'h2r', t, out);
    return out;
  }

  private scan(w: Watch, dir: 'h2r' | 'r2h', t: number, out: TraceRecord[]): void {
    const { offset, num, align } = w.place;
    // The index word first, then the ring: a peer writes descriptor, ring entry, index in that
    // order, so entries and descriptors read after the index are at least as new as it. One
    // copy of the whole ring would read the descriptor table (at the start) before the index.
    const L = vringLayout(num, align);
    this.region.check(offset, L.size);
    const idxAt = offset + (dir === 'r2h' ? L.usedIdx : L.availIdx);
    this.refresh(idxAt, 2);
    // vring0: the remote's messages are on the used ring; vring1: the host's on the avail ring.
    const idx = this.region.getU16(idxAt);
    this.refresh(offset, L.size);
    const snap = inspectVring(this.region, offset, num, align);
    if (w.lastIdx < 0) {
      w.lastIdx = idx; // start watching now: what is already there was sent before we came
      return;
    }
    let ahead = (idx - w.lastIdx) & 0xffff;
    if (ahead === 0) return;
    // A step back (by at most a ring's size) is a ring that was reset between two polls (a
    // remote zeroes the memory for its next host while the status still read DRIVER_OK when
    // this poll began), not 65000 messages missed: watch it from its new index.
    const back = (w.lastIdx - idx) & 0xffff;
    if (back <= num) {
      this.stats.resets++;
      w.lastIdx = idx;
      return;
    }
    if (ahead > num) {
      this.stats.missed += ahead - num;
      w.lastIdx = (idx - num) & 0xffff;
      ahead = num;
    }
    for (let k = 0; k < ahead; k++) {
      const slot = (w.lastIdx + k) & (num - 1);
      const id = dir === 'r2h' ? snap.usedRing[slot]!.id : snap.availRing[slot]!;
      const desc = id < num ? snap.desc[id] : undefined;
      const usedLen = dir === 'r2h' ? snap.usedRing[slot]!.len : Number.MAX_SAFE_INTEGER;
      const r = desc === undefined ? undefined : this.readMessage(desc.addr, Math.min(desc.len, usedLen), dir, t);
      if (r === undefined) this.stats.invalid++;
      else out.push(r);
    }
    w.lastIdx = idx;
  }

  private readMessage(addr: number, bufLen: number, dir: 'h2r' | 'r2h', t: number): TraceRecord | undefined {
    if (bufLen < RPMSG_HDR_SIZE) return undefined;
    let off: number;
    try {
      off = this.region.busToOffset(addr, RPMSG_HDR_SIZE);
    } catch {
      return undefined;
    }
    this.refresh(off, RPMSG_HDR_SIZE);
    const len = this.region.getU16(off + 12);
    const room = Math.min(bufLen, this.size - off) - RPMSG_HDR_SIZE;
    if (len > room) return undefined; // the receiver drops it too (Linux rpmsg_recv_single)
    const keep = Math.min(len, this.snaplen - RPMSG_HDR_SIZE);
    this.refresh(off + RPMSG_HDR_SIZE, keep);
    const wire = this.region.u8.slice(off, off + RPMSG_HDR_SIZE + keep);
    if (dir === 'h2r') this.stats.h2r++;
    else this.stats.r2h++;
    this.stats.bytes += len;
    return recordFromWire(this.name, dir, wire, t);
  }

  /** Both rings' indices as last read (undefined before a host attached). */
  occupancy(): VringOccupancy[] | undefined {
    if (this.rings === undefined) return undefined;
    return this.rings.map((w, i) => {
      const s = inspectVring(this.region, w.place.offset, w.place.num, w.place.align);
      return { name: i === 0 ? 'vring0' : 'vring1', num: s.num, availIdx: s.availIdx, usedIdx: s.usedIdx, inFlight: (s.availIdx - s.usedIdx) & 0xffff };
    });
  }

  /** Negotiated features and status, when attached. */
  device(): { status: number; dfeatures: number; gfeatures: number } | undefined {
    if (this.vdev === undefined) return undefined;
    return { status: this.vdev.status(), dfeatures: this.vdev.dfeatures(), gfeatures: this.vdev.gfeatures() };
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}
