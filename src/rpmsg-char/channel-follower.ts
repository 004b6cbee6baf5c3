/**
 * The kernel's channels as bus channels: each rpmsg device of one remote processor (sysfs)
 * becomes a channel {name, dst} on the link, and is released (its driver's remove runs) when
 * the device disappears. Re-read on a timer by the transport: sysfs sends no inotify events
 * for devices that come and go.
 *
 * Not channels: the kernel's own services (rpmsg_ns, rpmsg_ctrl). Channels the kernel binds a
 * driver to ("rpmsg-raw": rpmsg_chrdev, "rpmsg-tty": rpmsg_tty) wait until it did, since
 * their endpoint, whose address becomes the channel's src, is made at that probe.
 */
import type { RpmsgBus } from '../rpmsg/bus.js';
import type { Channel } from '../rpmsg/channel.js';
import { RPMSG_ADDR_ANY } from '../rpmsg/constants.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { KernelRpmsgDevice } from './sysfs.js';

const KERNEL_SERVICES = new Set(['rpmsg_ns', 'rpmsg_ctrl']);
const KERNEL_BOUND = new Set(['rpmsg-raw', 'rpmsg-tty']);

export class ChannelFollower {
  /** Channels by sysfs device name (null: the bus refused it, e.g. its channel limit). */
  private readonly channels = new Map<string, Channel | null>();
  added = 0;
  removed = 0;

  constructor(
    private readonly bus: RpmsgBus,
    private readonly link: RpmsgLink,
  ) {}

  /** Bring the bus in line with `devices` (this remote processor's, read just now). */
  update(devices: readonly KernelRpmsgDevice[]): void {
    const seen = new Set<string>();
    for (const d of devices) {
      if (KERNEL_SERVICES.has(d.name) || d.driver === 'rpmsg_ns' || d.driver === 'rpmsg_ctrl') continue;
      if (KERNEL_BOUND.has(d.name) && d.driver === undefined) continue; // its driver is still probing
      seen.add(d.device);
      if (this.channels.has(d.device)) continue;
      const raw = d.chardevs.some((c) => /^rpmsg\d+$/.test(c));
      let ch: Channel | undefined;
      try {
        ch = this.bus.createChannel(this.link, { name: d.name, src: raw ? d.src : RPMSG_ADDR_ANY, dst: d.dst });
      } catch (e) {
        this.link.reportError(e);
      }
      this.channels.set(d.device, ch ?? null);
      this.added++;
      if (!this.link.up) return;
    }
    for (const [device, ch] of [...this.channels]) {
      if (seen.has(device)) continue;
      this.channels.delete(device);
      this.removed++;
      if (ch !== null) this.bus.releaseChannel(ch);
      if (!this.link.up) return;
    }
  }
}
