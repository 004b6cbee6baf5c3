/**
 * rpmsg over virtio (Linux virtio_rpmsg_bus.c, OpenAMP rpmsg_virtio.c): one implementation,
 * two roles. The role swaps which vring is rx and which is tx (PROTOCOL.md §6; the
 * differences live in host-rings.ts and remote-rings.ts):
 *
 *   vring[0]: remote → host   host: rx, driver side     remote: tx, device side
 *   vring[1]: host → remote   host: tx, driver side     remote: rx, device side
 *
 * This file is the transport itself: the bus core's operations (ops.ts), the batching of tx
 * publication, the name service when negotiated, and the lifecycle. Receiving is receiver.ts;
 * construction (negotiation, the queues, the role's rings) is transport-setup.ts.
 *
 * tx: publishing the ring index is batched: sends made in one synchronous run (or inside rx
 * processing) are published together at the end of it, with at most one kick, and only if the
 * peer asked for kicks (flags or event index).
 *
 * Lifecycle: running → closed. A protocol violation on either queue destroys the transport
 * at once with the violation as the reason (the link goes down, its `cause` chain names the
 * code and values). `close()` graceful, `destroy(err)` abortive, both idempotent.
 */
import { RpmsgError } from '../errors.js';
import { publishDrop, publishLinkUp, publishViolation } from '../rpmsg/diagnostics.js';
import type { Region } from '../memory/region.js';
import { NameService } from '../ns/name-service.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { RpmsgTransportOps, TxBuffer } from '../rpmsg/ops.js';
import { VIRTIO_RING_F_EVENT_IDX, VIRTIO_RPMSG_F_NS, featureBit, hasFeature } from '../virtio/constants.js';
import type { VdevHandle } from '../virtio/resource-table.js';
import type { Virtqueue } from '../virtio/virtqueue.js';
import { TxBuf, ViewCache } from './buffer-pool.js';
import { RPMSG_HDR_SIZE, putHeader } from './header.js';
import { Receiver } from './receiver.js';
import type { RingSide } from './ring-side.js';
import type { RpmsgRole, VirtioRpmsgOptions } from './transport-options.js';
import { createQueues, createRingSide, negotiateFeatures, statusChangeError } from './transport-setup.js';

export type { RpmsgRole, VirtioRpmsgOptions } from './transport-options.js';

export const DEFAULT_FEATURES = featureBit(VIRTIO_RPMSG_F_NS) | featureBit(VIRTIO_RING_F_EVENT_IDX);
/** Sends published at once when this many are batched. */
const MAX_BATCH = 64;
/**
 * End-of-run work is queued as a reaction of this settled promise: about 100 B of heap per
 * burst, where Node's queueMicrotask (which wraps each callback in an AsyncResource) costs 200.
 * A throw there still surfaces, as an unhandled rejection.
 */
const SETTLED = Promise.resolve();

export class VirtioRpmsgTransport implements RpmsgTransportOps {
  readonly role: RpmsgRole;
  readonly link: RpmsgLink;
  readonly region: Region;
  readonly vdev: VdevHandle;
  readonly rxVq: Virtqueue;
  readonly txVq: Virtqueue;
  /** Negotiated features (dfeatures & gfeatures). */
  readonly features: number;
  /** The name service, when negotiated. */
  readonly ns: NameService | undefined;
  private readonly side: RingSide;
  private readonly receiver: Receiver;
  private readonly views: ViewCache;
  private readonly notifyPeer: (queue: 0 | 1) => void;
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly rxBudget: number;

  // tx buffers lent for zero-copy, and a stack of buffers given back unsent (reused first).
  private readonly txBufs: (TxBuf | undefined)[];
  private readonly txLent: Uint8Array;
  private readonly spare: Int32Array;
  private spareTop = 0;

  private txWaiting = false;
  private txReadyScheduled = false;
  private readonly txReadyBound: () => void;
  private flushScheduled = false;
  private pendingTx = 0;
  private readonly flushBound: () => void;
  private closed = false;
  /** The status byte as this side left or found it at start; any change is a reset request. */
  private readonly bootStatus: number;

