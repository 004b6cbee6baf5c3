/**
 * What differs between the two roles of the rpmsg transport, behind one small interface
 * (OpenAMP keeps the same differences in a few helpers of rpmsg_virtio.c): which vring is rx
 * and which tx, who owns the buffers, and whether a buffer travels as avail → used (host) or
 * used → avail (remote). Tokens name buffers: host — buffer index; remote — descriptor id.
 */
import type { Virtqueue } from '../virtio/virtqueue.js';
import type { BufferTable } from './buffer-pool.js';

export interface RingSide {
  readonly rxVq: Virtqueue;
  readonly txVq: Virtqueue;
  /** vring index of rx and tx (the kick says which). */
  readonly rxQueue: 0 | 1;
  readonly txQueue: 0 | 1;
  readonly rx: BufferTable;
  readonly tx: BufferTable;
  /** Largest payload (remote: learned from the host's buffers). */
  readonly mtu: number;
  /** Region offset and length of the buffer `nextRx()` returned. */
  rxOff: number;
  rxLen: number;

  /** Start the rings (host: post rx buffers, DRIVER_OK, kick; remote: quiet tx). */
  start(notify: (queue: 0 | 1) => void): void;
  /** Whether a tx buffer can be taken without waiting (spares aside). */
  hasFreeTx(): boolean;
  /** A free tx buffer's token, or -1. */
  takeTx(): number;
  /**
   * Host, on a poll that received nothing: take back (and so validate) the tx buffers the peer
   * returned, for takeTx() to hand out in the order they came back.
   */
  reclaimTx?(): void;
  /** Hand tx buffer `t` (header and payload written) to the peer; visible after publish. */
  commitTx(t: number, len: number): void;
  /** The next received buffer's token (sets rxOff, rxLen; rxLen -1 when unusable), or -1. */
  nextRx(): number;
  /** Give rx buffer `t` back to the peer (`len` bytes were in it). */
  recycleRx(t: number, len: number): void;
}
