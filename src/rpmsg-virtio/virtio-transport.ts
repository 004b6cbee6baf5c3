/**
 * rpmsg over virtio (Linux virtio_rpmsg_bus.c, OpenAMP rpmsg_virtio.c): one implementation,
 * two roles. The role swaps which vring is rx and which is tx (PROTOCOL.md §6):
 *
 *   vring[0]: remote → host   host: rx, driver side     remote: tx, device side
 *   vring[1]: host → remote   host: tx, driver side     remote: rx, device side
 *
 * Host (owns the buffers, like Linux): carves rx buffers then tx buffers from the pool (a
 * bump allocator, as OpenAMP), posts every rx buffer at start, hands tx buffers out lazily —
 * first one released unsent, then one the remote returned that the last index read already
 * announced, then a fresh one, and only then reads the remote's used index again — writes
 * gfeatures, then DRIVER_OK last, then kicks.
 *
 * Remote (like OpenAMP firmware): started once DRIVER_OK is set; sends by taking the host's
 * buffer from vring[0]'s avail ring and returning it on the used ring with the buffer's full
 * length (as OpenAMP does); receives from vring[1].
 *
 * rx: every buffer goes back to the peer (unless an endpoint holds it); a used length beyond the
 * buffer, a buffer shorter than a header or a header `len` beyond the buffer is dropped and
 * counted (Linux rpmsg_recv_single); a message to an unknown address is dropped and counted.
 *
 * tx: publishing the ring index is batched: sends made in one synchronous run (or inside rx
 * processing) are published together at the end of it, with at most one kick, and only if the
 * peer asked for kicks (flags or event index).
 */
import { RpmsgError, type VirtqueueViolation } from '../errors.js';
import type { Region } from '../memory/region.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { RpmsgTransportOps, TxBuffer } from '../rpmsg/ops.js';
import { VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_RING_F_EVENT_IDX, VIRTIO_RPMSG_F_NS, featureBit, hasFeature } from '../virtio/constants.js';
import type { VdevHandle } from '../virtio/resource-table.js';
import { Virtqueue } from '../virtio/virtqueue.js';
import { RPMSG_HDR_SIZE } from './header.js';

export type RpmsgRole = 'host' | 'remote';

export interface RingPlacement {
  /** Region offset of the ring. */
  offset: number;
  num: number;
  align: number;
}

export interface VirtioRpmsgOptions {
  role: RpmsgRole;
  link: RpmsgLink;
  region: Region;
  vdev: VdevHandle;
  /** vring[0] and vring[1] as placed in the region. */
  vrings: readonly [RingPlacement, RingPlacement];
  /** Kick the peer; `queue` is the vring index the kick is about. */
  notify: (queue: 0 | 1) => void;
  /** Features this side supports (default VIRTIO_RPMSG_F_NS | VIRTIO_RING_F_EVENT_IDX). */
  features?: number;
  /** Host: the buffer pool (region offset and length). */
  pool?: { offset: number; length: number };
  /** Host: bytes per rx buffer (default 512, multiple of 4, 20..65552). */
  rxBufferSize?: number;
  /** Host: bytes per tx buffer (default 512). */
  txBufferSize?: number;
  /** Host: rx buffers (default vring[0].num). */
  rxBuffers?: number;
  /** Host: tx buffers (default vring[1].num). */
  txBuffers?: number;
  /** Remote: region window every host buffer must lie in (default: the whole region). */
  bufferWindow?: { offset: number; length: number };
  /** Remote: largest buffer accepted from the host (default 65552). */
  maxBufferSize?: number;
  /** Messages processed per poll() before yielding (default: the rx ring size). */
  rxBudget?: number;
}

const DEFAULT_BUFFER_SIZE = 512;
/** Views kept per transport for reuse (a peer can vary offsets and lengths at will). */
const VIEW_CACHE_MAX = 4096;
const MAX_BUFFER_SIZE = 0xffff + RPMSG_HDR_SIZE;
export const DEFAULT_FEATURES = featureBit(VIRTIO_RPMSG_F_NS) | featureBit(VIRTIO_RING_F_EVENT_IDX);

function checkBufferSize(size: number, what: string): void {
  if (!Number.isInteger(size) || size < RPMSG_HDR_SIZE + 4 || size > MAX_BUFFER_SIZE || size % 4 !== 0) {
    throw new RpmsgError('EINVAL', `${what} must be a multiple of 4 in 20..${MAX_BUFFER_SIZE}`, { size });
  }
}

class TxBuf implements TxBuffer {
  constructor(
    readonly data: Uint8Array,
    readonly index: number,
  ) {}
}

