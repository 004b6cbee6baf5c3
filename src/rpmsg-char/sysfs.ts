/**
 * What the kernel says about its rpmsg devices, read from sysfs (Linux rpmsg_core.c device
 * attributes; rpmsg_char.c and rpmsg_ctrl.c class devices):
 *
 *   /sys/bus/rpmsg/devices/<dev>/{name,src,dst,driver_override}, driver -> ../drivers/<drv>
 *                                                     (src/dst as 0x%x: 0xffffffff = ANY)
 *   /sys/bus/rpmsg/devices/<dev>/rpmsg/rpmsgN         the channel's char device (rpmsg-raw)
 *   /sys/bus/rpmsg/devices/<dev>/tty/ttyRPMSGN         rpmsg_tty's tty
 *   /sys/class/rpmsg/rpmsg_ctrlN/device -> <dev>       the ctrl device's rpmsg device
 *   /sys/class/rpmsg/rpmsgN/{name,src,dst}             endpoint devices (src/dst as %d: -1 = ANY)
 *
 * `<dev>` is "<virtio device>.<service name>.<src>.<dst>"; channels of one remote processor
 * share the prefix before the first dot. Everything read here is treated as untrusted: a file
 * that is missing, too long or not a number makes the entry unusable (undefined), never a throw.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RPMSG_ADDR_ANY } from '../rpmsg/constants.js';

export const SYSFS_RPMSG_DEVICES = '/sys/bus/rpmsg/devices';
export const SYSFS_RPMSG_CLASS = '/sys/class/rpmsg';

/** Longest attribute we read (a name is at most 31 bytes; a number at most 11). */
const MAX_ATTR = 64;

export interface KernelRpmsgDevice {
  /** sysfs device name, e.g. "virtio0.rpmsg-openamp-demo-channel.-1.1024". */
  readonly device: string;
  /** The virtio device it belongs to ("virtio0"): one remote processor. */
  readonly parent: string;
  readonly name: string;
  /** Local address (ADDR_ANY until a driver with a callback bound it). */
  readonly src: number;
  readonly dst: number;
  /** Bound driver ("rpmsg_chrdev", "rpmsg_tty", "rpmsg_ns", "rpmsg_ctrl", ...), if any. */
  readonly driver: string | undefined;
  readonly driverOverride: string | undefined;
  /** The channel's char devices under /dev ("rpmsg3", "ttyRPMSG0", "rpmsg_ctrl0"). */
  readonly chardevs: readonly string[];
}

/** One sysfs attribute, trimmed; undefined when absent, unreadable or oversized. */
export function readAttr(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
  if (text.length > MAX_ATTR) return undefined;
  return text.replace(/\n$/, '');
}

/**
 * A sysfs address. rpmsg_core prints a channel's src/dst as "0x%x"; rpmsg_char prints an
 * endpoint device's as "%d" (u32 through %d: ADDR_ANY is "-1").
 */
export function parseAddress(text: string | undefined): number | undefined {
  if (text !== undefined && /^0x[0-9a-f]{1,8}$/i.test(text)) return Number.parseInt(text.slice(2), 16);
  if (text === undefined || !/^-?\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  if (n === -1) return RPMSG_ADDR_ANY;
  if (n >= 0 && n <= RPMSG_ADDR_ANY) return n;
  if (n < 0 && n >= -0x80000000) return (n >>> 0); // other negative %d prints of a u32
  return undefined;
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function link(path: string): string | undefined {
  try {
    return basename(readlinkSync(path));
  } catch {
    return undefined;
  }
}

/** Read one device's attributes; undefined when it vanished or its attributes do not parse. */
export function readDevice(root: string, device: string): KernelRpmsgDevice | undefined {
  const dir = join(root, device);
  const name = readAttr(join(dir, 'name'));
  const src = parseAddress(readAttr(join(dir, 'src')));
  const dst = parseAddress(readAttr(join(dir, 'dst')));
  if (name === undefined || name === '' || src === undefined || dst === undefined) return undefined;
  const dot = device.indexOf('.');
  const override = readAttr(join(dir, 'driver_override'));
  const chardevs: string[] = [];
  for (const cls of ['rpmsg', 'tty']) for (const d of listDir(join(dir, cls))) if (/^[\w.-]{1,64}$/.test(d)) chardevs.push(d);
  return {
    device,
    parent: dot > 0 ? device.slice(0, dot) : device,
    name,
    src,
    dst,
    driver: link(join(dir, 'driver')),
    driverOverride: override === undefined || override === '' || override === '(null)' ? undefined : override,
    chardevs,
  };
}

/** Every rpmsg device the kernel has now. */
export function listDevices(root = SYSFS_RPMSG_DEVICES): KernelRpmsgDevice[] {
  const out: KernelRpmsgDevice[] = [];
  for (const d of listDir(root).sort()) {
    const dev = readDevice(root, d);
    if (dev !== undefined) out.push(dev);
  }
  return out;
}

/** The virtio device (remote processor) behind /dev/rpmsg_ctrlN, e.g. "virtio0". */
export function ctrlParent(ctrlPath: string, classRoot = SYSFS_RPMSG_CLASS): string | undefined {
  const dev = link(join(classRoot, basename(ctrlPath), 'device'));
  if (dev === undefined) return undefined;
  const dot = dev.indexOf('.');
  return dot > 0 ? dev.slice(0, dot) : dev;
}

/** An endpoint device's addresses (/sys/class/rpmsg/rpmsgN). */
export function readEndpointDevice(
  node: string,
  classRoot = SYSFS_RPMSG_CLASS,
): { name: string; src: number; dst: number } | undefined {
  const dir = join(classRoot, node);
  const name = readAttr(join(dir, 'name'));
  const src = parseAddress(readAttr(join(dir, 'src')));
  const dst = parseAddress(readAttr(join(dir, 'dst')));
  if (name === undefined || src === undefined || dst === undefined) return undefined;
  return { name, src, dst };
}

/** Endpoint char devices (rpmsgN) that are children of the ctrl device, i.e. made by CREATE_EPT. */
export function listCtrlEndpoints(ctrlPath: string, classRoot = SYSFS_RPMSG_CLASS): string[] {
  return listDir(join(classRoot, basename(ctrlPath))).filter((d) => /^rpmsg\d{1,9}$/.test(d));
}
