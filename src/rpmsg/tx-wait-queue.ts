/**
 * The FIFO of senders waiting for a tx buffer (Linux virtio_rpmsg_bus's sendq wait, but in
 * call order): a sender carries its message, a writability waiter none. Each entry has its
 * own timeout and AbortSignal, and belongs to an owner (the endpoint) so that destroying the
 * endpoint rejects its waiting sends at once.
 */
import { RpmsgAbortError, RpmsgError } from '../errors.js';
import { RPMSG_DEFAULT_SEND_TIMEOUT_MS } from './constants.js';
import type { SendOptions } from './types.js';

/** Node's setTimeout fires after ~1 ms for anything ≥ 2^31 ms: refuse it. */
const MAX_TIMEOUT_MS = 0x7fffffff;

export interface TxWaiter {
  readonly owner: object | undefined;
  readonly src: number;
  readonly dst: number;
  /** The message, or undefined for a writability waiter. */
  readonly data: Uint8Array | undefined;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** The wait of `options` in ms (Infinity: no limit); EINVAL when out of range. */
export function sendTimeout(options: SendOptions | undefined): number {
  const t = options?.timeout;
  if (t === undefined) return RPMSG_DEFAULT_SEND_TIMEOUT_MS;
  if (t === Infinity || (typeof t === 'number' && t >= 0 && t <= MAX_TIMEOUT_MS)) return t;
  throw new RpmsgError('EINVAL', 'timeout must be 0..2^31-1 ms or Infinity', { timeout: String(t) });
}

export class TxWaitQueue {
  private readonly queue: TxWaiter[] = [];

  /** `onWaiting(true)` when the first waiter arrives, `(false)` when the last one leaves. */
  constructor(private readonly onWaiting: (waiting: boolean) => void) {}

  get length(): number {
    return this.queue.length;
  }

  head(): TxWaiter | undefined {
    return this.queue[0];
  }

  /** Queue a sender (data) or a writability waiter (no data) behind the earlier ones. */
  enqueue(owner: object | undefined, src: number, dst: number, data: Uint8Array | undefined, options: SendOptions | undefined): Promise<void> {
    const timeout = sendTimeout(options);
    const signal = options?.signal;
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new RpmsgAbortError(signal.reason));
      if (timeout === 0) return reject(new RpmsgError('ETIMEDOUT', 'no tx buffer within the timeout', { timeout }));
      const w: TxWaiter = { owner, src, dst, data, resolve, reject, timer: undefined, signal, onAbort: undefined };
      if (timeout !== Infinity) {
        w.timer = setTimeout(() => this.settle(w, new RpmsgError('ETIMEDOUT', 'no tx buffer within the timeout', { timeout })), timeout);
      }
      if (signal !== undefined) {
        w.onAbort = () => this.settle(w, new RpmsgAbortError(signal.reason));
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.queue.push(w);
      if (this.queue.length === 1) this.onWaiting(true);
    });
  }

  /** Take `w` out of the queue and resolve it (error undefined) or reject it. */
  settle(w: TxWaiter, error: Error | undefined): void {
    const i = this.queue.indexOf(w);
    if (i < 0) return;
    this.queue.splice(i, 1);
    clearTimeout(w.timer);
    if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort);
    if (this.queue.length === 0) this.onWaiting(false);
    if (error === undefined) w.resolve();
    else w.reject(error);
  }

  /** Reject every waiter of `owner` (all waiters when undefined). */
  rejectAll(error: Error, owner?: object): void {
    for (const w of [...this.queue]) if (owner === undefined || w.owner === owner) this.settle(w, error);
  }
}
