/**
 * The remote's (virtio device's) side of the rings, like OpenAMP firmware: rx is vring[1], tx
 * vring[0]. It sends by taking a host buffer from vring[0]'s avail ring and returning it on
 * the used ring with the buffer's full length (as OpenAMP does); its MTU is the size of the
 * host's buffers. An unusable tx buffer (misaligned, shorter than a header) goes back untouched
 * and is counted.
 */
import type { Virtqueue } from '../virtio/virtqueue.js';
import { BufferTable, DEFAULT_BUFFER_SIZE } from './buffer-pool.js';
import { RPMSG_HDR_SIZE } from './header.js';
import type { RingSide } from './ring-side.js';

export class RemoteRings implements RingSide {
  readonly rxQueue = 1;
  readonly txQueue = 0;
  readonly rx: BufferTable;
  readonly tx: BufferTable;
  mtu = DEFAULT_BUFFER_SIZE - RPMSG_HDR_SIZE;
  rxOff = 0;
  rxLen = 0;

  /** `onInvalidTx` runs when an unusable tx buffer was given back (to count and publish it). */
  constructor(
    readonly rxVq: Virtqueue,
    readonly txVq: Virtqueue,
    private readonly onInvalidTx: () => void,
  ) {
    this.rx = new BufferTable(rxVq.num);
    this.tx = new BufferTable(txVq.num);
  }

  /** OpenAMP's remote disables "buffer available" notifications on its tx queue. */
  start(): void {
    this.txVq.disableKicks();
  }

  hasFreeTx(): boolean {
    return this.txVq.hasPending();
  }

  takeTx(): number {
    for (;;) {
      const id = this.txVq.getAvail();
      if (id < 0) return -1;
      const off = this.txVq.bufOffset;
      const len = this.txVq.bufLen;
      if ((off & 3) !== 0 || len < RPMSG_HDR_SIZE) {
        this.txVq.putUsed(id, 0);
        this.onInvalidTx();
        continue;
      }
      this.tx.offset[id] = off;
      this.tx.len[id] = len;
      if (this.mtu !== len - RPMSG_HDR_SIZE) this.mtu = len - RPMSG_HDR_SIZE;
      return id;
    }
  }

  commitTx(t: number): void {
    this.txVq.putUsed(t, this.tx.len[t]!);
  }

  nextRx(): number {
    const t = this.rxVq.getAvail();
    if (t < 0) return -1;
    const off = this.rxVq.bufOffset;
    const len = this.rxVq.bufLen;
    this.rx.offset[t] = off;
    this.rx.len[t] = len;
    this.rxOff = off;
    this.rxLen = (off & 3) !== 0 ? -1 : len; // header words must be aligned
    return t;
  }

  recycleRx(t: number, len: number): void {
    this.rxVq.putUsed(t, len);
  }
}