export class VirtioRpmsgTransport implements RpmsgTransportOps {
  readonly role: RpmsgRole;
  readonly link: RpmsgLink;
  readonly region: Region;
  readonly vdev: VdevHandle;
  readonly rxVq: Virtqueue;
  readonly txVq: Virtqueue;
  /** Negotiated features (dfeatures & gfeatures). */
  readonly features: number;
  private readonly notifyPeer: (queue: 0 | 1) => void;
  private readonly rxQueue: 0 | 1;
  private readonly txQueue: 0 | 1;
  private readonly u8: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly host: boolean;
  private readonly rxBudget: number;

  // rx buffers: host — by rx buffer index; remote — by descriptor id.
  private readonly rxOffset: Float64Array;
  private readonly rxSize: number; // host only
  private readonly rxViews: (Uint8Array | undefined)[];
  private readonly rxHeldLen: Uint32Array; // remote: descriptor length of a held buffer
  private readonly rxHeld: Uint8Array;
  private readonly viewCache = new Map<number, Uint8Array>();
  private curRxToken = -1;
  private curRxHeld = false;

  // tx buffers: host — by tx buffer index; remote — by descriptor id.
  private readonly txOffset: Float64Array;
  private readonly txLen: Uint32Array;
  private readonly txBufs: (TxBuf | undefined)[];
  private readonly txLent: Uint8Array;
  private readonly spare: Int32Array;
  private spareTop = 0;
  private txAllocated = 0; // host: fresh buffers handed out so far
  private readonly numTx: number;
  private mtu: number;

  private inRx = false;
  private txWaiting = false;
  private txReadyScheduled = false;
  private readonly txReadyBound: () => void;
  private flushScheduled = false;
  private pendingTx = 0;
  private readonly flushBound: () => void;
  private closed = false;

  constructor(options: VirtioRpmsgOptions) {
    const { role, link, region, vdev, vrings } = options;
    this.role = role;
    this.host = role === 'host';
    this.link = link;
    this.region = region;
    this.vdev = vdev;
    this.notifyPeer = options.notify;
    this.u8 = region.u8;
    this.u16 = region.u16;
    this.u32 = region.u32;
    this.rxQueue = this.host ? 0 : 1;
    this.txQueue = this.host ? 1 : 0;
    this.flushBound = () => this.flush();
    this.txReadyBound = () => {
      this.txReadyScheduled = false;
      this.link.txReady();
    };

    const supported = options.features ?? DEFAULT_FEATURES;
    if (this.host) {
      this.features = vdev.hostNegotiate(supported);
    } else {
      if (!vdev.driverOk()) throw new RpmsgError('ENODEV', 'remote started before the host set DRIVER_OK');
      this.features = (vdev.negotiated() & supported) >>> 0;
    }
    const eventIdx = hasFeature(this.features, VIRTIO_RING_F_EVENT_IDX);
    const onViolation = (v: VirtqueueViolation): void => this.onViolation(v);
    const side = this.host ? 'driver' : 'device';
    const maxBuf = options.maxBufferSize ?? MAX_BUFFER_SIZE;
    const mk = (q: 0 | 1, name: string): Virtqueue =>
      new Virtqueue({
        name: `${link.name}:${name}`,
        region,
        offset: vrings[q].offset,
        num: vrings[q].num,
        align: vrings[q].align,
        side,
        eventIdx,
        onViolation,
        maxBufferLength: maxBuf,
        ...(options.bufferWindow !== undefined ? { bufferWindow: options.bufferWindow } : {}),
      });
    this.rxVq = mk(this.rxQueue, this.host ? 'host-rx' : 'remote-rx');
    this.txVq = mk(this.txQueue, this.host ? 'host-tx' : 'remote-tx');
    this.rxBudget = options.rxBudget ?? this.rxVq.num;

    if (this.host) {
      const rxSize = options.rxBufferSize ?? DEFAULT_BUFFER_SIZE;
      const txSize = options.txBufferSize ?? DEFAULT_BUFFER_SIZE;
      checkBufferSize(rxSize, 'rxBufferSize');
      checkBufferSize(txSize, 'txBufferSize');
      const numRx = options.rxBuffers ?? this.rxVq.num;
      const numTx = options.txBuffers ?? this.txVq.num;
      if (!(numRx >= 1 && numRx <= this.rxVq.num) || !(numTx >= 1 && numTx <= this.txVq.num)) {
        throw new RpmsgError('EINVAL', 'buffer counts must be 1..ring size', { numRx, numTx });
      }
      const pool = options.pool;
      if (pool === undefined) throw new RpmsgError('EINVAL', 'host needs a buffer pool');
      region.check(pool.offset, pool.length);
      if (pool.offset % 4 !== 0) throw new RpmsgError('EINVAL', 'pool offset must be 4-aligned', pool);
      if (numRx * rxSize + numTx * txSize > pool.length) {
        throw new RpmsgError('EINVAL', 'buffers do not fit the pool', { numRx, rxSize, numTx, txSize, pool: pool.length });
      }
      this.rxSize = rxSize;
      this.rxOffset = new Float64Array(numRx);
      for (let i = 0; i < numRx; i++) this.rxOffset[i] = pool.offset + i * rxSize;
      this.numTx = numTx;
      this.txOffset = new Float64Array(numTx);
      this.txLen = new Uint32Array(numTx).fill(txSize);
      const txBase = pool.offset + numRx * rxSize;
      for (let i = 0; i < numTx; i++) this.txOffset[i] = txBase + i * txSize;
      this.mtu = txSize - RPMSG_HDR_SIZE;
    } else {
      this.rxSize = 0;
      this.rxOffset = new Float64Array(this.rxVq.num);
      this.numTx = this.txVq.num;
      this.txOffset = new Float64Array(this.numTx);
      this.txLen = new Uint32Array(this.numTx);
      this.mtu = DEFAULT_BUFFER_SIZE - RPMSG_HDR_SIZE;
    }
    this.rxViews = new Array<Uint8Array | undefined>(this.rxOffset.length).fill(undefined);
    this.rxHeld = new Uint8Array(this.rxOffset.length);
    this.rxHeldLen = new Uint32Array(this.rxOffset.length);
    this.txBufs = new Array<TxBuf | undefined>(this.numTx).fill(undefined);
    this.txLent = new Uint8Array(this.numTx);
    this.spare = new Int32Array(this.numTx);

    link.attachTransport(this);

    if (this.host) {
      // Post every rx buffer (zero-filled, device-writable), disable "tx buffer used"
      // interrupts, then DRIVER_OK last and a kick (OpenAMP rpmsg_init_vdev; image 02).
      for (let i = 0; i < this.rxOffset.length; i++) {
        region.fill(this.rxOffset[i]!, this.rxSize, 0);
        this.rxVq.add(region.busBase + this.rxOffset[i]!, this.rxSize, true, i);
      }
      this.rxVq.publish();
      this.txVq.disableCallbacks();
      vdev.setStatus(VIRTIO_CONFIG_S_DRIVER_OK);
      this.notifyPeer(this.rxQueue);
    } else {
      // OpenAMP's remote disables "buffer available" notifications on its tx queue (image 03).
      this.txVq.disableNotify();
    }
  }

