/**
 * rpmsg through the Linux kernel's char devices (drivers/rpmsg/rpmsg_char.c, rpmsg_ctrl.c), a
 * transport beside virtio as GLINK and SMD are in Linux: the kernel owns the vrings, this side
 * is a user-space program on the host. The same `RpmsgBus`, drivers and endpoints run on it.
 *
 * - Channels: the kernel's rpmsg devices of the ctrl device's remote processor, read from
 *   sysfs at start and re-read every `scanIntervalMs` (sysfs sends no inotify events for
 *   devices that come and go); each becomes a bus channel {name, dst} and is released (the
 *   driver's remove runs) when its device disappears. rpmsg_ns and rpmsg_ctrl are not channels.
 * - Endpoints: one kernel endpoint device per local endpoint. A channel the kernel bound to
 *   rpmsg_chrdev ("rpmsg-raw") already has one, at the channel's src: it is opened. Any other
 *   endpoint is made with RPMSG_CREATE_EPT_IOCTL {name, src: our address, dst} on the ctrl
 *   device and destroyed with RPMSG_DESTROY_EPT_IOCTL. One read is one message, one write is
 *   one message; the kernel drops the sender's address, so messages are delivered as coming
 *   from the endpoint's destination, and an endpoint sends only to that destination (ENXIO
 *   for another: rpmsg_char has no sendto).
 * - Nothing blocks the event loop: every fd is O_NONBLOCK, watched for input with libuv
 *   (native/fdio.c). A write that finds no tx buffer (EAGAIN) is the try variants' ENOMEM;
 *   blocking variants wait in the link's queue (15 s). Linux 6.1's virtio transport has no
 *   poll operation (rpmsg_poll returns 0: POLLOUT never comes, checked in the UML guest), so
 *   while senders wait the writes are retried on a timer, 1 ms doubling to `maxRetryMs`.
 * - The remote going away (its virtio device removed: the ctrl device disappears, reads give
 *   EPIPE) takes the link down: drivers' remove runs, waiting senders fail with ENODEV.
 *
 * The ctrl device and sysfs (endpoint devices, the kernel's addresses) are ctrl-device.ts.
 *
 * Lifecycle: open → down (close() or the remote gone); terminal, idempotent.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RpmsgError } from '../errors.js';
import { FD_READABLE, loadNative, type FdWatch, type NativeAddon } from '../native/addon.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import { RpmsgLink } from '../rpmsg/link.js';
import type { RpmsgTransportOps } from '../rpmsg/ops.js';
import { ChannelFollower } from './channel-follower.js';
import { CtrlDevice } from './ctrl-device.js';
import { isGone, mapKernelError } from './errno.js';

const READABLE = FD_READABLE;

export interface KernelTransportOptions {
  /** The remote processor's ctrl device (default /dev/rpmsg_ctrl0). */
  ctrl?: string;
  /** Largest payload. The kernel does not tell user space; virtio_rpmsg_bus: 512 − 16 = 496. */
  mtu?: number;
  /** Re-read sysfs for channels that come and go every this many ms (default 100). */
  scanIntervalMs?: number;
  /** Longest pause between write retries while senders wait for a tx buffer, ms (default 16). */
  maxRetryMs?: number;
  /** Messages read per readiness event of one endpoint before others get a turn (default 64). */
  rxBudget?: number;
  /** Where device nodes are (default /dev). */
  devRoot?: string;
  /** Default /sys/bus/rpmsg/devices. */
  sysfsDevices?: string;
  /** Default /sys/class/rpmsg. */
  sysfsClass?: string;
}

export interface KernelTransportStats {
  /** Writes that found the kernel's tx ring full (EAGAIN). */
  txFull: number;
  channelsAdded: number;
  channelsRemoved: number;
  /** Endpoint devices left behind because open() failed after CREATE_EPT (no fd to destroy them). */
  leakedEndpointDevices: number;
}

const RX_BUFFER = 65536;

class KernelEndpoint {
  watch: FdWatch | undefined = undefined;
  dead = false;
  constructor(
    readonly addr: number,
    readonly dst: number,
    readonly node: string,
    readonly fd: number,
    /** Made by CREATE_EPT (destroyed with DESTROY_EPT), not a channel's own device. */
    readonly own: boolean,
  ) {}
}

