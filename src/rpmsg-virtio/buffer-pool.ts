/**
 * Buffers of the rpmsg transport. The host owns them, like Linux: it carves rx buffers then tx
 * buffers from the pool (a bump allocator, as OpenAMP). The remote knows the host's buffers
 * only by descriptor id, so its tables are filled as descriptors arrive. Views over buffers
 * are reused (a peer can vary offsets and lengths at will, so the cache is bounded), and so
 * are the TxBuf objects a zero-copy sender borrows.
 */
import { RpmsgError } from '../errors.js';
import type { Region } from '../memory/region.js';
import type { TxBuffer } from '../rpmsg/ops.js';
import { RPMSG_HDR_SIZE } from './header.js';

export const DEFAULT_BUFFER_SIZE = 512;
export const MAX_BUFFER_SIZE = 0xffff + RPMSG_HDR_SIZE;
/** Views kept per transport for reuse. */
const VIEW_CACHE_MAX = 4096;

/** Region offset and length of each buffer, by token (host: buffer index; remote: descriptor id). */
export class BufferTable {
  readonly offset: Float64Array;
  readonly len: Uint32Array;
  constructor(readonly count: number) {
    this.offset = new Float64Array(count);
    this.len = new Uint32Array(count);
  }
}

export interface HostPoolOptions {
  pool: { offset: number; length: number } | undefined;
  rxBufferSize: number;
  txBufferSize: number;
  rxBuffers: number;
  txBuffers: number;
  /** Ring sizes bound the buffer counts. */
  rxNum: number;
  txNum: number;
}

function checkBufferSize(size: number, what: string): void {
  if (!Number.isInteger(size) || size < RPMSG_HDR_SIZE + 4 || size > MAX_BUFFER_SIZE || size % 4 !== 0) {
    throw new RpmsgError('EINVAL', `${what} must be a multiple of 4 in 20..${MAX_BUFFER_SIZE}`, { size });
  }
}

/** Carve the host's rx and tx buffers out of the pool (EINVAL when they do not fit). */
export function carveHostBuffers(region: Region, o: HostPoolOptions): { rx: BufferTable; tx: BufferTable } {
  checkBufferSize(o.rxBufferSize, 'rxBufferSize');
  checkBufferSize(o.txBufferSize, 'txBufferSize');
  const { rxBuffers: numRx, txBuffers: numTx, pool } = o;
  if (!(numRx >= 1 && numRx <= o.rxNum) || !(numTx >= 1 && numTx <= o.txNum)) {
    throw new RpmsgError('EINVAL', 'buffer counts must be 1..ring size', { numRx, numTx });
  }
  if (pool === undefined) throw new RpmsgError('EINVAL', 'host needs a buffer pool');
  region.check(pool.offset, pool.length);
  if (pool.offset % 4 !== 0) throw new RpmsgError('EINVAL', 'pool offset must be 4-aligned', pool);
  if (numRx * o.rxBufferSize + numTx * o.txBufferSize > pool.length) {
    throw new RpmsgError('EINVAL', 'buffers do not fit the pool', { numRx, rxSize: o.rxBufferSize, numTx, txSize: o.txBufferSize, pool: pool.length });
  }
  const rx = new BufferTable(numRx);
  for (let i = 0; i < numRx; i++) {
    rx.offset[i] = pool.offset + i * o.rxBufferSize;
    rx.len[i] = o.rxBufferSize;
  }
  const tx = new BufferTable(numTx);
  const txBase = pool.offset + numRx * o.rxBufferSize;
  for (let i = 0; i < numTx; i++) {
    tx.offset[i] = txBase + i * o.txBufferSize;
    tx.len[i] = o.txBufferSize;
  }
  return { rx, tx };
}

/** Reusable views of [start, start+len) keyed by offset. */
export class ViewCache {
  private readonly cache = new Map<number, Uint8Array>();
  constructor(private readonly u8: Uint8Array) {}

  viewAt(start: number, len: number): Uint8Array {
    let v = this.cache.get(start);
    if (v === undefined || v.length !== len) {
      if (this.cache.size >= VIEW_CACHE_MAX) this.cache.clear();
      v = this.u8.subarray(start, start + len);
      this.cache.set(start, v);
    }
    return v;
  }
}

/** A tx buffer lent for zero-copy: its payload view and its index in the role's tx table. */
export class TxBuf implements TxBuffer {
  constructor(
    readonly data: Uint8Array,
    readonly index: number,
  ) {}
}
