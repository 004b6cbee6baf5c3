/**
 * Notifications between two sides of shared memory, and the loop that reacts to them.
 *
 * A side parks (atomics-doorbell.ts, socket-doorbell.ts) after re-enabling ring notifications
 * and checking the rings once more, so a kick can never be missed: the peer either sees
 * notifications enabled and kicks, or we see its entries in the re-check.
 *
 * PollLoop: process rx → while there was traffic recently, spin briefly (in short slices, giving
 * the event loop a turn between slices) with ring notifications off, so a busy peer never pays
 * for a kick → park. The spin is adaptive: it only happens within `spinWindowMs` of the last
 * message, so an idle link costs nothing.
 *
 * Spinning only pays when the peer runs at the same time on another CPU. With one CPU for the
 * process (os.availableParallelism(), which follows the affinity mask) the default window is 0;
 * and a slice that took far longer than asked for means this thread was preempted, that is,
 * the CPUs are oversubscribed: the loop then parks instead of spinning for `contendedMs`, so the
 * peer gets the CPU it needs to produce. (Measured pinned to one CPU, worker one-way 16 B:
 * 108k msgs/s spinning, 760k–995k without.)
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';

/** The work a PollLoop drives (VirtioRpmsgTransport implements it). */
export interface Pollable {
  poll(): number;
  hasWork(): boolean;
  setRxNotify(enabled: boolean): boolean;
  readonly isClosed: boolean;
}

/** How a side is woken: the Atomics doorbell (threads) or a socket (processes). */
export interface Doorbell {
  /** Notify the peer. */
  kick(): void;
  /** A counter that moves on every kick received (read before the final re-check). */
  seq(): number;
  /** Tell the peer whether we are about to sleep (it may skip the wake-up call otherwise). */
  setParked(parked: boolean): void;
  /** Resolve when `seq()` moves away from `seq`; null if it already has. */
  waitAsync(seq: number): Promise<unknown> | null;
}

export interface PollLoopOptions {
  /** Longest synchronous spin slice in µs before giving the event loop a turn (default 50). */
  spinSliceMicros?: number;
  /** Keep spinning while the last message is at most this old (ms, default 1; 0 disables spinning). */
  spinWindowMs?: number;
}

/** A spin slice this many times longer than asked for was preempted. */
const PREEMPTED = 10;
/** How long the loop parks instead of spinning after a preempted slice (ms). */
const CONTENDED_MS = 50;

/** Consecutive non-empty polls in one run while the peer keeps streaming (then a turn). */
const MAX_POLLS_PER_RUN = 64;
const MIN_CHECKS = 16;
const MAX_CHECKS = 1 << 20;

export class PollLoop {
  private readonly target: Pollable;
  private readonly bell: Doorbell;
  private readonly sliceMs: number;
  private readonly windowMs: number;
  private lastWork = -Infinity;
  /** No spinning before this time (after a slice that was preempted). */
  private noSpinUntil = -Infinity;
  private running = false;
  private scheduled = false;
  /** Empty checks that fit one spin slice, learned from the slices so far. */
  private checksPerSlice = 256;
  private readonly runBound: () => void;
  private readonly wakeBound: () => void;
  /** Times the loop parked (for idle-cost measurements). */
  parks = 0;

  constructor(target: Pollable, bell: Doorbell, options: PollLoopOptions = {}) {
    this.target = target;
    this.bell = bell;
    this.sliceMs = (options.spinSliceMicros ?? 50) / 1000;
    this.windowMs = options.spinWindowMs ?? (availableParallelism() < 2 ? 0 : 1);
    this.runBound = () => {
      this.scheduled = false;
      this.run();
    };
    this.wakeBound = () => {
      // A stopped loop's late wake-up must not clear the flag a newer loop on this bell set.
      if (!this.running) return;
      this.bell.setParked(false);
      this.run();
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
  }

  private schedule(): void {
    if (this.scheduled || !this.running) return;
    this.scheduled = true;
    setImmediate(this.runBound);
  }

  /**
   * One turn. The clock is read once or twice per turn, never per check: in Node 20 every
   * performance.now() allocates (16–32 B), and a spinning side would otherwise make garbage at
   * the rate it checks. While the peer keeps streaming, several polls share one turn; a poll
   * that finds nothing ends the turn, so promise continuations of the callbacks run at once.
   */
  private run(): void {
    const t = this.target;
    if (!this.running || t.isClosed) return;
    t.setRxNotify(false);
    const now = performance.now();
    if (t.poll() > 0) {
      for (let polls = 1; polls < MAX_POLLS_PER_RUN && t.hasWork() && t.poll() > 0; polls++);
      this.lastWork = now;
      return this.schedule();
    }
    if (this.windowMs > 0 && now - this.lastWork < this.windowMs && now >= this.noSpinUntil) {
      for (let k = this.checksPerSlice; k > 0; k--) {
        if (t.hasWork()) {
          if (t.poll() > 0) this.lastWork = performance.now();
          return this.schedule();
        }
      }
      // A whole slice came up empty: fit the count of checks to the slice's length.
      const took = performance.now() - now;
      if (took > PREEMPTED * this.sliceMs) {
        this.noSpinUntil = now + took + CONTENDED_MS;
        return this.schedule();
      }
      const fit = took > 0 ? (this.checksPerSlice * this.sliceMs) / took : MAX_CHECKS;
      this.checksPerSlice = Math.min(MAX_CHECKS, Math.max(MIN_CHECKS, Math.round((this.checksPerSlice + fit) / 2)));
      return this.schedule();
    }
    // Park: announce it, re-enable notifications, re-check, then wait on the bell.
    const seq = this.bell.seq();
    this.bell.setParked(true);
    if (t.setRxNotify(true) || t.hasWork()) {
      this.bell.setParked(false);
      return this.schedule();
    }
    const wait = this.bell.waitAsync(seq);
    if (wait === null) {
      this.bell.setParked(false);
      return this.schedule();
    }
    this.parks++;
    void wait.then(this.wakeBound);
  }
}