  /** Whether the name service was negotiated. */
  get nameService(): boolean {
    return hasFeature(this.features, VIRTIO_RPMSG_F_NS);
  }

  // ----------------------------------------------------------------- RpmsgTransportOps

  getMtu(): number {
    return this.mtu;
  }

  canSend(): boolean {
    if (this.closed) return false;
    if (this.spareTop > 0) return true;
    if (this.host) {
      return this.txVq.hasPending() || (this.txAllocated < this.numTx && this.txVq.freeCount > 0);
    }
    return this.txVq.hasPending();
  }

  trySend(src: number, dst: number, data: Uint8Array): boolean {
    const len = data.length;
    if (this.closed) throw new RpmsgError('ENODEV', 'transport closed');
    if (len > this.mtu) throw new RpmsgError('EMSGSIZE', `payload of ${len} bytes exceeds the MTU of ${this.mtu}`, { len, mtu: this.mtu });
    const t = this.takeTx();
    if (t < 0) return false;
    if (len > this.txLen[t]! - RPMSG_HDR_SIZE) {
      this.spare[this.spareTop++] = t;
      throw new RpmsgError('EMSGSIZE', `payload of ${len} bytes exceeds the buffer`, { len, buffer: this.txLen[t]! });
    }
    const off = this.txOffset[t]!;
    this.writeHeader(off, src, dst, len);
    if (len <= 16) {
      const u8 = this.u8;
      const base = off + RPMSG_HDR_SIZE;
      for (let i = 0; i < len; i++) u8[base + i] = data[i]!;
    } else {
      this.u8.set(data, off + RPMSG_HDR_SIZE);
    }
    this.commitTx(t);
    return true;
  }

  setTxWaiting(waiting: boolean): void {
    if (this.closed) return;
    this.txWaiting = waiting;
    if (waiting) {
      this.flush(); // make sure the peer sees what is queued
      this.armTx();
    } else if (this.host) {
      this.txVq.disableCallbacks();
    } else {
      this.txVq.disableNotify();
    }
  }

