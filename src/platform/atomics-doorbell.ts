/**
 * The doorbell between threads (one Int32 word per side in a control page of the shared
 * memory): a kick is `Atomics.add` of the peer's word, plus `Atomics.notify` only when the
 * peer said it is parked. A side parks with `Atomics.waitAsync` on its own word, never
 * blocking its thread.
 */
import type { Doorbell } from './poll-loop.js';

/** Word indices of the control page (Int32 units). */
export const CTRL_HOST_BELL = 0;
export const CTRL_REMOTE_BELL = 1;
export const CTRL_HOST_PARKED = 2;
export const CTRL_REMOTE_PARKED = 3;
/** Remote lifecycle word: 0 booting, 1 running, 2 stopped, 3 crashed. */
export const CTRL_REMOTE_STATE = 4;
export const CTRL_WORDS = 16;

export class AtomicsDoorbell implements Doorbell {
  readonly i32: Int32Array;
  private readonly self: number;
  private readonly peer: number;
  private readonly selfParked: number;
  private readonly peerParked: number;
  kicksSent = 0;

  /** `ctrl` is the control page as Int32Array; `side` says which words are ours. */
  constructor(ctrl: Int32Array, side: 'host' | 'remote') {
    this.i32 = ctrl;
    const host = side === 'host';
    this.self = host ? CTRL_HOST_BELL : CTRL_REMOTE_BELL;
    this.peer = host ? CTRL_REMOTE_BELL : CTRL_HOST_BELL;
    this.selfParked = host ? CTRL_HOST_PARKED : CTRL_REMOTE_PARKED;
    this.peerParked = host ? CTRL_REMOTE_PARKED : CTRL_HOST_PARKED;
  }

  /**
   * Ring the peer's bell. Wakes every waiter on the word, not one: a stopped PollLoop (before a
   * reset) leaves its waitAsync pending, and waking only the first in line would wake that stale
   * waiter instead of the live loop, which would then sleep through every later kick.
   */
  kick(): void {
    this.kicksSent++;
    Atomics.add(this.i32, this.peer, 1);
    if (Atomics.load(this.i32, this.peerParked) !== 0) Atomics.notify(this.i32, this.peer);
  }

  /** Our bell's current value (read before the final re-check). */
  seq(): number {
    return Atomics.load(this.i32, this.self);
  }

  setParked(parked: boolean): void {
    Atomics.store(this.i32, this.selfParked, parked ? 1 : 0);
  }

  /** Wait (asynchronously) until our bell moves from `seq`; null when it already has. */
  waitAsync(seq: number): Promise<unknown> | null {
    const r = Atomics.waitAsync(this.i32, this.self, seq);
    return r.async ? r.value : null;
  }
}
