/**
 * The remote role, shared by worker and process platforms (OpenAMP firmware's sequence): wait
 * for DRIVER_OK, take the rings the host set up, start the name service, run the firmware
 * module — and, beyond OpenAMP, start over when the host resets the device (status 0), so
 * channels come back without restarting either side. See docs/lifecycle.md.
 */
import { pathToFileURL } from 'node:url';
import { RpmsgError, describeError } from '../errors.js';
import type { Region } from '../memory/region.js';
import { RpmsgBus } from '../rpmsg/bus.js';
import type { VirtioRpmsgTransport } from '../rpmsg-virtio/virtio-transport.js';
import { VIRTIO_CONFIG_S_NEEDS_RESET } from '../virtio/constants.js';
import type { Firmware, FirmwareContext } from './firmware.js';
import { readRpmsgMemory, writeResourceTable, type MemoryLayout, type ParsedRpmsgMemory } from './layout.js';
import { PollLoop, type Doorbell, type PollLoopOptions } from './poll-loop.js';
import { startRemoteSide } from './start-side.js';

export interface RemoteBootOptions {
  name: string;
  region: Region;
  /** Where the resource table and pool are; or `mem` when the platform has no table in memory (vhost-user). */
  layout?: Pick<MemoryLayout, 'rscOffset' | 'rscSize' | 'pool'>;
  mem?: ParsedRpmsgMemory;
  notify: (queue: 0 | 1) => void;
  options?: Record<string, unknown>;
  log: (line: string) => void;
  /** Restrict host buffers to the pool (default true). */
  poolOnly?: boolean;
  features?: number;
}

export interface RemoteRuntime {
  transport: VirtioRpmsgTransport;
  ctx: FirmwareContext;
  /** Run the stop handlers the firmware registered. */
  runStopHandlers(): Promise<void>;
}

/** Poll the status byte every 1 ms until DRIVER_OK (as OpenAMP does). */
export function waitDriverOk(region: Region, layout: Pick<MemoryLayout, 'rscOffset' | 'rscSize'>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return waitStatus(region, layout, (vdev) => vdev.driverOk(), 'DRIVER_OK', timeoutMs, signal);
}

