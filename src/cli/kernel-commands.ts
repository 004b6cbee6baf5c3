/**
 * `rpmsg host --kernel` and `rpmsg ls --kernel`: the host role through the Linux kernel's rpmsg
 * char devices (on a board, or in the UML guest), instead of this package's own virtio host.
 */
import { readdirSync } from 'node:fs';
import { RpmsgBus } from '../rpmsg/bus.js';
import { RPMSG_ADDR_ANY } from '../rpmsg/constants.js';
import type { RpmsgDriver } from '../rpmsg/driver.js';
import { KernelRpmsgTransport } from '../rpmsg-char/char-transport.js';
import { SYSFS_RPMSG_CLASS, listDevices, readEndpointDevice } from '../rpmsg-char/sysfs.js';
import { defineCommand, type CommandContext } from './command.js';
import { UsageError, flag, jsonFlag } from './flags.js';
import { ECHO_SERVICE } from './process-flags.js';

export interface KernelHostResult {
  service: string;
  messages: number;
  errors: number;
  ok: boolean;
}

/**
 * `rpmsg host --kernel`: the ping driver (`driver`, from host.ts) on a bus whose transport is
 * the kernel's char devices behind `ctrl`.
 */
export async function runKernelHost(
  o: { ctrl: string; timeout: number; json: boolean },
  ctx: CommandContext,
  driver: (ctx: CommandContext, finish: (r: KernelHostResult) => void) => RpmsgDriver,
): Promise<number> {
  const bus = new RpmsgBus();
  let finish!: (r: KernelHostResult) => void;
  const done = new Promise<KernelHostResult>((r) => (finish = r));
  let t0 = 0n;
  bus.on('bound', () => (t0 = process.hrtime.bigint()));
  bus.registerDriver(driver(ctx, finish));
  const failed = (why: string): void => {
    ctx.warn(`rpmsg host: ${why}`);
    finish({ service: ECHO_SERVICE, messages: 0, errors: 0, ok: false });
  };
  const transport = KernelRpmsgTransport.open(bus, { ctrl: o.ctrl });
  ctx.log(`rpmsg host: ${o.ctrl} (${transport.parent}); waiting for "${ECHO_SERVICE}"`);
  let closing = false;
  transport.link.on('down', () => {
    if (!closing) failed('remote gone');
  });
  const timer = setTimeout(() => failed(`timed out after ${o.timeout} ms`), o.timeout);
  const onAbort = (): void => failed('interrupted');
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const result = await done;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  clearTimeout(timer);
  ctx.signal.removeEventListener('abort', onAbort);
  if (result.messages > 0) ctx.warn(`rpmsg host: ${result.messages} round trips through the kernel in ${ms.toFixed(1)} ms`);
  closing = true;
  transport.close();
  if (o.json) ctx.json({ ...result, ms });
  return result.ok ? 0 : 1;
}

const addr = (a: number): string => (a === RPMSG_ADDR_ANY ? 'any' : `0x${a.toString(16)}`);

/** The kernel's rpmsg devices (channels), ctrl devices and endpoint devices. */
export function runKernelLs(ctx: CommandContext, json: boolean): number {
  const log = (l: string): void => ctx.log(l);
  const devices = listDevices();
  let nodes: string[] = [];
  try {
    nodes = readdirSync(SYSFS_RPMSG_CLASS).sort();
  } catch {
    // no rpmsg class: no rpmsg_char/rpmsg_ctrl in this kernel, or no device yet
  }
  const endpoints = nodes.flatMap((n) => {
    const info = /^rpmsg\d+$/.test(n) ? readEndpointDevice(n) : undefined;
    return info === undefined ? [] : [{ node: n, ...info }];
  });
  if (json) {
    ctx.json({ devices, ctrl: nodes.filter((n) => n.startsWith('rpmsg_ctrl')), endpoints });
    return 0;
  }
  if (devices.length === 0) log('no rpmsg devices (is a remote processor running? /sys/bus/rpmsg/devices is empty)');
  for (const d of devices) {
    const extra = [d.driver !== undefined ? `driver ${d.driver}` : 'no driver', d.driverOverride ? `override ${d.driverOverride}` : '']
      .concat(d.chardevs.map((c) => `/dev/${c}`))
      .filter((s) => s !== '');
    log(`${d.device}: "${d.name}" ${addr(d.src)} -> ${addr(d.dst)} (${extra.join(', ')})`);
  }
  for (const e of endpoints) log(`/dev/${e.node}: endpoint "${e.name}" ${addr(e.src)} -> ${addr(e.dst)}`);
  return 0;
}

/** `rpmsg ls --kernel` (the daemon-based `rpmsg ls` is another command's job). */
export const lsKernelCommand = defineCommand({
  name: 'ls',
  summary: "lists the Linux kernel's rpmsg devices (--kernel): channels, ctrl and endpoint devices",
  description: 'Reads /sys/bus/rpmsg/devices and /sys/class/rpmsg: each channel with its addresses, bound\ndriver, driver_override and char devices (/dev/rpmsgN, /dev/ttyRPMSGN, /dev/rpmsg_ctrlN).',
  flags: {
    kernel: flag.boolean({ help: "the kernel's devices (sysfs)" }),
    json: jsonFlag,
  },
  run(v, ctx) {
    if (!v.kernel) throw new UsageError('only --kernel is available');
    return Promise.resolve(runKernelLs(ctx, v.json));
  },
});
