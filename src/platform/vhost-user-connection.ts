/**
 * One front-end connection of the vhost-user back-end: reads messages off the socket as it
 * becomes readable (libuv readiness through the native addon: nothing blocks the event loop),
 * hands them to the protocol state (vhost-user-device.ts), sends the replies, and runs the
 * rpmsg remote on the rings while they are up.
 *
 * Notifications: the guest kicks an eventfd per vring (8-byte counter reads), we signal it by
 * writing 8 bytes to its call fd. The rpmsg side starts on the first kick of vring 0 after
 * both vrings are enabled: Linux's virtio_rpmsg_bus kicks it right after DRIVER_OK ("the
 * remote may start sending"), which vhost-user does not otherwise tell the device.
 *
 * Any protocol violation (a VhostUserError), a virtqueue violation, or the front-end going
 * away closes this connection and releases everything it held; the server keeps serving.
 */
import { RpmsgError } from '../errors.js';
import { FD_READABLE, type FdWatch, type NativeAddon } from '../native/addon.js';
import type { Region } from '../memory/region.js';
import type { RingPlacement } from '../virtio/vring-layout.js';
import { PollLoop, type Doorbell, type Pollable } from './poll-loop.js';
import { VhostUserDevice } from './vhost-user-device.js';
import { VHOST_USER_FLAG_NEED_REPLY, VhostUserReader, encodeU64Reply, type VhostUserMessage } from './vhost-user-message.js';

/** What the rpmsg side gets once the rings are up. */
export interface VhostUserRings {
  region: Region;
  vrings: [RingPlacement, RingPlacement];
  /** Feature bits the front-end accepted (SET_FEATURES). */
  features: bigint;
  /** Signal the guest about vring `queue` (its call fd). */
  notify: (queue: 0 | 1) => void;
}

/** The rpmsg side running on the rings. */
export interface VhostUserAttachment {
  readonly transport: Pollable & { readonly rxVq: { consumedIdx: number }; readonly txVq: { consumedIdx: number } };
  /** Stop using the rings (the link goes down with `reason`). */
  stop(reason: RpmsgError): void;
}

export interface VhostUserConnectionOptions {
  native: NativeAddon;
  /** The connected socket (owned: closed with the connection). */
  fd: number;
  features: bigint;
  protocolFeatures: bigint;
  maxVringNum?: number;
  requireSealedMemory?: boolean;
  /** Start the rpmsg side on the rings (may throw: the connection then closes). */
  attach: (rings: VhostUserRings) => VhostUserAttachment;
  /** The connection is gone; `error` is why, undefined for the front-end hanging up cleanly. */
  onClose: (error: Error | undefined) => void;
  /** Each message handled (for traces and tests). */
  onMessage?: (msg: VhostUserMessage) => void;
}