async function waitStatus(
  region: Region,
  layout: Pick<MemoryLayout, 'rscOffset' | 'rscSize'>,
  ok: (vdev: ReturnType<typeof readRpmsgMemory>['vdev']) => boolean,
  what: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (ok(readRpmsgMemory(region, layout.rscOffset, layout.rscSize).vdev)) return;
    } catch {
      // table not written yet
    }
    if (signal?.aborted) throw new RpmsgError('ABORT_ERR', `aborted while waiting for ${what}`);
    if (Date.now() > deadline) throw new RpmsgError('ETIMEDOUT', `host did not set ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

export function bootRemote(o: RemoteBootOptions): RemoteRuntime {
  const bus = new RpmsgBus();
  const { link, transport, ns } = startRemoteSide({
    name: o.name,
    bus,
    region: o.region,
    mem: o.mem ?? readRpmsgMemory(o.region, o.layout?.rscOffset ?? 0, o.layout?.rscSize ?? 0),
    notify: o.notify,
    bufferWindow: o.poolOnly === false ? undefined : o.layout?.pool,
    features: o.features,
  });
  const stopHandlers: Array<() => void | Promise<void>> = [];
  const ctx: FirmwareContext = {
    name: o.name,
    bus,
    link,
    ns,
    options: o.options ?? {},
    createEndpoint: (cb, opts) => link.createEndpoint(cb, opts),
    log: o.log,
    region: o.region,
    notify: () => o.notify(0),
    onStop: (fn) => {
      stopHandlers.push(fn);
    },
  };
  return {
    transport,
    ctx,
    runStopHandlers: async () => {
      for (const fn of stopHandlers) await fn();
    },
  };
}

/** Import a firmware module and run its default export. */
export async function runFirmware(firmware: string, ctx: FirmwareContext): Promise<void> {
  const url = /^[a-z]+:/i.test(firmware) ? firmware : pathToFileURL(firmware).href;
  const mod = (await import(url)) as { default?: unknown };
  if (typeof mod.default !== 'function') {
    throw new RpmsgError('EINVAL', `firmware ${firmware} has no default export function`);
  }
  await (mod.default as Firmware)(ctx);
}

export interface ServeRemoteOptions extends Omit<RemoteBootOptions, 'layout'> {
  layout: MemoryLayout;
  bell: Doorbell;
  poll?: PollLoopOptions | undefined;
  /** Runs the firmware on each boot (a module, or a setup function). */
  run: (ctx: FirmwareContext) => Promise<void>;
  /** Ends the service: 'close' lets the link announce its endpoints' destruction, 'destroy' does not. */
  signal: AbortSignal;
  stop: 'close' | 'destroy';
  /** Longest wait for the first DRIVER_OK (later ones wait as long as the service runs). */
  bootTimeoutMs: number;
  /** The host set DRIVER_OK (before the firmware runs). */
  onBoot?: () => void;
  /** The firmware ran: its endpoints are announced. */
  onUp?: (rt: RemoteRuntime) => void;
  /** The link went down (reset, violation, stop). */
  onDown?: (reason: RpmsgError) => void;
}

/** Whether the link went down because the host reset the device. */
export function isReset(reason: Error | undefined): boolean {
  for (let c: unknown = reason; c instanceof Error; c = c.cause) if ((c as RpmsgError).code === 'ECONNRESET') return true;
  return false;
}

/**
 * Serve the host until `signal` aborts: boot on DRIVER_OK, run the firmware, and after each
 * reset start over. A violation this side sees takes its link down and sets
 * DEVICE_NEEDS_RESET (virtio §2.1.2) for the host to see; this side then waits for the reset.
 * The reset's acknowledgement is a fresh resource table (status 0, gfeatures 0), written as a
 * firmware writes it at boot; the host waits for it before it sets the rings up again.
 * Rejects when the firmware throws at start-up.
 */
export async function serveRemote(o: ServeRemoteOptions): Promise<void> {
  const { region, layout, signal } = o;
  for (let boot = 0; !signal.aborted; boot++) {
    try {
      await waitDriverOk(region, layout, boot === 0 ? o.bootTimeoutMs : 2 ** 31 - 1, signal);
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
    o.onBoot?.();
    const rt = bootRemote(o);
    const loop = new PollLoop(rt.transport, o.bell, o.poll);
    const down = new Promise<RpmsgError>((resolve) => rt.ctx.link.once('down', resolve));
    const onAbort = (): void => (o.stop === 'close' ? rt.transport.close() : rt.transport.destroy(new RpmsgError('ENODEV', 'service stopped')));
    signal.addEventListener('abort', onAbort, { once: true });
    loop.start();
    try {
      await o.run(rt.ctx);
    } catch (e) {
      rt.transport.destroy(e as Error);
      signal.removeEventListener('abort', onAbort);
      loop.stop();
      throw e;
    }
    if (rt.ctx.link.up) o.onUp?.(rt);
    const reason = await down;
    signal.removeEventListener('abort', onAbort);
    loop.stop();
    await rt.runStopHandlers().catch((e: unknown) => o.log(`stop handler failed: ${describeError(e)}`));
    o.onDown?.(reason);
    if (signal.aborted) return;
    if (!isReset(reason)) {
      const vdev = readRpmsgMemory(region, layout.rscOffset, layout.rscSize).vdev;
      vdev.setStatus(vdev.status() | VIRTIO_CONFIG_S_NEEDS_RESET);
      o.notify(0);
      try {
        await waitStatus(region, layout, (v) => v.status() === 0, 'a reset', 2 ** 31 - 1, signal);
      } catch (e) {
        if (signal.aborted) return;
        throw e;
      }
    }
    writeResourceTable(region, layout);
  }
}