  /**
   * Ask the peer to kick when it makes tx buffers available again. With event indices the
   * request names the current index, so it is renewed each time the senders run dry.
   */
  private armTx(): void {
    const pending = this.host ? this.txVq.enableCallbacks() : this.txVq.enableNotify();
    if (pending && !this.txReadyScheduled) {
      this.txReadyScheduled = true;
      queueMicrotask(this.txReadyBound);
    }
  }

  getTxBuffer(): TxBuffer | null {
    if (this.closed) throw new RpmsgError('ENODEV', 'transport closed');
    const t = this.takeTx();
    if (t < 0) return null;
    let b = this.txBufs[t];
    const payload = this.txOffset[t]! + RPMSG_HDR_SIZE;
    const cap = this.txLen[t]! - RPMSG_HDR_SIZE;
    if (b === undefined || b.data.byteOffset !== this.region.byteOffset + payload || b.data.length !== cap) {
      b = new TxBuf(this.viewAt(payload, cap), t);
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
    this.writeHeader(this.txOffset[t]!, src, dst, len);
    this.commitTx(t);
  }

  releaseTxBuffer(buffer: TxBuffer): void {
    const t = this.checkLent(buffer);
    this.txLent[t] = 0;
    this.spare[this.spareTop++] = t;
    this.link.txReady();
  }

  holdRxBuffer(): number {
    if (this.curRxToken < 0) throw new RpmsgError('EINVAL', 'no rx buffer is being delivered');
    this.curRxHeld = true;
    this.rxHeld[this.curRxToken] = 1;
    return this.curRxToken;
  }

  releaseRxBuffer(token: number): void {
    if (!(token >= 0 && token < this.rxHeld.length) || this.rxHeld[token] === 0) {
      throw new RpmsgError('EINVAL', 'rx buffer not held', { token });
    }
    this.rxHeld[token] = 0;
    if (this.closed) return;
    this.recycleRx(token, this.rxHeldLen[token]!);
    if (!this.inRx && this.rxVq.publish()) this.notifyPeer(this.rxQueue);
  }

  // ----------------------------------------------------------------- receive

  /**
   * Process what the peer published: deliver up to `rxBudget` messages, give their buffers
   * back, then wake senders waiting for tx buffers. Returns the number of messages taken.
   * Never throws for peer-written data.
   */
  poll(): number {
    if (this.closed) return 0;
    const link = this.link;
    const region = this.region;
    const u32 = this.u32;
    let n = 0;
    this.inRx = true;
    try {
      for (; n < this.rxBudget; n++) {
        let t: number;
        let off: number;
        let len: number;
        if (this.host) {
          t = this.rxVq.getUsed();
          if (t < 0) break;
          off = this.rxOffset[t]!;
          len = this.rxVq.bufLen;
          if (len > this.rxVq.bufPosted) len = -1; // used length beyond the buffer
        } else {
          t = this.rxVq.getAvail();
          if (t < 0) break;
          off = this.rxVq.bufOffset;
          len = this.rxVq.bufLen;
          this.rxOffset[t] = off;
          this.rxHeldLen[t] = len;
          if ((off & 3) !== 0) len = -1; // header words must be aligned
        }
        const payloadLen = len >= RPMSG_HDR_SIZE ? this.u16[(off + 12) >>> 1]! : -1;
        if (payloadLen < 0 || payloadLen > len - RPMSG_HDR_SIZE) {
          link.countInvalid();
          this.recycleRx(t, len < 0 ? 0 : len);
          continue;
        }
        const w = off >>> 2;
        const src = u32[w]!;
        const dst = u32[w + 1]!;
        const start = off + RPMSG_HDR_SIZE;
        let view = this.rxViews[t];
        if (view === undefined || view.length !== payloadLen || view.byteOffset !== region.byteOffset + start) {
          view = this.viewAt(start, payloadLen);
          this.rxViews[t] = view;
        }
        this.curRxToken = t;
        this.curRxHeld = false;
        link.deliver(src, dst, view);
        this.curRxToken = -1;
        if (!this.curRxHeld && !this.closed) this.recycleRx(t, len);
        if (this.closed) break;
      }
    } finally {
      this.inRx = false;
      this.curRxToken = -1;
    }
    if (this.closed) return n;
    if (this.rxVq.publish()) this.notifyPeer(this.rxQueue);
    this.flush();
    if (link.txWaiters > 0 && this.canSend()) link.txReady();
    return n;
  }

  /** Whether the peer published anything this side has not processed (rx or returned tx). */
  hasWork(): boolean {
    return this.rxVq.hasPending() || (this.link.txWaiters > 0 && this.txVq.hasPending());
  }

  /**
   * Ask the peer to kick (true) or not (false) when it publishes rx messages. Enabling returns
   * whether messages are already pending (check again before sleeping).
   */
  setRxNotify(enabled: boolean): boolean {
    if (this.closed) return false;
    if (this.host) {
      if (enabled) return this.rxVq.enableCallbacks();
      this.rxVq.disableCallbacks();
    } else {
      if (enabled) return this.rxVq.enableNotify();
      this.rxVq.disableNotify();
    }
    return false;
  }

  /** Publish queued sends now (normally done at the end of the current synchronous run). */
  flush(): void {
    this.flushScheduled = false;
    if (this.pendingTx === 0 || this.closed) return;
    this.pendingTx = 0;
    if (this.txVq.publish()) this.notifyPeer(this.txQueue);
  }

  /** Stop using the memory. The link is shut down with `reason`. Idempotent. */
  close(reason?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.link.shutdown(reason ?? new RpmsgError('ENODEV', 'transport closed'));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ----------------------------------------------------------------- internals

  private takeTx(): number {
    if (this.spareTop > 0) return this.spare[--this.spareTop]!;
    if (this.host) {
      // Returned buffers already seen, then fresh ones, and only then read the device's index
      // again: one read of that contended word per batch instead of one per message.
      let t = this.txVq.getUsed(false);
      if (t >= 0) return t;
      if (this.txAllocated < this.numTx && this.txVq.freeCount > 0) return this.txAllocated++;
      t = this.txVq.getUsed();
      if (t >= 0) return t;
      if (this.pendingTx > 0) {
        this.flush();
        t = this.txVq.getUsed();
      }
      if (t < 0 && this.txWaiting) this.armTx();
      return t;
    }
    for (;;) {
      const id = this.txVq.getAvail();
      if (id < 0) {
        if (this.pendingTx > 0) this.flush();
        if (this.txWaiting) this.armTx();
        return -1;
      }
      const off = this.txVq.bufOffset;
      const len = this.txVq.bufLen;
      if ((off & 3) !== 0 || len < RPMSG_HDR_SIZE) {
        // Unusable buffer from the host: give it back untouched and count it.
        this.link.countInvalid();
        this.txVq.putUsed(id, 0);
        this.pendingTx++;
        continue;
      }
      this.txOffset[id] = off;
      this.txLen[id] = len;
      if (this.mtu !== len - RPMSG_HDR_SIZE) this.mtu = len - RPMSG_HDR_SIZE; // OpenAMP: size of the host's buffers
      return id;
    }
  }

  /**
   * A view of [start, start+len), reused across messages: the remote side sees the host's
   * buffers under changing descriptor ids, so views are also cached by offset (bounded).
   */
  private viewAt(start: number, len: number): Uint8Array {
    let v = this.viewCache.get(start);
    if (v === undefined || v.length !== len) {
      if (this.viewCache.size >= VIEW_CACHE_MAX) this.viewCache.clear();
      v = this.u8.subarray(start, start + len);
      this.viewCache.set(start, v);
    }
    return v;
  }

  /** struct rpmsg_hdr at a 4-aligned offset: src, dst, reserved 0, len | flags 0 << 16. */
  private writeHeader(off: number, src: number, dst: number, len: number): void {
    const w = off >>> 2;
    const u32 = this.u32;
    u32[w] = src;
    u32[w + 1] = dst;
    u32[w + 2] = 0;
    u32[w + 3] = len;
  }

  private commitTx(t: number): void {
    if (this.host) this.txVq.add(this.region.busBase + this.txOffset[t]!, this.txLen[t]!, false, t);
    else this.txVq.putUsed(t, this.txLen[t]!);
    this.pendingTx++;
    if (this.inRx) return; // published at the end of poll()
    if (this.pendingTx >= 64) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushBound);
    }
  }

  private recycleRx(t: number, len: number): void {
    if (this.host) this.rxVq.add(this.region.busBase + this.rxOffset[t]!, this.rxSize, true, t);
    else this.rxVq.putUsed(t, len);
  }

  private checkLent(buffer: TxBuffer): number {
    const t = buffer.index;
    if (!(t >= 0 && t < this.numTx) || this.txBufs[t] !== buffer || this.txLent[t] === 0) {
      throw new RpmsgError('EINVAL', 'not a tx buffer lent by this transport', { index: t });
    }
    return t;
  }

  private onViolation(v: VirtqueueViolation): void {
    this.link.reportError(v);
    this.close(v);
  }
}
