/**
 * Both roles in one thread over one SharedArrayBuffer: the stack alone, with no worker and no
 * doorbell. A kick schedules the other side's poll (once per event-loop turn), or, with
 * `manual: true`, only records it so a test drives everything with `pump()`.
 */
import { Region } from '../memory/region.js';
import type { NameService } from '../ns/name-service.js';
import { RpmsgBus } from '../rpmsg/bus.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { LinkLimits } from '../rpmsg/types.js';
import type { VirtioRpmsgTransport } from '../rpmsg-virtio/virtio-transport.js';
import { VIRTIO_RING_F_EVENT_IDX, VIRTIO_RPMSG_F_NS, featureBit } from '../virtio/constants.js';
import { computeLayout, readRpmsgMemory, writeResourceTable, type LayoutOptions, type MemoryLayout } from './layout.js';
import { startHostSide, startRemoteSide, type HostBufferOptions } from './start-side.js';

export interface LoopbackSide {
  bus: RpmsgBus;
  link: RpmsgLink;
  transport: VirtioRpmsgTransport;
  ns: NameService | undefined;
  /** Kicks received from the other side. */
  kicks: number;
}

export interface LoopbackOptions {
  hostBus?: RpmsgBus;
  remoteBus?: RpmsgBus;
  layout?: LayoutOptions;
  host?: HostBufferOptions;
  /** Features the remote side supports (default NS | EVENT_IDX). */
  remoteFeatures?: number;
  limits?: LinkLimits;
  /** Do not schedule polls on kicks; call pump(). */
  manual?: boolean;
}

export class Loopback {
  readonly region: Region;
  readonly layout: MemoryLayout;
  readonly host: LoopbackSide;
  readonly remote: LoopbackSide;
  private readonly manual: boolean;
  private scheduled = false;
  private readonly pumpBound: () => void;

  constructor(options: LoopbackOptions = {}) {
    this.manual = options.manual ?? false;
    this.pumpBound = () => {
      this.scheduled = false;
      this.pump();
    };
    this.layout = computeLayout({
      dfeatures: featureBit(VIRTIO_RPMSG_F_NS) | featureBit(VIRTIO_RING_F_EVENT_IDX),
      ...options.layout,
    });
    this.region = new Region(new SharedArrayBuffer(this.layout.size));
    writeResourceTable(this.region, this.layout);
    const mem = readRpmsgMemory(this.region, this.layout.rscOffset, this.layout.rscSize);
    const hostBus = options.hostBus ?? new RpmsgBus();
    const remoteSide = { kicks: 0 } as LoopbackSide;
    const hostSide: LoopbackSide = {
      bus: hostBus,
      kicks: 0,
      ...startHostSide({
        name: 'loopback-host',
        bus: hostBus,
        region: this.region,
        mem,
        pool: this.layout.pool,
        notify: () => this.kick(remoteSide),
        host: options.host,
        limits: options.limits,
      }),
    };
    const remoteBus = options.remoteBus ?? new RpmsgBus();
    Object.assign(remoteSide, {
      bus: remoteBus,
      ...startRemoteSide({
        name: 'loopback-remote',
        bus: remoteBus,
        region: this.region,
        mem,
        notify: () => this.kick(hostSide),
        bufferWindow: this.layout.pool,
        features: options.remoteFeatures,
        limits: options.limits,
      }),
    });
    this.host = hostSide;
    this.remote = remoteSide;
  }

  private kick(to: LoopbackSide): void {
    to.kicks++;
    if (!this.manual && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.pumpBound);
    }
  }

  /** Poll both sides until neither has anything left; returns the messages processed. */
  pump(): number {
    let total = 0;
    for (;;) {
      // A closed side processes nothing but may still show pending work: stop, or spin forever.
      if (this.host.transport.isClosed || this.remote.transport.isClosed) return total;
      this.host.transport.flush();
      this.remote.transport.flush();
      const n = this.remote.transport.poll() + this.host.transport.poll();
      total += n;
      if (n === 0 && !this.host.transport.hasWork() && !this.remote.transport.hasWork()) return total;
    }
  }

  /** Graceful: both sides release their channels (announcing), then stop. Idempotent. */
  close(): void {
    this.host.transport.close();
    this.remote.transport.close();
  }

  /** Abortive: both sides go down with `reason`. Idempotent. */
  destroy(reason?: Error): void {
    this.host.transport.destroy(reason);
    this.remote.transport.destroy(reason);
  }
}
