/**
 * The host's hold on one remote's virtio rpmsg device, across resets (docs/lifecycle.md):
 *
 *   up ──violation / EPROTO / watchdog──▶ down ──reset()──▶ resetting ──ack──▶ up
 *    │                                     │  (autoReset: after a backoff, up to a limit;
 *    └────────────── close() / destroy(err) ──▶ closed      then 'error' and it stays down)
 *
 * reset() is virtio's device reset driven from the host side: the link goes down (channels
 * removed, drivers' remove runs, waiting senders fail), gfeatures gets a marker and status 0,
 * the remote is kicked; the remote tears down, writes a fresh resource table (status 0,
 * gfeatures 0: the acknowledgement) and waits for DRIVER_OK; the host then negotiates again,
 * re-posts its buffers and sets DRIVER_OK; the remote re-announces and the channels come back.
 */
import { EventEmitter } from 'node:events';
import { RpmsgError, reportError, type ErrorSink } from '../errors.js';
import type { Region } from '../memory/region.js';
import type { NameService } from '../ns/name-service.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { LinkLimits } from '../rpmsg/types.js';
import type { VirtioRpmsgTransport } from '../rpmsg-virtio/virtio-transport.js';
import type { VdevHandle } from '../virtio/resource-table.js';
import { readRpmsgMemory } from './layout.js';
import { PollLoop, type Doorbell, type PollLoopOptions } from './poll-loop.js';
import { startHostSide, type HostBufferOptions, type RpmsgSide } from './start-side.js';

export interface AutoResetOptions {
  /** Resets in a row before giving up (default 3). A link up for `stableMs` starts the count again. */
  maxResets?: number;
  /** Wait before the first reset (ms, default 100); doubled for each further one. */
  backoffMs?: number;
  /** How long a link must stay up to count as recovered (ms, default 5000). */
  stableMs?: number;
}

export interface WatchdogOptions {
  /** Declare the remote dead when senders wait and no tx buffer came back for this long (ms). */
  timeoutMs: number;
}

export interface RecoveryOptions {
  /** Reset the device automatically when the link goes down on a violation (default off). */
  autoReset?: boolean | AutoResetOptions;
  /** Optional liveness watchdog (default off: blocking sends still time out after 15 s). */
  watchdog?: WatchdogOptions;
  /** How long reset() waits for the remote's acknowledgement (ms, default 5000). */
  resetTimeoutMs?: number;
}

/** What a platform passes through from its own options to its HostDevice unchanged. */
export interface HostDeviceTuning extends RecoveryOptions {
  host?: HostBufferOptions | undefined;
  limits?: LinkLimits | undefined;
  poll?: PollLoopOptions | undefined;
}

/** Where the device's resource table and host buffer pool are in the shared memory. */
export interface HostDeviceLayout {
  rscOffset: number;
  rscSize: number;
  pool: { offset: number; length: number };
}

export interface HostDeviceOptions extends HostDeviceTuning, HostDeviceLayout {
  name: string;
  bus: RpmsgBus;
  region: Region;
  bell: Doorbell;
}

/** The link, transport and name service a device has now (new ones after each reset). */
export interface CurrentSide {
  readonly link: RpmsgLink;
  readonly transport: VirtioRpmsgTransport;
  readonly ns: NameService | undefined;
}

/** Shows the current side of what `current` returns: the device itself, or a wrapper of one. */
export abstract class SideHolder<E extends Record<keyof E, unknown[]>> extends EventEmitter<E> implements CurrentSide {
  protected abstract get current(): CurrentSide;

  /** The current link (a new one after each reset). */
  get link(): RpmsgLink {
    return this.current.link;
  }
  get transport(): VirtioRpmsgTransport {
    return this.current.transport;
  }
  get ns(): NameService | undefined {
    return this.current.ns;
  }
}

export interface HostDeviceEvents {
  /** A link came up (at start and after each reset). */
  up: [link: RpmsgLink];
  /** The link went down; the error's cause chain names the violation. */
  down: [error: RpmsgError];
  error: [error: Error];
}

/** The marker the host leaves in gfeatures; the remote's fresh table overwrites it with 0. */
const RESET_MARK = 0xffffffff;

