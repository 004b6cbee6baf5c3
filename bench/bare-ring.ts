/**
 * The `bare-ring` baseline: a minimal single-producer single-consumer ring in a
 * SharedArrayBuffer, the upper bound for JavaScript message passing between threads.
 *
 * 256 fixed slots of 512 bytes (the size of an rpmsg buffer), each [len u32][payload]. The
 * producer's count (head) and the consumer's count (tail) sit on their own cache lines and are
 * published with Atomics.store every `batch` messages (and whenever a side finds the ring full
 * or empty), so the other side reads a contended word once per batch, not once per message.
 * Counts are int32 and wrap; every comparison is on their difference.
 */
export const BARE_SLOTS = 256;
const SLOT = 512;
const MASK = BARE_SLOTS - 1;
const CTRL = 128; // head at byte 0, tail at byte 64
export const BARE_RING_BYTES = CTRL + BARE_SLOTS * SLOT;

export class BareRing {
  readonly u8: Uint8Array;
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly headWord: number;
  private readonly tailWord: number;
  private readonly data: number;
  private readonly batchMask: number;
  private head = 0; // producer: own count
  private tail = 0; // consumer: own count
  private seen = 0; // producer: last tail read; consumer: last head read

  /** `base`: byte offset of this ring in `sab` (a multiple of 128); `batch`: a power of two. */
  constructor(sab: SharedArrayBuffer, base: number, batch: number) {
    this.u8 = new Uint8Array(sab);
    this.i32 = new Int32Array(sab);
    this.u32 = new Uint32Array(sab);
    this.headWord = base >>> 2;
    this.tailWord = (base + 64) >>> 2;
    this.data = base + CTRL;
    this.batchMask = batch - 1;
    this.head = this.tail = this.seen = Atomics.load(this.i32, this.headWord);
  }

  /** Producer: byte offset where the next payload goes, or -1 when the ring is full. */
  reserve(): number {
    if (((this.head - this.seen) | 0) >= BARE_SLOTS) {
      Atomics.store(this.i32, this.headWord, this.head);
      this.seen = Atomics.load(this.i32, this.tailWord);
      if (((this.head - this.seen) | 0) >= BARE_SLOTS) return -1;
    }
    return this.data + (this.head & MASK) * SLOT + 4;
  }

  /** Producer: the payload at reserve()'s offset is `len` bytes long; make it visible (batched). */
  commit(len: number): void {
    this.u32[(this.data + (this.head & MASK) * SLOT) >>> 2] = len;
    this.head = (this.head + 1) | 0;
    if ((this.head & this.batchMask) === 0) Atomics.store(this.i32, this.headWord, this.head);
  }

  /** Producer: publish now. */
  publish(): void {
    Atomics.store(this.i32, this.headWord, this.head);
  }

  /** Consumer: byte offset of the next payload, or -1 when there is none. */
  peek(): number {
    if (this.tail === this.seen) {
      this.seen = Atomics.load(this.i32, this.headWord);
      if (this.tail === this.seen) {
        Atomics.store(this.i32, this.tailWord, this.tail);
        return -1;
      }
    }
    return this.data + (this.tail & MASK) * SLOT + 4;
  }

  /** Consumer: length of the payload at `off` (from peek()). */
  length(off: number): number {
    return this.u32[(off - 4) >>> 2]!;
  }

  /** Consumer: done with the message at peek()'s offset. */
  release(): void {
    this.tail = (this.tail + 1) | 0;
    if ((this.tail & this.batchMask) === 0) Atomics.store(this.i32, this.tailWord, this.tail);
  }
}

/** Send `n` copies of `payload`, spinning while the ring is full. */
export function bareSend(ring: BareRing, payload: Uint8Array, n: number): void {
  const u8 = ring.u8;
  const len = payload.length;
  for (let i = 0; i < n; ) {
    const off = ring.reserve();
    if (off < 0) continue;
    if (len <= 16) for (let j = 0; j < len; j++) u8[off + j] = payload[j]!;
    else u8.set(payload, off);
    ring.commit(len);
    i++;
  }
  ring.publish();
}

/** Receive `n` messages, spinning while the ring is empty; returns a checksum so reads stay. */
export function bareReceive(ring: BareRing, n: number): number {
  const u8 = ring.u8;
  let sum = 0;
  for (let i = 0; i < n; ) {
    const off = ring.peek();
    if (off < 0) continue;
    sum = (sum + ring.length(off) + u8[off]!) | 0;
    ring.release();
    i++;
  }
  return sum;
}