/** Kicks received on the vrings' eventfds, as the PollLoop's doorbell. */
class KickBell implements Doorbell {
  received = 0;
  private waiter: (() => void) | null = null;
  kick(): void {
    // The transport signals through `notify(queue)`; nothing to do here.
  }
  seq(): number {
    return this.received;
  }
  setParked(): void {}
  waitAsync(seq: number): Promise<unknown> | null {
    if (this.received !== seq) return null;
    return new Promise<void>((resolve) => (this.waiter = resolve));
  }
  ring(): void {
    this.received++;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

export class VhostUserConnection {
  readonly device: VhostUserDevice;
  private readonly o: VhostUserConnectionOptions;
  private readonly native: NativeAddon;
  private readonly reader: VhostUserReader;
  private readonly sockWatch: FdWatch;
  private readonly kickWatch: (FdWatch | undefined)[] = [undefined, undefined];
  private bell = new KickBell();
  private armed = false;
  private attachment: VhostUserAttachment | undefined;
  private loop: PollLoop | undefined;
  private closed = false;
  /** Calls written to the guest, and ones that failed (guest gone). */
  calls = 0;
  callErrors = 0;

  constructor(options: VhostUserConnectionOptions) {
    this.o = options;
    this.native = options.native;
    this.reader = new VhostUserReader(options.native, options.fd);
    this.device = new VhostUserDevice({
      native: options.native,
      features: options.features,
      protocolFeatures: options.protocolFeatures,
      ...(options.maxVringNum !== undefined ? { maxVringNum: options.maxVringNum } : {}),
      ...(options.requireSealedMemory !== undefined ? { requireSealedMemory: options.requireSealedMemory } : {}),
      onStart: () => this.arm(),
      onStop: () => this.detach(new RpmsgError('ENODEV', 'the front-end stopped the vrings')),
      onKickChanged: (i) => this.watchKick(i),
    });
    this.device.onGetBase = (i) => (i === 0 ? this.attachment?.transport.txVq : this.attachment?.transport.rxVq)?.consumedIdx ?? 0;
    this.sockWatch = this.native.watch(options.fd, FD_READABLE, () => this.onReadable());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether the rpmsg side is running on the rings. */
  get attached(): boolean {
    return this.attachment !== undefined;
  }

  /** Close the connection and release everything (idempotent). */
  close(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.native.unwatch(this.sockWatch);
    this.detach(new RpmsgError('ENODEV', 'vhost-user connection closed', undefined, error !== undefined ? { cause: error } : undefined));
    this.reader.dispose();
    this.device.close();
    this.native.close(this.o.fd);
    this.o.onClose(error);
  }

  private onReadable(): void {
    let msg: VhostUserMessage | null | 'eof' = null;
    try {
      while (!this.closed) {
        msg = this.reader.next();
        if (msg === null) return;
        if (msg === 'eof') return this.close();
        const reply = this.device.handle(msg);
        for (const fd of msg.fds.splice(0)) this.native.close(fd); // fds the request did not take
        if (reply !== undefined) this.send(reply);
        this.o.onMessage?.(msg);
      }
    } catch (e) {
      if (msg !== null && msg !== 'eof') {
        for (const fd of msg.fds.splice(0)) this.native.close(fd);
        // Tell a front-end that asked for an ack that this message failed, then hang up.
        if ((msg.flags & VHOST_USER_FLAG_NEED_REPLY) !== 0) this.trySend(encodeU64Reply(msg.request, 1n));
      }
      this.close(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private send(bytes: Uint8Array): void {
    // A reply is 20 bytes on a socket the front-end drains between requests: a full socket
    // means it stopped reading, which we treat as a broken connection.
    const n = this.native.sendFds(this.o.fd, bytes, []);
    if (n !== bytes.length) throw new RpmsgError('EPIPE', 'the front-end does not read its replies', { sent: n });
  }

  private trySend(bytes: Uint8Array): void {
    try {
      this.native.sendFds(this.o.fd, bytes, []);
    } catch {
      // the front-end is already gone; closing follows
    }
  }

  /** Both vrings usable: watch the kicks; the rpmsg side starts on vring 0's first kick. */
  private arm(): void {
    this.armed = true;
    this.bell = new KickBell();
    this.watchKick(0);
    this.watchKick(1);
  }

  private watchKick(index: number): void {
    const old = this.kickWatch[index];
    if (old !== undefined) this.native.unwatch(old);
    const fd = this.device.kickFd(index);
    this.kickWatch[index] = this.native.watch(fd, FD_READABLE, () => this.onKick(index, fd));
  }

  private onKick(index: number, fd: number): void {
    if (this.closed) return;
    try {
      if (this.native.eventfdRead(fd) === 0) return;
    } catch (e) {
      return this.close(e instanceof Error ? e : new Error(String(e)));
    }
    if (this.armed && this.attachment === undefined) {
      if (index !== 0) return; // nothing to receive before a channel exists
      this.start();
    }
    this.bell.ring();
  }

  private start(): void {
    const d = this.device;
    try {
      this.attachment = this.o.attach({
        region: d.region().region,
        vrings: [d.placement(0), d.placement(1)],
        features: d.features,
        notify: (q) => this.notify(q),
      });
    } catch (e) {
      return this.close(e instanceof Error ? e : new Error(String(e)));
    }
    // Ring notifications drive the loop; no spinning against a guest on the same CPUs.
    this.loop = new PollLoop(this.attachment.transport, this.bell, { spinWindowMs: 0 });
    this.loop.start();
  }

  private notify(queue: 0 | 1): void {
    const fd = this.device.callFd(queue);
    if (fd < 0 || this.closed) return;
    try {
      this.native.eventfdWrite(fd, 1);
      this.calls++;
    } catch {
      this.callErrors++; // the guest closed its end: the socket closes next
    }
  }

  private detach(reason: RpmsgError): void {
    this.armed = false;
    for (let i = 0; i < this.kickWatch.length; i++) {
      const w = this.kickWatch[i];
      if (w !== undefined) this.native.unwatch(w);
      this.kickWatch[i] = undefined;
    }
    this.loop?.stop();
    this.loop = undefined;
    const a = this.attachment;
    this.attachment = undefined;
    a?.stop(reason);
    this.bell.ring(); // let a parked loop see it is stopped
  }
}