  constructor(options: VirtioRpmsgOptions) {
    const { role, link, region, vdev, vrings } = options;
    this.role = role;
    this.link = link;
    this.region = region;
    this.vdev = vdev;
    this.notifyPeer = options.notify;
    this.u8 = region.u8;
    this.u32 = region.u32;
    this.views = new ViewCache(region.u8);
    this.flushBound = () => {
      this.flushScheduled = false;
      this.flush();
    };
    this.txReadyBound = () => {
      this.txReadyScheduled = false;
      this.link.txReady();
    };

    this.features = negotiateFeatures(role, vdev, options.features ?? DEFAULT_FEATURES);
    const { rxVq, txVq } = createQueues(options, hasFeature(this.features, VIRTIO_RING_F_EVENT_IDX), (v) => {
      publishViolation(link, v);
      link.reportError(v);
      this.destroy(v);
    });
    this.rxVq = rxVq;
    this.txVq = txVq;
    this.side = createRingSide(options, rxVq, txVq, () => {
      link.countInvalid();
      publishDrop(link, 'unusable-buffer', -1, -1, -1);
      this.pendingTx++;
    });
    this.rxBudget = options.rxBudget ?? rxVq.num;
    this.receiver = new Receiver(this.side, link, region, this.views, () => this.closed);
    const numTx = this.side.tx.count;
    this.txBufs = new Array<TxBuf | undefined>(numTx).fill(undefined);
    this.txLent = new Uint8Array(numTx);
    this.spare = new Int32Array(numTx);

    options.bus.addLink(link);
    link.attachTransport(this);
    this.ns = hasFeature(this.features, VIRTIO_RPMSG_F_NS) ? new NameService(options.bus, link) : undefined;
    this.side.start(this.notifyPeer);
    this.bootStatus = vdev.status();
    publishLinkUp(link, vrings.map((v, i) => ({ name: `vring${i}`, region, offset: v.offset, num: v.num, align: v.align })), this.side.mtu);
  }

