/**
 * A remote processor in a worker thread, driven from the main thread in the host role.
 *
 * Boot (what remoteproc does with firmware): lay out a SharedArrayBuffer like a SoC's memory
 * (resource table, vrings, buffer pool, control page), write the firmware's resource table,
 * read it back through the validating parser, set up the host side (rings, rx buffers,
 * gfeatures, DRIVER_OK), start the worker. The main thread never blocks: it waits on its
 * doorbell with Atomics.waitAsync.
 *
 * States: offline → running → stopped | crashed; restart() goes back to running with fresh
 * memory. When the worker throws or exits, the link goes down: channels are removed (drivers'
 * remove runs) and blocked senders are rejected with ENODEV; the host keeps running.
 */
import { EventEmitter, once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { RpmsgError, reportError } from '../errors.js';
import { Region } from '../memory/region.js';
import type { NameService } from '../ns/name-service.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import { publishReset } from '../rpmsg/diagnostics.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { LinkLimits } from '../rpmsg/types.js';
import type { VirtioRpmsgTransport } from '../rpmsg-virtio/virtio-transport.js';
import { VIRTIO_RING_F_EVENT_IDX, VIRTIO_RPMSG_F_NS, featureBit } from '../virtio/constants.js';
import { AtomicsDoorbell, CTRL_WORDS } from './atomics-doorbell.js';
import { HostDevice, type RecoveryOptions } from './host-device.js';
import type { HostBufferOptions } from './start-side.js';
import { computeLayout, writeResourceTable, type LayoutOptions, type MemoryLayout } from './layout.js';
import type { PollLoopOptions } from './poll-loop.js';
import type { WorkerBootData } from './worker-entry.js';

export type RemoteState = 'offline' | 'running' | 'stopped' | 'crashed';

export interface WorkerRemoteEvents {
  state: [state: RemoteState];
  /** A link came up (at start and after each reset). */
  up: [link: RpmsgLink];
  /** The link went down (violation, watchdog, reset, stop); the cause chain says why. */
  down: [error: RpmsgError];
  /** The worker threw or exited unasked (without a listener: 'error', else a process warning). */
  crash: [error: RpmsgError];
  error: [error: Error];
}

export interface WorkerRemoteOptions extends RecoveryOptions {
  /** Firmware module (path or file URL) whose default export runs in the worker. */
  firmware: string | URL;
  /** Remote processor name (default "rprocN"). */
  name?: string;
  /** Passed to the firmware as ctx.options (must be structured-cloneable). */
  options?: Record<string, unknown>;
  /** Memory layout (default: OpenAMP's, with EVENT_IDX offered and a control page). */
  layout?: LayoutOptions;
  /** Host-side buffer configuration. */
  host?: HostBufferOptions;
  /** Spin/park tuning for both sides. */
  poll?: PollLoopOptions;
  limits?: LinkLimits;
  /** Where the firmware's ctx.log lines go (default console.log with a "[name]" prefix). */
  log?: (line: string) => void;
}

let counter = 0;

export class WorkerRemoteProc extends EventEmitter<WorkerRemoteEvents> {
  readonly name: string;
  readonly bus: RpmsgBus;
  private readonly options: WorkerRemoteOptions;
  private worker: Worker | undefined;
  private device: HostDevice | undefined;
  private stopping = false;
  state: RemoteState = 'offline';
  layout: MemoryLayout | undefined;
  region: Region | undefined;

  constructor(bus: RpmsgBus, options: WorkerRemoteOptions) {
    super();
    this.bus = bus;
    this.options = options;
    this.name = options.name ?? `rproc${counter++}`;
  }

  /** The name service of the current link, when negotiated. */
  get ns(): NameService | undefined {
    return this.device?.ns;
  }

  /** The current link (a new one after each reset). */
  get link(): RpmsgLink | undefined {
    return this.device?.link;
  }

  get transport(): VirtioRpmsgTransport | undefined {
    return this.device?.transport;
  }

  /**
   * Virtio device reset (docs/lifecycle.md): the link goes down, the remote starts over and
   * re-announces, the channels come back; the worker keeps running.
   */
  async reset(): Promise<void> {
    if (this.device === undefined || this.state !== 'running') throw new RpmsgError('ENODEV', `${this.name} is not running`);
    publishReset(this.name, 'reset');
    await this.device.reset();
  }

  /** Boot the firmware; resolves once it has run its start-up (its announcements are sent). */
  async start(): Promise<void> {
    if (this.state === 'running') throw new RpmsgError('EALREADY', `${this.name} is running`);
    const o = this.options;
    const layout = computeLayout({
      dfeatures: featureBit(VIRTIO_RPMSG_F_NS) | featureBit(VIRTIO_RING_F_EVENT_IDX),
      ...o.layout,
      control: true,
    });
    const sab = new SharedArrayBuffer(layout.size);
    const region = new Region(sab);
    writeResourceTable(region, layout);
    const bell = new AtomicsDoorbell(new Int32Array(sab, layout.control!, CTRL_WORDS), 'host');
    const device = HostDevice.create({ name: this.name, bus: this.bus, region, bell }, layout, o);
    device.forwardTo(this);
    this.device = device;
    const link = device.link;
    this.layout = layout;
    this.region = region;
    this.stopping = false;

    const firmware = o.firmware instanceof URL ? o.firmware.href : o.firmware;
    const data: WorkerBootData = { name: this.name, sab, layout, firmware, options: o.options ?? {}, poll: o.poll ?? {} };
    const worker = new Worker(new URL('./worker-entry.js', import.meta.url), { workerData: data });
    this.worker = worker;
    const log = o.log ?? ((line: string) => console.log(`[${this.name}] ${line}`));
    worker.on('message', (m: { type?: string; line?: string }) => {
      if (m.type === 'log' && typeof m.line === 'string') log(m.line);
    });
    worker.on('error', (e) => this.lost(worker, 'crashed', e));
    worker.on('exit', (code) => this.lost(worker, this.stopping ? 'stopped' : 'crashed', new RpmsgError('ENODEV', `${this.name} exited with code ${code}`)));

    const ready = new Promise<void>((resolve, reject) => {
      const onMsg = (m: { type?: string }): void => {
        if (m.type === 'ready') {
          cleanup();
          resolve();
        }
      };
      const onExit = (): void => {
        cleanup();
        reject(link.downError ?? new RpmsgError('ENODEV', `${this.name} failed to boot`));
      };
      const cleanup = (): void => {
        worker.off('message', onMsg);
        worker.off('exit', onExit);
      };
      worker.on('message', onMsg);
      worker.on('exit', onExit);
    });
    this.state = 'running';
    this.emit('state', this.state);
    await ready;
  }

  /** Graceful stop: the firmware's onStop handlers run, then the worker ends. Idempotent. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined || this.state !== 'running') return;
    this.stopping = true;
    const exited = once(worker, 'exit');
    worker.postMessage({ type: 'stop' });
    const timer = setTimeout(() => void worker.terminate(), 2000);
    await exited.catch(() => undefined);
    clearTimeout(timer);
  }

  /** Stop (if running) and boot again with fresh memory; channels come back through the name service. */
  async restart(): Promise<void> {
    publishReset(this.name, 'restart');
    await this.close();
    await this.start();
  }

  /** Abortive: terminate the worker at once (as a crash would). Idempotent. */
  async destroy(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined || this.state !== 'running') return;
    await worker.terminate();
  }

  private lost(worker: Worker, state: RemoteState, error: Error): void {
    if (worker !== this.worker || this.state !== 'running') return;
    this.state = state;
    const reason =
      state === 'stopped'
        ? new RpmsgError('ENODEV', `${this.name} stopped`)
        : new RpmsgError('ENODEV', `${this.name} crashed: ${error.message}`, undefined, { cause: error });
    this.device?.destroy(reason);
    if (state === 'crashed') {
      if (this.listenerCount('crash') > 0) this.emit('crash', reason);
      else reportError(this, reason);
    }
    this.emit('state', state);
    if (state === 'crashed') void worker.terminate();
  }
}

/** Create and boot a worker remote on `bus`. */
export async function startWorkerRemote(bus: RpmsgBus, options: WorkerRemoteOptions): Promise<WorkerRemoteProc> {
  const rp = new WorkerRemoteProc(bus, options);
  await rp.start();
  return rp;
}
