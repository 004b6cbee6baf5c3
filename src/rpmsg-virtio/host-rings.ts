/**
 * The host's (virtio driver's) side of the rings: rx is vring[0], tx vring[1] (PROTOCOL.md §6).
 * It owns the buffers: rx buffers are posted at start (zero-filled, device-writable), tx
 * buffers are handed out lazily — first one the remote returned that the last index read
 * already announced, then a fresh one, and only then a read of the remote's used index again
 * (one read of that contended word per batch instead of one per message).
 */
import type { Region } from '../memory/region.js';
import { VIRTIO_CONFIG_S_DRIVER_OK } from '../virtio/constants.js';
import type { VdevHandle } from '../virtio/resource-table.js';
import type { Virtqueue } from '../virtio/virtqueue.js';
import { carveHostBuffers, type BufferTable, type HostPoolOptions } from './buffer-pool.js';
import { RPMSG_HDR_SIZE } from './header.js';
import type { RingSide } from './ring-side.js';

export class HostRings implements RingSide {
  readonly rxQueue = 0;
  readonly txQueue = 1;
  readonly rx: BufferTable;
  readonly tx: BufferTable;
  readonly mtu: number;
  rxOff = 0;
  rxLen = 0;
  private txAllocated = 0;
  /** FIFO of tx buffers reclaimTx() took back. */
  private readonly reclaimed: Int32Array;
  private reclaimedHead = 0;
  private reclaimedCount = 0;
  private readonly busBase: number;

  constructor(
    private readonly region: Region,
    private readonly vdev: VdevHandle,
    readonly rxVq: Virtqueue,
    readonly txVq: Virtqueue,
    pool: HostPoolOptions,
  ) {
    const { rx, tx } = carveHostBuffers(region, pool);
    this.rx = rx;
    this.tx = tx;
    this.reclaimed = new Int32Array(tx.count);
    this.mtu = pool.txBufferSize - RPMSG_HDR_SIZE;
    this.busBase = region.busBase;
  }

  /** Post every rx buffer, no "tx used" interrupts, then DRIVER_OK last and a kick (OpenAMP rpmsg_init_vdev). */
  start(notify: (queue: 0 | 1) => void): void {
    const rx = this.rx;
    for (let i = 0; i < rx.count; i++) {
      this.region.fill(rx.offset[i]!, rx.len[i]!, 0);
      this.rxVq.add(this.busBase + rx.offset[i]!, rx.len[i]!, true, i);
    }
    this.rxVq.publish();
    this.txVq.disableKicks();
    this.vdev.setStatus(VIRTIO_CONFIG_S_DRIVER_OK);
    notify(this.rxQueue);
  }

  hasFreeTx(): boolean {
    return this.reclaimedCount > 0 || this.txVq.hasPending() || (this.txAllocated < this.tx.count && this.txVq.freeCount > 0);
  }

  /**
   * Fresh buffers first (each is used once before any is reused: a passive tracer reading the
   * shared memory keeps a ring's worth of slack), then the ones reclaimTx() took back, oldest
   * first, then the used ring.
   */
  takeTx(): number {
    if (this.reclaimedCount === 0) {
      const t = this.txVq.getUsed(false);
      if (t >= 0) return t;
    }
    if (this.txAllocated < this.tx.count && this.txVq.freeCount > 0) return this.txAllocated++;
    if (this.reclaimedCount > 0) {
      const t = this.reclaimed[this.reclaimedHead]!;
      this.reclaimedHead = (this.reclaimedHead + 1) % this.reclaimed.length;
      this.reclaimedCount--;
      return t;
    }
    return this.txVq.getUsed();
  }

  /**
   * Take back the tx buffers the remote returned, validating their used entries now, so a
   * corrupt tx used ring is reported when the remote kicks, not at the host's next send (Linux
   * and OpenAMP look at it only when they send). One read of the used index per idle poll.
   */
  reclaimTx(): void {
    const q = this.reclaimed;
    for (let t = this.txVq.getUsed(); t >= 0; t = this.txVq.getUsed(false)) {
      q[(this.reclaimedHead + this.reclaimedCount) % q.length] = t;
      this.reclaimedCount++;
    }
  }

  commitTx(t: number): void {
    this.txVq.add(this.busBase + this.tx.offset[t]!, this.tx.len[t]!, false, t);
  }

  nextRx(): number {
    const t = this.rxVq.getUsed();
    if (t < 0) return -1;
    this.rxOff = this.rx.offset[t]!;
    const len = this.rxVq.bufLen;
    this.rxLen = len > this.rxVq.bufPosted ? -1 : len; // used length beyond the buffer
    return t;
  }

  recycleRx(t: number): void {
    this.rxVq.add(this.busBase + this.rx.offset[t]!, this.rx.len[t]!, true, t);
  }
}
