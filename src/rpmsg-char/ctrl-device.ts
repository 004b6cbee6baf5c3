/**
 * The kernel side of the char-device transport (char-transport.ts) that is not messages: the
 * remote processor's ctrl device (/dev/rpmsg_ctrlN, drivers/rpmsg/rpmsg_ctrl.c) and what sysfs
 * says about it: its rpmsg devices, the endpoint devices it made, the addresses the kernel
 * uses, and where a new local endpoint's device comes from. Runs when endpoints and channels
 * come and go, never per message.
 */
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RpmsgError } from '../errors.js';
import type { NativeAddon } from '../native/addon.js';
import { RPMSG_ADDR_ANY, RPMSG_NS_ADDR } from '../rpmsg/constants.js';
import { errnoOf, mapKernelError } from './errno.js';
import {
  SYSFS_RPMSG_CLASS,
  SYSFS_RPMSG_DEVICES,
  ctrlParent,
  listCtrlEndpoints,
  listDevices,
  readEndpointDevice,
  type KernelRpmsgDevice,
} from './sysfs.js';

/** Where a local endpoint's device is: its node under /dev, its destination, and whether CREATE_EPT made it. */
export interface EndpointDevice {
  node: string;
  dst: number;
  own: boolean;
}

export class CtrlDevice {
  /** The remote processor's virtio device ("virtio0"). */
  readonly parent: string;
  /** The open ctrl device (O_NONBLOCK). */
  readonly fd: number;

  constructor(
    private readonly native: NativeAddon,
    /** Path of the ctrl device. */
    readonly path: string,
    private readonly sysfsDevices = SYSFS_RPMSG_DEVICES,
    private readonly sysfsClass = SYSFS_RPMSG_CLASS,
  ) {
    const parent = ctrlParent(path, sysfsClass);
    if (parent === undefined) throw new RpmsgError('ENOENT', `${path} is not an rpmsg ctrl device (no ${join(sysfsClass, basename(path))})`);
    this.parent = parent;
    try {
      this.fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    } catch (e) {
      throw mapKernelError(e, `open ${path}`);
    }
  }

  /** The ctrl device is gone from sysfs: the remote processor is. */
  remoteGone(): boolean {
    return !existsSync(join(this.sysfsClass, basename(this.path)));
  }

  /** The kernel's rpmsg devices (channels) of this remote processor. */
  ownDevices(): KernelRpmsgDevice[] {
    return listDevices(this.sysfsDevices).filter((d) => d.parent === this.parent);
  }

  /**
   * The device for a new local endpoint at `addr`: a channel bound to rpmsg_chrdev has one
   * already, at the channel's src; else RPMSG_CREATE_EPT_IOCTL makes one (EADDRINUSE when the
   * kernel uses `addr`, other than through `ours`, our endpoints' devices).
   */
  endpointDevice(addr: number, dst: number, name: string, ours: Iterable<number>): EndpointDevice {
    const devices = this.ownDevices();
    for (const d of devices) {
      const node = d.src === addr ? d.chardevs.find((c) => /^rpmsg\d+$/.test(c)) : undefined;
      if (node !== undefined) return { node, dst: d.dst === RPMSG_ADDR_ANY ? dst : d.dst, own: false };
    }
    if (this.kernelAddresses(devices, ours).has(addr)) throw new RpmsgError('EADDRINUSE', `address ${addr} is taken in the kernel`, { addr });
    const before = new Set(listCtrlEndpoints(this.path, this.sysfsClass));
    this.ioctl(1, 'RPMSG_CREATE_EPT_IOCTL', name, addr, dst, { addr, dst });
    const node = listCtrlEndpoints(this.path, this.sysfsClass).find((n) => {
      if (before.has(n)) return false;
      const info = readEndpointDevice(n, this.sysfsClass);
      return info !== undefined && info.src === addr && info.dst === dst;
    });
    if (node === undefined) throw new RpmsgError('ENOENT', 'the endpoint device made by RPMSG_CREATE_EPT_IOCTL is not in sysfs', { addr, dst });
    return { node, dst, own: true };
  }

  /** RPMSG_CREATE_DEV_IOCTL (3) or RPMSG_RELEASE_DEV_IOCTL (4) for a local channel. */
  device(request: 3 | 4, name: string, src: number, dst: number): void {
    this.ioctl(request, request === 3 ? 'RPMSG_CREATE_DEV_IOCTL' : 'RPMSG_RELEASE_DEV_IOCTL', name, src, dst, { name, src, dst });
  }

  close(): void {
    closeSync(this.fd);
  }

  private ioctl(request: 1 | 3 | 4, what: string, name: string, src: number, dst: number, details: Readonly<Record<string, number | string>>): void {
    try {
      this.native.rpmsgCtrl(this.fd, request, name, src, dst);
    } catch (e) {
      // rpmsg_ctrl answers ENXIO when rpmsg_create_channel fails: a channel of that name and
      // addresses exists already (dmesg says so). Not a device that went away.
      if (request === 3 && errnoOf(e) === 'ENXIO') {
        throw new RpmsgError('EADDRINUSE', `${what}: the kernel refused channel "${name}" ${src}→${dst} (it exists already)`, details, { cause: e });
      }
      throw mapKernelError(e, what, details);
    }
  }

  /** Addresses the kernel uses on this remote processor that sysfs shows, but for `ours`. */
  private kernelAddresses(devices: KernelRpmsgDevice[], ours: Iterable<number>): Set<number> {
    const taken = new Set<number>([RPMSG_NS_ADDR]);
    for (const d of devices) if (d.src !== RPMSG_ADDR_ANY) taken.add(d.src);
    for (const n of listCtrlEndpoints(this.path, this.sysfsClass)) {
      const info = readEndpointDevice(n, this.sysfsClass);
      if (info !== undefined && info.src !== RPMSG_ADDR_ANY) taken.add(info.src);
    }
    for (const addr of ours) taken.delete(addr); // ours, through their devices
    return taken;
  }
}