export class KernelRpmsgTransport implements RpmsgTransportOps {
  readonly link: RpmsgLink;
  readonly bus: RpmsgBus;
  /** Path of the ctrl device. */
  readonly ctrl: string;
  /** The remote processor's virtio device ("virtio0"). */
  readonly parent: string;
  private readonly ctrlDev: CtrlDevice;
  readonly stats: KernelTransportStats = { txFull: 0, channelsAdded: 0, channelsRemoved: 0, leakedEndpointDevices: 0 };
  private readonly native: NativeAddon;
  private readonly mtu: number;
  private readonly rxBudget: number;
  private readonly devRoot: string;
  private readonly eps = new Map<number, KernelEndpoint>();
  private readonly follower: ChannelFollower;
  private readonly rxBuf = new Uint8Array(RX_BUFFER);
  private readonly rxViews: (Uint8Array | undefined)[] = [];
  private txFull = false;
  private txWaiting = false;
  private retryMs = 1;
  private readonly maxRetryMs: number;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly retryBound = (): void => this.retryTx();
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;
  /** The remote went away: the kernel destroys the endpoint devices itself. */
  private gone = false;

  /** Open the ctrl device, attach a new host-role link to `bus`, and publish the kernel's channels. */
  static open(bus: RpmsgBus, options: KernelTransportOptions = {}): KernelRpmsgTransport {
    const ctrl = options.ctrl ?? '/dev/rpmsg_ctrl0';
    const link = new RpmsgLink(`kernel:${basename(ctrl)}`, 'host');
    bus.addLink(link);
    return new KernelRpmsgTransport(bus, link, options);
  }

  constructor(bus: RpmsgBus, link: RpmsgLink, options: KernelTransportOptions = {}) {
    this.bus = bus;
    this.link = link;
    this.ctrl = options.ctrl ?? '/dev/rpmsg_ctrl0';
    this.mtu = options.mtu ?? 496;
    this.rxBudget = options.rxBudget ?? 64;
    this.maxRetryMs = options.maxRetryMs ?? 16;
    this.devRoot = options.devRoot ?? '/dev';
    this.native = loadNative();
    this.follower = new ChannelFollower(bus, link);
    this.ctrlDev = new CtrlDevice(this.native, this.ctrl, options.sysfsDevices, options.sysfsClass);
    this.parent = this.ctrlDev.parent;
    link.attachTransport(this);
    this.timer = setInterval(() => this.scan(), options.scanIntervalMs ?? 100);
    this.scan();
  }

  // ----------------------------------------------------------------- RpmsgTransportOps

  getMtu(): number {
    return this.mtu;
  }

  canSend(): boolean {
    return !this.closed && !this.txFull;
  }

  trySend(src: number, dst: number, data: Uint8Array): boolean {
    if (this.closed) throw new RpmsgError('ENODEV', 'kernel transport closed');
    if (data.length > this.mtu) throw new RpmsgError('EMSGSIZE', `payload of ${data.length} bytes exceeds the MTU of ${this.mtu}`, { len: data.length, mtu: this.mtu });
    const ep = this.eps.get(src);
    if (ep === undefined) throw new RpmsgError('EINVAL', 'no kernel endpoint at this source address', { src });
    if (ep.dead) throw new RpmsgError('ENODEV', `endpoint device ${ep.node} is gone`, { src });
    if (dst !== ep.dst) {
      throw new RpmsgError('ENXIO', "the kernel's rpmsg char device sends only to the destination it was created with", { src, dst, bound: ep.dst });
    }
    let n: number;
    try {
      n = this.native.write(ep.fd, data);
    } catch (e) {
      if (isGone(e)) this.endpointLost(ep);
      throw mapKernelError(e, `write ${ep.node}`, { src, dst, len: data.length });
    }
    if (n < 0) {
      this.txFull = true;
      this.stats.txFull++;
      return false;
    }
    return true;
  }