export class HostDevice extends SideHolder<HostDeviceEvents> {
  private side!: RpmsgSide;
  private vdev!: VdevHandle;
  private loop: PollLoop | undefined;
  private closed = false;
  private resetting: Promise<void> | undefined;
  private inReset = false;
  private resetsInRow = 0;
  private upSince = 0;
  private resetTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly o: HostDeviceOptions) {
    super();
    this.bringUp();
  }

  /** A device on `layout` with a platform's `tuning` (its recovery options passed when set). */
  static create(base: { name: string; bus: RpmsgBus; region: Region; bell: Doorbell }, layout: HostDeviceLayout, tuning: HostDeviceTuning): HostDevice {
    const { rscOffset, rscSize, pool } = layout;
    const { host, limits, poll, autoReset, watchdog, resetTimeoutMs } = tuning;
    return new HostDevice({
      ...base,
      rscOffset,
      rscSize,
      pool,
      host,
      limits,
      poll,
      ...(autoReset !== undefined ? { autoReset } : {}),
      ...(watchdog !== undefined ? { watchdog } : {}),
      ...(resetTimeoutMs !== undefined ? { resetTimeoutMs } : {}),
    });
  }

  /** `owner` (the platform's object around this device) emits this device's up, down and error events as its own. */
  forwardTo(owner: { emit(event: 'up', link: RpmsgLink): boolean; emit(event: 'down', error: RpmsgError): boolean } & ErrorSink): void {
    this.on('up', (l) => owner.emit('up', l));
    this.on('down', (e) => owner.emit('down', e));
    this.on('error', (e) => reportError(owner, e));
  }

  protected get current(): CurrentSide {
    return this.side;
  }
  get isClosed(): boolean {
    return this.closed;
  }

  /** Virtio device reset and a fresh start of both sides' rings (see the file comment). */
  reset(): Promise<void> {
    if (this.closed) return Promise.reject(new RpmsgError('ENODEV', `${this.o.name} is closed`));
    if (this.resetting === undefined) {
      this.inReset = true;
      this.resetting = this.doReset().finally(() => {
        this.inReset = false;
        this.resetting = undefined;
      });
    }
    return this.resetting;
  }

  private async doReset(): Promise<void> {
    const { region, rscOffset, rscSize } = this.o;
    this.stopSide(new RpmsgError('ECONNRESET', `${this.o.name}: reset by the host`));
    // The handle parsed at bring-up: a table the remote has since scribbled on cannot stop the
    // reset (the remote writes a fresh one as its acknowledgement).
    const vdev = this.vdev;
    vdev.setGfeatures(RESET_MARK);
    vdev.setStatus(0);
    this.o.bell.kick();
    const deadline = Date.now() + (this.o.resetTimeoutMs ?? 5000);
    for (;;) {
      await new Promise((r) => setTimeout(r, 1));
      if (this.closed) throw new RpmsgError('ENODEV', `${this.o.name} closed during reset`);
      let fresh = false;
      try {
        const v = readRpmsgMemory(region, rscOffset, rscSize).vdev;
        fresh = v.status() === 0 && v.gfeatures() === 0;
      } catch {
        // the remote is rewriting its table
      }
      if (fresh) break;
      if (Date.now() > deadline) throw new RpmsgError('ETIMEDOUT', `${this.o.name}: the remote did not acknowledge the reset`);
    }
    this.bringUp();
  }

  private bringUp(): void {
    const o = this.o;
    const mem = readRpmsgMemory(o.region, o.rscOffset, o.rscSize);
    this.vdev = mem.vdev;
    this.side = startHostSide({
      name: o.name,
      bus: o.bus,
      region: o.region,
      mem,
      pool: o.pool,
      notify: () => o.bell.kick(),
      host: o.host,
      limits: o.limits,
    });
    const link = this.side.link;
    this.upSince = Date.now();
    link.once('down', (e) => this.onDown(link, e));
    this.loop = new PollLoop(this.side.transport, o.bell, o.poll);
    this.loop.start();
    if (o.watchdog !== undefined) this.startWatchdog(link, o.watchdog.timeoutMs);
    this.emit('up', link);
  }

  private onDown(link: RpmsgLink, e: RpmsgError): void {
    this.loop?.stop();
    clearInterval(this.watchdog);
    this.emit('down', e);
    if (this.closed || this.inReset || link !== this.side.link) return;
    const policy = this.o.autoReset;
    if (policy === undefined || policy === false) return;
    const p = policy === true ? {} : policy;
    if (Date.now() - this.upSince >= (p.stableMs ?? 5000)) this.resetsInRow = 0;
    if (this.resetsInRow >= (p.maxResets ?? 3)) {
      reportError(this, new RpmsgError('ENODEV', `${this.o.name}: gave up after ${this.resetsInRow} resets`, undefined, { cause: e }));
      return;
    }
    const delay = (p.backoffMs ?? 100) * 2 ** this.resetsInRow++;
    this.resetTimer = setTimeout(() => void this.reset().catch((err: unknown) => reportError(this, err)), delay);
    this.resetTimer.unref?.();
  }

  /** Senders wait and no tx buffer came back for `timeoutMs`: the remote is alive but dead. */
  private startWatchdog(link: RpmsgLink, timeoutMs: number): void {
    let last = link.stats.txMessages;
    let since = Date.now();
    this.watchdog = setInterval(() => {
      if (link.txWaiters === 0 || link.stats.txMessages !== last) {
        last = link.stats.txMessages;
        since = Date.now();
      } else if (Date.now() - since >= timeoutMs) {
        this.side.transport.destroy(new RpmsgError('ETIMEDOUT', `${this.o.name}: no tx buffer came back in ${timeoutMs} ms (watchdog)`, { timeoutMs }));
      }
    }, Math.max(1, Math.min(timeoutMs / 4, 1000)));
    this.watchdog.unref?.();
  }

  private stopSide(reason: Error): void {
    this.loop?.stop();
    clearInterval(this.watchdog);
    this.side.transport.destroy(reason);
  }

  /** Graceful: the link releases its channels (announcing), then stops. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.resetTimer);
    this.loop?.stop();
    clearInterval(this.watchdog);
    this.side.transport.close();
  }

  /** Abortive: the link goes down with `reason`. Idempotent. */
  destroy(reason?: Error): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.resetTimer);
    this.stopSide(reason ?? new RpmsgError('ENODEV', `${this.o.name} destroyed`));
  }
}
