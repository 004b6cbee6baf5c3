/**
 * The remote role's start-up, shared by worker and process platforms (OpenAMP firmware's
 * sequence): wait for DRIVER_OK, take the rings the host set up, start the name service, run
 * the firmware module.
 */
import { pathToFileURL } from 'node:url';
import { RpmsgError } from '../errors.js';
import type { Region } from '../memory/region.js';
import { RpmsgBus } from '../rpmsg/bus.js';
import type { VirtioRpmsgTransport } from '../rpmsg-virtio/virtio-transport.js';
import type { Firmware, FirmwareContext } from './firmware.js';
import { readRpmsgMemory, type MemoryLayout } from './layout.js';
import { startRemoteSide } from './start-side.js';

export interface RemoteBootOptions {
  name: string;
  region: Region;
  layout: Pick<MemoryLayout, 'rscOffset' | 'rscSize' | 'pool'>;
  notify: () => void;
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

/** Poll the status byte every `intervalMs` until DRIVER_OK (OpenAMP polls every 1 ms). */
export async function waitDriverOk(region: Region, layout: Pick<MemoryLayout, 'rscOffset' | 'rscSize'>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (readRpmsgMemory(region, layout.rscOffset, layout.rscSize).vdev.driverOk()) return;
    } catch {
      // table not written yet
    }
    if (signal?.aborted) throw new RpmsgError('ABORT_ERR', 'aborted while waiting for DRIVER_OK');
    if (Date.now() > deadline) throw new RpmsgError('ETIMEDOUT', 'host did not set DRIVER_OK');
    await new Promise((r) => setTimeout(r, 1));
  }
}

export function bootRemote(o: RemoteBootOptions): RemoteRuntime {
  const bus = new RpmsgBus();
  const { link, transport, ns } = startRemoteSide({
    name: o.name,
    bus,
    region: o.region,
    mem: readRpmsgMemory(o.region, o.layout.rscOffset, o.layout.rscSize),
    notify: o.notify,
    bufferWindow: o.poolOnly === false ? undefined : o.layout.pool,
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