  /** Whether the name service was negotiated. */
  get nameService(): boolean {
    return this.ns !== undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ----------------------------------------------------------------- RpmsgTransportOps

  getMtu(): number {
    return this.side.mtu;
  }

  canSend(): boolean {
    return !this.closed && (this.spareTop > 0 || this.side.hasFreeTx());
  }

  trySend(src: number, dst: number, data: Uint8Array): boolean {
    const len = data.length;
    if (this.closed) throw new RpmsgError('ENODEV', 'transport closed');
    const mtu = this.side.mtu;
    if (len > mtu) throw new RpmsgError('EMSGSIZE', `payload of ${len} bytes exceeds the MTU of ${mtu}`, { len, mtu });
    const t = this.takeTx();
    if (t < 0) return false;
    const off = this.side.tx.offset[t]!;
    if (len > this.side.tx.len[t]! - RPMSG_HDR_SIZE) {
      this.spare[this.spareTop++] = t;
      throw new RpmsgError('EMSGSIZE', `payload of ${len} bytes exceeds the buffer`, { len, buffer: this.side.tx.len[t]! });
    }
    const base = off + RPMSG_HDR_SIZE;
    if (len <= 16) {
      const u8 = this.u8;
      for (let i = 0; i < len; i++) u8[base + i] = data[i]!;
    } else {
      this.u8.set(data, base);
    }
    this.commitTx(t, src, dst, len);
    return true;
  }

  setTxWaiting(waiting: boolean): void {
    if (this.closed) return;
    this.txWaiting = waiting;
    if (waiting) {
      this.flush(); // make sure the peer sees what is queued
      this.armTx();
    } else {
      this.txVq.disableKicks();
    }
  }

  getTxBuffer(): TxBuffer | null {
    if (this.closed) throw new RpmsgError('ENODEV', 'transport closed');
    const t = this.takeTx();
    if (t < 0) return null;
    let b = this.txBufs[t];
    const payload = this.side.tx.offset[t]! + RPMSG_HDR_SIZE;
    const cap = this.side.tx.len[t]! - RPMSG_HDR_SIZE;
    if (b === undefined || b.data.byteOffset !== this.region.byteOffset + payload || b.data.length !== cap) {
      b = new TxBuf(this.views.viewAt(payload, cap), t);
      this.txBufs[t] = b;
    }
    this.txLent[t] = 1;
    return b;
  }

  sendNocopy(buffer: TxBuffer, src: number, dst: number, len: number): void {
    const t = this.checkLent(buffer);
    if (!(Number.isInteger(len) && len >= 0 && len <= buffer.data.length)) {
      throw new RpmsgError('EMSGSIZE', 'length exceeds the tx buffer', { len, capacity: buffer.data.length });
    }
    this.txLent[t] = 0;
    this.commitTx(t, src, dst, len);
  }

  releaseTxBuffer(buffer: TxBuffer): void {
    const t = this.checkLent(buffer);
    this.txLent[t] = 0;
    this.spare[this.spareTop++] = t;
    this.link.txReady();
  }

  holdRxBuffer(): number {
    return this.receiver.hold();
  }

  releaseRxBuffer(token: number): void {
    this.receiver.release(token);
    if (!this.closed && !this.receiver.inRx && this.rxVq.publish()) this.notifyPeer(this.side.rxQueue);
  }

  announceCreate(name: string, addr: number): void {
    this.ns?.announce(name, addr, false);
  }

  announceDestroy(name: string, addr: number): void {
    this.ns?.announce(name, addr, true);
  }

  // ----------------------------------------------------------------- driving

  /**
   * Process what the peer published: deliver up to `rxBudget` messages, give their buffers
   * back, then wake senders waiting for tx buffers. Returns the number of buffers taken, plus
   * one when waiting senders were served (either way work was done: the caller should give
   * their continuations a turn rather than spin).
   */
  poll(): number {
    if (this.closed || this.statusChanged()) return 0;
    let n = this.receiver.receive(this.rxBudget);
    if (this.closed) return n;
    if (n === 0 && this.side.reclaimTx !== undefined && this.txVq.hasPending()) {
      this.side.reclaimTx();
      if (this.closed) return 0;
    }
    if (this.rxVq.publish()) this.notifyPeer(this.side.rxQueue);
    this.flush();
    const waiters = this.link.txWaiters;
    if (waiters > 0 && this.canSend()) {
      this.link.txReady();
      if (this.link.txWaiters < waiters) n++;
    }
    return n;
  }

  /** Whether the peer published anything this side has not processed (rx or returned tx). */
  hasWork(): boolean {
    if (this.closed) return false;
    return this.rxVq.hasPending() || (this.link.txWaiters > 0 && this.txVq.hasPending()) || this.vdev.status() !== this.bootStatus;
  }

  /**
   * The status byte moved: on the remote, the host reset the device (status 0: virtio §2.1,
   * the remote starts over, ECONNRESET); on the host, the remote set DEVICE_NEEDS_RESET after
   * a violation it saw (EPROTO). Either way the link goes down at once.
   */
  private statusChanged(): boolean {
    const s = this.vdev.status();
    if (s === this.bootStatus) return false;
    this.destroy(statusChangeError(this.role, s));
    return true;
  }

  /**
   * Ask the peer to kick (true) or not (false) when it publishes rx messages. Enabling returns
   * whether messages are already pending (check again before sleeping).
   */
  setRxNotify(enabled: boolean): boolean {
    if (this.closed) return false;
    if (enabled) return this.rxVq.enableKicks();
    this.rxVq.disableKicks();
    return false;
  }

  /** Publish queued sends now (normally done at the end of the current synchronous run). */
  flush(): void {
    // flushScheduled stays set: the queued end-of-run flush still comes, so one synchronous
    // run queues one, however many times it is flushed in between.
    if (this.pendingTx === 0 || this.closed) return;
    this.pendingTx = 0;
    if (this.txVq.publish()) this.notifyPeer(this.side.txQueue);
  }

  // ----------------------------------------------------------------- lifecycle

  /** Graceful: the link releases its channels (announcing), queued sends are published, then stop. */
  close(): void {
    if (this.closed) return;
    this.link.close();
    this.flush();
    this.destroy(new RpmsgError('ENODEV', 'transport closed'));
  }

  /** Abortive: stop using the memory now; the link goes down with `reason`. Idempotent. */
  destroy(reason?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.link.destroy(reason ?? new RpmsgError('ENODEV', 'transport destroyed'));
  }

  // ----------------------------------------------------------------- internals

  /** A spare, else the role's next free buffer; when none, publish what is batched and ask for a kick. */
  private takeTx(): number {
    if (this.spareTop > 0) return this.spare[--this.spareTop]!;
    let t = this.side.takeTx();
    if (t >= 0) return t;
    if (this.pendingTx > 0) {
      this.flush();
      t = this.side.takeTx();
    }
    if (t < 0 && this.txWaiting) this.armTx();
    return t;
  }

  /**
   * Ask the peer to kick when it makes tx buffers available again. With event indices the
   * request names the current index, so it is renewed each time the senders run dry.
   */
  private armTx(): void {
    if (this.txVq.enableKicks() && !this.txReadyScheduled) {
      this.txReadyScheduled = true;
      SETTLED.then(this.txReadyBound);
    }
  }

  /** The one place a header is written: then the buffer goes to the peer in the next publish. */
  private commitTx(t: number, src: number, dst: number, len: number): void {
    putHeader(this.u32, this.side.tx.offset[t]!, src, dst, len);
    this.side.commitTx(t, len);
    this.pendingTx++;
    if (this.receiver.inRx) return; // published at the end of poll()
    if (this.pendingTx >= MAX_BATCH) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      SETTLED.then(this.flushBound);
    }
  }

  private checkLent(buffer: TxBuffer): number {
    const t = buffer.index;
    if (!(t >= 0 && t < this.txLent.length) || this.txBufs[t] !== buffer || this.txLent[t] === 0) {
      throw new RpmsgError('EINVAL', 'not a tx buffer lent by this transport', { index: t });
    }
    return t;
  }
}