  setTxWaiting(waiting: boolean): void {
    if (this.closed) return;
    this.txWaiting = waiting;
    if (!waiting) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.retryMs = 1;
    } else if (this.retryTimer === undefined) {
      this.retryTimer = setTimeout(this.retryBound, this.retryMs);
    }
  }

  /** Senders wait: try again (the link sends in order while writes succeed), back off if still full. */
  private retryTx(): void {
    this.retryTimer = undefined;
    if (this.closed || !this.txWaiting) return;
    this.txFull = false;
    this.link.txReady();
    if (this.closed || !this.txWaiting) return;
    this.retryMs = this.txFull ? Math.min(this.retryMs * 2, this.maxRetryMs) : 1;
    this.retryTimer = setTimeout(this.retryBound, this.retryMs);
  }

  createEndpoint(addr: number, dst: number, name: string): void {
    if (this.closed) throw new RpmsgError('ENODEV', 'kernel transport closed');
    const d = this.ctrlDev.endpointDevice(addr, dst, name, this.eps.keys());
    this.openEndpoint(addr, d.dst, d.node, d.own);
  }

  destroyEndpoint(addr: number): void {
    const ep = this.eps.get(addr);
    if (ep === undefined) return;
    this.eps.delete(addr);
    this.unwatch(ep);
    try {
      // Not while the kernel tears the remote down: its ctrl removal destroys the endpoint
      // devices itself, and a concurrent RPMSG_DESTROY_EPT_IOCTL is a double destroy (a kernel
      // oops in Linux 6.1, seen in the UML guest). Closing the fd is enough then.
      if (ep.own && !ep.dead && !this.gone && !this.ctrlDev.remoteGone()) this.native.rpmsgDestroyEpt(ep.fd);
    } catch (e) {
      if (!isGone(e)) this.link.reportError(mapKernelError(e, `RPMSG_DESTROY_EPT_IOCTL on ${ep.node}`, { addr }));
    } finally {
      ep.dead = true;
      closeSync(ep.fd);
    }
  }

  // ----------------------------------------------------------------- local channels (ctrl)

  /** RPMSG_CREATE_DEV_IOCTL: a local channel in the kernel; with a fixed src it is announced. */
  createDevice(name: string, src: number, dst: number): void {
    this.ctrlDev.device(3, name, src, dst);
  }

  /** RPMSG_RELEASE_DEV_IOCTL: release a channel (the kernel may send an NS destroy). */
  releaseDevice(name: string, src: number, dst: number): void {
    this.ctrlDev.device(4, name, src, dst);
  }

  // ----------------------------------------------------------------- lifecycle

  /** Stop: the link goes down (drivers' remove runs), every endpoint device is destroyed. */
  close(): void {
    if (this.closed) return;
    try {
      this.link.close(); // graceful: channels released (drivers' remove runs), endpoints destroyed
    } finally {
      this.down(new RpmsgError('ENODEV', `kernel transport on ${this.ctrl} closed`));
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private down(reason: RpmsgError, gone = false): void {
    if (this.closed) return;
    this.closed = true;
    this.gone = gone;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    try {
      this.link.destroy(reason); // destroys every endpoint: destroyEndpoint closes the fds
    } finally {
      for (const addr of [...this.eps.keys()]) this.destroyEndpoint(addr);
      this.ctrlDev.close();
    }
  }

  // ----------------------------------------------------------------- internals

  private openEndpoint(addr: number, dst: number, node: string, own: boolean): void {
    let fd: number;
    try {
      fd = openSync(join(this.devRoot, node), constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (e) {
      if (own) this.stats.leakedEndpointDevices++;
      throw mapKernelError(e, `open ${node}`, { addr, dst }, true);
    }
    const ep = new KernelEndpoint(addr, dst, node, fd, own);
    this.eps.set(addr, ep);
    this.arm(ep);
  }

  /** Watch `ep` for messages (level-triggered). */
  private arm(ep: KernelEndpoint): void {
    if (ep.dead || ep.watch !== undefined) return;
    ep.watch = this.native.watch(ep.fd, READABLE, (status) => {
      if (ep.dead || this.closed) return;
      if (status < 0) this.endpointLost(ep);
      else this.drain(ep);
    });
  }

  private unwatch(ep: KernelEndpoint): void {
    if (ep.watch !== undefined) this.native.unwatch(ep.watch);
    ep.watch = undefined;
  }

  /** Read up to rxBudget messages; level-triggered readiness brings us back for the rest. */
  private drain(ep: KernelEndpoint): void {
    const native = this.native;
    for (let i = 0; i < this.rxBudget; i++) {
      let n: number;
      try {
        n = native.read(ep.fd, this.rxBuf);
      } catch (e) {
        if (isGone(e)) this.endpointLost(ep);
        else this.link.reportError(mapKernelError(e, `read ${ep.node}`, { addr: ep.addr }));
        return;
      }
      if (n < 0) return;
      let v = this.rxViews[n];
      if (v === undefined) v = this.rxViews[n] = this.rxBuf.subarray(0, n);
      this.link.deliver(ep.dst, ep.addr, v);
      if (ep.dead || this.closed) return;
    }
  }

  /** The endpoint's device is gone (EPIPE / POLLERR): the remote is gone, or just this channel. */
  private endpointLost(ep: KernelEndpoint): void {
    if (ep.dead) return;
    this.unwatch(ep);
    ep.dead = true;
    if (this.ctrlDev.remoteGone()) this.down(new RpmsgError('ENODEV', `remote processor behind ${this.ctrl} is gone`), true);
  }

  /** Follow the kernel's channels (ChannelFollower); the ctrl device gone means the remote is. */
  private scan(): void {
    if (this.closed) return;
    if (this.ctrlDev.remoteGone()) {
      this.down(new RpmsgError('ENODEV', `remote processor behind ${this.ctrl} is gone`), true);
      return;
    }
    this.follower.update(this.ctrlDev.ownDevices());
    this.stats.channelsAdded = this.follower.added;
    this.stats.channelsRemoved = this.follower.removed;
  }
}
